// `denoiser bench`: Denoiser's training loop and inference against a plain TorchSharp loop, in one run, as ratios.
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Denoiser.Benchmarks;
using Denoiser.Cpu;
using Denoiser.Data;
using Denoiser.Interchange;
using Denoiser.Models;
using Denoiser.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Commands;

public static class BenchCommand
{
    public static Command Create()
    {
        var seconds = new Opt<double>("--seconds", "Measuring time per figure and contender; 0 = one short turn each (a smoke run)") { Default = 4, Rule = Rule.Between(0.0, 3600.0) };
        var threads = Setting.Named<int>("--threads").Declare(new TrainSettings()); // train's, with its built-in default: bench reads no configuration
        var only = new Opt<string?>("--only", "Measure only the rows whose name contains this text (for example \"batch 20\")");
        var alone = new Opt<string?>("--alone", "Print only one contender's training img/s: plain or denoiser (used in a child process)") { Hidden = true };
        var command = new Command("bench", "Measure training and inference images/s against a plain TorchSharp loop, and what each CPU speed trick gains, on synthetic data.")
            { seconds, threads, only, alone };
        command.SetAction(p =>
        {
            double s = seconds.Get(p);
            int n = Devices.SetThreads(threads.Get(p));
            switch (alone.Get(p))
            {
                case null: Run(s, n, only.Get(p)); break;
                case "plain": Console.WriteLine(PlainAlone(s).Median.ToString("F0", CultureInfo.InvariantCulture)); break;
                case "denoiser": Console.WriteLine(DenoiserAlone(s).Median.ToString("F0", CultureInfo.InvariantCulture)); break;
                default: throw new UserException("--alone takes plain or denoiser.", ExitCodes.Usage);
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>A training workload: a model, its image side, the batch size, and the images a turn goes through.</summary>
    sealed record Workload(string Name, Func<nn.Module<Tensor, Tensor>> Model, int Side, int Batch, int Images);

    static readonly Workload Seed20 = new("seed, batch 20", () => new ConvDenoiser(), 28, 20, 640);
    static readonly Workload Seed128 = new("seed, batch 128", () => new ConvDenoiser(), 28, 128, 640);
    // DnCNN's own training shape (40x40 patches), at a batch small enough for a turn of about a second.
    static readonly Workload DnCnn40 = new("dncnn, 40x40, batch 16", () => new DnCNN(), 40, 16, 16);
    // The photo recipe's shape of batch, small: a turn is one step (about a second).
    static readonly Workload Photo8 = new("resunet, 96x96, batch 8", () => new ResUNet(), 96, 8, 8);

    /// <summary>Each trick, and the tricks with it turned off.</summary>
    static readonly (string Name, CpuTricks Without)[] Tricks =
    {
        ("channels-last", CpuTricks.All with { ChannelsLast = false }),
        ("batch split", CpuTricks.All with { SplitBatch = false }),
    };

    static void Run(double seconds, int threads, string? only)
    {
        bool Wanted(string row) => only == null || row.Contains(only, StringComparison.OrdinalIgnoreCase);
        Console.WriteLine($"machine:   {CpuName()}, {Environment.ProcessorCount} cores; {RuntimeInformation.OSDescription}, {RuntimeInformation.ProcessArchitecture}");
        Console.WriteLine($"software:  .NET {Environment.Version}, TorchSharp {typeof(torch).Assembly.GetName().Version}, CPU; " +
                          $"glibc heap tuning {(NativeRuntime.MallocTuned ? "on" : "off")}");
        using (var parts = new BatchParts(threads))
            Console.WriteLine($"threads:   libtorch {threads} (--threads, at most one per core); batches split in up to {parts.MaxParts} parts of at least {BatchParts.MinPixelsPerPart:N0} pixels");
        Console.WriteLine($"method:    contenders take turns of 0.5 s for {seconds:0.#} s each in one process; medians of the turns");
        Console.WriteLine();
        var cold = only == null ? ColdDenoise() : default; // first, while no other child has run: getrusage reports the largest child so far

        Console.WriteLine($"{"against a plain TorchSharp loop",-40}{"Denoiser",14}{"plain loop",14}{"ratio",8}");
        var batch20 = Wanted("training, batch 20") ? AgainstPlain(Seed20, seconds) : default;
        if (Wanted("training, batch 20")) Row("training, batch 20", batch20);
        if (Wanted("training, batch 128")) Row("training, batch 128", AgainstPlain(Seed128, seconds));
        foreach (int batch in new[] { 256, 1000 })
            if (Wanted($"inference, batch {batch}")) Row($"inference, batch {batch}", Inference(batch, seconds));
        Console.WriteLine();

        Console.WriteLine($"{"what each CPU trick gains",-40}{"all tricks",14}{"without it",14}{"gain",8}");
        foreach (var workload in new[] { Seed20, Seed128, DnCnn40, Photo8 })
            foreach (var (name, without) in Tricks)
            {
                string label = $"{workload.Name}: {name}";
                if (!Wanted(label)) continue;
                if (!Engages(workload, without)) { Console.WriteLine($"{label,-40}{"not used by this model",36}"); continue; }
                Row(label, Training(new Contender(workload, CpuTricks.All), new Contender(workload, without), seconds));
            }
        Console.WriteLine();
        if (Wanted("photo")) PhotoSpeed(seconds);
        if (Wanted("photo-rgb")) ColourPhotoSpeed(seconds);
        if (Wanted("serve")) ServeSpeed(seconds);
        if (only != null) return;

        double fresh = Child("denoiser", seconds, threads), plain = Child("plain", seconds, threads);
        var alone = DenoiserAlone(seconds).Median;
        Console.WriteLine($"glibc heap tuning, seed training at batch 20 alone: {alone:N0} img/s here, {fresh:N0} img/s in a fresh process " +
                          $"with glibc's defaults: {alone / fresh:F2}x");
        Console.WriteLine($"training, batch 20, the plain loop alone in a fresh process with glibc's default heap settings: " +
                          $"{plain:N0} img/s; Denoiser {batch20.A.Median:N0} img/s, {batch20.A.Median / plain:F2}x");
        Console.WriteLine($"denoise of one 28x28 PNG, cold start (a child process): {cold.Seconds:F2} s wall" +
                          (cold.PeakKb > 0 ? $", {cold.PeakKb / 1024.0:N0} MB peak resident" : ""));
    }

    static void Row(string name, (Rate A, Rate B) r) =>
        Console.WriteLine($"{name,-40}{r.A.Median,10:N0} img/s{r.B.Median,9:N0} img/s{r.A.Median / r.B.Median,7:F2}x" +
                          $"   (turns {r.A.Rounds}; ranges {r.A.Min:N0}-{r.A.Max:N0} / {r.B.Min:N0}-{r.B.Max:N0})");

    /// <summary>Whether turning a trick off changes anything for this workload (channels-last always does).</summary>
    static bool Engages(Workload w, CpuTricks without)
    {
        if (without.SplitBatch == CpuTricks.All.SplitBatch) return true;
        using var parts = new BatchParts(torch.get_num_threads());
        return parts.PartsFor(w.Batch, (long)w.Side * w.Side) > 1;
    }

    /// <summary>
    /// Denoiser training a workload with some tricks: the trainer's own epoch loop (realLoop, with its loss checks and
    /// bookkeeping), or its training step alone, which goes on through a NaN: without channels-last the seed model
    /// meets the oneDNN gradient bug (CpuLayout). Each turn is an epoch of the workload's synthetic images.
    /// </summary>
    sealed class Contender : IDisposable
    {
        readonly Workload w;
        readonly bool realLoop;
        readonly ImageSet images;
        readonly nn.Module<Tensor, Tensor> model;
        readonly TorchSharp.Modules.OptimizerHelper optimizer;
        readonly BatchParts parts;
        readonly Trainer trainer;
        readonly Target target;
        int epoch;

        public Contender(Workload w, CpuTricks tricks, bool realLoop = false)
        {
            (this.w, this.realLoop) = (w, realLoop);
            torch.manual_seed(0);
            images = new ImageSet(torch.randint(0, 256, new long[] { w.Images, 1, w.Side, w.Side }, ScalarType.Byte).DetachFromDisposeScope(),
                                  torch.full(w.Images, -1L, dtype: ScalarType.Int64).DetachFromDisposeScope());
            model = w.Model();
            optimizer = torch.optim.Adam(model.parameters(), lr: 1e-3);
            parts = new BatchParts(torch.get_num_threads(), tricks);
            var settings = new TrainSettings { BatchSize = w.Batch };
            trainer = new Trainer(settings, new RunFolder(Path.GetTempPath()), torch.CPU, ITrainingObserver.Silent);
            target = Target.Create(TargetKind.Clean, settings.Noise, channels: 1, onDisk: false);
        }

        public long Turn()
        {
            if (realLoop) trainer.TrainEpoch(model, optimizer, images, target, ++epoch, from: null, parts);
            else
            {
                using var partThreads = parts.PartThreadsHere();
                using var gen = new Generator((ulong)++epoch);
                for (long start = 0; start < w.Images; start += w.Batch)
                {
                    using var scope = NewDisposeScope();
                    var clean = ImageSet.ToImages(images.Pixels.narrow(0, start, Math.Min(w.Batch, w.Images - start)));
                    Trainer.Step(model, optimizer, clean, target, gen, parts);
                }
            }
            return w.Images;
        }

        public void Dispose()
        {
            parts.Dispose();
            optimizer.Dispose();
            model.Dispose();
            images.Dispose();
        }
    }

    static (Rate A, Rate B) Training(Contender a, Func<long> b, double seconds)
    {
        using (a) return Rounds.Compare(a.Turn, b, seconds);
    }

    static (Rate A, Rate B) Training(Contender a, Contender b, double seconds)
    {
        using (a) using (b) return Rounds.Compare(a.Turn, b.Turn, seconds);
    }

    static (Rate A, Rate B) AgainstPlain(Workload w, double seconds)
    {
        torch.manual_seed(0);
        using var plain = new PlainLoop(torch.rand(w.Images, 1, 28, 28));
        return Training(new Contender(w, CpuTricks.All, realLoop: true), () => { plain.Epoch(w.Batch); return w.Images; }, seconds);
    }

    /// <summary>Forward passes under eval() and no_grad(), split across the cores as training's evaluation runs them.</summary>
    static (Rate A, Rate B) Inference(int batch, double seconds)
    {
        torch.manual_seed(0);
        using var model = new ConvDenoiser();
        using var plain = new PlainLoop(torch.empty(0));
        using var x = torch.rand(batch, 1, 28, 28);
        using var parts = new BatchParts(torch.get_num_threads());
        model.eval();
        return Rounds.Compare(
            () => { using (parts.PartThreadsHere()) using (var scope = NewDisposeScope()) parts.Forward(CpuLayout.ForModel(x), model.call); return batch; },
            () => { using (var scope = NewDisposeScope()) plain.Infer(x); return batch; },
            seconds);
    }

    static Rate DenoiserAlone(double seconds)
    {
        using var denoiser = new Contender(Seed20, CpuTricks.All, realLoop: true);
        return Rounds.Alone(denoiser.Turn, seconds);
    }

    static Rate PlainAlone(double seconds)
    {
        torch.manual_seed(0);
        using var plain = new PlainLoop(torch.rand(Seed20.Images, 1, 28, 28));
        return Rounds.Alone(() => { plain.Epoch(Seed20.Batch); return Seed20.Images; }, seconds);
    }

    /// <summary>
    /// One contender alone at batch 20 as a user's own program would run it: a fresh process, glibc's default heap
    /// settings (DENOISER_MALLOC_TUNING=0), the same threads. One figure each, so exposed to the machine's noise.
    /// </summary>
    static double Child(string contender, double seconds, int threads)
    {
        var (code, output, _) = RunSelf(new[] { "bench", "--alone", contender, "--seconds", $"{seconds}", "--threads", $"{threads}" },
                                        ("DENOISER_MALLOC_TUNING", "0"));
        if (code != 0 || !double.TryParse(output.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double rate))
            throw new UserException($"bench: the {contender} child process failed (exit {code}): {output.Trim()}");
        return rate;
    }

    /// <summary>`denoiser denoise` of one 28x28 PNG with a fresh model's weights, timed from process start to exit.</summary>
    static (double Seconds, long PeakKb) ColdDenoise()
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
            var (code, _, seconds) = RunSelf(new[] { "denoise", png, "--weights", weights, "-o", Path.Combine(dir, "out.png") });
            if (code != 0) throw new UserException($"bench: `denoiser denoise` failed in the child process (exit {code}).");
            return (seconds, ChildrenPeakKb());
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>
    /// The shipped colour model on a 4000x3000 colour picture (400x300 for a smoke run) through a child `denoise` (its
    /// noise estimate included), beside OpenCV's coloured NL-means (h 5, template 7, search 21) on the same picture in this
    /// process: the speed goal is the ratio. Synthetic content with camera noise; the time does not depend on it.
    /// </summary>
    static void ColourPhotoSpeed(double seconds)
    {
        if (!Denoiser.Inference.Pretrained.All().Any(m => m.Name == ModelPicker.Colour))
        {
            Console.WriteLine($"photo-rgb: no shipped {ModelPicker.Colour} model beside this program; skipped");
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
            var (code, output, wall) = RunSelf(new[] { "denoise", png, "--pretrained", ModelPicker.Colour, "-o", Path.Combine(dir, "out.png") }, (PeakVariable, "1"));
            if (code != 0) throw new UserException($"bench: `denoiser denoise` of the {w}x{h} colour picture failed in the child process (exit {code}): {output.Trim()}");
            long peakKb = ReportedPeakKb(output);
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
            Console.WriteLine($"photo-rgb {w}x{h} colour, shipped {ModelPicker.Colour} through `denoise` (child process: load, read, estimate, tiles, write): {wall:F1} s wall, " +
                              $"{megapixels / wall:F2} MP/s, {peakKb / 1024.0:N0} MB peak resident; tiles: {Denoiser.Inference.ImageDenoiser.TileCount(w, h, info.TileSide)} of up to " +
                              $"{info.TileSide}x{info.TileSide}, margin {Denoiser.Inference.ImageDenoiser.Margin(info)}, {Denoiser.Inference.ImageDenoiser.PixelsRun(info, w, h):F2}x the pixels");
            Console.WriteLine($"photo-rgb {w}x{h} colour, OpenCV's coloured non-local means (h 5, template 7, search 21, this process): " +
                              $"{nlm:F1} s, {megapixels / nlm:F2} MP/s; it takes {nlm / wall:F2}x the model's time");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>
    /// The shipped photo model on a 4000x3000 grey picture (400x300 for a smoke run) through a child `denoise`, so that
    /// its wall time and peak memory are a user's; beside it OpenCV's NL-means on the same picture in this process.
    /// The picture is synthetic (shading, edges and texture, with noise of sigma 25): the time does not depend on content.
    /// </summary>
    /// <summary>
    /// `serve` in a child process (its defaults: one image at a time, a queue of 16), called over loopback with 512x512
    /// colour pictures by 1, 4 and 16 clients at once, each sending its next request when the last is answered:
    /// requests a second and the latency of the answered ones (p50, p95), and how many were told 503.
    /// </summary>
    static void ServeSpeed(double seconds)
    {
        int side = seconds > 0 ? 512 : 64;
        using var server = Process.Start(SelfStartInfo(new[] { "serve", "--port", "0" }))!;
        try
        {
            string? url = null;
            while (url == null && server.StandardOutput.ReadLine() is { } line)
                if (System.Text.RegularExpressions.Regex.Match(line, @"listening on (http://\S+)") is { Success: true } m) url = m.Groups[1].Value;
            if (url == null) throw new UserException($"bench: `denoiser serve` did not start: {server.StandardError.ReadToEnd().Trim()}");
            _ = server.StandardOutput.ReadToEndAsync();
            byte[] body;
            using (var gen = new TorchSharp.torch.Generator(2))
            using (var clean = TorchSharp.torch.rand(new long[] { 1, 3, side, side }, generator: gen))
            using (var noisy = new CameraNoise(0).Apply(clean, gen))
            using (var png = new MemoryStream())
            {
                ImageFile.Write(png, Picture.FromTensor(noisy));
                body = png.ToArray();
            }
            using var http = new System.Net.Http.HttpClient { Timeout = TimeSpan.FromMinutes(10) };
            System.Net.HttpStatusCode Send()
            {
                using var content = new System.Net.Http.ByteArrayContent(body);
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("image/png");
                using var response = http.PostAsync(url + "/api/denoise", content).GetAwaiter().GetResult();
                response.Content.ReadAsByteArrayAsync().GetAwaiter().GetResult();
                return response.StatusCode;
            }
            Send(); // loads the model
            foreach (int clients in new[] { 1, 4, 16 })
            {
                var latencies = new System.Collections.Concurrent.ConcurrentBag<double>();
                int busy = 0;
                var clock = Stopwatch.StartNew();
                double window = Math.Max(seconds, 0.01);
                var workers = Enumerable.Range(0, clients).Select(_ => Task.Run(() =>
                {
                    do
                    {
                        var one = Stopwatch.StartNew();
                        if (Send() == System.Net.HttpStatusCode.OK) latencies.Add(one.Elapsed.TotalSeconds);
                        else Interlocked.Increment(ref busy);
                    } while (clock.Elapsed.TotalSeconds < window);
                })).ToArray();
                Task.WaitAll(workers);
                double elapsed = clock.Elapsed.TotalSeconds;
                var sorted = latencies.Order().ToArray();
                double P(double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))];
                Console.WriteLine($"serve {side}x{side} colour, {clients,2} client{(clients == 1 ? " " : "s")}: {sorted.Length / elapsed:F2} images/s answered, " +
                                  $"latency p50 {P(0.5):F2} s, p95 {P(0.95):F2} s; {busy} told 503 (busy)");
            }
        }
        finally
        {
            if (!server.HasExited) server.Kill(entireProcessTree: true);
            server.WaitForExit();
        }
    }

    static void PhotoSpeed(double seconds)
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
            var (code, output, wall) = RunSelf(new[] { "denoise", png, "--pretrained", Denoiser.Inference.Pretrained.Default, "-o", Path.Combine(dir, "out.png") }, (PeakVariable, "1"));
            if (code != 0) throw new UserException($"bench: `denoiser denoise` of the {w}x{h} picture failed in the child process (exit {code}): {output.Trim()}");
            long peakKb = ReportedPeakKb(output);
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

    /// <summary>Runs this program again with <paramref name="args"/>; returns exit code, standard output and wall time.</summary>
    /// <summary>This program again, with <paramref name="args"/>, output redirected.</summary>
    static ProcessStartInfo SelfStartInfo(IEnumerable<string> args)
    {
        // The running program is `dotnet` with this assembly (`dotnet denoiser.dll`, `dotnet run`), or the apphost
        // `denoiser` itself (the built or published executable), which must be started as it is.
        string host = Environment.ProcessPath ?? throw new UserException("bench: cannot tell which program is running, to start it again.");
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") start.ArgumentList.Add(typeof(BenchCommand).Assembly.Location);
        foreach (var a in args) start.ArgumentList.Add(a);
        return start;
    }

    static (int Code, string Output, double Seconds) RunSelf(string[] args, params (string Name, string Value)[] env)
    {
        var start = SelfStartInfo(args);
        foreach (var (name, value) in env) start.Environment[name] = value;
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        double seconds = clock.Elapsed.TotalSeconds;
        return (process.ExitCode, stdout.Result + stderr.Result, seconds);
    }

    [StructLayout(LayoutKind.Sequential)]
    struct RUsage { public long UtimeSec, UtimeUsec, StimeSec, StimeUsec, MaxRssKb; [MarshalAs(UnmanagedType.ByValArray, SizeConst = 14)] public long[] Rest; }

    [DllImport("libc", EntryPoint = "getrusage")]
    static extern int GetRUsage(int who, out RUsage usage);

    /// <summary>The largest peak resident memory of the children waited for so far, in kB (Linux); 0 elsewhere.</summary>
    const string PeakVariable = "DENOISER_REPORT_PEAK";

    /// <summary>
    /// A bench child, started with <see cref="PeakVariable"/> set, prints its own peak resident memory (VmHWM, which
    /// counts from its exec) as its last line. getrusage's figure for children counted more: 9,107 MB for the 12-MP
    /// colour denoise, where /usr/bin/time measured 3.2 GB for the same command run alone.
    /// </summary>
    public static void ReportPeakIfAsked()
    {
        if (Environment.GetEnvironmentVariable(PeakVariable) != "1") return;
        try
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            if (line != null) Console.WriteLine($"peak resident: {line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]} kB");
        }
        catch (IOException) { }
    }

    /// <summary>The peak a child printed (<see cref="ReportPeakIfAsked"/>), in kB; 0 when it printed none.</summary>
    static long ReportedPeakKb(string output) =>
        System.Text.RegularExpressions.Regex.Match(output, @"peak resident: (\d+) kB") is { Success: true } m ? long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;

    static long ChildrenPeakKb()
    {
        if (!OperatingSystem.IsLinux()) return 0;
        try { return GetRUsage(-1 /* RUSAGE_CHILDREN */, out var u) == 0 ? u.MaxRssKb : 0; }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { return 0; }
    }

    static string CpuName()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (line != null) return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }
}
