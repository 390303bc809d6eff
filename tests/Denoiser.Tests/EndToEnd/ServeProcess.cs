// `denoiser serve` started as a user starts it, on a free loopback port (port 0: the program prints the one it got).
using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit;

namespace Denoiser.Tests.EndToEnd;

public sealed class ServeProcess : IDisposable
{
    readonly Process process;
    readonly List<string> lines = new();

    /// <summary>Where to call it: the address it printed, with 0.0.0.0 reached through loopback.</summary>
    public string Url { get; }

    public ServeProcess(string workDir, params string[] options) : this(workDir, null, options) { }

    /// <param name="env">More of the environment it starts in.</param>
    public ServeProcess(string workDir, IDictionary<string, string>? env, params string[] options)
    {
        process = Cli.Start(workDir, env, new[] { "serve", "--port", "0" }.Concat(options).ToArray());
        var ready = new TaskCompletionSource<string>();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data == null) return;
            lock (lines) lines.Add(e.Data);
            if (Regex.Match(e.Data, @"listening on (http://\S+)") is { Success: true } m) ready.TrySetResult(m.Groups[1].Value);
        };
        process.BeginOutputReadLine();
        Assert.True(ready.Task.Wait(TimeSpan.FromMinutes(1)), "serve did not say where it listens");
        Url = ready.Task.Result.Replace("0.0.0.0", "127.0.0.1");
    }

    /// <summary>Waits until the server has printed a line starting with <paramref name="start"/>.</summary>
    public async Task Said(string start)
    {
        var clock = Stopwatch.StartNew();
        while (!Lines.Any(l => l.StartsWith(start, StringComparison.Ordinal)))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), $"serve did not say \"{start}\"");
            await Task.Delay(50);
        }
    }

    public string[] Lines { get { lock (lines) return lines.ToArray(); } }

    /// <summary>Its resident memory now, in kB (VmRSS).</summary>
    public long ResidentKb()
    {
        var line = File.ReadLines($"/proc/{process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
    }

    /// <summary>SIGTERM, as a service manager stops it; returns its exit code.</summary>
    public int Stop()
    {
        if (!process.HasExited) Process.Start("kill", ["-TERM", process.Id.ToString()])!.WaitForExit();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(1)), "serve did not stop on SIGTERM");
        return process.ExitCode;
    }

    /// <summary>Sends SIGTERM without waiting for the exit.</summary>
    public void Terminate() => Process.Start("kill", ["-TERM", process.Id.ToString()])!.WaitForExit();

    public void Dispose()
    {
        if (!process.HasExited) Stop();
        process.Dispose();
    }
}
