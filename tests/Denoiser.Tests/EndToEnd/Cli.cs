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
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(5)), "the program did not finish");
        return new Result(p.ExitCode, output, err.Result);
    }

    public static Result Run(string workDir, params string[] args) => Run(workDir, null, args);

    public static void AssertOneLineFailure(Result r, int exitCode, string expected)
    {
        Assert.Equal(exitCode, r.ExitCode);
        var line = Assert.Single(r.ErrLines);
        Assert.StartsWith("error: ", line);
        Assert.Contains(expected, line);
        Assert.DoesNotContain("   at ", r.Err); // no stack trace
    }
}
