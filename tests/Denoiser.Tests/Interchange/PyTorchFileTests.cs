// PyTorch .pt files in and out: PyTorch 1.13's own files (tools/parity/make_pt_fixtures.py), the authors' legacy DnCNN,
// refusals before allocation, and pickles that would run code in Python.
using System.Diagnostics;
using Denoiser.Data;
using Denoiser.Interchange;
using Denoiser.Models;
using Denoiser.Tests.EndToEnd;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Denoiser.Tests.Interchange;

public class PyTorchFileTests
{
    static string Pt(string name) => TestFiles.Fixture(Path.Combine("pt", name));
    static readonly IReadOnlyDictionary<string, SafeTensor> Expected = SafeTensorsFile.Read(Pt("expected.safetensors")).Tensors;

    [Theory]
    [InlineData("convdenoiser.pt")]          // a state dict, zip format, with a view at an offset and a transposed weight
    [InlineData("convdenoiser-module.pt")]   // the whole module, zip format
    [InlineData("convdenoiser-legacy.pth")]  // the whole module, legacy format
    [InlineData("checkpoint.pt")]            // {"epoch": 3, "state_dict": ...}
    public void Reads_what_pytorch_saved_bit_for_bit(string file)
    {
        var tensors = PyTorchFile.Read(Pt(file));
        using var model = new ConvDenoiser();
        Assert.Equal(model.state_dict().Keys.Order(), tensors.Keys.Order());
        foreach (var (name, t) in tensors)
        {
            Assert.Equal(Expected[name].Shape, t.Shape);
            Assert.Equal(Expected[name].Data, t.Data);
        }
    }

    [Fact]
    public void The_loaded_model_gives_pytorchs_output()
    {
        using var model = new ConvDenoiser();
        Assert.Equal(ConvDenoiser.Kind, WeightsFile.ModelOf(Pt("convdenoiser.pt")));
        WeightsFile.LoadInto(model, ConvDenoiser.Kind, Pt("convdenoiser.pt"));
        model.eval();
        using var scope = NewDisposeScope();
        var x = torch.tensor(Expected["input"].Data, Expected["input"].Shape);
        var y = torch.tensor(Expected["output"].Data, Expected["output"].Shape);
        using var _ = torch.no_grad();
        Assert.True(model.call(x).allclose(y, rtol: 0, atol: 1e-5));
    }

    [Fact]
    public void Export_writes_a_state_dict_that_reads_back_exactly()
    {
        using var dir = new TempDir();
        torch.manual_seed(5);
        using var a = new DnCNN(); // has int64 buffers (num_batches_tracked) beside the float32 weights
        WeightsFile.ExportPyTorch(a, dir["w.pt"]);
        var tensors = PyTorchFile.Read(dir["w.pt"]);
        var expected = a.state_dict();
        Assert.Equal(expected.Keys.Order(), tensors.Keys.Order());
        foreach (var (name, t) in expected)
            if (t.dtype == ScalarType.Int64) Assert.Equal(t.data<long>().ToArray(), (long[])tensors[name].Values);
            else Assert.Equal(t.data<float>().ToArray(), tensors[name].Data);
    }

    /// <summary>PyTorch -> .pt -> Denoiser -> .pt -> PyTorch, checked by PyTorch itself where Debian's python3-torch is installed.</summary>
    [SkippableFact]
    public void Round_trip_through_pytorch_changes_nothing()
    {
        Skip.IfNot(PythonWithTorch(), "/usr/bin/python3 with torch (apt-get install python3-torch) is not on this machine");
        using var dir = new TempDir();
        var import = Cli.Run(dir.Path, "import", Pt("convdenoiser.pt"), "--run-dir", dir["run"]);
        Assert.True(import.ExitCode == 0, import.Err);
        var export = Cli.Run(dir.Path, "export", "--checkpoint", dir["run/best.ckpt"], "--format", "pt", "-o", dir["back.pt"]);
        Assert.True(export.ExitCode == 0, export.Err);
        string script = Path.Combine(TestFiles.RepositoryRoot, "tools", "parity", "make_pt_fixtures.py");
        var check = Run("/usr/bin/python3", script, "--check", dir["back.pt"]);
        Assert.Contains("max difference 0.0", check);
    }

