// Real pictures: large ones in blended tiles, colour by luma or channel, alpha untouched, dark-on-light inverted.
using Denoiser.Data;
using Denoiser.Inference;
using Denoiser.Models;
using TorchSharp;
using Xunit;

namespace Denoiser.Tests.Inference;

public class PictureDenoiserTests
{
    static TorchImageModel Model()
    {
        var model = new ConvDenoiser();
        Denoiser.Interchange.WeightsFile.LoadInto(model, ConvDenoiser.Kind, TestFiles.Fixture("parity-init.safetensors"));
        return new TorchImageModel(model, ConvDenoiser.Info, torch.CPU);
    }

    static TestFiles.Grey Strokes(int w, int h, bool darkOnLight = false)
    {
        var pixels = new byte[w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                bool ink = (x / 9 + y / 13) % 4 == 0 || Math.Abs(x - y) < 3;
                byte v = (byte)(ink ? 220 : 15 + (x * 31 + y * 17) % 40);
                pixels[y * w + x] = darkOnLight ? (byte)(255 - v) : v;
            }
        return new TestFiles.Grey(w, h, pixels);
    }

    /// <summary>The shipped photo model, through tiles of the default size, gives what it gives on the whole image.</summary>
    [Fact]
    public void The_shipped_photo_model_tiled_gives_the_whole_image_result()
    {
        var (model, info) = TestFiles.Shipped(Pretrained.Default);
        using var imageModel = new TorchImageModel(model, info, torch.CPU);
        var random = new Random(3);
        const int w = 700, h = 560;
        var noisy = new float[info.InputChannels * w * h];
        Array.Fill(noisy, 25 / 255f, w * h, noisy.Length - w * h); // the level plane of a model told it
        for (int i = 0; i < w * h; i++)
        {
            int x = i % w, y = i / w;
            double clean = 0.3 + 0.3 * Math.Sin(x / 23.0) * Math.Cos(y / 31.0) + ((x / 40 + y / 40) % 2 == 0 ? 0.2 : 0);
            noisy[i] = (float)(clean + 25 / 255.0 * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        }
        var whole = TestFiles.DenoisePlanes(imageModel, noisy, h, w, tileSize: 10_000);
        int tiles = 0;
        var tiled = TestFiles.DenoisePlanes(imageModel, noisy, h, w, tileDone: () => tiles++);
        Assert.Equal(4, tiles);
        Assert.Equal(ImageDenoiser.TileCount(w, h, imageModel.Info.TileSide), tiles);
        double max = whole.Zip(tiled).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(max <= 1e-5, $"tiled and whole differ by up to {max:E2}");
    }

    static byte[] DenoiseGray(IImageModel model, TestFiles.Grey g) =>
        new Picture(g.Width, g.Height, 1, TestFiles.DenoisePlanes(model, g.ToUnit(), g.Height, g.Width)).Bytes();

    [Fact]
    public void Gray_in_rgb_gives_the_gray_result_and_alpha_is_kept()
    {
        using var model = Model();
        var gray = Strokes(40, 36);
        var rgba = new byte[40 * 36 * 4];
        for (int i = 0; i < gray.Pixels.Length; i++)
        {
            rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = gray.Pixels[i];
            rgba[4 * i + 3] = (byte)(i % 256);
        }
        var expected = DenoiseGray(model, gray);

        foreach (var mode in new[] { ColorMode.Luma, ColorMode.Channels })
        {
            var (result, note, _) = PictureDenoiser.Denoise(model, Picture.FromBytes(40, 36, 4, rgba), mode, InvertMode.No);
            Assert.Contains("alpha kept", note);
            byte[] bytes = result.Bytes();
            for (int i = 0; i < gray.Pixels.Length; i++)
            {
                Assert.Equal(rgba[4 * i + 3], bytes[4 * i + 3]);
                for (int c = 0; c < 3; c++) Assert.InRange(bytes[4 * i + c] - expected[i], -1, 1);
            }
        }
    }

    [Fact]
    public void Dark_on_light_is_inverted_around_the_model_when_auto()
    {
        using var model = Model();
        var document = Strokes(48, 48, darkOnLight: true);
        var picture = Picture.FromBytes(48, 48, 1, document.Pixels);

        var (auto, note, _) = PictureDenoiser.Denoise(model, picture, ColorMode.Luma, InvertMode.Auto);
        var (plain, plainNote, _) = PictureDenoiser.Denoise(model, picture, ColorMode.Luma, InvertMode.No);

        Assert.Contains("inverted", note);
        Assert.DoesNotContain("inverted", plainNote);
        var inverted = new TestFiles.Grey(48, 48, document.Pixels.Select(v => (byte)(255 - v)).ToArray());
        var expected = DenoiseGray(model, inverted).Select(v => (byte)(255 - v));
        Assert.Equal(expected, auto.Bytes());
        Assert.NotEqual(auto.Bytes(), plain.Bytes());
    }

    static Picture Gray(TestFiles.Grey g) => g.ToPicture();

    /// <summary>A photograph-like picture: smooth mid-tone shading over the whole frame.</summary>
    static TestFiles.Grey Photo(int w, int h) =>
        new(w, h, Enumerable.Range(0, w * h).Select(i => (byte)(60 + (i % w) * 120 / w + (i / w) * 40 / h)).ToArray());

    [Fact]
    public void A_picture_far_from_MNIST_gets_a_warning_on_its_line_and_a_digit_like_one_does_not()
    {
        using var model = Model();
        var domain = TrainingDomain.Of(ConvDenoiser.Info, new Denoiser.Training.TrainSettings { Dataset = "mnist" });

        var (_, photoNote, _) = PictureDenoiser.Denoise(model, Gray(Photo(300, 200)), ColorMode.Luma, InvertMode.Auto, domain);
        Assert.Contains("warning: far from what this model was trained on (MNIST digits", photoNote);
        Assert.Contains("100% of its pixels are mid-tones", photoNote);

        var (_, strokesNote, _) = PictureDenoiser.Denoise(model, Gray(Strokes(60, 40)), ColorMode.Luma, InvertMode.Auto, domain);
        Assert.DoesNotContain("warning", strokesNote);
        var (_, documentNote, _) = PictureDenoiser.Denoise(model, Gray(Strokes(60, 40, darkOnLight: true)), ColorMode.Luma, InvertMode.Auto, domain);
        Assert.DoesNotContain("warning", documentNote); // inverted first, then it looks like MNIST
        var (_, forcedNote, _) = PictureDenoiser.Denoise(model, Gray(Strokes(60, 40, darkOnLight: true)), ColorMode.Luma, InvertMode.No, domain);
        Assert.Contains("its background is light", forcedNote);

        // A model trained on photographs is not warned about photographs.
        var photos = TrainingDomain.Of(UNet.Info, new Denoiser.Training.TrainSettings { Dataset = "images", Crop = 64, DataDir = "train400" });
        var (_, photoModelNote, _) = PictureDenoiser.Denoise(model, Gray(Photo(300, 200)), ColorMode.Luma, InvertMode.Auto, photos);
        Assert.DoesNotContain("warning", photoModelNote);
    }
}
