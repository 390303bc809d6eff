// 16-bit PNG and TIFF: read without losing a bit, written back at 16 bits, denoised at 16 bits by the real program.
using Denoiser.Data;
using OpenCvSharp;
using Xunit;

using static Denoiser.Tests.EndToEnd.Cli;

namespace Denoiser.Tests.Data;

public class SixteenBitTests
{
    /// <summary>RGB(A)-ordered samples that use all 16 bits (no sample is a multiple of 257, as an 8-bit image widened would be).</summary>
    static ushort[] Samples(int n) => Enumerable.Range(0, n).Select(i => (ushort)(i * 4099 % 65536 | 1)).ToArray();

    /// <summary>An image file written by OpenCV itself, from RGB(A)-ordered samples.</summary>
    static void WriteWithOpenCv(string path, int w, int h, int channels, ushort[] samples)
    {
        using var flat = new Mat(h, w * channels, MatType.CV_16UC1);
        flat.SetArray(samples);
        using var mat = flat.Reshape(channels, h);
        using var bgr = new Mat();
        if (channels == 3) Cv2.CvtColor(mat, bgr, ColorConversionCodes.RGB2BGR);
        else if (channels == 4) Cv2.CvtColor(mat, bgr, ColorConversionCodes.RGBA2BGRA);
        else mat.CopyTo(bgr);
        Cv2.ImEncode(Path.GetExtension(path), bgr, out byte[] bytes);
        File.WriteAllBytes(path, bytes);
    }

    /// <summary>A file's samples as OpenCV reads them unchanged, RGB(A)-ordered.</summary>
    static (int Depth, int Channels, ushort[] Samples) ReadWithOpenCv(string path)
    {
        using var mat = Cv2.ImRead(path, ImreadModes.Unchanged);
        using var rgb = new Mat();
        if (mat.Channels() == 3) Cv2.CvtColor(mat, rgb, ColorConversionCodes.BGR2RGB);
        else if (mat.Channels() == 4) Cv2.CvtColor(mat, rgb, ColorConversionCodes.BGRA2RGBA);
        else mat.CopyTo(rgb);
        using var flat = rgb.Reshape(1, rgb.Height);
        flat.GetArray(out ushort[] samples);
        return (mat.Depth(), mat.Channels(), samples);
    }

    [Theory]
    [InlineData(".png", 1), InlineData(".png", 3), InlineData(".png", 4), InlineData(".tiff", 1), InlineData(".tiff", 3), InlineData(".tif", 4)]
    public void Sixteen_bit_files_are_read_and_written_back_bit_for_bit(string extension, int channels)
    {
        using var dir = new TempDir();
        const int w = 13, h = 7;
        var samples = Samples(w * h * channels);
        WriteWithOpenCv(dir["in" + extension], w, h, channels, samples);

        var picture = ImageFile.Read(dir["in" + extension]);
        Assert.Equal((w, h, channels, 16), (picture.Width, picture.Height, picture.Channels, picture.Bits));
        Assert.Equal(samples, picture.Words());

        string format = extension == ".png" ? "png" : "tiff";
        ImageFile.Write(dir["out" + extension], picture, format);
        var (depth, written, back) = ReadWithOpenCv(dir["out" + extension]);
        Assert.Equal((MatType.CV_16U, channels), (depth, written));
        Assert.Equal(samples, back);
        // Formats of 8 bits take the samples rounded: v * 255 / 65535.
        ImageFile.Write(dir["out.jpg"], picture, "jpg", 100);
        Assert.Equal(8, ImageFile.Read(dir["out.jpg"]).Bits);
    }

    [Fact]
    public void Eight_bit_tiffs_are_written_at_eight_bits()
    {
        using var dir = new TempDir();
        var rgb = Picture.FromBytes(5, 4, 3, Enumerable.Range(0, 60).Select(i => (byte)(i * 4)).ToArray());
        ImageFile.Write(dir["a.tiff"], rgb, "tiff");
        var back = ImageFile.Read(dir["a.tiff"]);
        Assert.Equal((8, 3), (back.Bits, back.Channels));
        Assert.Equal(rgb.Bytes(), back.Bytes());
    }

