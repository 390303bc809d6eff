// Each stage of the camera pipeline holds to what it claims on its own: demosaicing restores what a mosaic can tell,
// blurs and sharpening change the fine grain as said, chroma blotches are chroma only, downscaling averages, JPEG is 4:2:0;
// and camera-wide draws them per image, reproducibly, up to phone-level noise.
using Denoiser.Data;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Denoiser.Tests.Data;

public class CameraStagesTests
{
    static double Rms(Tensor t) => t.square().mean().sqrt().item<float>();

    static double NeighbourCorrelation(Tensor t)
    {
        using var scope = NewDisposeScope();
        var a = t[.., .., .., ..^1].flatten();
        var b = t[.., .., .., 1..].flatten();
        a = a - a.mean();
        b = b - b.mean();
        return ((a * b).mean() / (a.std(unbiased: false) * b.std(unbiased: false))).item<float>();
    }

    [Theory]
    [InlineData(DemosaicMethod.Bilinear)]
    [InlineData(DemosaicMethod.Malvar)]
    [InlineData(DemosaicMethod.EdgeDirected)]
    public void Every_demosaicing_gives_back_a_flat_colour_and_a_gentle_ramp(DemosaicMethod method)
    {
        using var scope = NewDisposeScope();
        var flat = torch.tensor(new[] { 0.2f, 0.5f, 0.7f }).view(1, 3, 1, 1).expand(2, 3, 16, 20).contiguous();
        Assert.True(CameraStages.Demosaic(CameraStages.Mosaic(flat), method).allclose(flat, atol: 1e-6));

        // A linear ramp along the rows, the same in every channel: each method is exact on it away from the border.
        var ramp = torch.linspace(0.1, 0.9, 20).view(1, 1, 1, 20).expand(1, 3, 16, 20).contiguous();
        var back = CameraStages.Demosaic(CameraStages.Mosaic(ramp), method);
        Assert.True(back[.., .., 2..^2, 2..^2].allclose(ramp[.., .., 2..^2, 2..^2], atol: 1e-5), $"{method}: the ramp is not restored");
    }

    [Fact]
    public void The_three_demosaicing_methods_differ_on_detail_and_malvar_is_closer_than_bilinear()
    {
        using var scope = NewDisposeScope();
        var scene = TestFiles.Scene(64, 48, seed: 3).ToTensor(); // edges and texture
        var bayer = CameraStages.Mosaic(scene);
        double Error(DemosaicMethod m) => Rms(CameraStages.Demosaic(bayer, m)[.., .., 2..^2, 2..^2] - scene[.., .., 2..^2, 2..^2]);
        double bilinear = Error(DemosaicMethod.Bilinear), malvar = Error(DemosaicMethod.Malvar), edge = Error(DemosaicMethod.EdgeDirected);
        Assert.True(malvar < bilinear, $"Malvar {malvar:F4}, bilinear {bilinear:F4}");
        Assert.True(Math.Abs(edge - bilinear) > 1e-4 && Math.Abs(edge - malvar) > 1e-4, $"edge-directed {edge:F4}");
    }

    [Fact]
    public void A_batch_demosaiced_per_image_matches_each_method_alone()
    {
        using var scope = NewDisposeScope();
        var images = torch.rand(new long[] { 3, 3, 12, 12 }, generator: new Generator(5));
        var bayer = CameraStages.Mosaic(images);
        var methods = new[] { DemosaicMethod.EdgeDirected, DemosaicMethod.Bilinear, DemosaicMethod.Malvar };
        var together = CameraStages.Demosaic(bayer, methods);
        for (int i = 0; i < 3; i++)
            Assert.True(together[i].allclose(CameraStages.Demosaic(bayer[i..(i + 1)], methods[i])[0], atol: 1e-6));
    }

    [Fact]
    public void A_wider_blur_leaves_less_of_white_noise_and_no_width_leaves_it_as_it_is()
    {
        using var scope = NewDisposeScope();
        var noise = torch.randn(new long[] { 3, 1, 48, 48 }, generator: new Generator(1));
        var blurred = CameraStages.GaussianBlur(noise, torch.tensor(new[] { 0f, 1, 3 }).view(3, 1), 3);
        Assert.True(blurred[0].allclose(noise[0], atol: 1e-5));
        double one = Rms(blurred[1]), three = Rms(blurred[2]);
        Assert.True(one < 0.5 && three < 0.5 * one, $"RMS after widths 1 and 3: {one:F3}, {three:F3}");
        // A blur wider than a tiny patch still works (the edge is replicated in steps).
        Assert.Equal(new long[] { 1, 1, 4, 4 }, CameraStages.GaussianBlur(noise[..1, .., ..4, ..4], torch.tensor(new[] { 3f }).view(1, 1), 3).shape);
    }

