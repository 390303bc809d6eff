// The real program with every model and kind of data: shapes, training on CIFAR-10 files and image folders,
// evaluate, denoise and export of an RGB model, and a checkpoint refused by another model.
using Denoiser.Data;
using Denoiser.Training;
using Xunit;
using static Denoiser.Tests.EndToEnd.Cli;

namespace Denoiser.Tests.EndToEnd;

public class ModelsCliTests
{
    /// <summary>
    /// The shipped colour model, told the noise level, through ONNX Runtime: its picture within 1 grey level of libtorch's,
    /// whether from a graph exported here or from the one shipped beside the weights, which `denoise` runs by default.
    /// </summary>
    [Fact]
    public void The_shipped_colour_model_exports_to_onnx_and_onnx_runtime_gives_its_picture()
    {
        using var dir = new TempDir();
        TestFiles.WriteRgbPng(dir["photo.png"], 70, 52, seed: 4);
        var export = Run(dir.Path, "export", "--pretrained", "photo-rgb", "--format", "onnx", "-o", "rgb.onnx");
        Assert.True(export.ExitCode == 0, export.Err);
        var torch = Run(dir.Path, "denoise", "photo.png", "--pretrained", "photo-rgb", "--runtime", "torch", "--sigma", "10", "-o", "torch.png");
        var onnx = Run(dir.Path, "denoise", "photo.png", "--runtime", "onnx", "--weights", "rgb.onnx", "--sigma", "10", "-o", "onnx.png");
        var auto = Run(dir.Path, "denoise", "photo.png", "--sigma", "10", "-o", "auto.png");
        Assert.True(torch.ExitCode == 0 && onnx.ExitCode == 0 && auto.ExitCode == 0, torch.Err + onnx.Err + auto.Err);
        Assert.Contains("resunet-rgb, ONNX Runtime", onnx.Out);
        Assert.Contains("shipped model photo-rgb (no trained run", auto.Out);
        Assert.Contains("chooses), on ONNX Runtime", auto.Out);
        Assert.Contains("device: cpu", torch.Out);
        Assert.DoesNotContain("device:", auto.Out); // libtorch is not asked for
        var a = ImageFile.Read(dir["torch.png"]).Bytes();
        foreach (var other in new[] { "onnx.png", "auto.png" })
        {
            var b = ImageFile.Read(dir[other]).Bytes();
            Assert.Equal(a.Length, b.Length);
            Assert.True(a.Zip(b).Max(p => Math.Abs(p.First - p.Second)) <= 1, other);
        }
    }

    /// <summary>
    /// Every graph shipped beside weights is those weights: `export` of the shipped safetensors writes it byte for byte.
    /// A graph left behind when the weights change fails here.
    /// </summary>
    [Fact]
    public void Each_shipped_onnx_graph_is_the_export_of_its_shipped_weights()
    {
        using var dir = new TempDir();
        var withGraphs = Denoiser.Inference.Pretrained.All().Where(m => m.Onnx != null).ToList();
        Assert.Contains(withGraphs, m => m.Name == "photo-rgb");
        foreach (var model in withGraphs)
        {
            var export = Run(dir.Path, "export", "--pretrained", model.Name, "--format", "onnx", "-o", model.Name + ".onnx");
            Assert.True(export.ExitCode == 0, export.Err);
            Assert.True(File.ReadAllBytes(dir[model.Name + ".onnx"]).SequenceEqual(File.ReadAllBytes(Path.Combine(Denoiser.Inference.Pretrained.Folder, model.Onnx!))),
                        $"models/pretrained/{model.Onnx} is not the export of {model.File}: re-export it (docs/performance.md)");
        }
    }

    /// <summary>--tile changes how the picture is cut, not the picture: small tiles give the default's result within 1 grey level.</summary>
    [Fact]
    public void Denoise_tile_side_leaves_the_picture_as_it_is()
    {
        using var dir = new TempDir();
        TestFiles.WriteRgbPng(dir["photo.png"], 203, 141, seed: 5);
        var whole = Run(dir.Path, "denoise", "photo.png", "--sigma", "12", "-o", "whole.png");
        var tiled = Run(dir.Path, "denoise", "photo.png", "--sigma", "12", "--tile", "64", "-o", "tiled.png");
        Assert.True(whole.ExitCode == 0 && tiled.ExitCode == 0, whole.Err + tiled.Err);
        Assert.Contains("12 tiles", tiled.Out); // 4 x 3 tiles of up to 64x64
        Assert.DoesNotContain("tiles", whole.Out);
        var (a, b) = (ImageFile.Read(dir["whole.png"]).Bytes(), ImageFile.Read(dir["tiled.png"]).Bytes());
        Assert.True(a.Zip(b).Max(p => Math.Abs(p.First - p.Second)) <= 1);
        AssertOneLineFailure(Run(dir.Path, "denoise", "photo.png", "--tile", "10", "-o", "x.png"), 2, "--tile");
        Assert.False(File.Exists(dir["x.png"]));
    }

