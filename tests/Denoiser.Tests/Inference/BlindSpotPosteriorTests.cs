// The blind-spot posterior: the prediction of a pixel must not depend on that pixel's value (else the Bayesian step
// would count its noise twice), and the combination must be the posterior mean it claims to be.
using Denoiser.Data;
using Denoiser.Inference;
using Denoiser.Models;
using Xunit;

namespace Denoiser.Tests.Inference;

public class BlindSpotPosteriorTests
{
    /// <summary>
    /// Half the pixel, a third of its 5 x 5 neighbourhood's mean (edges repeated) and the rest the whole image's mean:
    /// a model that would copy noise if let, and sees every pixel from every other, as a deep network's receptive field may.
    /// </summary>
    sealed class Smoother : IImageModel
    {
        public ModelInfo Info => UNet.Info;
        public TrainingDomain Domain => TrainingDomain.Of(Info, (Denoiser.Training.TrainSettings?)null);
        public int Runs { get; private set; }

        public Picture Run(Picture p) => p with { Planes = Run(p.Planes, p.Height, p.Width) };
        public float[] Run(float[] image, int height, int width)
        {
            Runs++;
            var output = new float[image.Length];
            double mean = image.Average(v => (double)v);
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    double sum = 0;
                    for (int dy = -2; dy <= 2; dy++)
                        for (int dx = -2; dx <= 2; dx++)
                            sum += image[Math.Clamp(y + dy, 0, height - 1) * width + Math.Clamp(x + dx, 0, width - 1)];
                    output[y * width + x] = (float)(0.5 * image[y * width + x] + sum / 25 / 3 + mean / 6);
                }
            return output;
        }

