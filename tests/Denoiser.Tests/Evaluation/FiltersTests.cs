// The classic baselines against scipy.ndimage's own median_filter and gaussian_filter (same fixture as SSIM).
using Denoiser.Data;
using Denoiser.Evaluation;
using TorchSharp;
using Xunit;

namespace Denoiser.Tests.Evaluation;

public class FiltersTests
{
    static readonly IReadOnlyDictionary<string, SafeTensor> Fixture = SsimFixture.Tensors;
    static torch.Tensor Image(string name) => SsimFixture.Image(name);

    [Fact]
    public void Median_3x3_matches_scipy()
    {
        using var median = Filters.Median3x3(Image("filters.input"));
        Assert.Equal(Fixture["filters.median3"].Data, median.data<float>().ToArray());
    }

    [Fact]
    public void Gaussian_blur_sigma_1_matches_scipy()
    {
        using var blur = Filters.GaussianBlur(Image("filters.input"), 1.0);
        float max = blur.data<float>().ToArray().Zip(Fixture["filters.gauss1"].Data).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(max < 1e-6f, $"max |difference| {max:G3}");
    }
}