    [Fact]
    public void Shapes_prints_the_traced_table_the_mismatch_and_the_calculators()
    {
        using var dir = new TempDir();
        var table = Run(dir.Path, "shapes");
        Assert.True(table.ExitCode == 0, table.Err);
        Assert.Contains("parameters: 9,585", table.Out);
        Assert.Contains("layer outputs 254.5 KiB per image", table.Out); // 65,144 floats: 32x28x28 twice, 32x14x14, ...
        Assert.Contains("1x28x28: the size is kept", table.Out);
        Assert.Equal("", table.Err); // no libtorch warnings either

        var at24 = Run(dir.Path, "shapes", "--input", "24x24");
        Assert.Equal(0, at24.ExitCode);
        Assert.Contains("expected 6x6", at24.Out);
        Assert.Contains("input 1x24x24 -> output 1x28x28: NOT the input size", at24.Out);

        var unet = Run(dir.Path, "shapes", "--model", "unet", "--input", "30");
        Assert.Equal(1, unet.ExitCode);
        Assert.Contains("Sizes of tensors must match", unet.Out);

        var invert = Run(dir.Path, "shapes", "invert", "--in", "24", "--kernel", "3", "--stride", "2", "--padding", "1");
        Assert.Equal(0, invert.ExitCode);
        Assert.Contains("output_padding = 24 - 23 = 1", invert.Out);
        Assert.Contains("ConvTranspose2d(kernel_size=3, stride=2, padding=1, output_padding=1): 12 -> 24", invert.Out);
        Assert.Contains("not an inverse", invert.Out);

        var conv = Run(dir.Path, "shapes", "conv", "--in", "28", "--kernel", "3", "--stride", "1", "--padding", "1");
        Assert.Contains("floor(27 / 1) + 1 = 27 + 1 = 28", conv.Out);
        var transposed = Run(dir.Path, "shapes", "convtranspose", "--in", "3", "--kernel", "3", "--stride", "2");
        Assert.Contains("(3 - 1)*2 - 2*0 + 1*(3-1) + 0 + 1", transposed.Out);
        Assert.Contains(": 3 -> 7", transposed.Out);

        AssertOneLineFailure(Run(dir.Path, "shapes", "conv", "--in", "2", "--kernel", "5"), 2, "there is no output");
        AssertOneLineFailure(Run(dir.Path, "shapes", "convtranspose", "--in", "3", "--kernel", "3", "--stride", "2", "--output-padding", "2"), 2, "must be smaller than the stride (2) or the dilation (1)");
        AssertOneLineFailure(Run(dir.Path, "shapes", "--model", "resnet"), 2, "there is no model 'resnet'");
        AssertOneLineFailure(Run(dir.Path, "shapes", "--input", "3x28x28"), 2, "takes 1 channel(s), not 3");
        AssertOneLineFailure(Run(dir.Path, "shapes", "--input", "28xx"), 2, "is not a size");
    }

