// The noise-level estimate denoise prints: close on a smooth picture, and within 2 levels on average over BSD68.
using Denoiser.Data;
using Denoiser.Inference;
using Xunit;

namespace Denoiser.Tests.Inference;

public class NoiseLevelTests
{
    static float[] Noisy(float[] clean, double sigma255, int seed)
    {
        var random = new Random(seed);
        return clean.Select(v => (float)(v + sigma255 / 255 * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()))).ToArray();
    }

    [Fact]
    public void On_a_smooth_picture_the_estimate_is_the_noise_added()
    {
        const int w = 300, h = 200;
        var clean = Enumerable.Range(0, w * h).Select(i => (float)(0.3 + 0.4 * (i % w) / w + 0.1 * Math.Sin(i / w / 15.0))).ToArray();
        Assert.InRange(NoiseLevel.Estimate(TestFiles.Planes(clean, h, w)), 0, 0.5);
        foreach (double sigma in new[] { 5.0, 15, 25, 50 })
            Assert.InRange(NoiseLevel.Estimate(TestFiles.Planes(Noisy(clean, sigma, (int)sigma), h, w)), sigma - 1, sigma + 1);
        Assert.True(double.IsNaN(NoiseLevel.Estimate(TestFiles.Planes(new float[4], 2, 2))));
    }

    /// <summary>BSD68 (../shared/datasets), where this machine has it: natural texture makes the estimate high, by how much is stated in NoiseLevel.</summary>
    [SkippableFact]
    public void Over_BSD68_the_estimate_is_within_two_levels_on_average_at_sigma_15_to_50()
    {
        string bsd68 = Path.GetFullPath(Path.Combine(TestFiles.RepositoryRoot, "..", "shared", "datasets", "bsd68"));
        Skip.IfNot(Directory.Exists(bsd68), $"{bsd68} is not on this machine");
        var images = Directory.GetFiles(bsd68, "*.png").Order().Select(ImageFile.Read).ToList();
        Assert.Equal(68, images.Count);
        foreach (double sigma in new[] { 15.0, 25, 50 })
        {
            double mean = images.Select((p, i) => NoiseLevel.Estimate(TestFiles.Planes(Noisy(p.Plane(0), sigma, i), p.Height, p.Width))).Average();
            Assert.InRange(mean, sigma - 2, sigma + 2);
        }
    }
}
