// `denoiser denoise IMAGE...`: load a checkpoint, denoise each image, write PNGs beside them or to -o.
using System.CommandLine;
using Denoiser.Data;
using Denoiser.Inference;
using Denoiser.Models;
using Denoiser.Training;
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
        var device = new Option<string>("--device") { Description = "auto, cpu or cuda", DefaultValueFactory = _ => config.Train.Device };
        device.AcceptOnlyFromAmong("auto", "cpu", "cuda");

        var command = new Command("denoise", "Denoise grayscale images with a trained checkpoint or weights file.") { inputs, output, overwrite, device };
        foreach (var o in source.Options) command.Options.Add(o);
        command.SetAction(p => Run(p.GetValue(inputs)!, () => source.Load(p), p.GetValue(output), p.GetValue(overwrite), p.GetValue(device)!));
        return command;
    }

    static int Run(string[] inputs, Func<(ConvDenoiser, string, Checkpoint.Loaded?)> loadModel, string? output, bool overwrite, string deviceName)
    {
        if (output != null && inputs.Length > 1)
            throw new UserException("--output names one file, but several images were given; omit it to write NAME.denoised.png beside each.", ExitCodes.Usage);

        // Decide every output first, so that a clash is reported before any work or any write.
        var jobs = inputs.Select(i => (Input: i, Output: output ?? DefaultOutput(i))).ToList();
        foreach (var (input, target) in jobs)
        {
            if (!File.Exists(input)) throw new UserException($"{input}: file not found.");
            if (Path.GetFullPath(input) == Path.GetFullPath(target))
                throw new UserException($"{target}: is the input itself; choose another --output (inputs are never overwritten).", ExitCodes.Usage);
            if (File.Exists(target) && !overwrite)
                throw new UserException($"{target}: already exists; pass --overwrite to replace it or choose another --output.", ExitCodes.Usage);
        }

        var device = Devices.Resolve(deviceName);
        var (model, from, _) = loadModel();
        using var _ = model;
        Console.WriteLine(from);
        model.to(device);

        int failed = 0;
        foreach (var (input, target) in jobs)
        {
            try
            {
                var image = ImageFile.ReadGray(input);
                using var x = ImageTensors.ToTensor(image).to(device);
                using var y = ImageDenoiser.Denoise(model, x);
                ImageFile.WritePng(target, ImageTensors.ToImage(y));
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
