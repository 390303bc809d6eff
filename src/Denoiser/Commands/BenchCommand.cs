// `denoiser bench`: Denoiser's training loop and inference against a plain TorchSharp loop, in one run, as ratios.
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Denoiser.Benchmarks;
using Denoiser.Data;
using Denoiser.Interchange;
using Denoiser.Models;
using Denoiser.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Commands;

public static class BenchCommand
{
    const int Images = 2560; // synthetic 28x28 images per training turn: about half a second at batch 20

    public static Command Create()
    {
        var seconds = new Option<double>("--seconds") { Description = "Measuring time per figure and contender", DefaultValueFactory = _ => 6 };
        var threads = new Option<int>("--threads") { Description = "CPU threads for libtorch; 0 = one per core", DefaultValueFactory = _ => 0 };
        var plainOnly = new Option<int>("--plain-only") { Description = "Print only the plain loop's training img/s at this batch size (used in a child process)", Hidden = true };
        var command = new Command("bench", "Measure training and inference images/s against a plain TorchSharp loop, on synthetic 28x28 data.")
            { seconds, threads, plainOnly };
        command.SetAction(p =>
        {
            double s = p.GetValue(seconds);
            if (!(s > 0) || s > 3600) throw new UserException("--seconds must be between 0 and 3600.", ExitCodes.Usage);
            if (p.GetValue(threads) < 0) throw new UserException("--threads must be 0 (one per core) or more.", ExitCodes.Usage);
            int n = Devices.SetThreads(p.GetValue(threads));
            if (p.GetValue(plainOnly) is > 0 and var plainBatch)
            {
                Console.WriteLine(PlainAlone(plainBatch, s).Median.ToString("F0", CultureInfo.InvariantCulture));
                return ExitCodes.Ok;
            }
            Run(s, n);
            return ExitCodes.Ok;
        });
        return command;
    }

    static void Run(double seconds, int threads)
    {
        Console.WriteLine($"machine:   {CpuName()}, {Environment.ProcessorCount} cores; {RuntimeInformation.OSDescription}, {RuntimeInformation.ProcessArchitecture}");
        Console.WriteLine($"software:  .NET {Environment.Version}, TorchSharp {typeof(torch).Assembly.GetName().Version}, CPU; " +
                          $"glibc heap tuning {(NativeRuntime.MallocTuned ? "on" : "off")}");
        Console.WriteLine($"threads:   libtorch intra-op {threads} (--threads), one process");
        Console.WriteLine($"method:    Denoiser and the plain loop take turns of 0.5 s for {seconds:0.#} s each; medians of the turns");
        Console.WriteLine();

        // First, while no other child has run: getrusage reports the largest child so far.
        var cold = ColdDenoise();
        Console.WriteLine($"{"",-24}{"Denoiser",14}{"plain loop",14}{"ratio",8}");
        var batch20 = Training(20, seconds);
        Row("training, batch 20", batch20);
        Row("training, batch 128", Training(128, seconds));
        foreach (int batch in new[] { 256, 1000 })
            Row($"inference, batch {batch}", Inference(batch, seconds));
        Console.WriteLine();

        double fresh = PlainInFreshProcess(20, seconds, threads);
        var ours = batch20.A;
        Console.WriteLine($"training, batch 20, the plain loop alone in a fresh process with glibc's default heap settings: " +
                          $"{fresh:N0} img/s; Denoiser {ours.Median:N0} img/s, {ours.Median / fresh:F2}x");
        Console.WriteLine($"denoise of one 28x28 PNG, cold start (a child process): {cold.Seconds:F2} s wall" +
                          (cold.PeakKb > 0 ? $", {cold.PeakKb / 1024.0:N0} MB peak resident" : ""));
    }

    static void Row(string name, (Rate A, Rate B) r) =>
        Console.WriteLine($"{name,-24}{r.A.Median,10:N0} img/s{r.B.Median,9:N0} img/s{r.A.Median / r.B.Median,7:F2}x" +
                          $"   (turns {r.A.Rounds}; ranges {r.A.Min:N0}-{r.A.Max:N0} / {r.B.Min:N0}-{r.B.Max:N0})");

