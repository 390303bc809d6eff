// Noise specs: parsing, reproducibility from a seed, and the statistics each kind promises.
using Denoiser.Data;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Denoiser.Tests.Data;

public class NoiseTests
{
    [Theory]
    [InlineData("gaussian:0.5", "gaussian:0.5")]
    [InlineData("0.5", "gaussian:0.5")]
    [InlineData("gaussian:0.5, CLIP", "gaussian:0.5,clip")]
    [InlineData("gaussian:25/255,8bit", "gaussian:25/255,8bit")]
    [InlineData("gaussian:0-55/255,clip", "gaussian:0-55/255,clip")]
    [InlineData(" Salt-Pepper:0.1 ", "salt-pepper:0.1")]
    [InlineData("speckle:0.3,clip", "speckle:0.3,clip")]
    [InlineData("poisson:30", "poisson:30")]
    public void Parses_to_a_canonical_spec(string spec, string canonical) => Assert.Equal(canonical, Noise.Parse(spec).Spec);

    [Theory]
    [InlineData("gaussian", "does not parse")]
    [InlineData("gaussian:-1", "sigma must be zero or more")]
    [InlineData("salt-pepper:1.5", "between 0 and 1")]
    [InlineData("poisson:0", "more than 0")]
    [InlineData("blur:2", "unknown kind 'blur'")]
    [InlineData("gaussian:0.5:1", "does not parse")]
    [InlineData("gaussian:NaN", "does not parse")]
    [InlineData("gaussian:0.5,round", "is not ,clip or ,8bit")]
    [InlineData("gaussian:0.5,clip,8bit", "at most one")]
    [InlineData("none,clip", "nothing to clip")]
    public void Bad_specs_say_what_is_accepted(string spec, string expected) =>
        Assert.Contains(expected, Assert.Throws<FormatException>(() => Noise.Parse(spec)).Message);

    static Tensor Gray(float value) => torch.full(new long[] { 4, 1, 64, 64 }, value);

    [Theory]
    [InlineData("gaussian:0.5,clip")]
    [InlineData("salt-pepper:0.2")]
    [InlineData("speckle:0.3,clip")]
    [InlineData("poisson:20,clip")]
    [InlineData("gaussian:0-55/255,8bit")]
    public void The_same_seed_gives_the_same_noise_and_values_stay_in_the_unit_interval(string spec)
    {
        var noise = Noise.Parse(spec);
        using var clean = Gray(0.4f);
        using var g1 = new Generator(5);
        using var g2 = new Generator(5);
        using var a = noise.Apply(clean, g1);
        using var b = noise.Apply(clean, g2);
        Assert.True(a.allclose(b, rtol: 0, atol: 0));
        Assert.InRange(a.min().item<float>(), 0f, 1f);
        Assert.InRange(a.max().item<float>(), 0f, 1f);
        Assert.False(a.allclose(clean));
    }

    [Fact]
    public void Each_kind_has_its_statistics()
    {
        using var g = new Generator(9);
        using var mid = Gray(0.5f);
        using var sp = new SaltPepperNoise(0.2).Apply(mid, g);
        Assert.InRange((sp == 0).to_type(ScalarType.Float32).mean().item<float>(), 0.09f, 0.11f);
        Assert.InRange((sp == 1).to_type(ScalarType.Float32).mean().item<float>(), 0.09f, 0.11f);

        using var black = Gray(0f);
        using var speckle = new SpeckleNoise(0.5).Apply(black, g);
        Assert.Equal(0f, speckle.abs().max().item<float>()); // proportional to brightness

        using var poisson = new PoissonNoise(100).Apply(Gray(0.3f), g);
        Assert.InRange(poisson.mean().item<float>(), 0.29f, 0.31f); // unbiased
        Assert.InRange(poisson.std().item<float>(), 0.050f, 0.060f); // sqrt(0.3 * 100) / 100 = 0.055

        using var gaussian = Noise.Parse("gaussian:0.1").Apply(mid, g);
        Assert.InRange((gaussian - mid).std().item<float>(), 0.095f, 0.105f);
    }

