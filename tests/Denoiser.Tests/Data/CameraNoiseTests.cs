// Camera noise holds to what it claims: signal-dependent in the linear domain, correlated between neighbours and
// channels, clipped and on the 8-bit grid, JPEG for its share, reproducible from a seed; and mixtures of kinds.
using Denoiser.Data;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Denoiser.Tests.Data;

public class CameraNoiseTests
{
    [Theory]
    [InlineData("camera", "camera,8bit")]
    [InlineData("camera,8bit", "camera,8bit")]
    [InlineData("Camera:0.2", "camera:0.2,8bit")]
    [InlineData("camera + gaussian:0-55/255", "camera,8bit+gaussian:0-55/255")]
    [InlineData("gaussian:25/255,clip+poisson:30", "gaussian:25/255,clip+poisson:30")]
    public void Parses_to_a_canonical_spec_that_reads_back(string spec, string canonical)
    {
        var noise = Noise.Parse(spec);
        Assert.Equal(canonical, noise.Spec);
        Assert.Equal(noise, Noise.Parse(noise.Spec));
    }

    [Fact]
    public void A_mixture_is_stored_in_json_as_written_and_read_back()
    {
        var noise = Noise.Parse("camera+gaussian:0-55/255");
        string json = System.Text.Json.JsonSerializer.Serialize(noise);
        Assert.Equal("\"camera,8bit+gaussian:0-55/255\"", json);
        Assert.Equal(noise, System.Text.Json.JsonSerializer.Deserialize<Noise>(json));
    }

    [Theory]
    [InlineData("camera,clip", "always clipped and rounded to 8 bits")]
    [InlineData("camera:1.5", "between 0 and 1")]
    [InlineData("camera+", "an empty part")]
    public void Bad_specs_say_what_is_wrong(string spec, string expected) =>
        Assert.Contains(expected, Assert.Throws<FormatException>(() => Noise.Parse(spec)).Message);

    /// <summary>n flat colour images of one value, 64x64: what each statistic below is measured on.</summary>
    static Tensor Flat(float value, int n = 24) => torch.full(new long[] { n, 3, 64, 64 }, value);

    static bool Same(Tensor a, Tensor b) => a.allclose(b, rtol: 0, atol: 0);

    static Tensor Noisy(Noise noise, Tensor clean, long seed)
    {
        using var gen = new Generator((ulong)seed);
        return noise.Apply(clean, gen);
    }

