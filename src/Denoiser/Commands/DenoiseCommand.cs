// `denoiser denoise IMAGE...`: load a model (TorchSharp or ONNX Runtime), denoise each image, write PNGs.
using System.CommandLine;
using Denoiser.Data;
using Denoiser.Inference;
using Denoiser.Models;
using TorchSharp;

namespace Denoiser.Commands;

public static class DenoiseCommand
{
    public static Command Create(AppConfig config)
    {
        var inputs = new Argument<string[]>("images") { Description = "PNG, JPEG, BMP, GIF or TGA files", Arity = ArgumentArity.OneOrMore };
        var source = new ModelSource(config);
        var output = new Option<string?>("--output", "-o") { Description = "Output PNG (one input only) [default: NAME.denoised.png beside each input]" };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace outputs that already exist" };
        var device = new Option<string>("--device") { Description = "auto, cpu or cuda (torch runtime)", DefaultValueFactory = _ => config.Train.Device };
        device.AcceptOnlyFromAmong("auto", "cpu", "cuda");
        var runtime = new Option<string>("--runtime") { Description = "torch (TorchSharp/libtorch) or onnx (ONNX Runtime, needs --weights MODEL.onnx)", DefaultValueFactory = _ => "torch" };
        runtime.AcceptOnlyFromAmong("torch", "onnx");

        var command = new Command("denoise", "Denoise grayscale images with a checkpoint, a safetensors weights file or an ONNX model.")
        {
            inputs, output, overwrite, device, runtime,
        };
        foreach (var o in source.Options) command.Options.Add(o);
        command.SetAction(p =>
        {
            var jobs = Plan(p.GetValue(inputs)!, p.GetValue(output), p.GetValue(overwrite));
            using var model = p.GetValue(runtime) == "onnx" ? LoadOnnx(p, source) : LoadTorch(p, source, p.GetValue(device)!);
            return Run(jobs, model);
        });
        return command;
    }

    /// <summary>Decides every output first, so that a clash is reported before any work or any write.</summary>
    static List<(string Input, string Output)> Plan(string[] inputs, string? output, bool overwrite)
    {
        if (output != null && inputs.Length > 1)
            throw new UserException("--output names one file, but several images were given; omit it to write NAME.denoised.png beside each.", ExitCodes.Usage);
        var jobs = inputs.Select(i => (Input: i, Output: output ?? DefaultOutput(i))).ToList();
        foreach (var (input, target) in jobs)
        {
            if (!File.Exists(input)) throw new UserException($"{input}: file not found.");
            if (Path.GetFullPath(input) == Path.GetFullPath(target))
                throw new UserException($"{target}: is the input itself; choose another --output (inputs are never overwritten).", ExitCodes.Usage);
            if (File.Exists(target) && !overwrite)
                throw new UserException($"{target}: already exists; pass --overwrite to replace it or choose another --output.", ExitCodes.Usage);
        }
        return jobs;
    }

    static IImageModel LoadTorch(ParseResult p, ModelSource source, string deviceName)
    {
        if (p.GetValue(source.Weights) is { } w && w.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
            throw new UserException($"{w}: is an ONNX model; add --runtime onnx to run it.", ExitCodes.Usage);
        var device = Devices.Resolve(deviceName);
        var (model, from, _) = source.Load(p);
        Console.WriteLine(from);
        model.to(device);
        return new TorchImageModel(model, device);
    }

    // Touches nothing of TorchSharp, so libtorch is never loaded on this path.
    static IImageModel LoadOnnx(ParseResult p, ModelSource source)
    {
        if (p.GetValue(source.Checkpoint) != null || p.GetValue(source.Weights) is not { } path)
            throw new UserException("--runtime onnx runs an exported model: pass --weights MODEL.onnx (made by `denoiser export --format onnx`).", ExitCodes.Usage);
        var model = new OnnxImageModel(path, ConvDenoiser.Kind);
        Console.WriteLine($"onnx: {path} (ONNX Runtime)");
        return model;
    }

    static int Run(List<(string Input, string Output)> jobs, IImageModel model)
    {
        int failed = 0;
        foreach (var (input, target) in jobs)
        {
            try
            {
                var image = ImageFile.ReadGray(input);
                ImageFile.WritePng(target, ImageDenoiser.Denoise(model, image));
                Console.WriteLine($"{input} -> {target} ({image.Width}x{image.Height})");
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException && jobs.Count > 1)
            {
                Console.Error.WriteLine($"error: {e.Message.ReplaceLineEndings(" ")}");
                failed++;
            }
        }
        if (failed > 0) throw new UserException($"{failed} of {jobs.Count} images could not be denoised (see above).");
        return ExitCodes.Ok;
    }

    static string DefaultOutput(string input) =>
        Path.Combine(Path.GetDirectoryName(input) ?? "", Path.GetFileNameWithoutExtension(input) + ".denoised.png");
}
