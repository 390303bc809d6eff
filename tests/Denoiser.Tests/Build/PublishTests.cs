// The lean install: a self-contained linux-x64 publish runs with no .NET on the machine, and builds carry only this
// platform's native libraries.
using System.Diagnostics;
using System.Runtime.InteropServices;
using Denoiser.Tests.EndToEnd;
using Xunit;
using Xunit.Abstractions;

namespace Denoiser.Tests.Build;

public class PublishTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void The_published_linux_folder_denoises_and_trains_without_dotnet()
    {
        Skip.IfNot(RuntimeInformation.RuntimeIdentifier == "linux-x64", "the published folder is for linux-x64");
        using var dir = new TempDir();
        string project = Path.Combine(TestFiles.RepositoryRoot, "src", "Denoiser", "Denoiser.csproj");
        var publish = Run("dotnet", dir.Path, null, "publish", project, "-c", "Release", "-r", "linux-x64", "--self-contained", "-o", dir["pub"]);
        Assert.True(publish.Code == 0, publish.Output);

        long bytes = Directory.EnumerateFiles(dir["pub"], "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        output.WriteLine($"published folder: {bytes / 1e6:F0} MB in {Directory.EnumerateFiles(dir["pub"], "*", SearchOption.AllDirectories).Count()} files");
        Assert.True(File.Exists(dir["pub/libcoreclr.so"]), "not self-contained: the .NET runtime is missing");
        Assert.True(File.Exists(dir["pub/libtorch_cpu.so"]));
        Assert.False(Directory.Exists(dir["pub/runtimes/win-x64"]));

        // No .NET to fall back on: no dotnet on the PATH, DOTNET_ROOT pointing nowhere.
        var env = new Dictionary<string, string> { ["PATH"] = "/bin", ["DOTNET_ROOT"] = dir["no-dotnet"] };
        string denoiser = dir["pub/denoiser"];
        Directory.CreateDirectory(dir["work"]);
        TestFiles.WritePng(dir["work/scan.png"], 40, 32);
        var denoise = Run(denoiser, dir["work"], env, "denoise", "scan.png");
        Assert.True(denoise.Code == 0, denoise.Output);
        Assert.Contains("shipped model photo (no trained run", denoise.Output); // a grey scan: the grey photo model
        Assert.True(File.Exists(dir["work/scan.denoised.png"]));

        TestFiles.WriteMnist(dir["work/mnist"], train: 40, test: 20);
        var train = Run(denoiser, dir["work"], env, "train", "--data-dir", "mnist", "--epochs", "1", "--run-dir", "run", "--threads", "2");
        Assert.True(train.Code == 0, train.Output);
        Assert.True(File.Exists(dir["work/run/best.ckpt"]));
    }

    [Fact]
    public void The_build_output_carries_only_this_platforms_natives()
    {
        string runtimes = Path.Combine(AppContext.BaseDirectory, "runtimes");
        string host = RuntimeInformation.RuntimeIdentifier, os = host[..host.IndexOf('-')];
        var others = Directory.Exists(runtimes)
            ? Directory.EnumerateDirectories(runtimes).Select(Path.GetFileName).Where(r => r != host && r != os && !(r == "unix" && os != "win")).ToList()
            : [];
        Assert.Empty(others);
        Assert.True(Directory.Exists(Path.Combine(runtimes, host, "native")), $"no natives for {host}");
    }

    static (int Code, string Output) Run(string program, string workDir, IDictionary<string, string>? env, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(10)), $"{program} did not finish");
        return (p.ExitCode, stdout + err.Result);
    }
}
