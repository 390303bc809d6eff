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
        public Picture Run(Picture p) => p with { Planes = Run(p.Planes, p.Height, p.Width) };
        public float[] Run(float[] image, int height, int width) { Seen = image; Size = (height, width); return image; }
        public void Dispose() { }
    }

    static float[] Random(int w, int h, int seed, int channels = 1) =>
        Enumerable.Range(0, channels * w * h).Select(i => (i * 7919 + seed * 104729) % 251 / 255f).ToArray();

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
        Assert.Equal(expected, 8 * (expected / 8) + 4); // what the seed maps a side of `expected` to (ConvDenoiserTests)
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
        var output = TestFiles.DenoisePlanes(model, planes, h, w);
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
        var output = TestFiles.DenoisePlanes(model, image, h, w);

        Assert.Equal(image, output); // the crop undoes the pad
        int ph = model.Info.PaddedSide(h), pw = model.Info.PaddedSide(w);
        Assert.Equal((ph, pw), model.Size);
        using var x = torch.tensor(image, new long[] { 1, 1, h, w });
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
        var output = TestFiles.DenoisePlanes(model, Random(w, h, 2), h, w);
        Assert.Equal(w * h, output.Length);
    }

    /// <summary>Models whose tiles read the whole receptive field: exact for any weights, so random ones test it.</summary>
    public static TheoryData<string> Models() => new(Registry.All.Where(m => m.Reach == null).Select(m => m.Name));

    /// <summary>
    /// A model whose tiles read its measured reach: with the shipped weights, on a noisy photograph-like picture of odd
    /// sides cut into small tiles, every pixel within 1 grey level of the whole picture's, as an 8-bit file holds it.
    /// </summary>
    [Theory]
    [InlineData("photo-rgb")]
    [InlineData("photo")]
    public void Tiles_at_the_measured_reach_give_the_whole_picture_to_a_grey_level(string shipped)
    {
        var (module, info) = TestFiles.Shipped(shipped);
        using var model = new TorchImageModel(module, info, torch.CPU);
        const int h = 203, w = 251, tile = 64;
        var random = new Random(9);
        var scene = TestFiles.Scene(w, h, seed: 2).As(info.Channels).Planes;
        var image = scene.Select(v => Math.Clamp(v + (float)(random.NextDouble() - 0.5) * 0.12f, 0, 1))
            .Concat(Enumerable.Repeat(0.035f, info.TakesNoiseLevel ? h * w : 0)).ToArray();
        var whole = TestFiles.DenoisePlanes(model, image, h, w, tileSize: int.MaxValue);
        var tiled = TestFiles.DenoisePlanes(model, image, h, w, tile);
        double max = whole.Zip(tiled).Max(p => Math.Abs(Math.Round(Math.Clamp(p.First, 0, 1) * 255) - Math.Round(Math.Clamp(p.Second, 0, 1) * 255)));
        Assert.True(max <= 1, $"{shipped}: tiles of {tile} with margin {ImageDenoiser.Margin(info)} differ from the whole picture by up to {max} grey levels");
        Assert.True(ImageDenoiser.Margin(info) < Denoiser.Shapes.ReceptiveField.Of(info));
    }

    /// <summary>
    /// Tiles forced small, so that every tile has neighbours on all sides: each keeps what the whole image gives, to float
    /// rounding. A margin smaller than the receptive field, or a window off the model's stride phase, fails this.
    /// </summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void Tiles_give_the_whole_image_result_for_every_model(string name)
    {
        var info = Registry.Get(name);
        torch.manual_seed(7);
        using var model = new TorchImageModel(info.Create(), info, torch.CPU);
        const int h = 83, w = 101, tile = 24;
        var random = new Random(5);
        var image = Enumerable.Range(0, info.Channels * h * w).Select(_ => (float)random.NextDouble())
            .Concat(Enumerable.Repeat(0.1f, info.TakesNoiseLevel ? h * w : 0)).ToArray(); // a model told the level: its plane, as denoise makes it

        var whole = TestFiles.DenoisePlanes(model, image, h, w, tileSize: int.MaxValue);
        int tiles = 0;
        var tiled = TestFiles.DenoisePlanes(model, image, h, w, tile, () => tiles++);

        Assert.Equal(ImageDenoiser.TileCount(w, h, tile), tiles);
        Assert.Equal(4 * 5, tiles);
        double max = whole.Zip(tiled).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(max <= 1e-5, $"{name}: tiles of {tile} differ from the whole image by up to {max:E2}");

        // Written back over the input band by band (margins here wider than a band): the same result, exactly.
        var planes = image[..(info.Channels * h * w)].ToArray();
        var inPlace = ImageDenoiser.Denoise(model, TestFiles.Planes(planes, h, w), tile, level: info.TakesNoiseLevel ? 0.1 : null, inPlace: true);
        Assert.Same(planes, inPlace.Planes);
        Assert.Equal(tiled, inPlace.Planes);
    }

    [Fact]
    public void The_receptive_field_is_computed_from_the_layers()
    {
        // DnCNN is a chain of 17 3x3 convolutions: 1 + 17 * 2. The seed: three 3x3 convolutions, each behind one more
        // 2x2 pool (1 + 2 + 1 + 2*2 + 2 + 4*2 + 4), then transposed convolutions of 3/2 and 2/2 taps and a 3x3 conv.
        Assert.Equal(35, Denoiser.Shapes.ReceptiveField.Of(DnCNN.Info));
        Assert.Equal(1 + 2 + 1 + 4 + 2 + 8 + 4 + 8 + 2, Denoiser.Shapes.ReceptiveField.Of(ConvDenoiser.Info));
        Assert.Equal(32, ImageDenoiser.Margin(ConvDenoiser.Info)); // already a multiple of the seed's 8
    }
}
