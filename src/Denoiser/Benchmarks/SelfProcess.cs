// This program started again as a child process, for figures a user would see (a cold start, a big picture's wall time
// and peak memory, `serve` under load), and the child's peak memory reported back.
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Denoiser.Benchmarks;

public static class SelfProcess
{
    /// <summary>This program again, with <paramref name="args"/>, output redirected.</summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        // The running program is `dotnet` with this assembly (`dotnet denoiser.dll`, `dotnet run`), or the apphost
        // `denoiser` itself (the built or published executable), which must be started as it is.
        string host = Environment.ProcessPath ?? throw new UserException("bench: cannot tell which program is running, to start it again.");
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") start.ArgumentList.Add(typeof(SelfProcess).Assembly.Location);
        foreach (var a in args) start.ArgumentList.Add(a);
        return start;
    }

    /// <summary>Runs this program again with <paramref name="args"/>; returns exit code, standard and error output, and wall time.</summary>
    public static (int Code, string Output, double Seconds) Run(string[] args, params (string Name, string Value)[] env)
    {
        var start = StartInfo(args);
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

    /// <summary>Set in a child's environment to have it print its peak resident memory (<see cref="ReportPeakIfAsked"/>).</summary>
    public const string PeakVariable = "DENOISER_REPORT_PEAK";

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
    public static long ReportedPeakKb(string output) =>
        System.Text.RegularExpressions.Regex.Match(output, @"peak resident: (\d+) kB") is { Success: true } m ? long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;

    /// <summary>The largest peak resident memory of the children waited for so far, in kB (Linux); 0 elsewhere.</summary>
    public static long ChildrenPeakKb()
    {
        if (!OperatingSystem.IsLinux()) return 0;
        try { return GetRUsage(-1 /* RUSAGE_CHILDREN */, out var u) == 0 ? u.MaxRssKb : 0; }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { return 0; }
    }
}
