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

    /// <summary>One way of running `denoise`: its options, and the name the table gives it.</summary>
    sealed record Configuration(string Name, string[] Options);

    /// <summary>What one configuration measured on a whole picture: wall time and peak resident memory.</summary>
    sealed record Measured(double Seconds, long PeakKb);

    /// <summary>Turns each configuration takes: two in a real run (the fastest kept), one in a smoke run.</summary>
    static int Rounds(double seconds) => seconds > 0 ? 2 : 1;

    static readonly Configuration[] ColourConfigurations =
    {
        new("ONNX Runtime, tile 768 (default)", []),
        new("ONNX Runtime, tile 1024", ["--tile", "1024"]),
        new("ONNX Runtime, tile 512", ["--tile", "512"]),
        new("libtorch, tile 512 (before)", ["--runtime", "torch"]),
        new("libtorch, tile 256", ["--runtime", "torch", "--tile", "256"]),
    };

    static readonly Configuration[] GreyConfigurations =
    {
        new("ONNX Runtime (default)", []),
        new("libtorch (before)", ["--runtime", "torch"]),
    };

    /// <summary>Photographs scored in the colour table: the first of the pairs, in name order.</summary>
    const int ScoredPhotographs = 20;

    /// <summary>
    /// The shipped grey model on a 4000x3000 grey picture (400x300 for a smoke run) through a child `denoise` per
    /// runtime, so that wall time and peak memory are a user's; beside it OpenCV's NL-means on the same picture in this
    /// process. The picture is synthetic (shading, edges and texture, with noise of sigma 25): the time does not depend on content.
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

            OpenCv.Quiet();
            using var src = new OpenCvSharp.Mat(h, w, OpenCvSharp.MatType.CV_8UC1);
            src.SetArray(pixels);
            using var dst = new OpenCvSharp.Mat();
            var clock = Stopwatch.StartNew();
            OpenCvSharp.Cv2.FastNlMeansDenoising(src, dst, (float)(Evaluation.ClassicalStrengths.Tuned.NlMeans * 25), 7, 21);
            double nlm = clock.Elapsed.TotalSeconds;

            Console.WriteLine($"photo {w}x{h} grey, shipped {Denoiser.Inference.Pretrained.Default} through `denoise` (a child process each: load, read, tiles, write)");
            Console.WriteLine($"  {"configuration",-36}{"wall",8}{"MP/s",8}{"peak MB",9}{"vs OpenCV",11}");
            var measured = Time(dir, png, ["--pretrained", Denoiser.Inference.Pretrained.Default], GreyConfigurations, Rounds(seconds), w, h);
            foreach (var (configuration, m) in GreyConfigurations.Zip(measured))
            {
                Console.WriteLine($"  {configuration.Name,-36}{m.Seconds,6:F1} s{w * h / 1e6 / m.Seconds,8:F2}{m.PeakKb / 1024.0,9:N0}{nlm / m.Seconds,10:F2}x");
            }
            var info = ResUNet.Info;
            Console.WriteLine($"photo {w}x{h} grey, tiles of up to {info.TileSide} (libtorch) or {info.OnnxTileSide ?? info.TileSide} (ONNX Runtime), margin " +
                              $"{Denoiser.Inference.ImageDenoiser.Margin(info)} (the receptive field, {Shapes.ReceptiveField.Of(info)})");
            Console.WriteLine($"photo {w}x{h} grey, non-local means (OpenCV, h = {Evaluation.ClassicalStrengths.Tuned.NlMeans} x 25, this process): " +
                              $"{nlm:F1} s, {w * h / 1e6 / nlm:F2} MP/s");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>
    /// The shipped colour model on a 4000x3000 colour picture (400x300 for a smoke run) through a child `denoise` (its
    /// noise estimate included) in each configuration of runtime and tile side, each also scored on PolyU's first 20
    /// photographs when <paramref name="photos"/> holds pairs; OpenCV's coloured NL-means (h 5, template 7, search 21) on
    /// the same picture in this process before and after them, the faster of the two taken: the speed goal is the ratio.
    /// Then the default on a 50-MP picture, for its peak. Synthetic content with camera noise; the time does not depend on it.
    /// </summary>
    public static void Colour(double seconds, string? photos)
    {
        if (!Denoiser.Inference.Pretrained.All().Any(m => m.Name == Commands.ModelPicker.Colour))
        {
            Console.WriteLine($"photo-rgb: no shipped {Commands.ModelPicker.Colour} model beside this program; skipped");
            return;
        }
        var pairs = photos != null && Directory.Exists(photos) ? RealPairs.Find(photos)?.Take(ScoredPhotographs).ToList() : null;
        int w = seconds > 0 ? 4000 : 400, h = seconds > 0 ? 3000 : 300;
        string dir = Directory.CreateTempSubdirectory("denoiser-bench-").FullName;
        try
        {
            var picture = SyntheticColour(w, h);
            string png = Path.Combine(dir, "photo.png");
            ImageFile.Write(png, picture);
            double nlm = NlMeansColoured(picture);
            Console.WriteLine($"photo-rgb {w}x{h} colour, shipped {Commands.ModelPicker.Colour} through `denoise` (a child process each: load, read, estimate, tiles, write)" +
                              (pairs != null ? $"; PolyU: mean PSNR of its first {pairs.Count} photographs in {photos}, each at its own estimate" : ""));
            Console.WriteLine($"  {"configuration",-36}{"wall",8}{"MP/s",8}{"peak MB",9}{"vs OpenCV",11}{"PolyU",10}");
            string[] model = ["--pretrained", Commands.ModelPicker.Colour];
            var measured = Time(dir, png, model, ColourConfigurations, Rounds(seconds), w, h);
            nlm = Math.Min(nlm, NlMeansColoured(picture));
            var scores = ColourConfigurations.Select(c => pairs == null ? (double?)null : Score(dir, [.. model, .. c.Options], pairs)).ToList();
            foreach (var ((configuration, m), psnr) in ColourConfigurations.Zip(measured).Zip(scores))
                Console.WriteLine($"  {configuration.Name,-36}{m.Seconds,6:F1} s{w * h / 1e6 / m.Seconds,8:F2}{m.PeakKb / 1024.0,9:N0}{nlm / m.Seconds,10:F2}x" +
                                  (psnr is double p ? $"{p,7:F2} dB" : "       -"));
            Console.WriteLine($"photo-rgb {w}x{h} colour, OpenCV's coloured non-local means (h 5, template 7, search 21, this process, the faster of a run " +
                              $"before and one after): {nlm:F1} s, {w * h / 1e6 / nlm:F2} MP/s; \"vs OpenCV\" is its time over each configuration's" +
                              (pairs == null ? $"; PolyU not scored (no pairs in {photos ?? "--photos"})" : ""));

            int lw = seconds > 0 ? 8160 : 816, lh = seconds > 0 ? 6120 : 612; // 50 MP, a full-frame body's largest
            ImageFile.Write(png, Repeated(picture, lw, lh)); // noise synthesised at 50 MP takes tens of GB
            var large = Time(dir, png, model, [ColourConfigurations[0]], 1, lw, lh)[0];
            Console.WriteLine($"photo-rgb {lw}x{lh} colour ({lw * lh / 1e6:0.#} MP), the default: {large.Seconds:F1} s wall, {lw * lh / 1e6 / large.Seconds:F2} MP/s, " +
                              $"{large.PeakKb / 1024.0:N0} MB peak resident");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>A colour picture with shading, edges and texture, under camera noise.</summary>
    static Picture SyntheticColour(int w, int h)
    {
        var planes = new float[3 * w * h];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    planes[(c * h + y) * w + x] = (float)Math.Clamp((60 + 40 * c + 100.0 * x / w + 40 * Math.Sin(y / (37.0 + 5 * c)) * Math.Cos(x / 53.0)
                                                                     + ((x / 97 + y / 89) % 2 == 0 ? 25 : 0)) / 255, 0, 1);
        using var gen = new TorchSharp.torch.Generator(1);
        using var clean = new Picture(w, h, 3, planes).ToTensor();
        using var noisy = new CameraNoise(0).Apply(clean, gen);
        return Picture.FromTensor(noisy);
    }

    /// <summary><paramref name="p"/> repeated, mirrored at each seam, to fill <paramref name="w"/> x <paramref name="h"/>.</summary>
    static Picture Repeated(Picture p, int w, int h)
    {
        static int Mirror(int i, int n) => i / n % 2 == 0 ? i % n : n - 1 - i % n;
        var planes = new float[p.Channels * w * h];
        for (int c = 0; c < p.Channels; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    planes[(c * h + y) * w + x] = p.Planes[(c * p.Height + Mirror(y, p.Height)) * p.Width + Mirror(x, p.Width)];
        return p with { Width = w, Height = h, Planes = planes };
    }

    /// <summary>OpenCV's coloured NL-means on <paramref name="picture"/> in this process, in seconds.</summary>
    static double NlMeansColoured(Picture picture)
    {
        OpenCv.Quiet();
        using var flat = new OpenCvSharp.Mat(picture.Height, picture.Width * 3, OpenCvSharp.MatType.CV_8UC1);
        flat.SetArray(picture.Bytes());
        using var rgb = flat.Reshape(3, picture.Height);
        using var bgr = new OpenCvSharp.Mat();
        OpenCvSharp.Cv2.CvtColor(rgb, bgr, OpenCvSharp.ColorConversionCodes.RGB2BGR);
        using var dst = new OpenCvSharp.Mat();
        var clock = Stopwatch.StartNew();
        OpenCvSharp.Cv2.FastNlMeansDenoisingColored(bgr, dst, 5, 5, 7, 21);
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// `denoise` of <paramref name="png"/> with each configuration's options in a child process, <paramref name="rounds"/>
    /// times taking turns (a configuration measured first ran up to 1.4x slower than in a later turn): the fastest wall
    /// time of each, and its highest peak.
    /// </summary>
    static Measured[] Time(string dir, string png, string[] model, IReadOnlyList<Configuration> configurations, int rounds, int w, int h)
    {
        var measured = new Measured[configurations.Count];
        for (int round = 0; round < rounds; round++)
            for (int k = 0; k < configurations.Count; k++)
            {
                string[] options = [.. model, .. configurations[k].Options];
                var (code, printed, wall) = SelfProcess.Run(["denoise", png, "-o", Path.Combine(dir, "out.png"), "--overwrite", .. options], (SelfProcess.PeakVariable, "1"));
                if (code != 0) throw new UserException($"bench: `denoiser denoise {string.Join(' ', options)}` of the {w}x{h} picture failed in the child process (exit {code}): {printed.Trim()}");
                long peakKb = SelfProcess.ReportedPeakKb(printed);
                measured[k] = measured[k] is { } before ? new Measured(Math.Min(before.Seconds, wall), Math.Max(before.PeakKb, peakKb)) : new Measured(wall, peakKb);
            }
        return measured;
    }

    /// <summary>
    /// The mean PSNR of <paramref name="pairs"/>' noisy photographs through one child `denoise` with <paramref name="options"/>,
    /// against their clean versions (RGB, 8 bits, per photograph, as `evaluate` scores real pairs).
    /// </summary>
    static double Score(string dir, string[] options, List<RealPair> pairs)
    {
        string denoised = Path.Combine(dir, "denoised");
        var (code, printed, _) = SelfProcess.Run(["denoise", .. pairs.Select(p => p.Noisy), "-o", denoised, "--overwrite", .. options]);
        if (code != 0) throw new UserException($"bench: `denoiser denoise {string.Join(' ', options)}` of the PolyU photographs failed (exit {code}): {printed.Trim()}");
        return pairs.Average(p => Psnr(ImageFile.Read(Path.Combine(denoised, Path.GetFileNameWithoutExtension(p.Noisy) + ".png")).As(3).Bytes(),
                                       ImageFile.Read(p.Clean).As(3).Bytes()));
    }

    static double Psnr(byte[] a, byte[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (a[i] - b[i]) * (a[i] - b[i]);
        return 10 * Math.Log10(255.0 * 255 / (sum / a.Length));
    }
}