    [Fact]
    public void The_same_seed_gives_the_same_noise_and_another_seed_other_noise()
    {
        var noise = Noise.Parse("camera");
        using var clean = torch.rand(new long[] { 6, 3, 40, 38 }, generator: new Generator(3));
        using var a = Noisy(noise, clean, 7);
        using var b = Noisy(noise, clean, 7);
        using var c = Noisy(noise, clean, 8);
        Assert.True(Same(a, b));
        Assert.False(Same(a, c));
        Assert.Equal(clean.shape, a.shape);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    public void Values_are_clipped_and_on_the_8_bit_grid_with_or_without_jpeg(double share)
    {
        using var clean = torch.rand(new long[] { 4, 3, 48, 64 }, generator: new Generator(1));
        using var noisy = Noisy(new CameraNoise(share), clean, 2);
        Assert.InRange(noisy.min().item<float>(), 0f, 1f);
        Assert.InRange(noisy.max().item<float>(), 0f, 1f);
        using var levels = noisy * 255;
        Assert.True(levels.allclose(levels.round(), rtol: 0, atol: 1e-3));
    }

    [Fact]
    public void Saturated_colours_and_black_give_finite_noise()
    {
        // Pure primaries leave the inverse colour matrix negative: the raw must be clipped before its noise is drawn.
        var colours = new[] { (1f, 0f, 0f), (0f, 1f, 0f), (0f, 0f, 1f), (0f, 0f, 0f), (1f, 1f, 1f), (1f, 1f, 0f) };
        using var clean = torch.stack(colours.Select(c => torch.tensor(new[] { c.Item1, c.Item2, c.Item3 }).view(3, 1, 1).expand(3, 16, 16)).ToArray());
        for (long seed = 0; seed < 20; seed++)
        {
            using var noisy = Noisy(new CameraNoise(0), clean, seed);
            Assert.False(noisy.isnan().any().item<bool>(), $"seed {seed}: not a number in the noisy images");
        }
    }

    [Fact]
    public void Jpeg_changes_the_share_it_is_drawn_for()
    {
        using var clean = torch.rand(new long[] { 4, 3, 32, 32 }, generator: new Generator(1)) * 0.5 + 0.25;
        using var none = Noisy(new CameraNoise(0), clean, 2);
        using var all = Noisy(new CameraNoise(1), clean, 2);
        // The same cameras and noise are drawn either way; every image of the all-JPEG batch then differs.
        for (int i = 0; i < 4; i++) Assert.False(Same(none[i], all[i]));
    }

    /// <summary>The noise of n flat images of value v, without JPEG: (n, 3, 64, 64).</summary>
    static Tensor NoiseAt(float v, long seed = 11)
    {
        using var clean = Flat(v);
        using var noisy = Noisy(new CameraNoise(0), clean, seed);
        return noisy - clean;
    }

    [Fact]
    public void Variance_rises_with_intensity_in_the_linear_domain()
    {
        // Shot noise: the raw variance is shot x signal + read. Undo the tone curve and gamma (as Unprocess does) on the
        // flat images and their noisy copies, with the same cameras drawn at every level (the same seed), and the
        // variance of the difference rises with the level.
        static Tensor Linear(Tensor srgb) => (0.5 - ((1 - 2 * srgb.clamp(0, 1)).asin() / 3).sin()).clamp_min(1e-8).pow(2.2);
        var variances = new List<double>();
        foreach (float v in new[] { 0.25f, 0.5f, 0.75f })
        {
            using var scope = NewDisposeScope();
            var clean = Flat(v);
            var noisy = Noisy(new CameraNoise(0), clean, 11);
            variances.Add((Linear(noisy) - Linear(clean)).var().item<float>());
        }
        Assert.True(variances[1] > 1.3 * variances[0] && variances[2] > 1.3 * variances[1], $"linear variances {string.Join(", ", variances)}");
    }

    static double Correlation(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        var x = a.flatten() - a.mean();
        var y = b.flatten() - b.mean();
        return ((x * y).mean() / (x.std(unbiased: false) * y.std(unbiased: false))).item<float>();
    }

    [Fact]
    public void Demosaicing_correlates_neighbours_and_the_colour_matrix_correlates_channels()
    {
        using var noise = NoiseAt(0.5f);
        double horizontal = Correlation(noise[.., .., .., ..^1], noise[.., .., .., 1..]);
        double vertical = Correlation(noise[.., .., ..^1], noise[.., .., 1..]);
        // Per image: its camera's matrix and noise reduction decide the sign, so over many images the correlations cancel.
        double redGreen = Enumerable.Range(0, (int)noise.shape[0]).Average(i => Math.Abs(Correlation(noise[i, 0], noise[i, 1])));
        Assert.True(horizontal > 0.2 && vertical > 0.2, $"neighbour correlations {horizontal:F3}, {vertical:F3} (white noise: 0)");
        Assert.True(redGreen > 0.2, $"red-green correlation {redGreen:F3} (mean over images of its size)");

        // White Gaussian noise, measured the same way, is not correlated: the measure itself is sound.
        using var clean = Flat(0.5f);
        using var white = Noisy(Noise.Parse("gaussian:0.05"), clean, 11) - clean;
        Assert.InRange(Correlation(white[.., .., .., ..^1], white[.., .., .., 1..]), -0.03, 0.03);
        Assert.InRange(Enumerable.Range(0, (int)white.shape[0]).Average(i => Math.Abs(Correlation(white[i, 0], white[i, 1]))), 0, 0.05);
    }

    [Fact]
    public void A_mixture_draws_each_image_from_one_of_its_kinds()
    {
        var mixed = Noise.Parse("gaussian:0.2+none");
        using var clean = Flat(0.5f, n: 64);
        using var noisy = Noisy(mixed, clean, 4);
        var changed = Enumerable.Range(0, 64).Select(i => !Same(noisy[i], clean[i])).ToArray();
        int gaussian = changed.Count(c => c);
        Assert.InRange(gaussian, 16, 48); // each kind for about half of the images
        using var again = Noisy(mixed, clean, 4);
        Assert.True(Same(noisy, again));
    }

    [Fact]
    public void Grey_images_get_the_luma_of_the_colour_noise()
    {
        using var clean = torch.full(new long[] { 2, 1, 32, 32 }, 0.4f);
        using var noisy = Noisy(new CameraNoise(0), clean, 5);
        Assert.Equal(clean.shape, noisy.shape);
        Assert.True((noisy - clean).std().item<float>() > 1 / 255f);
    }
}
