// The real `denoiser` program run as a process: train, find its files, denoise, and refuse bad input cleanly.
using System.Diagnostics;
using Denoiser.Data;
using Denoiser.Training;
using Xunit;

using static Denoiser.Tests.EndToEnd.Cli;

namespace Denoiser.Tests.EndToEnd;

public class CliTests
{
    [Fact]
    public void Trains_one_epoch_then_denoises_a_png_with_the_latest_checkpoint()
    {
        using var dir = new TempDir();
        TestFiles.WriteMnist(dir["data"], train: 200, test: 40, gzip: true);

        var train = Run(dir.Path, "train", "--epochs", "1", "--data-dir", "data", "--threads", "2", "--tensorboard");
        Assert.True(train.ExitCode == 0, train.Err);
        Assert.Contains("epoch 1/1", train.Out);
        string run = Assert.Single(Directory.GetDirectories(dir["models"]));
        foreach (var f in new[] { "best.ckpt", "last.ckpt", "settings.json", "metrics.csv", "samples/epoch-001.png" })
            Assert.True(File.Exists(Path.Combine(run, f)), f);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(run, "metrics.csv")).Length);
        string events = File.ReadAllText(Assert.Single(Directory.GetFiles(Path.Combine(run, "tensorboard"), "events.out.tfevents*")));
        Assert.Contains("psnr_db/test", events);
        Assert.Contains("samples", events);

        // With no model named, the run is used for a picture like its digits; a grey gradient and a colour photo get
        // the shipped model for their kind, and each line says which model and why.
        ImageFile.Write(dir["digit.png"], Picture.FromBytes(28, 28, 1, TestFiles.Digit(3, 1)));
        var digit = Run(dir.Path, "denoise", "digit.png");
        Assert.True(digit.ExitCode == 0, digit.Err);
        Assert.Contains("best.ckpt", digit.Out);
        Assert.Contains("the latest run, trained on pictures like this", digit.Out);
        TestFiles.WriteRgbPng(dir["photo.png"], 64, 48);
        var photo = Run(dir.Path, "denoise", "photo.png");
        Assert.True(photo.ExitCode == 0, photo.Err);
        Assert.Contains($"shipped model {Denoiser.Commands.ModelPicker.Colour} (the latest run (MNIST digits", photo.Out);
        Assert.Matches(@"noise level \d+\.\d/255 estimated", photo.Out);
        TestFiles.WritePng(dir["scan.png"], 45, 30);
        var denoise = Run(dir.Path, "denoise", "scan.png");
        Assert.True(denoise.ExitCode == 0, denoise.Err);
        Assert.Contains($"shipped model {Denoiser.Commands.ModelPicker.Grey} (the latest run", denoise.Out);
        var output = TestFiles.ReadGrey(dir["scan.denoised.png"]);
        Assert.Equal((45, 30), (output.Width, output.Height));

        // Running again does not silently replace the output; --overwrite does.
        byte[] before = File.ReadAllBytes(dir["scan.denoised.png"]);
        AssertOneLineFailure(Run(dir.Path, "denoise", "scan.png"), 2, "already exists");
        Assert.Equal(before, File.ReadAllBytes(dir["scan.denoised.png"]));
        Assert.Equal(0, Run(dir.Path, "denoise", "scan.png", "--overwrite").ExitCode);

        // Resuming the finished run for one more epoch.
        var resume = Run(dir.Path, "train", "--resume", "--epochs", "2", "--data-dir", "data", "--threads", "2");
        Assert.True(resume.ExitCode == 0, resume.Err);
        Assert.Contains("resuming at epoch 2", resume.Out);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(run, "metrics.csv")).Length);

        // A finished run is not trained again (a no-op that succeeds, as a requeued job needs), and a resumed run keeps
        // its recipe; nothing saved changes.
        byte[] last = File.ReadAllBytes(Path.Combine(run, "last.ckpt"));
        var again = Run(dir.Path, "train", "--resume", "--epochs", "2", "--data-dir", "data");
        Assert.True(again.ExitCode == 0, again.Err);
        Assert.Contains("nothing to do", again.Out);
        Assert.Contains("already has 2 of 2 epochs", again.Out);
        Assert.Equal("", again.Err);
        AssertOneLineFailure(Run(dir.Path, "train", "--resume", "--epochs", "3", "--lr", "0.01", "--data-dir", "data"), 2, "--lr cannot change");
        Assert.Equal(last, File.ReadAllBytes(Path.Combine(run, "last.ckpt")));

        // `runs` lists it, and a damaged run beside it is shown as damaged rather than failing the listing.
        Directory.CreateDirectory(dir["models/broken"]);
        File.WriteAllBytes(dir["models/broken/last.ckpt"], last[..500]);
        var runs = Run(dir.Path, "runs");
        Assert.True(runs.ExitCode == 0, runs.Err);
        Assert.Contains("2/2", runs.Out);
        Assert.Contains("damaged", runs.Out);
    }

    [Fact]
    public void Bad_input_gets_one_line_a_non_zero_exit_and_no_output_file()
    {
        using var dir = new TempDir();
        TestFiles.WriteMnist(dir["data"], train: 40, test: 20);
        TestFiles.WriteMnist(dir["baddata"], train: 40, test: 20);
        File.WriteAllBytes(dir["empty.png"], Array.Empty<byte>());
        File.WriteAllText(dir["notes.png"], "just text");
        File.WriteAllText(dir["file"], "a file, not a folder");
        TestFiles.WritePng(dir["ok.png"], 28, 28);
        File.WriteAllBytes(dir["bad.ckpt"], new byte[100]);
        File.WriteAllText(dir["broken.json"], "{ \"Train\": { \"Epochs\": 3, }");
        File.WriteAllText(dir["typed.json"], "{ \"Train\": { \"Epochs\": \"many\" } }");
        File.WriteAllBytes(dir["baddata/t10k-images-idx3-ubyte"], File.ReadAllBytes(dir["baddata/t10k-images-idx3-ubyte"])[..1000]);

        AssertOneLineFailure(Run(dir.Path, "train", "--epochz", "3"), 2, "--epochz");
        AssertOneLineFailure(Run(dir.Path, "train", "--epochs", "0"), 2, "--epochs must be at least 1");
        AssertOneLineFailure(Run(dir.Path, "train", "--batch-size", "0"), 2, "--batch-size");
        AssertOneLineFailure(Run(dir.Path, "train", "--noise", "-0.5"), 2, "--noise");
        AssertOneLineFailure(Run(dir.Path, "train", "--noise", "blur:2"), 2, "unknown kind 'blur'");
        AssertOneLineFailure(Run(dir.Path, "train", "--epochs", "ten"), 2, "ten");
        AssertOneLineFailure(Run(dir.Path, "train", "--device", "cuda", "--data-dir", "data"), 2, "CUDA is not available");
        AssertOneLineFailure(Run(dir.Path, "train", "--data-dir", "baddata", "--epochs", "1"), 1, "t10k-images-idx3-ubyte: file is 1000 bytes");
        AssertOneLineFailure(Run(dir.Path, new Dictionary<string, string> { ["DENOISER_CONFIG"] = dir["broken.json"] }, "train"), 2, "malformed JSON at line 1");
        AssertOneLineFailure(Run(dir.Path, new Dictionary<string, string> { ["DENOISER_CONFIG"] = dir["typed.json"] }, "train"), 2, "Train:Epochs");
        AssertOneLineFailure(Run(dir.Path, "denoise", "ok.png", "--checkpoint", "missing.ckpt"), 1, "checkpoint not found");
        AssertOneLineFailure(Run(dir.Path, "denoise", "ok.png", "--checkpoint", "bad.ckpt"), 1, "not a complete Denoiser checkpoint");
        AssertOneLineFailure(Run(dir.Path, "denoise", "ok.png", "--pretrained", "nosuch"), 2, "there is no shipped model of that name");
        AssertOneLineFailure(Run(dir.Path, "denoise", "ok.png", "--pretrained", "photo", "--checkpoint", "bad.ckpt"), 2, "give one of them");
        AssertOneLineFailure(Run(dir.Path, "denoise", "missing.png"), 1, "missing.png: file not found");
        AssertOneLineFailure(Run(dir.Path, "denoise", "ok.png", "-o", "ok.png"), 2, "is the input itself");

        // With a real checkpoint: unreadable images and unwritable outputs.
        var trained = Run(dir.Path, "train", "--epochs", "1", "--data-dir", "data", "--run-dir", "models/r");
        Assert.True(trained.ExitCode == 0, trained.Err);
        AssertOneLineFailure(Run(dir.Path, "denoise", "empty.png"), 1, "empty (0 bytes)");
        AssertOneLineFailure(Run(dir.Path, "denoise", "notes.png"), 1, "not a readable image");
        AssertOneLineFailure(Run(dir.Path, "denoise", "ok.png", "-o", "file/out.png"), 1, "file/out.png");

        Assert.False(File.Exists(dir["empty.denoised.png"]));
        Assert.False(File.Exists(dir["notes.denoised.png"]));
        Assert.False(File.Exists(dir["ok.denoised.png"]));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void Weights_travel_from_pytorch_through_import_export_and_denoise()
    {
        using var dir = new TempDir();
        string pytorch = TestFiles.Fixture("parity-init.safetensors");
        TestFiles.WritePng(dir["digit.png"], 28, 28);

        var import = Run(dir.Path, "import", pytorch, "--run-dir", "models/imported");
        Assert.True(import.ExitCode == 0, import.Err);
        Assert.True(File.Exists(dir["models/imported/best.ckpt"]));
        var export = Run(dir.Path, "export", "-o", "out.safetensors"); // the latest run: the imported one
        Assert.True(export.ExitCode == 0, export.Err);
        var original = SafeTensorsFile.Read(pytorch).Tensors;
        var exported = SafeTensorsFile.Read(dir["out.safetensors"]).Tensors;
        Assert.All(original, kv => Assert.Equal(kv.Value.Data, exported[kv.Key].Data));

        Assert.Equal(0, Run(dir.Path, "denoise", "digit.png", "--weights", "out.safetensors", "-o", "a.png").ExitCode);
        Assert.Equal(0, Run(dir.Path, "denoise", "digit.png", "--checkpoint", "models/imported/best.ckpt", "-o", "b.png").ExitCode);
        Assert.Equal(File.ReadAllBytes(dir["a.png"]), File.ReadAllBytes(dir["b.png"]));

        File.WriteAllBytes(dir["cut.safetensors"], File.ReadAllBytes(pytorch)[..1000]);
        AssertOneLineFailure(Run(dir.Path, "import", "cut.safetensors", "--run-dir", "models/cut"), 1, "not a valid safetensors file");
        Assert.False(Directory.Exists(dir["models/cut"]));
        AssertOneLineFailure(Run(dir.Path, "denoise", "digit.png", "--weights", "cut.safetensors", "-o", "c.png"), 1, "cut.safetensors");
        Assert.False(File.Exists(dir["c.png"]));
        AssertOneLineFailure(Run(dir.Path, "export", "-o", "out.safetensors"), 2, "already exists");
        AssertOneLineFailure(Run(dir.Path, "export"), 2, "--output");
        AssertOneLineFailure(Run(dir.Path, "denoise", "digit.png", "--weights", "out.safetensors", "--checkpoint", "x.ckpt", "-o", "d.png"), 2, "give one of them");
    }

    [Fact]
    public void An_onnx_export_denoises_through_onnx_runtime_without_libtorch()
    {
        using var dir = new TempDir();
        string pytorch = TestFiles.Fixture("parity-init.safetensors");
        TestFiles.WritePng(dir["digit.png"], 45, 30);
        Assert.Equal(0, Run(dir.Path, "export", "--weights", pytorch, "--format", "onnx", "-o", "m.onnx").ExitCode);
        Assert.Equal(0, Run(dir.Path, "denoise", "digit.png", "--weights", pytorch, "-o", "torch.png").ExitCode);

        // A copy of the program without any libtorch library: the ONNX path must not need one.
        string bare = Directory.CreateDirectory(dir["bare"]).FullName;
        foreach (var file in Directory.GetFiles(AppContext.BaseDirectory, "*", SearchOption.AllDirectories))
        {
            string name = Path.GetFileName(file);
            if (name.StartsWith("libtorch") || name.StartsWith("libLibTorchSharp") || name.StartsWith("libc10") || name.Contains("Tests")) continue;
            string target = Path.Combine(bare, Path.GetRelativePath(AppContext.BaseDirectory, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { WorkingDirectory = dir.Path, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Path.Combine(bare, "denoiser.dll"), "denoise", "digit.png", "--runtime", "onnx", "--weights", "m.onnx", "-o", "onnx.png" })
            psi.ArgumentList.Add(arg);
        using (var p = System.Diagnostics.Process.Start(psi)!)
        {
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, err);
        }

        var viaTorch = TestFiles.ReadGrey(dir["torch.png"]).Pixels;
        var viaOnnx = TestFiles.ReadGrey(dir["onnx.png"]).Pixels;
        Assert.True(viaTorch.Zip(viaOnnx).All(q => Math.Abs(q.First - q.Second) <= 1), "ONNX Runtime and TorchSharp outputs differ by more than rounding");

        AssertOneLineFailure(Run(dir.Path, "denoise", "digit.png", "--runtime", "onnx", "--weights", pytorch, "-o", "x.png"), 1, "not a loadable ONNX model");
        AssertOneLineFailure(Run(dir.Path, "denoise", "digit.png", "--runtime", "onnx", "-o", "x.png"), 2, "--weights MODEL.onnx");
        AssertOneLineFailure(Run(dir.Path, "denoise", "digit.png", "--runtime", "torch", "--weights", "m.onnx", "-o", "x.png"), 2, "leave out --runtime torch");
        AssertOneLineFailure(Run(dir.Path, "denoise", "digit.png", "--runtime", "onnx", "--checkpoint", "x.ckpt", "-o", "x.png"), 2, "--weights MODEL.onnx");
        Assert.False(File.Exists(dir["x.png"]));
        // Without --runtime (auto), an ONNX file runs on ONNX Runtime, and the line says so.
        var auto = Run(dir.Path, "denoise", "digit.png", "--weights", "m.onnx", "-o", "auto.png");
        Assert.True(auto.ExitCode == 0, auto.Err);
        Assert.Contains("ONNX Runtime", auto.Out);
        Assert.Equal(viaOnnx, TestFiles.ReadGrey(dir["auto.png"]).Pixels);
    }

    [Fact]
    public void Evaluate_writes_tables_csv_and_json()
    {
        using var dir = new TempDir();
        TestFiles.WriteMnist(dir["data"], train: 10, test: 40);
        string weights = TestFiles.Fixture("parity-init.safetensors");

        var r = Run(dir.Path, "evaluate", "--weights", weights, "--data-dir", "data", "--noise", "gaussian:0.3", "gaussian:0.6,clip", "poisson:20,8bit",
                    "--output-dir", "eval");
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Contains("median 3x3", r.Out);
        Assert.Contains("per class", r.Out);
        Assert.Contains("gaussian:0.6,clip", r.Out); // clipping and rounding are said where scores are
        Assert.Contains("poisson:20,8bit", r.Out);
        var csv = File.ReadAllLines(dir["eval/evaluation.csv"]);
        Assert.Equal("set,noise,method,class,count,psnr_db,ssim,seconds", csv[0]);
        Assert.Equal(1 + 3 * 4 * 11, csv.Length); // 3 noises x 4 methods x (all + 10 digits)
        Assert.Equal(720, TestFiles.ReadGrey(dir["eval/psnr-vs-sigma.png"]).Width);
        Assert.True(File.Exists(dir["eval/evaluation.json"]));
        var picture = TestFiles.ReadGrey(dir["eval/samples-poisson-20-8bit.png"]);
        Assert.Equal(5 * 56 + 6 * 2, picture.Height); // clean, noisy, model, median, blur
        // The papers' noise on MNIST too: its spec has a slash, its picture's name does not.
        Assert.Equal(0, Run(dir.Path, "evaluate", "--weights", weights, "--data-dir", "data", "--noise", "gaussian:25/255", "--output-dir", "eval-255").ExitCode);
        Assert.True(File.Exists(dir["eval-255/samples-gaussian-25_255.png"]));

        // A folder of clean images of any size instead of MNIST.
        Directory.CreateDirectory(dir["clean"]);
        TestFiles.WritePng(dir["clean/small.png"], 40, 30);
        TestFiles.WritePng(dir["clean/large.png"], 300, 270);
        var folder = Run(dir.Path, "evaluate", "--weights", weights, "--images", "clean", "--noise", "speckle:0.3", "--output-dir", "eval-images");
        Assert.True(folder.ExitCode == 0, folder.Err);
        Assert.Equal(1 + 5, File.ReadAllLines(dir["eval-images/evaluation.csv"]).Length); // no per-digit rows; the model rounded to 8 bits too
        Assert.Contains(",\"model, output rounded to 8 bits\",all,", File.ReadAllText(dir["eval-images/evaluation.csv"])); // a comma in a field is quoted
        Assert.Contains("| model, output rounded to 8 bits |", File.ReadAllText(dir["eval-images/evaluation.md"]));
        // The papers' protocol: unclipped Gaussian noise on the 0-255 scale, with NL-means, the bilateral filter and a picture.
        var paper = Run(dir.Path, "evaluate", "--weights", weights, "--images", "clean", "--noise", "gaussian:25/255", "--output-dir", "eval-paper", "--ensemble", "--posterior");
        Assert.True(paper.ExitCode == 0, paper.Err);
        string md = File.ReadAllText(dir["eval-paper/evaluation.md"]);
        foreach (var method in new[] { "| model |", "| non-local means (OpenCV) |", "| bilateral (OpenCV) |", "| model, output rounded to 8 bits |", "| model, x8 self-ensemble |",
                                     "| model, blind-spot posterior (sigma known) |" })
            Assert.Contains(method, md);
        Assert.Contains("| method | gaussian:25/255 |", md);
        var compare = ImageFile.Read(Assert.Single(Directory.GetFiles(dir["eval-paper"], "compare-clean-gaussian-25_255.png")));
        Assert.True(compare.Width >= 5 * 300, $"{compare.Width} wide"); // five panels of the first image (large.png): clean, noisy, model, NL-means, posterior
        AssertOneLineFailure(Run(dir.Path, "evaluate", "--weights", weights, "--images", "clean", "--noise", "gaussian:25/255", "--output-dir", "eval-paper"),
                             2, "already exists; pass --overwrite");

        AssertOneLineFailure(Run(dir.Path, "evaluate", "--weights", weights, "--data-dir", "data", "--ensemble", "--output-dir", "eval-ens"), 2, "--ensemble scores whole photographs");
        AssertOneLineFailure(Run(dir.Path, "evaluate", "--weights", weights, "--images", "clean", "--noise", "poisson:30", "--posterior", "--output-dir", "eval-post"), 2,
                             "--posterior needs Gaussian noise of known sigma, not poisson:30");
        AssertOneLineFailure(Run(dir.Path, "evaluate", "--weights", weights, "--images", "clean", "--posterior", "--posterior-window", "4", "--output-dir", "eval-post"), 2,
                             "--posterior-window must be an odd side or 0");
        AssertOneLineFailure(Run(dir.Path, "evaluate", "--weights", weights, "--images", "clean", "--posterior-window", "9", "--output-dir", "eval-post"), 2,
                             "--posterior-window sets the window of --posterior: give --posterior too");
        // denoise --ensemble: the shipped photo model over the 8 orientations; its weights are not symmetric, so the result differs.
        Assert.Equal(0, Run(dir.Path, "denoise", "clean/large.png", "--pretrained", "photo", "-o", "plain.png").ExitCode);
        var averaged = Run(dir.Path, "denoise", "clean/large.png", "--pretrained", "photo", "-o", "averaged.png", "--ensemble");
        Assert.True(averaged.ExitCode == 0, averaged.Err);
        Assert.NotEqual(TestFiles.ReadGrey(dir["plain.png"]).Pixels, TestFiles.ReadGrey(dir["averaged.png"]).Pixels);

        // Every kind of input through the default models with --ensemble: colour (the model told the level), grey, RGBA, 16 bits.
        TestFiles.WriteRgbPng(dir["colour.png"], 40, 30, seed: 2);
        ImageFile.Write(dir["rgba.png"], TestFiles.Scene(40, 30) is var scene ? new Picture(40, 30, 4, scene.Planes.Concat(Enumerable.Repeat(0.5f, 1200)).ToArray(), Alpha: true) : null!);
        ImageFile.Write(dir["deep.png"], TestFiles.Scene(40, 30) with { Bits = 16 });
        foreach (string input in new[] { "colour.png", "clean/large.png", "rgba.png", "deep.png" })
        {
            string output = "ensemble-" + input.Replace('/', '-');
            var ensemble = Run(dir.Path, "denoise", input, "-o", output, "--ensemble");
            Assert.True(ensemble.ExitCode == 0, input + ": " + ensemble.Err);
            var (source, written) = (ImageFile.Read(dir[input]), ImageFile.Read(dir[output]));
            Assert.Equal((source.Width, source.Height, source.Channels, source.Bits), (written.Width, written.Height, written.Channels, written.Bits));
        }

        Directory.CreateDirectory(dir["other/clean"]);
        TestFiles.WritePng(dir["other/clean/a.png"], 40, 30);
        AssertOneLineFailure(Run(dir.Path, "evaluate", "--weights", weights, "--images", "clean", "other/clean", "--output-dir", "eval-twice"), 2,
                             "are both named 'clean'");

        TestFiles.WritePng(dir["clean/tiny.png"], 8, 8);
        AssertOneLineFailure(Run(dir.Path, "evaluate", "--weights", weights, "--images", "clean", "--output-dir", "eval-tiny"), 1, "SSIM needs at least 11x11");
        Assert.False(Directory.Exists(dir["eval-tiny"]) && Directory.EnumerateFileSystemEntries(dir["eval-tiny"]).Any()); // nothing half written

        AssertOneLineFailure(Run(dir.Path, "evaluate", "--weights", weights, "--noise", "blur:2"), 2, "unknown kind 'blur'");
        AssertOneLineFailure(Run(dir.Path, "evaluate", "--weights", "missing.safetensors", "--data-dir", "data"), 1, "missing.safetensors");
    }

    [Fact]
    public void Denoises_folders_and_patterns_mirroring_the_tree_and_reports_bad_files()
    {
        using var dir = new TempDir();
        string weights = TestFiles.Fixture("parity-init.safetensors");
        Directory.CreateDirectory(dir["scans/sub"]);
        TestFiles.WritePng(dir["scans/a.png"], 40, 30);
        TestFiles.WritePng(dir["scans/sub/b.png"], 560, 280); // more than one tile
        ImageFile.Write(dir["scans/sub/c.png"], Picture.FromBytes(20, 20, 4, Enumerable.Range(0, 1600).Select(i => (byte)(i % 256)).ToArray()));
        File.WriteAllText(dir["scans/notes.txt"], "not an image, and not picked up");

        var r = Run(dir.Path, "denoise", "scans", "--recursive", "--weights", weights, "-o", "out", "--compare");
        Assert.True(r.ExitCode == 0, r.Err);
        foreach (var f in new[] { "out/a.png", "out/sub/b.png", "out/sub/c.png", "out/a.compare.png" })
            Assert.True(File.Exists(dir[f]), f);
        Assert.Contains("tiles", r.Out);
        Assert.Equal(4, ImageFile.Read(dir["out/sub/c.png"]).Channels); // alpha kept
        Assert.Equal(2 * 40 + 4, ImageFile.Read(dir["out/a.compare.png"]).Width);

        var glob = Run(dir.Path, "denoise", "scans/**/*.png", "--weights", weights, "-o", "jpgs", "--format", "jpg");
        Assert.True(glob.ExitCode == 0, glob.Err);
        Assert.True(File.Exists(dir["jpgs/sub/b.jpg"]));

        // Beside the inputs by default; a second run does not pick up the first run's outputs.
        Assert.Equal(0, Run(dir.Path, "denoise", "scans", "--weights", weights).ExitCode);
        Assert.True(File.Exists(dir["scans/a.denoised.png"]));
        AssertOneLineFailure(Run(dir.Path, "denoise", "scans", "--weights", weights), 2, "a.denoised.png: already exists");

        // One unreadable file among good ones: the others are written, the bad one named, a summary, exit 1.
        Directory.CreateDirectory(dir["mixed"]);
        TestFiles.WritePng(dir["mixed/good.png"], 28, 28);
        File.WriteAllBytes(dir["mixed/bad.png"], Array.Empty<byte>());
        var mixed = Run(dir.Path, "denoise", "mixed", "--weights", weights, "-o", "mixed-out");
        Assert.Equal(1, mixed.ExitCode);
        Assert.Contains("bad.png: the file is empty", mixed.Err);
        Assert.Contains("1 of 2 images could not be denoised", mixed.Err);
        Assert.True(File.Exists(dir["mixed-out/good.png"]));
        Assert.False(File.Exists(dir["mixed-out/bad.png"]));

        Directory.CreateDirectory(dir["empty"]);
        AssertOneLineFailure(Run(dir.Path, "denoise", "empty", "--weights", weights), 1, "holds no images");
        AssertOneLineFailure(Run(dir.Path, "denoise", "nothing/*.png", "--weights", weights), 1, "matches no images");
        AssertOneLineFailure(Run(dir.Path, "denoise", "scans", "-r", "--weights", weights, "-o", "scans/out"), 2, "lies inside the input folder");
        AssertOneLineFailure(Run(dir.Path, "denoise", "scans/a.png", "--weights", weights, "--quality", "0", "-o", "q.jpg"), 2, "--quality");
        Assert.False(Directory.Exists(dir["scans/out"]));
    }

    [Fact]
    public void A_diverging_run_stops_with_one_line_and_saves_nothing()
    {
        using var dir = new TempDir();
        TestFiles.WriteMnist(dir["data"], train: 200, test: 20);

        var nan = Run(dir.Path, "train", "--lr", "1e6", "--epochs", "2", "--data-dir", "data", "--run-dir", "models/nan");
        AssertOneLineFailure(nan, 1, "training diverged: the loss is not finite at epoch 1");
        Assert.Contains("--clip-grad", nan.Err);
        Assert.False(File.Exists(dir["models/nan/last.ckpt"]));

    }

    /// <summary>
    /// The real benchmark as a smoke run (--seconds 0: one short turn each), started both ways a user starts the built
    /// program: `dotnet denoiser.dll` and the `denoiser` executable. Its figures are not checked (speed is never asserted
    /// by a test), but every row, the fresh-process children and the cold-start denoise must be there.
    /// </summary>
    [Theory]
    [InlineData("dotnet")]
    [InlineData("apphost")]
    public void Bench_prints_every_figure_however_the_program_is_started(string how)
    {
        using var dir = new TempDir();
        var r = how == "dotnet" ? Run(dir.Path, "bench", "--seconds", "0") : RunExecutable(dir.Path, "bench", "--seconds", "0");
        Assert.True(r.ExitCode == 0, r.Out + r.Err);
        string figures = @"\s+[\d,]+ img/s\s+[\d,]+ img/s\s+\d+\.\d\dx";
        foreach (var row in new[] { "training, batch 20", "training, batch 128", "inference, batch 256", "inference, batch 1000",
                                    "seed, batch 20: channels-last", "seed, batch 20: batch split", "seed, batch 128: channels-last",
                                    "dncnn, 40x40, batch 16: channels-last", "resunet, 96x96, batch 8: channels-last" })
            Assert.Matches(System.Text.RegularExpressions.Regex.Escape(row) + figures, r.Out);
        Assert.Matches(@"resunet, 96x96, batch 8: batch split\s+(not used by this model|[\d,]+ img/s)", r.Out);
        Assert.Matches(@"dncnn, 40x40, batch 16: batch split\s+not used by this model", r.Out); // BatchNorm: whole batches (issue 44)
        Assert.Matches(@"glibc heap tuning, .* [\d,]+ img/s here, [\d,]+ img/s in a fresh process with glibc's defaults: \d+\.\d\dx", r.Out);
        Assert.Matches(@"in a fresh process with glibc's default heap settings: [\d,]+ img/s; Denoiser [\d,]+ img/s, \d+\.\d\dx", r.Out);
        Assert.Matches(@"cold start \(a child process\): \d+\.\d\d s wall", r.Out);
        // The photo rows' peak is the child's own (VmHWM it printed): never 0, which would mean it printed none.
        // Each configuration's row: wall, MP/s, peak, and speed against OpenCV's NL-means timed in the same run.
        foreach (var configuration in new[] { "ONNX Runtime (default)", "libtorch (before)", "ONNX Runtime, tile 768 (default)", "ONNX Runtime, tile 1024",
                                              "ONNX Runtime, tile 512", "libtorch, tile 512 (before)", "libtorch, tile 256" })
            Assert.Matches(@"\n  " + System.Text.RegularExpressions.Regex.Escape(configuration) + @"\s+\d+\.\d s\s+\d+\.\d\d\s+[1-9][\d,]*\s+\d+\.\d\dx", r.Out);
        Assert.Matches(@"photo-rgb 816x612 colour \(0\.5 MP\), the default: \d+\.\d s wall, \d+\.\d\d MP/s, [1-9][\d,]* MB peak resident", r.Out);
        Assert.Contains("PolyU not scored", r.Out); // no pairs where it runs
        Assert.DoesNotMatch(@"peak resident: \d+ kB", r.Out); // the child's report line stays between the two
        foreach (int clients in new[] { 1, 4, 16 })
            Assert.Matches($@"serve 64x64 colour, +{clients} clients? ?: \d+\.\d\d images/s answered, latency p50 \d+\.\d\d s, p95 \d+\.\d\d s; \d+ told 503", r.Out);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path)); // writes nothing where it runs

        AssertOneLineFailure(Run(dir.Path, "bench", "--threads", "-1"), 2, "--threads must be 0 (one per core) or more");
        AssertOneLineFailure(Run(dir.Path, "bench", "--seconds", "-1"), 2, "--seconds must be between 0 and 3600");
        // --photos with a noisy photograph and no clean version: one line naming it, before any configuration runs.
        string pairs = Directory.CreateDirectory(Path.Combine(dir.Path, "pairs")).FullName;
        TestFiles.WriteRgbPng(Path.Combine(pairs, "cam_1_real.png"), 16, 16, seed: 1);
        AssertOneLineFailure(Run(dir.Path, "bench", "--seconds", "0", "--only", "photo-rgb", "--photos", "pairs"), 1, "has no clean version");
    }

    /// <summary>
    /// Whether this process ignores SIGINT, as everything started in the background by a non-interactive shell does
    /// (`cmd &`); children inherit it, and .NET, like any well-behaved program, then leaves SIGINT ignored.
    /// </summary>
    static bool SigintIgnored() =>
        OperatingSystem.IsLinux() && File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:")) is { } line
        && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & (1UL << (2 - 1))) != 0;

    [SkippableTheory]
    [InlineData("TERM", 143)]
    [InlineData("INT", 130)]
    public async Task Sigterm_saves_a_checkpoint_that_resumes_to_the_same_weights(string signal, int exitCode)
    {
        Skip.If(signal == "INT" && SigintIgnored(), "SIGINT is ignored in this process tree (started in the background), so the trainer cannot receive it");
        using var dir = new TempDir();
        TestFiles.WriteMnist(dir["data"], train: 9000, test: 20);
        // Two epochs, so that a signal handled late on a busy machine (.NET runs the handler on the thread pool) still
        // comes while training runs.
        string[] common = { "--epochs", "2", "--data-dir", "data", "--threads", "2" };
        var straight = Run(dir.Path, new[] { "train", "--run-dir", "models/straight" }.Concat(common).ToArray());
        Assert.True(straight.ExitCode == 0, straight.Err);

        // Start the same run and stop it with the signal at its first progress line (100 of 450 batches), not after a
        // fixed time: how far a second gets depends on the machine.
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = dir.Path, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "denoiser.dll"), "train", "--run-dir", "models/stopped" }.Concat(common))
            psi.ArgumentList.Add(arg);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string? line;
        while ((line = p.StandardOutput.ReadLine()) != null && !line.Contains("%  epoch 1/2")) { }
        using (var kill = Process.Start("kill", new[] { "-" + signal, p.Id.ToString() })!) kill.WaitForExit();
        string rest = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == exitCode, $"exit {p.ExitCode}: {rest} {await err}");
        Assert.Contains("Resume with: denoiser train --resume", rest);
        var stopped = Checkpoint.Read(dir["models/stopped/last.ckpt"]).Header;
        Assert.NotNull(stopped.Interrupted); // mid-epoch, at the batch the signal was handled after

        var resumed = Run(dir.Path, new[] { "train", "--resume", "--run-dir", "models/stopped" }.Concat(common).ToArray());
        Assert.True(resumed.ExitCode == 0, resumed.Err);
        Assert.Contains($"resuming at epoch {stopped.NextEpoch}, batch", resumed.Out);
        using var a = new Denoiser.Models.ConvDenoiser();
        using var b = new Denoiser.Models.ConvDenoiser();
        Checkpoint.Read(dir["models/straight/last.ckpt"]).LoadWeights(a);
        Checkpoint.Read(dir["models/stopped/last.ckpt"]).LoadWeights(b);
        foreach (var (x, y) in a.parameters().Zip(b.parameters())) Assert.True(x.allclose(y, rtol: 0, atol: 0), "weights differ");
    }

    /// <summary>A full disk while saving: one line, exit 1, and the checkpoint already saved still loads.</summary>
    [SkippableFact]
    public void A_full_disk_while_saving_keeps_the_last_checkpoint()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && Environment.UserName == "root", "needs root to mount a small tmpfs");
        using var dir = new TempDir();
        TestFiles.WriteMnist(dir["data"], train: 100, test: 20);
        Directory.CreateDirectory(dir["small"]);
        // 420 KB: room for one epoch's files (two 116 KB checkpoints, plots, samples), not for the next epoch's.
        using (var mount = Process.Start("mount", new[] { "-t", "tmpfs", "-o", "size=420k", "tmpfs", dir["small"] })!)
        {
            mount.WaitForExit();
            Skip.If(mount.ExitCode != 0, "mount is not permitted here");
        }
        try
        {
            var r = Run(dir.Path, "train", "--epochs", "5", "--data-dir", "data", "--run-dir", "small/run");
            AssertOneLineFailure(r, 1, "choose a writable location with free space");
            Assert.Contains("No space left on device", r.Err);
            var saved = Checkpoint.Read(dir["small/run/last.ckpt"]); // throws if damaged
            Assert.InRange(saved.Header.Epoch, 1, 4);
        }
        finally
        {
            using var umount = Process.Start("umount", new[] { dir["small"] })!;
            umount.WaitForExit();
        }
    }

    /// <summary>
    /// Every option of every command, as the program defines it, is in that command's --help, with its default; and the
    /// sentence saying which model `denoise` and `serve` use when none is named names the shipped models ModelPicker chooses.
    /// </summary>
    [Fact]
    public void Help_lists_every_option_of_every_command_with_its_default()
    {
        using var dir = new TempDir();
        var config = new AppConfig(new TrainSettings(), new DataSettings());
        var commands = new[]
        {
            Denoiser.Commands.TrainCommand.Create(config), Denoiser.Commands.DenoiseCommand.Create(config), Denoiser.Commands.EvaluateCommand.Create(config),
            Denoiser.Commands.DataCommand.Create(config), Denoiser.Commands.AddNoiseCommand.Create(), Denoiser.Commands.ExportCommand.Create(config),
            Denoiser.Commands.ImportCommand.Create(config), Denoiser.Commands.RunsCommand.Create(config), Denoiser.Commands.ShapesCommand.Create(),
            Denoiser.Commands.BenchCommand.Create(), Denoiser.Commands.ServeCommand.Create(config),
        };
        var helps = new Dictionary<string, string>();
        foreach (var command in commands)
        {
            var help = Run(dir.Path, command.Name, "--help");
            Assert.True(help.ExitCode == 0, help.Err);
            helps[command.Name] = help.Out;
            var options = command.Options.Where(o => !o.Hidden).ToList();
            Assert.NotEmpty(options);
            foreach (var option in options)
            {
                Assert.Contains(option.Name, help.Out);
                if (option.HasDefaultValue && option.GetDefaultValue() is { } value and not bool and not Array)
                    Assert.Contains($"[default: {Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)}]", help.Out);
            }
        }
        foreach (var command in new[] { "denoise", "serve" })
        {
            var pretrained = Assert.Single(helps[command].Split('\n'), l => l.TrimStart().StartsWith("--pretrained"));
            Assert.EndsWith($"[default, for a picture the latest run does not fit: {Denoiser.Commands.ModelPicker.Colour} for colour, {Denoiser.Commands.ModelPicker.Grey} for grey]", pretrained.TrimEnd());
        }
        // Elsewhere no picture chooses: the latest run, else the shipped grey model.
        Assert.Contains($"[default, when no run exists: {Denoiser.Inference.Pretrained.Default}]", helps["evaluate"]);
    }

    /// <summary>Real noisy photographs with clean versions (PolyU's names): nothing added, OpenCV beside the model.</summary>
    [Fact]
    public void Evaluate_scores_real_noisy_clean_pairs_beside_opencv()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir["pairs"]);
        for (int k = 0; k < 2; k++)
        {
            string name = k == 0 ? "CamA_s0" : "CamB_s1"; // the camera is the name's first field
            ImageFile.Write(dir[$"pairs/{name}_mean.png"], TestFiles.Scene(96, 64, seed: k));
            using var gen = new TorchSharp.torch.Generator((ulong)k + 1);
            using var clean = ImageFile.Read(dir[$"pairs/{name}_mean.png"]).ToTensor();
            using var noisy = new CameraNoise(0).Apply(clean, gen);
            ImageFile.Write(dir[$"pairs/{name}_real.png"], Picture.FromTensor(noisy));
        }
        var r = Run(dir.Path, "evaluate", "--images", "pairs", "--pretrained", Denoiser.Commands.ModelPicker.Colour, "--output-dir", "out");
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Contains("2 real noisy photographs with clean versions", r.Out);
        var rows = System.Text.Json.JsonSerializer.Deserialize<List<Denoiser.Evaluation.Score>>(File.ReadAllText(dir["out/evaluation.json"]))!;
        Assert.All(rows, row => Assert.Equal(("pairs", "real", 2), (row.Set, row.Noise, row.Count)));
        double Psnr(string method) => rows.Single(row => row.Method == method).PsnrDb;
        foreach (string method in new[] { Denoiser.Evaluation.RealNoise.NlMeansRule, Denoiser.Evaluation.RealNoise.BilateralRule, Denoiser.Evaluation.RealNoise.ModelToldRms })
            Assert.True(Psnr(method) > 0, method);
        Assert.Single(rows, row => row.Method.EndsWith("the set's best (oracle)"));
        Assert.True(Psnr("model") > Psnr("noisy input") + 1, $"model {Psnr("model")} dB, noisy {Psnr("noisy input")} dB");
        Assert.True(File.Exists(dir["out/compare-pairs-real.png"]));
        // By camera: a row each, OpenCV at that camera's best h beside the model, and the photographs lost.
        Assert.Contains("pairs by camera", r.Out);
        var cameras = File.ReadAllLines(dir["out/cameras.csv"]);
        Assert.Equal("set,camera,photographs,noisy_db,model_db,nlmeans_best_h,nlmeans_db,losses", cameras[0]);
        Assert.Equal(new[] { "CamA", "CamB" }, cameras.Skip(1).Select(l => l.Split(',')[1]));
        Assert.All(cameras.Skip(1), l => Assert.Equal("1", l.Split(',')[2]));
    }

    /// <summary>The colour model told the level, with --ensemble, under a Gaussian noise and a camera noise that has no told or NL-means rows.</summary>
    [Fact]
    public void Evaluate_runs_the_colour_model_ensembled_under_gaussian_and_camera_noise()
    {
        using var dir = new TempDir();
        TestFiles.WriteRgbPng(dir["clean/a.png"], 48, 40, seed: 1);
        var r = Run(dir.Path, "evaluate", "--images", "clean", "--pretrained", Denoiser.Commands.ModelPicker.Colour, "--noise", "gaussian:25/255", "camera-wide",
                    "--ensemble", "--output-dir", "out");
        Assert.True(r.ExitCode == 0, r.Out + r.Err);
        var rows = System.Text.Json.JsonSerializer.Deserialize<List<Denoiser.Evaluation.Score>>(File.ReadAllText(dir["out/evaluation.json"]))!;
        Assert.Equal(2, rows.Count(row => row.Method == Denoiser.Evaluation.Evaluator.ModelEnsemble));
        Assert.Contains(rows, row => row.Noise == "camera-wide,8bit" && row.Method == Denoiser.Evaluation.Evaluator.Model);
    }

    /// <summary>A new user's first command: no training, no options, a photograph.</summary>
    [Fact]
    public void Before_any_training_denoise_uses_the_shipped_photo_model_and_estimates_the_noise()
    {
        using var dir = new TempDir();
        TestFiles.WriteRgbPng(dir["photo.png"], 90, 70);
        var r = Run(dir.Path, "denoise", "photo.png");
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Contains($"shipped model {Denoiser.Commands.ModelPicker.Colour} (no trained run", r.Out);
        Assert.Matches(@"noise level \d+\.\d/255 estimated", r.Out);
        Assert.Contains("R, G, B denoised together", r.Out);
        Assert.DoesNotContain("warning", r.Out); // a photo model takes a photo as it is: no MNIST inversion or warning
        var output = ImageFile.Read(dir["photo.denoised.png"]);
        Assert.Equal((90, 70, 3), (output.Width, output.Height, output.Channels));

        var runs = Run(dir.Path, "runs");
        Assert.True(runs.ExitCode == 0, runs.Err);
        Assert.Contains("photo", runs.Out);
        Assert.Contains("shipped model", runs.Out);
    }

    /// <summary>--device and --threads are one declaration on every command that runs a model: the same refusals.</summary>
    [Theory]
    [InlineData("denoise", "a.png", "--threads", "-1", "--threads must be 0 (one per core) or more")]
    [InlineData("evaluate", "--images", "--threads", "-1", "--threads must be 0 (one per core) or more")]
    [InlineData("denoise", "a.png", "--device", "gpu", "--device must be auto, cpu or cuda, not 'gpu'")]
    [InlineData("evaluate", "--images", "--device", "gpu", "--device must be auto, cpu or cuda, not 'gpu'")]
    [InlineData("train", "--epochs", "--device", "gpu", "--device must be auto, cpu or cuda, not 'gpu'")]
    public void Device_and_threads_are_refused_alike_on_every_command(string command, string first, string option, string value, string expected)
    {
        using var dir = new TempDir();
        TestFiles.WritePng(dir["a.png"], 16, 16);
        string[] args = first switch
        {
            "--images" => new[] { command, "--images", dir.Path, "--weights", TestFiles.Fixture("parity-init.safetensors"), option, value },
            "--epochs" => new[] { command, "--epochs", "1", option, value },
            _ => new[] { command, first, "--weights", TestFiles.Fixture("parity-init.safetensors"), option, value },
        };
        AssertOneLineFailure(Run(dir.Path, args), 2, expected);
        Assert.False(File.Exists(dir["a.denoised.png"]));
    }
}