    [Fact]
    public void Sharpening_lifts_the_fine_grain_and_an_amount_of_0_does_nothing()
    {
        using var scope = NewDisposeScope();
        var noise = CameraStages.GaussianBlur(torch.randn(new long[] { 2, 3, 48, 48 }, generator: new Generator(2)), torch.ones(2, 3), 1);
        var sharp = CameraStages.Sharpen(noise, torch.tensor(new[] { 0f, 1.5f }), torch.tensor(new[] { 1f, 1f }), 2);
        Assert.True(sharp[0].allclose(noise[0], atol: 1e-6));
        double before = Rms(noise[1]), after = Rms(sharp[1]), correlated = NeighbourCorrelation(noise[1..]), sharpened = NeighbourCorrelation(sharp[1..]);
        Assert.True(after > 1.2 * before && sharpened < correlated - 0.05, $"RMS {before:F3} -> {after:F3}, neighbour correlation {correlated:F3} -> {sharpened:F3}");
    }

    [Fact]
    public void Chroma_blotches_have_no_luma_their_rms_and_a_wide_grain()
    {
        using var scope = NewDisposeScope();
        var blotches = CameraStages.ChromaBlotches(2, 64, 64, torch.tensor(new[] { 4f, 6f }), torch.tensor(new[] { 0.02f, 0.05f }), 8,
                                                   new Generator(3), torch.CPU, ScalarType.Float32);
        var ycc = Colour.ToYCbCr(blotches);
        Assert.True(Rms(ycc.narrow(1, 0, 1)) < 1e-6);
        Assert.InRange(Rms(ycc[0, 1..]), 0.0199, 0.0201);
        Assert.InRange(Rms(ycc[1, 1..]), 0.0499, 0.0501);
        Assert.True(NeighbourCorrelation(ycc.narrow(1, 1, 2)) > 0.95);
    }

    [Fact]
    public void Downscaling_by_2_averages_4_pixels_and_halves_white_noise()
    {
        using var scope = NewDisposeScope();
        var noise = torch.randn(new long[] { 1, 3, 64, 64 }, generator: new Generator(4));
        var small = CameraStages.Downscale(noise, 32, 32);
        Assert.True(small[0, 0, 0, 0].item<float>() - noise[0, 0, ..2, ..2].mean().item<float>() is > -1e-6f and < 1e-6f);
        Assert.InRange(Rms(small) / Rms(noise), 0.45, 0.55);
    }

    [Fact]
    public void Jpeg_round_trips_subsample_chroma_as_cameras_do()
    {
        // Columns alternating red and blue of one luma: full chroma (4:4:4) at quality 100 would keep them; 4:2:0 averages pairs.
        int w = 32, h = 16;
        var planes = new float[3 * w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                bool red = x % 2 == 0;
                planes[(0 * h + y) * w + x] = red ? 0.8f : 0.2f;
                planes[(2 * h + y) * w + x] = red ? 0.2f : 0.8f;
                planes[(1 * h + y) * w + x] = 0.5f;
            }
        var picture = new Picture(w, h, 3, planes);
        var back = OpenCv.JpegRoundTrip(picture, 100);
        double error = picture.Planes.Zip(back.Planes).Average(p => Math.Abs(p.First - p.Second)) * 255;
        Assert.True(error > 20, $"mean error {error:F1} grey levels: chroma was kept at full resolution");
    }

    static Tensor Noisy(Noise noise, Tensor clean, long seed)
    {
        using var gen = new Generator((ulong)seed);
        return noise.Apply(clean, gen);
    }

    [Fact]
    public void Camera_wide_is_reproducible_8_bit_and_reaches_phone_level_noise()
    {
        var noise = Noise.Parse("camera-wide:0");
        Assert.Equal("camera-wide:0,8bit", noise.Spec);
        using var scope = NewDisposeScope();
        var clean = torch.full(new long[] { 48, 3, 48, 48 }, 0.45f);
        var a = Noisy(noise, clean, 7);
        Assert.True(a.allclose(Noisy(noise, clean, 7), rtol: 0, atol: 0));
        Assert.False(a.allclose(Noisy(noise, clean, 8), rtol: 0, atol: 0));
        Assert.True((a * 255 - (a * 255).round()).abs().max().item<float>() < 1e-3);
        var rms = (a - clean).square().mean(new long[] { 1, 2, 3 }).sqrt().mul(255).data<float>().ToArray();
        Assert.True(rms.Max() > 30, $"largest RMS {rms.Max():F1}/255: no phone-level noise in 48 draws");
        Assert.True(rms.Min() < 5, $"smallest RMS {rms.Min():F1}/255: no light noise in 48 draws");
        // Narrow camera noise on the same images stays within DSLR levels.
        var narrow = (Noisy(new CameraNoise(0), clean, 7) - clean).square().mean(new long[] { 1, 2, 3 }).sqrt().mul(255).data<float>().ToArray();
        Assert.True(rms.Max() > narrow.Max());
    }

    [Fact]
    public void Camera_wide_takes_odd_sides_and_grey_pictures()
    {
        using var scope = NewDisposeScope();
        var colour = torch.rand(new long[] { 8, 3, 21, 17 }, generator: new Generator(1));
        var noisy = Noisy(Noise.Parse("camera-wide"), colour, 3);
        Assert.Equal(colour.shape, noisy.shape);
        Assert.True(noisy.isfinite().all().item<bool>());
        var grey = torch.full(new long[] { 4, 1, 20, 20 }, 0.3f);
        Assert.Equal(grey.shape, Noisy(Noise.Parse("camera-wide"), grey, 3).shape);
    }
}
