// -p:TorchBackend picks the TorchSharp package: checked by asking MSBuild itself, without restoring anything.
using System.Diagnostics;
using Xunit;

namespace Denoiser.Tests.Build;

public class TorchBackendTests
{
    static string Project
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Denoiser.sln"))) dir = dir.Parent;
            return Path.Combine(dir?.FullName ?? throw new InvalidOperationException("Denoiser.sln not found above the test output"),
                                "src", "Denoiser", "Denoiser.csproj");
        }
    }

    static (int Code, string Output) MsBuild(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "msbuild", Project, "-nologo" }.Concat(args)) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, output.Result + error.Result);
    }

    static string[] TorchPackages(params string[] args)
    {
        var (code, output) = MsBuild(args.Append("-getItem:PackageReference").ToArray());
        Assert.True(code == 0, output);
        return System.Text.RegularExpressions.Regex.Matches(output, "\"Identity\":\\s*\"(TorchSharp-[^\"]*)\"") // the backend packages, not TorchSharp.PyBridge
            .Select(m => m.Groups[1].Value).ToArray();
    }

    [Fact]
    public void The_default_backend_is_the_cpu_package() =>
        Assert.Equal(new[] { "TorchSharp-cpu" }, TorchPackages());

    [Fact]
    public void Cuda_picks_the_cuda_package_of_the_building_os() =>
        Assert.Equal(new[] { OperatingSystem.IsWindows() ? "TorchSharp-cuda-windows" : "TorchSharp-cuda-linux" },
                     TorchPackages("-p:TorchBackend=cuda"));

    [Fact]
    public void An_unknown_backend_is_one_clear_build_error()
    {
        var (code, output) = MsBuild("-t:CheckTorchBackend", "-p:TorchBackend=rocm");
        Assert.NotEqual(0, code);
        Assert.Contains("TorchBackend is 'rocm'; it must be cpu (the default) or cuda", output);
    }
}
