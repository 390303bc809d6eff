// adapt's data: crops cut where they claim, noise samples that hold the photograph's noise (zero-mean, about its level)
// and clean versions closer to the scene than the noisy crop, and batches that add one to the other as a camera would.
using Denoiser.Adapting;
using Denoiser.Data;
using TorchSharp;
using Xunit;

namespace Denoiser.Tests.Adapting;

public class ClonedNoiseTests
{
    [Fact]
    public void Crops_are_cut_whole_from_the_photograph_and_counted_by_its_area()
    {
        int w = 300, h = 250;
        var planes = new float[2 * w * h];
        for (int i = 0; i < planes.Length; i++) planes[i] = i; // every sample tells where it is
        var photo = new Picture(w, h, 2, planes, Bits: 32);
        var crops = PhotoCrops.Cut(photo, 5, 64, new Random(1));
        Assert.Equal(5, crops.Count);
        foreach (var crop in crops)
        {
            int origin = (int)crop.Planes[0], y0 = origin / w, x0 = origin % w;
            Assert.True(y0 + 64 <= h && x0 + 64 <= w);
            for (int c = 0; c < 2; c++)
                for (int y = 0; y < 64; y += 7)
                    for (int x = 0; x < 64; x += 5)
                        Assert.Equal((c * h + y0 + y) * w + x0 + x, crop.Planes[(c * 64 + y) * 64 + x]);
        }
        Assert.Empty(PhotoCrops.Cut(photo, 3, 256, new Random(1)));                 // smaller than a crop
        Assert.Equal((10, 36, 0), (PhotoCrops.Count(w, h, 64, 10), PhotoCrops.Count(w, h, 64, 1000), PhotoCrops.Count(60, h, 64, 10)));
    }

    [Fact]
    public void Noise_samples_hold_the_photographs_noise_and_batches_add_it_to_clean_patches()
    {
        var (model, info) = TestFiles.Shipped("photo-rgb");
        using var _ = model;
        const double Sigma = 10 / 255.0;
        var scene = TestFiles.Scene(448, 384, seed: 2);
        var random = new Random(5);
        var noisy = scene with { Planes = scene.Planes.Select(v => (float)Math.Round(Math.Clamp(v + Sigma * Gaussian(random), 0, 1) * 255) / 255f).ToArray() };
        var sceneCrops = PhotoCrops.Cut(scene, 6, ClonedNoise.CropSide, new Random(9));
        var crops = PhotoCrops.Cut(noisy, 6, ClonedNoise.CropSide, new Random(9)); // the same places
        var samples = ClonedNoise.Sample(model, info, torch.CPU, crops, photo: 0, level: Sigma);
        Assert.Equal(6, samples.Count);

        int c = 3, n = ClonedNoise.Inner * ClonedNoise.Inner;
        for (int k = 0; k < samples.Count; k++)
        {
            var s = samples[k];
            for (int ch = 0; ch < c; ch++) Assert.True(Math.Abs(s.Noise.Skip(ch * n).Take(n).Average()) < 1e-5); // zero-mean per plane
            double rms = Math.Sqrt(s.Noise.Average(v => (double)v * v));
            Assert.InRange(rms, 0.7 * Sigma, 1.5 * Sigma);
            // The clean version is nearer the scene than the noisy crop is.
            var truth = Inner(sceneCrops[k].Planes, c);
            var input = Inner(crops[k].Planes, c);
            Assert.True(Mse(s.Clean, truth) < 0.5 * Mse(input, truth));
            Assert.Equal(Sigma, s.Level, 6);
        }

        var cloned = new ClonedNoise(samples, c);
        var (batch, target) = cloned.Batch(4, new Random(1), info);
        using var __ = batch;
        using var ___ = target;
        Assert.Equal(new long[] { 4, 4, ClonedNoise.Patch, ClonedNoise.Patch }, batch.shape);
        Assert.Equal(new long[] { 4, 3, ClonedNoise.Patch, ClonedNoise.Patch }, target.shape);
        var values = batch.data<float>().ToArray();
        int plane = ClonedNoise.Patch * ClonedNoise.Patch;
        for (int k = 0; k < 4; k++)
        {
            Assert.All(values.Skip((k * 4 + 3) * plane).Take(plane), v => Assert.Equal((float)Sigma, v)); // told the photograph's level
            Assert.All(values.Skip(k * 4 * plane).Take(3 * plane), v => Assert.Equal(Math.Round(v * 255), v * 255, 3)); // on the 8-bit grid
        }
        using var image = batch.narrow(1, 0, 3);
        using var difference = image - target;
        using var squares = difference.mul(difference);
        double added = Math.Sqrt(squares.mean().item<float>());
        Assert.InRange(added, 0.7 * Sigma, 1.5 * Sigma);
    }

    static float[] Inner(float[] crop, int c)
    {
        int side = ClonedNoise.CropSide, inner = ClonedNoise.Inner, frame = ClonedNoise.Frame;
        var result = new float[c * inner * inner];
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < inner; y++)
                Array.Copy(crop, (ch * side + frame + y) * side + frame, result, (ch * inner + y) * inner, inner);
        return result;
    }

    static double Mse(float[] a, float[] b) => a.Zip(b, (x, y) => (double)(x - y) * (x - y)).Average();

    static double Gaussian(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());
}
