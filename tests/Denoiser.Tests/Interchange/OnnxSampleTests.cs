// The README's ONNX Runtime sample (samples/OnnxDenoise, built with the solution) runs on an exported model and agrees
// with `denoise`; the README shows exactly the code that was built.
using System.Diagnostics;
using Denoiser.Data;
using Denoiser.Tests.EndToEnd;
using Xunit;

namespace Denoiser.Tests.Interchange;

public class OnnxSampleTests
{
    static string Sample => Path.Combine(TestFiles.RepositoryRoot, "samples", "OnnxDenoise");

    [Fact]
    public void The_readme_shows_the_sample_as_built()
    {
        string code = File.ReadAllText(Path.Combine(Sample, "Program.cs")).ReplaceLineEndings("\n").Trim();
        string readme = File.ReadAllText(Path.Combine(TestFiles.RepositoryRoot, "README.md")).ReplaceLineEndings("\n");
        Assert.Contains(code, readme);
        Assert.InRange(code.Split('\n').Count(l => l.Length > 0 && !l.StartsWith("//")), 8, 15);
    }

    [Fact]
    public void The_sample_denoises_with_an_exported_model_as_denoise_does()
    {
        using var dir = new TempDir();
        var export = Cli.Run(dir.Path, "export", "--pretrained", "photo", "--format", "onnx", "-o", "photo.onnx");
        Assert.True(export.ExitCode == 0, export.Err);
        TestFiles.WritePng(dir["noisy.png"], 64, 48);
        // The shipped grey model is told the noise level: the sample takes it as its fourth argument, denoise as --sigma.
        var ours = Cli.Run(dir.Path, "denoise", "noisy.png", "--runtime", "onnx", "--weights", "photo.onnx", "--sigma", "20", "-o", "ours.png");
        Assert.True(ours.ExitCode == 0, ours.Err);

        // The sample's build output, in the configuration these tests were built in.
        string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}") ? "Debug" : "Release";
        string dll = Path.Combine(Sample, "bin", configuration, "net10.0", "OnnxDenoise.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing; build Denoiser.sln");
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = dir.Path, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { dll, "photo.onnx", "noisy.png", "sample.png", "20" }) psi.ArgumentList.Add(arg);
        using var p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, err);

        var a = TestFiles.ReadGrey(dir["ours.png"]);
        var b = TestFiles.ReadGrey(dir["sample.png"]);
        Assert.Equal((a.Width, a.Height), (b.Width, b.Height));
        int worst = a.Pixels.Zip(b.Pixels, (x, y) => Math.Abs(x - y)).Max();
        Assert.True(worst <= 1, $"the sample and denoise differ by up to {worst} grey levels");
        Assert.NotEqual(File.ReadAllBytes(dir["noisy.png"]), File.ReadAllBytes(dir["sample.png"]));
    }
}