        public void Dispose() { }
    }

    static float[] Noisy(int n, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)random.NextDouble()).ToArray();
    }

    [Fact]
    public void A_pixels_prediction_never_depends_on_its_own_value_and_covers_every_pixel_in_64_passes()
    {
        const int h = 21, w = 30; // not multiples of 4 (the model pads) nor of 8 (the lattice)
        var image = Noisy(h * w, seed: 3);
        var model = new Smoother();
        var before = BlindSpotPosterior.Predict(model, TestFiles.Planes(image, h, w)).Planes;
        Assert.Equal(BlindSpotPosterior.Passes, model.Runs);
        Assert.Equal(before, BlindSpotPosterior.Predict(model, TestFiles.Planes(image, h, w)).Planes); // seeded
        // Every pixel's own value, changed a lot: its prediction stays; a neighbour's changes with it.
        foreach (int i in new[] { 0, w - 1, 5 * w + 7, 10 * w + 15, h * w - 1, 13 * w + 2 })
        {
            var changed = (float[])image.Clone();
            changed[i] += 50;
            var after = BlindSpotPosterior.Predict(model, TestFiles.Planes(changed, h, w)).Planes;
            Assert.Equal(before[i], after[i]);
            int neighbour = i % w < w - 1 ? i + 1 : i - 1, far = (i + image.Length / 2) % image.Length;
            Assert.NotEqual(before[neighbour], after[neighbour]);
            Assert.NotEqual(before[far], after[far]); // the model does see it from afar, in every other pass
        }
        // The plain model does see the pixel: what Predict removes.
        var plain = TestFiles.DenoisePlanes(model, image, h, w, tileSize: int.MaxValue);
        Assert.True(Enumerable.Range(0, image.Length).Count(i => plain[i] != before[i]) > image.Length * 0.9);
    }

    [Fact]
    public void Combine_is_the_posterior_mean_with_the_prior_variance_measured_from_the_residuals()
    {
        // Window 0, by hand: residuals +-0.3, mean square 0.09, sigma 0.15: prior 0.0675, gain 0.75.
        var noisy = new[] { 0.8f, 0.2f, 0.8f, 0.2f };
        var prediction = new[] { 0.5f, 0.5f, 0.5f, 0.5f };
        var combined = BlindSpotPosterior.Combine(TestFiles.Planes(noisy, 2, 2), TestFiles.Planes(prediction, 2, 2), sigma: 0.15, window: 0).Planes;
        Assert.Equal(new[] { 0.725f, 0.275f, 0.725f, 0.275f }, combined.Select(v => (float)Math.Round(v, 5)));
        // Residuals within the noise: the prior has no variance left and the prediction is kept as it is.
        Assert.Equal(prediction, BlindSpotPosterior.Combine(TestFiles.Planes(noisy, 2, 2), TestFiles.Planes(prediction, 2, 2), sigma: 0.5, window: 0).Planes);
        // A local window keeps more of the noisy value where the prediction is off, less where it is right.
        const int h = 16, w = 16;
        var flat = Enumerable.Repeat(0.5f, h * w).ToArray();
        var offOnTheLeft = flat.Select((v, i) => i % w < w / 2 ? v + (i % 2 == 0 ? 0.4f : -0.4f) : v + (i % 2 == 0 ? 0.05f : -0.05f)).ToArray();
        var local = BlindSpotPosterior.Combine(TestFiles.Planes(offOnTheLeft, h, w), TestFiles.Planes(flat, h, w), sigma: 0.1, window: 3).Planes;
        Assert.True(Math.Abs(local[8 * w + 2] - offOnTheLeft[8 * w + 2]) < 0.04, $"{local[8 * w + 2]}"); // gain 0.94 on the left
        Assert.Equal(flat[8 * w + 12], local[8 * w + 12]);                                                  // 0 on the right
        Assert.Throws<ArgumentException>(() => BlindSpotPosterior.Combine(TestFiles.Planes(noisy, 2, 2), TestFiles.Planes(prediction, 2, 2), 0.1, window: 4));
    }

    [Fact]
    public void With_a_prediction_blind_to_the_noise_the_combination_beats_both_the_prediction_and_the_noisy_image()
    {
        const int h = 64, w = 64;
        const double sigma = 0.1, tau = 0.08; // the noise, and the prediction's own error
        var random = new Random(7);
        double Gauss() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var clean = Enumerable.Range(0, h * w).Select(i => (float)(0.5 + 0.3 * Math.Sin(i % w / 5.0))).ToArray();
        var noisy = clean.Select(v => (float)(v + sigma * Gauss())).ToArray();
        var prediction = clean.Select(v => (float)(v + tau * Gauss())).ToArray();
        double Mse(float[] a) => a.Zip(clean, (p, q) => (double)(p - q) * (p - q)).Average();
        double combined = Mse(BlindSpotPosterior.Combine(TestFiles.Planes(noisy, h, w), TestFiles.Planes(prediction, h, w), sigma, window: 0).Planes);
        double best = tau * tau * sigma * sigma / (tau * tau + sigma * sigma); // the posterior's own error, 0.0039
        Assert.True(combined < 0.8 * Mse(prediction) && combined < 0.5 * Mse(noisy), $"{combined} against {Mse(prediction)} and {Mse(noisy)}");
        Assert.InRange(combined, 0.9 * best, 1.1 * best);
    }

    /// <summary>Gives its input back: enough to see which sigma the posterior was run at.</summary>
    sealed class Rgb : IImageModel
    {
        public ModelInfo Info => ConvAutoEncoder.Info;
        public TrainingDomain Domain => TrainingDomain.Of(Info, (Denoiser.Training.TrainSettings?)null);
        public Picture Run(Picture p) => p with { Planes = Run(p.Planes, p.Height, p.Width) };
        public float[] Run(float[] image, int height, int width) => (float[])image.Clone();
        public void Dispose() { }
    }

    [Fact]
    public void An_rgb_models_estimated_sigma_is_the_mean_of_its_three_planes_levels()
    {
        const int w = 40, h = 32;
        var random = new Random(5);
        // Noise of 6, 12 and 30 levels in R, G and B: the planes differ, so one estimate over them stacked would too.
        var pixels = new byte[w * h * 3];
        for (int i = 0; i < pixels.Length; i++)
            pixels[i] = (byte)Math.Clamp(128 + new[] { 6, 12, 30 }[i % 3] * (random.NextDouble() * 2 - 1) * 1.7, 0, 255);
        var picture = Picture.FromBytes(w, h, 3, pixels);
        var (_, note, _) = PictureDenoiser.Denoise(new Rgb(), picture, ColorMode.Luma, InvertMode.No, posterior: double.NaN);
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"blind-spot posterior at sigma {NoiseLevel.Estimate(picture):F1}/255 (estimated)"), note);
    }
}
