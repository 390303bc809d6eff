// Denoising images of any size: padding like torch's ReflectionPad to a size the network keeps, and cropping back.
using Denoiser.Data;
using Denoiser.Inference;
using Denoiser.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Denoiser.Tests.Inference;

public class ImageDenoiserTests
{
    /// <summary>Returns its input unchanged and keeps it, to see exactly what the model was given.</summary>
    sealed class Identity(ModelInfo? info = null) : IImageModel
    {
        public ModelInfo Info { get; } = info ?? ConvDenoiser.Info;
        public TrainingDomain Domain => TrainingDomain.Of(Info, (Denoiser.Training.TrainSettings?)null);
        public float[] Seen = Array.Empty<float>();
        public (int, int) Size;
        public float[] Run(float[] image, int height, int width) { Seen = image; Size = (height, width); return image; }
        public void Dispose() { }
    }

    static GrayImage Random(int w, int h, int seed) =>
        new(w, h, Enumerable.Range(0, w * h).Select(i => (byte)((i * 7919 + seed * 104729) % 251)).ToArray());

    [Theory]
    [InlineData(1, 12)]
    [InlineData(12, 12)]
    [InlineData(13, 20)]
    [InlineData(20, 20)]
    [InlineData(28, 28)]
    [InlineData(29, 36)]
    [InlineData(100, 100)]
    [InlineData(101, 108)]
    public void Padded_size_is_the_next_size_that_maps_to_itself(int n, int expected)
    {
        Assert.Equal(expected, ConvDenoiser.Info.PaddedSide(n));
        Assert.Equal(expected, ConvDenoiser.OutputSize(expected));
    }

    [Theory]
    [InlineData(1, 4)]
    [InlineData(4, 4)]
    [InlineData(5, 8)]
    [InlineData(30, 32)]
    [InlineData(32, 32)]
    public void Models_with_two_pools_pad_to_a_multiple_of_4(int n, int expected)
    {
        Assert.Equal(expected, UNet.Info.PaddedSide(n));
        Assert.Equal(expected, ConvAutoEncoder.Info.PaddedSide(n));
    }

    [Fact]
    public void Rgb_planes_are_padded_and_cropped_each_on_its_own()
    {
        var model = new Identity(ConvAutoEncoder.Info);
        int w = 7, h = 5;
        var planes = Enumerable.Range(0, 3 * w * h).Select(i => i / 255f).ToArray();
        var output = ImageDenoiser.Denoise(model, planes, h, w);
        Assert.Equal(planes, output);
        Assert.Equal((8, 8), model.Size);
        using var x = torch.tensor(planes, new long[] { 1, 3, h, w });
        using var padded = nn.functional.pad(x, new long[] { 0, 1, 1, 2 }, PaddingModes.Reflect);
        Assert.Equal(padded.data<float>().ToArray(), model.Seen);
    }

    [Theory]
    [InlineData(28, 28)]
    [InlineData(45, 30)]
    [InlineData(7, 9)]
    public void Pads_exactly_like_torch_reflection_padding_and_crops_back(int w, int h)
    {
        var image = Random(w, h, 1);
        var model = new Identity();
        var output = ImageDenoiser.Denoise(model, image);

        Assert.Equal(image.Pixels, output.Pixels); // the crop undoes the pad
        int ph = model.Info.PaddedSide(h), pw = model.Info.PaddedSide(w);
        Assert.Equal((ph, pw), model.Size);
        using var x = torch.tensor(image.ToUnit(), new long[] { 1, 1, h, w });
        using var padded = nn.functional.pad(x, new long[] { (pw - w) / 2, pw - w - (pw - w) / 2, (ph - h) / 2, ph - h - (ph - h) / 2 }, PaddingModes.Reflect);
        Assert.Equal(padded.data<float>().ToArray(), model.Seen);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(5, 7)]
    [InlineData(28, 28)]
    [InlineData(30, 45)]
    [InlineData(3, 200)]
    public void A_real_model_keeps_the_image_size(int h, int w)
    {
        using var model = new TorchImageModel(new ConvDenoiser(), ConvDenoiser.Info, torch.CPU);
        var output = ImageDenoiser.Denoise(model, Random(w, h, 2));
        Assert.Equal((w, h), (output.Width, output.Height));
    }
}
