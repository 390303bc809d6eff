// SSIM against scikit-image's structural_similarity, from a committed fixture (tools/parity/make_ssim_fixture.py).
using Denoiser.Data;
using Denoiser.Evaluation;
using TorchSharp;
using Xunit;

namespace Denoiser.Tests.Evaluation;

/// <summary>ssim.safetensors: image pairs with scikit-image's SSIM, and scipy's filter outputs (shared with FiltersTests).</summary>
public static class SsimFixture
{
    public static readonly IReadOnlyDictionary<string, SafeTensor> Tensors =
        SafeTensorsFile.Read(TestFiles.Fixture("ssim.safetensors")).Tensors;

    /// <summary>An (H, W) fixture image as a (1, 1, H, W) tensor.</summary>
    public static torch.Tensor Image(string name) =>
        torch.tensor(Tensors[name].Data, new long[] { 1, 1, Tensors[name].Shape[0], Tensors[name].Shape[1] });
}

public class SsimTests
{
    static readonly IReadOnlyDictionary<string, SafeTensor> Fixture = SsimFixture.Tensors;
    static torch.Tensor Image(string name) => SsimFixture.Image(name);

    public static TheoryData<string> Pairs() => new(Fixture.Keys.Where(k => k.EndsWith(".ssim")).Select(k => k[..^5]));

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Matches_scikit_image_within_1e_4(string pair)
    {
        double expected = Fixture[$"{pair}.ssim"].Data[0];
        using var ssim = Ssim.PerImage(Image($"{pair}.a"), Image($"{pair}.b"));
        Assert.Equal(expected, ssim.item<double>(), 1e-4);
    }

    [Fact]
    public void Batches_score_each_image_on_its_own()
    {
        using var a = torch.cat(new[] { Image("digit_noisy.a"), Image("digit_shifted.a") }, 0);
        using var b = torch.cat(new[] { Image("digit_noisy.b"), Image("digit_shifted.b") }, 0);
        using var ssim = Ssim.PerImage(a, b);
        Assert.Equal(Fixture["digit_noisy.ssim"].Data[0], ssim[0].item<double>(), 1e-4);
        Assert.Equal(Fixture["digit_shifted.ssim"].Data[0], ssim[1].item<double>(), 1e-4);
    }

    [Fact]
    public void Images_smaller_than_the_window_are_refused()
    {
        using var small = torch.rand(1, 1, 10, 30);
        Assert.Throws<ArgumentException>(() => Ssim.PerImage(small, small));
    }
}