    [Fact]
    public void The_papers_gaussian_on_the_0_255_scale_is_neither_clipped_nor_rounded()
    {
        var noise = Noise.Parse("gaussian:25/255");
        Assert.Equal(25 / 255.0, noise.KnownSigma);
        Assert.Equal("gaussian:25/255", noise.Spec);
        Assert.Equal(noise.Spec, Noise.Parse(noise.Spec).Spec);
        using var clean = torch.full(new long[] { 1, 1, 200, 200 }, 0.5f);
        using var gen = new torch.Generator(3);
        using var noisy = noise.Apply(clean, gen);
        using var delta = noisy - clean;
        Assert.Equal(25 / 255.0, delta.std().item<float>(), 2);
        using var edge = torch.zeros(1, 1, 100, 100);
        using var below = noise.Apply(edge, gen);
        Assert.True(below.min().item<float>() < 0); // not clipped, as the papers add it
        Assert.Contains("fraction", Assert.Throws<FormatException>(() => Noise.Parse("salt-pepper:2")).Message);
        Assert.Throws<FormatException>(() => Noise.Parse("gaussian:x/255"));
    }
    [Fact]
    public void A_blind_range_draws_one_sigma_per_image_across_the_range_unclipped()
    {
        var noise = Noise.Parse("gaussian:0-55/255");
        Assert.Equal("gaussian:0-55/255", noise.Spec);
        Assert.True(noise.IsGaussian); // scored beside non-local means and plotted against sigma, at its midpoint
        Assert.Equal(27.5 / 255, noise.Level, 12);
        Assert.Null(noise.KnownSigma); // but no one sigma for the blind-spot posterior
        Assert.Equal(noise, Noise.Parse(noise.Spec));
        using var clean = torch.zeros(300, 1, 48, 48);
        using var gen = new torch.Generator(4);
        using var noisy = noise.Apply(clean, gen);
        float[] sigmas = noisy.flatten(1).std(1).data<float>().ToArray();
        Assert.All(sigmas, s => Assert.InRange(s * 255, 0, 57)); // 2,304 pixels per image: its std within ~3% of its sigma
        Assert.InRange(sigmas.Min() * 255, 0, 3);
        Assert.InRange(sigmas.Max() * 255, 52, 57);
        Assert.InRange(sigmas.Average() * 255, 24, 31); // uniform on [0, 55]: mean 27.5
        Assert.True(noisy.min().item<float>() < 0); // the papers' noise: not clipped
        Assert.Contains("low end", Assert.Throws<FormatException>(() => Noise.Parse("gaussian:30-10/255")).Message);
        Assert.Throws<FormatException>(() => Noise.Parse("gaussian:1-2-3/255"));
    }

    /// <summary>One notation, one meaning: the same sigma written on either scale is the same noise, and ,clip is said.</summary>
    [Fact]
    public void The_same_sigma_on_either_scale_is_the_same_noise_and_clipping_is_said()
    {
        using var clean = torch.zeros(2, 1, 64, 64);
        using var g1 = new Generator(8);
        using var g2 = new Generator(8);
        using var unit = Noise.Parse("gaussian:0.1").Apply(clean, g1);
        using var scaled = Noise.Parse("gaussian:25.5/255").Apply(clean, g2);
        Assert.True(unit.allclose(scaled, rtol: 1e-6, atol: 1e-7));
        Assert.True(unit.min().item<float>() < 0); // neither clipped: nothing said

        using var g3 = new Generator(8);
        using var clipped = Noise.Parse("gaussian:0.1,clip").Apply(clean, g3);
        Assert.True(clipped.allclose(unit.clamp(0, 1), rtol: 0, atol: 0)); // the same draw, clipped
    }

    [Fact]
    public void Eight_bit_noise_is_clipped_and_on_the_8_bit_grid()
    {
        using var clean = torch.full(new long[] { 1, 3, 50, 50 }, 0.5f);
        using var g = new Generator(2);
        using var noisy = Noise.Parse("poisson:5,8bit").Apply(clean, g);
        Assert.InRange(noisy.min().item<float>(), 0f, 1f);
        Assert.Equal(1f, noisy.max().item<float>()); // peak 5: many values above 1, clipped
        using var levels = noisy * 255;
        Assert.True(levels.allclose(levels.round(), rtol: 0, atol: 1e-4));
    }

    [Theory]
    [InlineData("gaussian:0.5", "gaussian:0.5,clip")]
    [InlineData("speckle:0.3", "speckle:0.3,clip")]
    [InlineData("poisson:30", "poisson:30,clip")]
    [InlineData("gaussian:25/255", "gaussian:25/255")]
    [InlineData("gaussian:0-55/255", "gaussian:0-55/255")]
    [InlineData("salt-pepper:0.1", "salt-pepper:0.1")]
    [InlineData("none", "none")]
    public void Specs_of_format_1_checkpoints_keep_their_meaning(string old, string today) => Assert.Equal(today, Noise.FromFormat1(old));
}