    /// <summary>Denoiser's own epoch loop (Trainer.TrainEpoch) against PlainLoop.Epoch, on the same images.</summary>
    static (Rate A, Rate B) Training(int batch, double seconds)
    {
        torch.manual_seed(0);
        using var pixels = torch.randint(0, 256, new long[] { Images, 1, 28, 28 }, ScalarType.Byte);
        using var images = ImageSet.ToImages(pixels);
        var settings = new TrainSettings { BatchSize = batch };
        var trainer = new Trainer(settings, new RunFolder(Path.GetTempPath()), torch.CPU, new Silent());
        using var model = new ConvDenoiser();
        using var optimizer = new Adam(model.parameters(), lr: settings.LearningRate); // Training.Adam, as Trainer uses
        using var plain = new PlainLoop(images);
        using var parts = new BatchParts(torch.get_num_threads());
        var noise = Noise.Parse(settings.Noise);
        int epoch = 0;
        return Rounds.Compare(
            () => { trainer.TrainEpoch(model, optimizer, pixels, noise, ++epoch, from: null, parts); return Images; },
            () => { plain.Epoch(batch); return Images; },
            seconds);
    }

    /// <summary>Forward passes under eval() and no_grad(), split across the cores as training's evaluation runs them.</summary>
    static (Rate A, Rate B) Inference(int batch, double seconds)
    {
        torch.manual_seed(0);
        using var model = new ConvDenoiser();
        using var plain = new PlainLoop(torch.empty(0));
        using var x = torch.rand(batch, 1, 28, 28);
        int threads = torch.get_num_threads();
        using var parts = new BatchParts(threads);
        model.eval();
        // Thread counts change only when the contenders change turns (see BatchParts.OneThreadHere).
        void Threads(int n) { if (torch.get_num_threads() != n) torch.set_num_threads(n); }
        try
        {
            return Rounds.Compare(
                () => { Threads(parts.Count > 1 ? 1 : threads); using (var scope = NewDisposeScope()) parts.Forward(model, x); return batch; },
                () => { Threads(threads); using (var scope = NewDisposeScope()) plain.Infer(x); return batch; },
                seconds);
        }
        finally { Threads(threads); }
    }

    static Rate PlainAlone(int batch, double seconds)
    {
        torch.manual_seed(0);
        using var images = torch.rand(Images, 1, 28, 28);
        using var plain = new PlainLoop(images);
        return Rounds.Alone(() => { plain.Epoch(batch); return Images; }, seconds);
    }

    /// <summary>
    /// The plain loop as a user's own program would run it: a fresh process, glibc's default heap settings
    /// (DENOISER_MALLOC_TUNING=0), the same threads. One figure, so exposed to the machine's noise.
    /// </summary>
    static double PlainInFreshProcess(int batch, double seconds, int threads)
    {
        var (code, output, _) = RunSelf(new[] { "bench", "--plain-only", $"{batch}", "--seconds", $"{seconds}", "--threads", $"{threads}" },
                                        ("DENOISER_MALLOC_TUNING", "0"));
        if (code != 0 || !double.TryParse(output.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double rate))
            throw new UserException($"bench: the plain-loop child process failed (exit {code}): {output.Trim()}");
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
            ImageFile.WritePng(png, new GrayImage(28, 28, pixels));
            using (var model = new ConvDenoiser())
                WeightsFile.Export(model, weights, new Dictionary<string, string> { [WeightsFile.ModelKey] = ConvDenoiser.Kind });
            var (code, _, seconds) = RunSelf(new[] { "denoise", png, "--weights", weights, "-o", Path.Combine(dir, "out.png") });
            if (code != 0) throw new UserException($"bench: `denoiser denoise` failed in the child process (exit {code}).");
            return (seconds, ChildrenPeakKb());
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>Runs this program again with <paramref name="args"/>; returns exit code, standard output and wall time.</summary>
    static (int Code, string Output, double Seconds) RunSelf(string[] args, params (string Name, string Value)[] env)
    {
        // Started as `dotnet denoiser.dll` or as the apphost `denoiser`.
        string entry = Environment.GetCommandLineArgs()[0];
        bool viaDotnet = Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet";
        var start = new ProcessStartInfo(viaDotnet ? Environment.ProcessPath! : entry) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (viaDotnet) start.ArgumentList.Add(entry);
        foreach (var a in args) start.ArgumentList.Add(a);
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

    sealed class Silent : ITrainingObserver
    {
        public void EpochStarted(int epoch, int epochs, long images) { }
        public void Progress(long imagesDone, double runningLoss) { }
        public void EpochFinished(EpochMetrics metrics, bool best) { }
    }
}
