// `denoiser bench`: Denoiser's training loop and inference against a plain TorchSharp loop, in one run, as ratios; what
// each CPU trick gains; whole pictures and `serve` through child processes.
using System.Globalization;
using System.Runtime.InteropServices;
using Denoiser.Cpu;
using TorchSharp;

namespace Denoiser.Benchmarks;

public static class Bench
{
    /// <param name="threads">libtorch's threads, as set.</param>
    /// <param name="only">Only the rows whose name contains this.</param>
    /// <param name="alone">In a child process: only one contender's training img/s, plain or denoiser.</param>
    /// <param name="photos">Real noisy/clean pairs (PolyU) that the colour photo table scores each configuration on.</param>
    public static int Run(double seconds, int threads, string? only, string? alone, string? photos = null)
    {
        switch (alone)
        {
            case null: All(seconds, threads, only, photos); break;
            case "plain": Console.WriteLine(Race.PlainAlone(seconds).Median.ToString("F0", CultureInfo.InvariantCulture)); break;
            case "denoiser": Console.WriteLine(Race.DenoiserAlone(seconds).Median.ToString("F0", CultureInfo.InvariantCulture)); break;
            default: throw new UserException("--alone takes plain or denoiser.", ExitCodes.Usage);
        }
        return ExitCodes.Ok;
    }

    static void All(double seconds, int threads, string? only, string? photos)
    {
        bool Wanted(string row) => only == null || row.Contains(only, StringComparison.OrdinalIgnoreCase);
        Console.WriteLine($"machine:   {CpuName()}, {Environment.ProcessorCount} cores; {RuntimeInformation.OSDescription}, {RuntimeInformation.ProcessArchitecture}");
        Console.WriteLine($"software:  .NET {Environment.Version}, TorchSharp {typeof(torch).Assembly.GetName().Version}, CPU; " +
                          $"glibc heap tuning {(NativeRuntime.MallocTuned ? "on" : "off")}");
        using (var parts = new BatchParts(threads))
            Console.WriteLine($"threads:   libtorch {threads} (--threads, at most one per core); batches split in up to {parts.MaxParts} parts of at least {BatchParts.MinPixelsPerPart:N0} pixels");
        Console.WriteLine($"method:    contenders take turns of 0.5 s for {seconds:0.#} s each in one process; medians of the turns");
        Console.WriteLine();
        var cold = only == null ? PictureSpeed.ColdDenoise() : default; // first, while no other child has run: getrusage reports the largest child so far

        Console.WriteLine($"{"against a plain TorchSharp loop",-40}{"Denoiser",14}{"plain loop",14}{"ratio",8}");
        var batch20 = Wanted("training, batch 20") ? Race.AgainstPlain(Workload.Seed20, seconds) : default;
        if (Wanted("training, batch 20")) Row("training, batch 20", batch20);
        if (Wanted("training, batch 128")) Row("training, batch 128", Race.AgainstPlain(Workload.Seed128, seconds));
        foreach (int batch in new[] { 256, 1000 })
            if (Wanted($"inference, batch {batch}")) Row($"inference, batch {batch}", Race.Inference(batch, seconds));
        Console.WriteLine();

        Console.WriteLine($"{"what each CPU trick gains",-40}{"all tricks",14}{"without it",14}{"gain",8}");
        foreach (var workload in new[] { Workload.Seed20, Workload.Seed128, Workload.DnCnn40, Workload.Photo8 })
            foreach (var (name, without) in Workload.Tricks)
            {
                string label = $"{workload.Name}: {name}";
                if (!Wanted(label)) continue;
                if (!workload.Engages(without)) { Console.WriteLine($"{label,-40}{"not used by this model",36}"); continue; }
                Row(label, Race.Training(new Contender(workload, CpuTricks.All), new Contender(workload, without), seconds));
            }
        Console.WriteLine();
        if (Wanted("photo")) PictureSpeed.Grey(seconds);
        if (Wanted("photo-rgb")) PictureSpeed.Colour(seconds, photos);
        if (Wanted("serve")) ServeLoad.Run(seconds);
        if (only != null) return;

        double fresh = Child("denoiser", seconds, threads), plain = Child("plain", seconds, threads);
        var alone = Race.DenoiserAlone(seconds).Median;
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

    /// <summary>
    /// One contender alone at batch 20 as a user's own program would run it: a fresh process, glibc's default heap
    /// settings (DENOISER_MALLOC_TUNING=0), the same threads. One figure each, so exposed to the machine's noise.
    /// </summary>
    static double Child(string contender, double seconds, int threads)
    {
        var (code, output, _) = SelfProcess.Run(new[] { "bench", "--alone", contender, "--seconds", $"{seconds}", "--threads", $"{threads}" },
                                                ("DENOISER_MALLOC_TUNING", "0"));
        if (code != 0 || !double.TryParse(output.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double rate))
            throw new UserException($"bench: the {contender} child process failed (exit {code}): {output.Trim()}");
        return rate;
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
