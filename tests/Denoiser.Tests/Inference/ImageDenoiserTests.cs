// Denoising images of any size: padding to a size the network keeps, and cropping back.
using Denoiser.Inference;
using Denoiser.Models;
using TorchSharp;
using Xunit;

namespace Denoiser.Tests.Inference;

public class ImageDenoiserTests
{
    [Theory]
    [InlineData(1, 12)]
    [InlineData(12, 12)]
    [InlineData(13, 20)]
    [InlineData(20, 20)]
    [InlineData(28, 28)]
    [InlineData(29, 36)]
    [InlineData(100, 100)]
    [InlineData(101, 108)]
    public void Padded_size_is_the_next_size_that_maps_to_itself(long n, long expected)
    {
        Assert.Equal(expected, ImageDenoiser.PaddedSize(n));
        Assert.Equal(expected, ConvDenoiser.OutputSize(expected));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(5, 7)]
    [InlineData(28, 28)]
    [InlineData(30, 45)]
    [InlineData(3, 200)]
    public void Output_has_the_input_size(int h, int w)
    {
        using var model = new ConvDenoiser();
        using var x = torch.rand(1, 1, h, w);
        using var y = ImageDenoiser.Denoise(model, x);
        Assert.Equal(x.shape, y.shape);
        Assert.False(y.isnan().any().item<bool>());
    }
}
