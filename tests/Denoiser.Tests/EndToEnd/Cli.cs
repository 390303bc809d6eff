// Runs the real `denoiser` program as a process, as the end-to-end tests do.
using System.Diagnostics;
using Xunit;

namespace Denoiser.Tests.EndToEnd;

public static class Cli
{
    public sealed record Result(int ExitCode, string Out, string Err)
    {
        public string[] ErrLines => Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    public static Result Run(string workDir, IDictionary<string, string>? env, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "denoiser.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        return Finish(Process.Start(psi)!);
    }

    public static Result Run(string workDir, params string[] args) => Run(workDir, null, args);

    /// <summary>The built `denoiser` executable (the apphost) started directly, as a user of the build output does.</summary>
    public static Result RunExecutable(string workDir, params string[] args)
    {
        var psi = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "denoiser.exe" : "denoiser"))
            { WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        return Finish(Process.Start(psi)!);
    }

    static Result Finish(Process started)
    {
        using var p = started;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(5)), "the program did not finish");
        return new Result(p.ExitCode, output, err.Result);
    }

    /// <summary>Starts the program without waiting, output redirected, for tests that act while it runs.</summary>
    public static Process Start(string workDir, params string[] args) => Start(workDir, null, args);

    public static Process Start(string workDir, IDictionary<string, string>? env, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "denoiser.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        return Process.Start(psi)!;
    }

    public static void AssertOneLineFailure(Result r, int exitCode, string expected)
    {
        Assert.Equal(exitCode, r.ExitCode);
        var line = Assert.Single(r.ErrLines);
        Assert.StartsWith("error: ", line);
        Assert.Contains(expected, line);
        Assert.DoesNotContain("   at ", r.Err); // no stack trace
    }
}