    [Fact]
    public void The_rgb_autoencoder_trains_on_cifar_files_then_evaluates_denoises_and_exports()
    {
        using var dir = new TempDir();
        TestFiles.WriteCifarArchive(dir["cifar"], perBatch: 12, test: 20);
        var train = Run(dir.Path, "train", "--model", "conv-autoencoder", "--data-dir", "cifar", "--epochs", "1", "--threads", "2", "--run-dir", "runs/ae");
        Assert.True(train.ExitCode == 0, train.Err);
        Assert.Contains("60 training and 20 test images of 32x32x3", train.Out);
        Assert.Contains("(CIFAR-10)", train.Out);
        var sample = ImageFile.Read(dir["runs/ae/samples/epoch-001.png"]);
        Assert.Equal(3, sample.Channels);
        Assert.Equal("conv-autoencoder", Checkpoint.Read(dir["runs/ae/best.ckpt"]).Header.Model);

        // evaluate reads the checkpoint's own data: CIFAR-10, not MNIST.
        var evaluate = Run(dir.Path, "evaluate", "--checkpoint", "runs/ae/best.ckpt");
        Assert.True(evaluate.ExitCode == 0, evaluate.Err);
        Assert.Contains("20 test images of 32x32x3", evaluate.Out);
        Assert.Contains("per class", evaluate.Out);

        TestFiles.WriteRgbPng(dir["photo.png"], 45, 30);
        var denoise = Run(dir.Path, "denoise", "photo.png", "--checkpoint", "runs/ae/best.ckpt", "--invert", "no");
        Assert.True(denoise.ExitCode == 0, denoise.Err);
        Assert.Contains("R, G, B denoised together", denoise.Out);
        var output = ImageFile.Read(dir["photo.denoised.png"]);
        Assert.Equal((45, 30, 3), (output.Width, output.Height, output.Channels));

        var export = Run(dir.Path, "export", "--checkpoint", "runs/ae/best.ckpt", "--format", "onnx", "-o", "ae.onnx");
        Assert.True(export.ExitCode == 0, export.Err);
        var onnx = Run(dir.Path, "denoise", "photo.png", "--runtime", "onnx", "--weights", "ae.onnx", "-o", "onnx.png", "--invert", "no");
        Assert.True(onnx.ExitCode == 0, onnx.Err);
        Assert.Contains("conv-autoencoder, ONNX Runtime", onnx.Out);
        var viaOnnx = ImageFile.Read(dir["onnx.png"]);
        int maxDiff = output.Bytes().Zip(viaOnnx.Bytes()).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(maxDiff <= 1, $"ONNX Runtime and TorchSharp outputs differ by {maxDiff} levels");

        // Through safetensors and back: the file names its model, so import and --weights need no --model.
        Assert.Equal(0, Run(dir.Path, "export", "--checkpoint", "runs/ae/best.ckpt", "-o", "ae.safetensors").ExitCode);
        var import = Run(dir.Path, "import", "ae.safetensors", "--run-dir", "runs/imported");
        Assert.True(import.ExitCode == 0, import.Err);
        Assert.Contains("(conv-autoencoder)", import.Out);
        Assert.Equal("conv-autoencoder", Checkpoint.Read(dir["runs/imported/best.ckpt"]).Header.Model);
        var viaWeights = Run(dir.Path, "denoise", "photo.png", "--weights", "ae.safetensors", "-o", "weights.png", "--invert", "no");
        Assert.True(viaWeights.ExitCode == 0, viaWeights.Err);
        Assert.Equal(output.Bytes(), ImageFile.Read(dir["weights.png"]).Bytes());
        AssertOneLineFailure(Run(dir.Path, "denoise", "photo.png", "--weights", "ae.safetensors", "--model", "unet", "-o", "y.png"),
                             1, "holds weights of model 'conv-autoencoder', not 'unet'");

        // Loading it as another model is one clear line, and nothing is written.
        AssertOneLineFailure(Run(dir.Path, "denoise", "photo.png", "--checkpoint", "runs/ae/best.ckpt", "--model", "conv-denoiser", "-o", "x.png"),
                             1, "is a checkpoint of model 'conv-autoencoder', not 'conv-denoiser'");
        Assert.False(File.Exists(dir["x.png"]));
        AssertOneLineFailure(Run(dir.Path, "denoise", "photo.png", "--checkpoint", "runs/ae/best.ckpt", "--model", "resnet", "-o", "x.png"),
                             2, "there is no model 'resnet'");
        AssertOneLineFailure(Run(dir.Path, "denoise", "photo.png", "--runtime", "onnx", "--weights", "ae.onnx", "--model", "unet", "-o", "x.png"),
                             1, "holds weights of model 'conv-autoencoder', not 'unet'");
        Assert.False(File.Exists(dir["x.png"]));
        // A model whose sizes do not fit the data, and a resumed run that would change its model.
        AssertOneLineFailure(Run(dir.Path, "train", "--model", "conv-denoiser", "--data-dir", "cifar", "--epochs", "1"), 2, "do not come out of conv-denoiser at the same size");
        AssertOneLineFailure(Run(dir.Path, "train", "--resume", "--run-dir", "runs/ae", "--model", "unet", "--epochs", "2", "--data-dir", "cifar"), 2, "--model cannot change");
    }