    [Theory]
    [InlineData("evil.pt")]
    [InlineData("evil-legacy.pth")]
    public void A_pickle_that_names_os_system_is_refused_and_runs_nothing(string file)
    {
        using var dir = new TempDir();
        var e = Assert.Throws<InvalidDataException>(() => PyTorchFile.Read(Pt(file)));
        Assert.Contains("names posix.system", e.Message); // os.system, as Linux's Python pickles it
        TestFiles.WritePng(dir["x.png"], 16, 16);
        foreach (var args in new[] { new[] { "import", Pt(file), "--run-dir", dir["run"] }, new[] { "denoise", "x.png", "--weights", Pt(file) } })
        {
            var r = Cli.Run(dir.Path, args);
            Cli.AssertOneLineFailure(r, 1, "torch.save(model.state_dict(), PATH)");
        }
        Assert.False(File.Exists(dir["pwned-marker"]));
        Assert.False(Directory.Exists(dir["run"]) && Directory.EnumerateFiles(dir["run"]).Any());
    }

    [Theory]
    [InlineData("huge.pt", "more than 268,435,456 elements")]
    [InlineData("extent.pt", "w reaches element 5 of a storage of 4")]
    [InlineData("short.pt", "declares 8 elements (32 bytes) but stores 16 bytes")]
    [InlineData("bomb.pt", "past the 67,108,864")]
    public void Malformed_archives_are_refused_before_allocation(string file, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => PyTorchFile.Read(Pt(file)));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith(Pt(file), e.Message);
    }

    [Fact]
    public void A_file_past_the_size_cap_is_refused_unread()
    {
        using var dir = new TempDir();
        using (var f = File.Create(dir["big.pt"]))
        {
            f.Write("PK"u8);
            f.SetLength(PyTorchFile.MaxFileBytes + 1); // sparse: nothing is written
        }
        var e = Assert.Throws<InvalidDataException>(() => PyTorchFile.Read(dir["big.pt"]));
        Assert.Contains("more than the 1,073,741,824 Denoiser reads", e.Message);
    }

    [Fact]
    public void A_safetensors_file_under_another_name_is_not_taken_for_a_pickle()
    {
        using var dir = new TempDir();
        using var model = new ConvDenoiser();
        // Metadata long enough that the header's length ends in byte 0x80, a pickle's first opcode.
        for (int pad = 0; ; pad++)
        {
            WeightsFile.Export(model, dir["w.bin"], new Dictionary<string, string> { ["pad"] = new string('x', pad) });
            if (File.ReadAllBytes(dir["w.bin"])[0] == 0x80) break;
        }
        Assert.False(PyTorchFile.Recognizes(dir["w.bin"]));
        Assert.Equal(model.state_dict().Count, WeightsFile.Read(dir["w.bin"]).Tensors.Count);
        Assert.True(PyTorchFile.Recognizes(Pt("convdenoiser.pt")));
        Assert.True(PyTorchFile.Recognizes(Pt("convdenoiser-legacy.pth")));
    }

    [Fact]
    public void Another_models_pt_does_not_fit()
    {
        using var model = new UNet();
        var e = Assert.Throws<UserException>(() => WeightsFile.LoadInto(model, UNet.Kind, Pt("convdenoiser.pt")));
        Assert.Contains("does not fit unet", e.Message);
    }

    /// <summary>The DnCNN authors' own file (a whole module, legacy format) gives the weights of its safetensors conversion, bit for bit.</summary>
    [SkippableFact]
    public void The_authors_legacy_dncnn_reads_as_its_safetensors()
    {
        string anchors = Path.GetFullPath(Path.Combine(TestFiles.RepositoryRoot, "..", "shared", "anchors"));
        string pth = Path.Combine(anchors, "dncnn-sigma25-authors.pth");
        Skip.IfNot(File.Exists(pth), $"{pth} is not on this machine");
        var legacy = PyTorchFile.Read(pth);
        var (reference, _) = SafeTensorsFile.Read(Path.Combine(anchors, "dncnn-sigma25.safetensors"));
        Assert.Equal(reference.Keys.Order(), legacy.Keys.Order());
        foreach (var (name, t) in reference)
        {
            Assert.Equal(t.Shape, legacy[name].Shape);
            Assert.Equal(t.Dtype, legacy[name].Dtype);
            if (t.Values is long[] longs) Assert.Equal(longs, (long[])legacy[name].Values);
            else Assert.Equal(t.Data, legacy[name].Data);
        }
        Assert.Equal(DnCNN.Kind, WeightsFile.ModelOf(pth));
    }

    static bool PythonWithTorch()
    {
        try { return Run("/usr/bin/python3", "-c", "import torch; print('ok')").Contains("ok"); }
        catch (System.ComponentModel.Win32Exception) { return false; }
    }

    static string Run(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return output + err.Result;
    }
}
