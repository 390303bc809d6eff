// Colour conversions, all in Data/Colour: BT.601 luma and JPEG's full-range YCbCr, on arrays and tensors alike.
using Denoiser.Data;
using TorchSharp;
using Xunit;

namespace Denoiser.Tests.Data;

public class ColourTests
{
    static float[] Random(int n, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)random.NextDouble()).ToArray();
    }

    [Fact]
    public void YCbCr_and_back_is_the_identity_and_grey_has_no_chroma()
    {
        var rgb = Random(3 * 500, 1);
        var back = Colour.FromYCbCr(Colour.ToYCbCr(rgb));
        Assert.All(rgb.Zip(back), p => Assert.InRange(p.First - p.Second, -2e-6f, 2e-6f));

        var grey = Enumerable.Repeat(0.4f, 3 * 10).ToArray();
        var ycc = Colour.ToYCbCr(grey);
        Assert.All(ycc[..10], y => Assert.Equal(0.4f, y, 6));
        Assert.All(ycc[10..], c => Assert.Equal(0f, c, 6));
        Assert.Equal(ycc[..10], Colour.Luma(grey));
    }

    [Fact]
    public void Luma_is_bt601_as_jpeg_and_pillow_make_grey()
    {
        // Pure red, green and blue, and white, at 8 bits: round(0.299 * 255) = 76, round(0.587 * 255) = 150, 29, 255.
        var rgb = Picture.FromBytes(4, 1, 3, new byte[] { 255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255 });
        Assert.Equal(new byte[] { 76, 150, 29, 255 }, rgb.As(1).Bytes());
        Assert.Equal(0.299f, rgb.Luma()[0], 6); // unrounded where a model takes it
    }

    [Fact]
    public void Tensors_convert_as_arrays_do()
    {
        int h = 6, w = 7, n = h * w;
        var rgb = Random(3 * n, 2);
        using var t = torch.tensor(rgb, new long[] { 1, 3, h, w });
        using var ycc = Colour.ToYCbCr(t);
        using var luma = Colour.Luma(t);
        using var back = Colour.FromYCbCr(ycc);
        Assert.Equal(Colour.ToYCbCr(rgb), ycc.data<float>().ToArray(), new Close(1e-6f));
        Assert.Equal(Colour.Luma(rgb), luma.data<float>().ToArray(), new Close(1e-6f));
        Assert.Equal(rgb, back.data<float>().ToArray(), new Close(2e-6f));
    }

    sealed class Close(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= tolerance;
        public int GetHashCode(float v) => 0;
    }
}