    [Fact]
    public void The_unet_trains_on_a_folder_of_pictures_and_denoises_with_its_own_padding()
    {
        using var dir = new TempDir();
        for (int i = 0; i < 12; i++) TestFiles.WriteRgbPng(dir[$"photos/{i:D2}.png"], 60 + i, 50, i);
        var train = Run(dir.Path, "train", "--model", "unet", "--data-dir", "photos", "--epochs", "1", "--threads", "2", "--crop", "24", "--run-dir", "runs/u");
        Assert.True(train.ExitCode == 0, train.Err);
        Assert.Contains("of 24x24x1 from photos (image folder)", train.Out);

        TestFiles.WritePng(dir["scan.png"], 45, 30);
        var denoise = Run(dir.Path, "denoise", "scan.png", "--checkpoint", "runs/u/best.ckpt");
        Assert.True(denoise.ExitCode == 0, denoise.Err);
        Assert.Contains("(unet, epoch 1)", denoise.Out);
        var output = TestFiles.ReadGrey(dir["scan.denoised.png"]);
        Assert.Equal((45, 30), (output.Width, output.Height));

        AssertOneLineFailure(Run(dir.Path, "train", "--model", "unet", "--data-dir", "photos", "--crop", "30", "--run-dir", "runs/v"), 2, "try --crop 32");
        AssertOneLineFailure(Run(dir.Path, "train", "--model", "unet", "--data-dir", "photos", "--dataset", "tiff", "--run-dir", "runs/w"), 2, "'tiff' is not a dataset");
        Assert.False(Directory.Exists(dir["runs/v"]) && Directory.EnumerateFiles(dir["runs/v"]).Any());
    }
    [Fact]
    public void A_photo_model_trains_on_patches_redrawn_every_epoch_and_resumes_exactly()
    {
        using var dir = new TempDir();
        for (int i = 0; i < 12; i++) TestFiles.WritePng(dir[$"photos/{i:D2}.png"], 40 + 3 * i, 36);
        string[] recipe = { "--model", "resunet", "--data-dir", "photos", "--patch", "16", "--patches-per-epoch", "48", "--batch-size", "16",
                            "--noise", "gaussian:0-55/255", "--lr-schedule", "step:1:0.5", "--threads", "2" };
        var straight = Run(dir.Path, new[] { "train", "--run-dir", "runs/straight", "--epochs", "2" }.Concat(recipe).ToArray());
        Assert.True(straight.ExitCode == 0, straight.Err);
        Assert.Matches("48 patches of 16x16x1 per epoch, redrawn every epoch from 1[01] training images", straight.Out);
        Assert.Contains("\"LrSchedule\":\"step:1:0.5\"", File.ReadAllText(dir["runs/straight/settings.json"]).Replace(" ", "").Replace("\n", ""));

        var first = Run(dir.Path, new[] { "train", "--run-dir", "runs/resumed", "--epochs", "1" }.Concat(recipe).ToArray());
        Assert.True(first.ExitCode == 0, first.Err);
        var resumed = Run(dir.Path, "train", "--resume", "--run-dir", "runs/resumed", "--epochs", "2");
        Assert.True(resumed.ExitCode == 0, resumed.Err);
        // Epoch 2 draws its own patches, noise and rate from the seed, so the resumed run ends where the straight one did.
        using var a = new Denoiser.Models.ResUNet();
        using var b = new Denoiser.Models.ResUNet();
        Checkpoint.Read(dir["runs/straight/last.ckpt"]).LoadWeights(a);
        Checkpoint.Read(dir["runs/resumed/last.ckpt"]).LoadWeights(b);
        foreach (var (x, y) in a.parameters().Zip(b.parameters())) Assert.True(x.allclose(y, rtol: 0, atol: 0), "weights differ");

        AssertOneLineFailure(Run(dir.Path, "train", "--resume", "--run-dir", "runs/resumed", "--epochs", "3", "--lr-schedule", "cosine"), 2, "--lr-schedule cannot change");
        AssertOneLineFailure(Run(dir.Path, "train", "--resume", "--run-dir", "runs/resumed", "--epochs", "3", "--loss", "l1"), 2, "--loss cannot change");
        AssertOneLineFailure(Run(dir.Path, new[] { "train", "--run-dir", "runs/x", "--crop", "16" }.Concat(recipe).ToArray()), 2, "--patch and --crop: give one");
        AssertOneLineFailure(Run(dir.Path, "train", "--model", "resunet", "--data-dir", "photos", "--patch", "18", "--run-dir", "runs/y"), 2, "try --patch 20");
        AssertOneLineFailure(Run(dir.Path, "train", "--model", "resunet", "--data-dir", "photos", "--patch", "48", "--run-dir", "runs/z"), 1, "smaller than the 48x48 patches");
        AssertOneLineFailure(Run(dir.Path, "train", "--data-dir", "photos", "--lr-schedule", "linear", "--run-dir", "runs/w"), 2, "--lr-schedule: 'linear' is not a schedule");
        AssertOneLineFailure(Run(dir.Path, "train", "--model", "resunet", "--data-dir", "photos", "--patch", "16", "--patches-per-epoch", "9000000", "--run-dir", "runs/v"),
                             2, "more than 1 GB of pixels an epoch");

        var l1 = Run(dir.Path, new[] { "train", "--run-dir", "runs/l1", "--epochs", "1", "--loss", "l1" }.Concat(recipe).ToArray());
        Assert.True(l1.ExitCode == 0, l1.Err);
        Assert.Equal("l1", Checkpoint.Read(dir["runs/l1/last.ckpt"]).Header.Settings.Loss.Spec);
        Assert.Equal("mse", Checkpoint.Read(dir["runs/straight/last.ckpt"]).Header.Settings.Loss.Spec);
        AssertOneLineFailure(Run(dir.Path, new[] { "train", "--run-dir", "runs/l2", "--loss", "l2" }.Concat(recipe).ToArray()), 2, "--loss: 'l2' is not a loss");
    }

