// Whole pictures through a child `denoise`, as a user runs it: one small PNG from a cold start, a 12-megapixel grey and
// colour photograph with the shipped models (wall time, peak memory, tiles), each beside OpenCV's non-local means.
using System.Diagnostics;
using Denoiser.Data;
using Denoiser.Interchange;
using Denoiser.Models;

namespace Denoiser.Benchmarks;

public static class PictureSpeed
{
    /// <summary>`denoiser denoise` of one 28x28 PNG with a fresh model's weights, timed from process start to exit.</summary>
    public static (double Seconds, long PeakKb) ColdDenoise()
    {
        string dir = Directory.CreateTempSubdirectory("denoiser-bench-").FullName;
        try
        {
            string png = Path.Combine(dir, "digit.png"), weights = Path.Combine(dir, "weights.safetensors");
            var pixels = new byte[28 * 28];
            for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(Math.Abs(i % 28 - 14) < 3 || Math.Abs(i / 28 - 14) < 3 ? 230 : 10);
            ImageFile.Write(png, Picture.FromBytes(28, 28, 1, pixels));
            using (var model = new ConvDenoiser())
                WeightsFile.Export(model, weights, new Dictionary<string, string> { [WeightsFile.ModelKey] = ConvDenoiser.Kind });
            var (code, _, seconds) = SelfProcess.Run(new[] { "denoise", png, "--weights", weights, "-o", Path.Combine(dir, "out.png") });
            if (code != 0) throw new UserException($"bench: `denoiser denoise` failed in the child process (exit {code}).");
            return (seconds, SelfProcess.ChildrenPeakKb());
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>
    /// The shipped photo model on a 4000x3000 grey picture (400x300 for a smoke run) through a child `denoise`, so that
    /// its wall time and peak memory are a user's; beside it OpenCV's NL-means on the same picture in this process.
    /// The picture is synthetic (shading, edges and texture, with noise of sigma 25): the time does not depend on content.
    /// </summary>
    public static void Grey(double seconds)
    {
        if (!Denoiser.Inference.Pretrained.All().Any(m => m.Name == Denoiser.Inference.Pretrained.Default))
        {
            Console.WriteLine("photo: no shipped photo model beside this program; skipped");
            return;
        }
        int w = seconds > 0 ? 4000 : 400, h = seconds > 0 ? 3000 : 300;
        string dir = Directory.CreateTempSubdirectory("denoiser-bench-").FullName;
        try
        {
            var random = new Random(1);
            var pixels = new byte[w * h];
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    double v = 60 + 120.0 * x / w + 40 * Math.Sin(y / 37.0) * Math.Cos(x / 53.0) + ((x / 97 + y / 89) % 2 == 0 ? 25 : 0)
                               + 25 * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
                    pixels[y * w + x] = (byte)Math.Clamp(Math.Round(v), 0, 255);
                }
            string png = Path.Combine(dir, "photo.png");
            ImageFile.Write(png, Picture.FromBytes(w, h, 1, pixels));
            var (code, output, wall) = SelfProcess.Run(new[] { "denoise", png, "--pretrained", Denoiser.Inference.Pretrained.Default, "-o", Path.Combine(dir, "out.png") }, (SelfProcess.PeakVariable, "1"));
            if (code != 0) throw new UserException($"bench: `denoiser denoise` of the {w}x{h} picture failed in the child process (exit {code}): {output.Trim()}");
            long peakKb = SelfProcess.ReportedPeakKb(output);
            double megapixels = w * h / 1e6;

            OpenCv.Quiet();
            using var src = new OpenCvSharp.Mat(h, w, OpenCvSharp.MatType.CV_8UC1);
            src.SetArray(pixels);
            using var dst = new OpenCvSharp.Mat();
            var clock = Stopwatch.StartNew();
            OpenCvSharp.Cv2.FastNlMeansDenoising(src, dst, (float)(Evaluation.ClassicalStrengths.Tuned.NlMeans * 25), 7, 21);
            double nlm = clock.Elapsed.TotalSeconds;
            Console.WriteLine($"photo {w}x{h} grey, shipped model through `denoise` (child process: load, read, tiles, write): {wall:F1} s wall, " +
                              $"{megapixels / wall:F2} MP/s, {peakKb / 1024.0:N0} MB peak resident");
            var info = ResUNet.Info;
            Console.WriteLine($"photo {w}x{h} grey, tiles: {Denoiser.Inference.ImageDenoiser.TileCount(w, h, info.TileSide)} keeping up to " +
                              $"{info.TileSide}x{info.TileSide} each, reading a margin of " +
                              $"{Denoiser.Inference.ImageDenoiser.Margin(info)} (the receptive field, {Shapes.ReceptiveField.Of(info)}): the model runs on " +
                              $"{Denoiser.Inference.ImageDenoiser.PixelsRun(info, w, h):F2}x the picture's pixels");
            Console.WriteLine($"photo {w}x{h} grey, non-local means (OpenCV, h = {Evaluation.ClassicalStrengths.Tuned.NlMeans} x 25, this process): " +
                              $"{nlm:F1} s, {megapixels / nlm:F2} MP/s; the model takes {wall / nlm:F2}x its time");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>
    /// The shipped colour model on a 4000x3000 colour picture (400x300 for a smoke run) through a child `denoise` (its
    /// noise estimate included), beside OpenCV's coloured NL-means (h 5, template 7, search 21) on the same picture in this
    /// process: the speed goal is the ratio. Synthetic content with camera noise; the time does not depend on it.
    /// </summary>
    public static void Colour(double seconds)
    {
        if (!Denoiser.Inference.Pretrained.All().Any(m => m.Name == Commands.ModelPicker.Colour))
        {
            Console.WriteLine($"photo-rgb: no shipped {Commands.ModelPicker.Colour} model beside this program; skipped");
            return;
        }
        int w = seconds > 0 ? 4000 : 400, h = seconds > 0 ? 3000 : 300;
        string dir = Directory.CreateTempSubdirectory("denoiser-bench-").FullName;
        try
        {
            var planes = new float[3 * w * h];
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                        planes[(c * h + y) * w + x] = (float)Math.Clamp((60 + 40 * c + 100.0 * x / w + 40 * Math.Sin(y / (37.0 + 5 * c)) * Math.Cos(x / 53.0)
                                                                         + ((x / 97 + y / 89) % 2 == 0 ? 25 : 0)) / 255, 0, 1);
            Picture picture;
            using (var gen = new TorchSharp.torch.Generator(1))
            using (var clean = new Picture(w, h, 3, planes).ToTensor())
            using (var noisy = new CameraNoise(0).Apply(clean, gen))
                picture = Picture.FromTensor(noisy);
            string png = Path.Combine(dir, "photo.png");
            ImageFile.Write(png, picture);
            var (code, output, wall) = SelfProcess.Run(new[] { "denoise", png, "--pretrained", Commands.ModelPicker.Colour, "-o", Path.Combine(dir, "out.png") }, (SelfProcess.PeakVariable, "1"));
            if (code != 0) throw new UserException($"bench: `denoiser denoise` of the {w}x{h} colour picture failed in the child process (exit {code}): {output.Trim()}");
            long peakKb = SelfProcess.ReportedPeakKb(output);
            double megapixels = w * h / 1e6;

            OpenCv.Quiet();
            using var flat = new OpenCvSharp.Mat(h, w * 3, OpenCvSharp.MatType.CV_8UC1);
            flat.SetArray(picture.Bytes());
            using var rgb = flat.Reshape(3, h);
            using var bgr = new OpenCvSharp.Mat();
            OpenCvSharp.Cv2.CvtColor(rgb, bgr, OpenCvSharp.ColorConversionCodes.RGB2BGR);
            using var dst = new OpenCvSharp.Mat();
            var clock = Stopwatch.StartNew();
            OpenCvSharp.Cv2.FastNlMeansDenoisingColored(bgr, dst, 5, 5, 7, 21);
            double nlm = clock.Elapsed.TotalSeconds;
            var info = ResUNetRgb.Info;
            Console.WriteLine($"photo-rgb {w}x{h} colour, shipped {Commands.ModelPicker.Colour} through `denoise` (child process: load, read, estimate, tiles, write): {wall:F1} s wall, " +
                              $"{megapixels / wall:F2} MP/s, {peakKb / 1024.0:N0} MB peak resident; tiles: {Denoiser.Inference.ImageDenoiser.TileCount(w, h, info.TileSide)} of up to " +
                              $"{info.TileSide}x{info.TileSide}, margin {Denoiser.Inference.ImageDenoiser.Margin(info)}, {Denoiser.Inference.ImageDenoiser.PixelsRun(info, w, h):F2}x the pixels");
            Console.WriteLine($"photo-rgb {w}x{h} colour, OpenCV's coloured non-local means (h 5, template 7, search 21, this process): " +
                              $"{nlm:F1} s, {megapixels / nlm:F2} MP/s; it takes {nlm / wall:F2}x the model's time");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