    [Fact]
    public void Denoise_keeps_sixteen_bits_and_agrees_with_the_eight_bit_image()
    {
        using var dir = new TempDir();
        string weights = TestFiles.Fixture("parity-init.safetensors");
        TestFiles.WritePng(dir["eight.png"], 45, 30);
        var eight = ImageFile.Read(dir["eight.png"]);
        // The same image at 16 bits (v * 257 is v / 255 of the full range exactly), plus low bits the model may keep.
        var deep = TestFiles.Words(45, 30, 1, eight.Bytes().Select(v => (ushort)(v * 257)).ToArray());
        ImageFile.Write(dir["deep.png"], deep);

        foreach (var (input, args) in new[] { ("eight.png", new string[0]), ("deep.png", new string[0]), ("deep.png", new[] { "--format", "tiff" }) })
        {
            var r = Run(dir.Path, new[] { "denoise", input, "--weights", weights }.Concat(args).ToArray());
            Assert.True(r.ExitCode == 0, r.Err);
        }
        var fromEight = ImageFile.Read(dir["eight.denoised.png"]);
        var fromDeep = ImageFile.Read(dir["deep.denoised.png"]);
        Assert.Equal((8, 16), (fromEight.Bits, fromDeep.Bits));
        ushort[] deepSamples = fromDeep.Words();
        byte[] eightSamples = fromEight.Bytes();
        Assert.Equal(deepSamples, ImageFile.Read(dir["deep.denoised.tiff"]).Words());
        Assert.Contains(deepSamples, v => v % 257 != 0); // the model's output keeps its fine levels
        for (int i = 0; i < eightSamples.Length; i++)
            Assert.InRange(deepSamples[i] / 257.0 - eightSamples[i], -0.5, 0.5); // one result, rounded at two depths

        // evaluate: sigma 25/255 is of the full range at either depth, so both folders score alike.
        var md = new Dictionary<string, string>();
        foreach (var (set, file) in new[] { ("e8", "eight.png"), ("e16", "deep.png") })
        {
            Directory.CreateDirectory(dir[set]);
            File.Copy(dir[file], dir[$"{set}/a.png"]);
            var r = Run(dir.Path, "evaluate", "--weights", weights, "--images", set, "--noise", "gaussian:25/255", "--output-dir", "eval-" + set);
            Assert.True(r.ExitCode == 0, r.Err);
            md[set] = File.ReadAllText(dir[$"eval-{set}/evaluation.md"]);
        }
        Assert.Contains("| noisy input | 20.", md["e8"]);
        Assert.Equal(md["e8"].Split('\n').Where(l => l.StartsWith("| noisy input") || l.StartsWith("| model |")),
                     md["e16"].Split('\n').Where(l => l.StartsWith("| noisy input") || l.StartsWith("| model |")));
    }

    /// <summary>A float TIFF is one more picture: denoised as it is read, written as floats in TIFF and at 16 bits in PNG.</summary>
    [Fact]
    public void A_float_tiff_is_denoised_and_written_back_as_floats_or_sixteen_bits()
    {
        using var dir = new TempDir();
        string weights = TestFiles.Fixture("parity-init.safetensors");
        var values = Enumerable.Range(0, 40 * 30).Select(i => (i % 40) / 40f - 0.1f).ToArray(); // -0.1 ... 0.875: unclipped
        ImageFile.Write(dir["f.tiff"], new Picture(40, 30, 1, values, Bits: 32), "tiff");
        foreach (var (format, bits) in new[] { ("tiff", 32), ("png", 16) })
        {
            var r = Run(dir.Path, "denoise", "f.tiff", "--weights", weights, "--format", format, "-o", $"out.{format}");
            Assert.True(r.ExitCode == 0, r.Err);
            var back = ImageFile.Read(dir[$"out.{format}"]);
            Assert.Equal((40, 30, bits), (back.Width, back.Height, back.Bits));
        }
    }
}