    [Fact]
    public void A_run_fine_tunes_from_another_runs_weights_and_refuses_another_models()
    {
        using var dir = new TempDir();
        for (int i = 0; i < 12; i++) TestFiles.WritePng(dir[$"photos/{i:D2}.png"], 40 + 3 * i, 36);
        string[] recipe = { "--model", "resunet", "--data-dir", "photos", "--patch", "16", "--patches-per-epoch", "32", "--batch-size", "16",
                            "--noise", "gaussian:25/255", "--threads", "2" };
        var source = Run(dir.Path, new[] { "train", "--run-dir", "runs/source", "--epochs", "1" }.Concat(recipe).ToArray());
        Assert.True(source.ExitCode == 0, source.Err);

        // A rate too small to move any weight: the fine-tuned run must end holding exactly the weights it started from.
        var tuned = Run(dir.Path, new[] { "train", "--run-dir", "runs/tuned", "--epochs", "1", "--lr", "1e-30", "--seed", "7", "--init-from", "runs/source" }.Concat(recipe).ToArray());
        Assert.True(tuned.ExitCode == 0, tuned.Err);
        var scratch = Run(dir.Path, new[] { "train", "--run-dir", "runs/scratch", "--epochs", "1", "--lr", "1e-30", "--seed", "7" }.Concat(recipe).ToArray());
        Assert.True(scratch.ExitCode == 0, scratch.Err);
        using var start = new Denoiser.Models.ResUNet();
        using var end = new Denoiser.Models.ResUNet();
        using var random = new Denoiser.Models.ResUNet();
        Checkpoint.Read(dir["runs/source/best.ckpt"]).LoadWeights(start);
        Checkpoint.Read(dir["runs/tuned/last.ckpt"]).LoadWeights(end);
        Checkpoint.Read(dir["runs/scratch/last.ckpt"]).LoadWeights(random);
        foreach (var (x, y) in start.parameters().Zip(end.parameters())) Assert.True(x.allclose(y, rtol: 0, atol: 0), "the fine-tuned run did not start from the source's weights");
        Assert.Contains(start.parameters().Zip(random.parameters()), p => !p.First.allclose(p.Second, rtol: 0, atol: 0));
        Assert.Equal(Path.GetFullPath(dir["runs/source/best.ckpt"]), Checkpoint.Read(dir["runs/tuned/last.ckpt"]).Header.Settings.InitFrom);

        AssertOneLineFailure(Run(dir.Path, "train", "--model", "unet", "--data-dir", "photos", "--crop", "16", "--init-from", "runs/source", "--run-dir", "runs/bad"),
                             2, "is a checkpoint of model 'resunet', and this run trains 'unet'");
        AssertOneLineFailure(Run(dir.Path, "train", "--model", "dncnn", "--data-dir", "photos", "--crop", "16", "--init-from", "photo", "--run-dir", "runs/bad"),
                             2, "holds weights of model 'resunet-told', and this run trains 'dncnn'");
        AssertOneLineFailure(Run(dir.Path, "train", "--data-dir", "photos", "--init-from", "runs/none", "--run-dir", "runs/bad"), 2, "no such file, run folder or shipped model");
        Assert.False(Directory.Exists(dir["runs/bad"]) && Directory.EnumerateFileSystemEntries(dir["runs/bad"]).Any());
        AssertOneLineFailure(Run(dir.Path, "train", "--resume", "--run-dir", "runs/tuned", "--epochs", "2", "--init-from", "runs/scratch"), 2, "--init-from cannot change");
    }
}
