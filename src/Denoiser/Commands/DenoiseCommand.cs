// `denoiser denoise IMAGE...`: load a model (TorchSharp or ONNX Runtime), denoise each image, write it at its own depth.
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
        var inputs = new Argument<string[]>("images") { Description = "Image files (PNG, JPEG, BMP, GIF, TGA, WebP, TIFF; 8 or 16 bits), folders or glob patterns", Arity = ArgumentArity.OneOrMore };
        var recursive = new Option<bool>("--recursive", "-r") { Description = "Look for images in subfolders of folder arguments too" };
        var format = new Option<string>("--format") { Description = "Output format: png or tiff (keep alpha and 16 bits), webp (keeps alpha) or jpg", DefaultValueFactory = _ => "png" };
        format.AcceptOnlyFromAmong("png", "tiff", "jpg", "webp");
        var quality = new Option<int>("--quality") { Description = "JPEG and WebP quality, 1-100", DefaultValueFactory = _ => 90 };
        var color = new Option<string>("--color") { Description = "Colour images through a grayscale model: luma (denoise Y of YCbCr) or channels (each of R, G, B); an RGB model takes them whole", DefaultValueFactory = _ => "luma" };
        color.AcceptOnlyFromAmong("luma", "channels");
        var invert = new Option<string>("--invert") { Description = "Invert dark-on-light images around the model (MNIST is light on dark): auto, yes or no", DefaultValueFactory = _ => "auto" };
        invert.AcceptOnlyFromAmong("auto", "yes", "no");
        var compare = new Option<bool>("--compare") { Description = "Also write NAME.compare.png: input and output side by side" };
        var source = new ModelSource(config);
        var output = new Option<string?>("--output", "-o") { Description = "Output file (one input), or folder (several inputs: the input tree is mirrored) [default: NAME.denoised.EXT beside each input]" };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace outputs that already exist" };
        var device = new Option<string>("--device") { Description = "auto, cpu or cuda (torch runtime)", DefaultValueFactory = _ => config.Train.Device };
        var runtime = new Option<string>("--runtime") { Description = "torch (TorchSharp/libtorch) or onnx (ONNX Runtime, needs --weights MODEL.onnx)", DefaultValueFactory = _ => "torch" };
        runtime.AcceptOnlyFromAmong("torch", "onnx");
        var ensemble = new Option<bool>("--ensemble") { Description = "Average the model over the image's 8 flips and rotations (x8 self-ensemble): a few hundredths of a dB for 8 times the time" };

        var command = new Command("denoise", "Denoise images with a checkpoint, a safetensors weights file or an ONNX model.")
        {
            inputs, recursive, output, overwrite, format, quality, color, invert, compare, device, runtime, ensemble,
        };
        foreach (var o in source.Options) command.Options.Add(o);
        command.SetAction(p =>
        {
            if (p.GetValue(quality) is < 1 or > 100) throw new UserException("--quality must be between 1 and 100.", ExitCodes.Usage);
            var files = InputFiles.Expand(p.GetValue(inputs)!, p.GetValue(recursive));
            var jobs = Plan(files, p.GetValue(output), p.GetValue(overwrite), "." + p.GetValue(format), p.GetValue(recursive), p.GetValue(compare));
            IImageModel loaded = p.GetValue(runtime) == "onnx" ? LoadOnnx(p, source) : LoadTorch(p, source, p.GetValue(device)!);
            using var model = p.GetValue(ensemble) ? new SelfEnsemble(loaded) : loaded;
            var settings = new Settings(p.GetValue(format)!, p.GetValue(quality), Enum.Parse<ColorMode>(p.GetValue(color)!, ignoreCase: true),
                                        Enum.Parse<InvertMode>(p.GetValue(invert)!, ignoreCase: true), model.Domain);
            return Run(jobs, model, settings);
        });
        return command;
    }

    sealed record Settings(string Format, int Quality, ColorMode Color, InvertMode Invert, TrainingDomain Domain);

    sealed record Job(string Input, string Output, string? Compare);

    /// <summary>Decides every output first (and with --compare its side-by-side picture), so that a clash is reported before any work or any write.</summary>
    static List<Job> Plan(List<InputFile> files, string? output, bool overwrite, string extension, bool recursive, bool compare)
    {
        bool toFolder = output != null && (files.Count > 1 || files.Any(f => f.Root != null) || output.EndsWith('/') || Directory.Exists(output));
        if (toFolder)
            foreach (var root in files.Select(f => f.Root).Where(r => r != null).Distinct())
            {
                string outFull = Path.GetFullPath(output!).TrimEnd('/') + "/", rootFull = Path.GetFullPath(root!).TrimEnd('/') + "/";
                if (recursive && outFull.StartsWith(rootFull, StringComparison.Ordinal))
                    throw new UserException($"{output}: lies inside the input folder {root}, which --recursive reads; choose an output folder outside it.", ExitCodes.Usage);
            }
        var jobs = files.Select(f =>
        {
            string target = toFolder ? Path.Combine(output!, Path.ChangeExtension(f.Relative, extension))
                : output ?? Path.Combine(Path.GetDirectoryName(f.Path) ?? "", Path.GetFileNameWithoutExtension(f.Path) + ".denoised" + extension);
            string? side = compare ? Path.Combine(Path.GetDirectoryName(target) ?? "", Path.GetFileNameWithoutExtension(target) + ".compare.png") : null;
            return new Job(f.Path, target, side);
        }).ToList();
        var inputs = jobs.Select(j => Path.GetFullPath(j.Input)).ToHashSet();
        foreach (var job in jobs)
        {
            if (!File.Exists(job.Input)) throw new UserException($"{job.Input}: file not found.");
            foreach (var written in new[] { job.Output, job.Compare }.OfType<string>())
            {
                if (inputs.Contains(Path.GetFullPath(written)))
                    throw new UserException($"{written}: is {(Path.GetFullPath(written) == Path.GetFullPath(job.Input) ? "the input itself" : "one of the inputs")}; " +
                                            "choose another --output (inputs are never overwritten).", ExitCodes.Usage);
                if (File.Exists(written) && !overwrite)
                    throw new UserException($"{written}: already exists; pass --overwrite to replace it or choose another --output.", ExitCodes.Usage);
            }
        }
        if (jobs.SelectMany(j => new[] { (j.Input, File: j.Output), (j.Input, File: j.Compare) }).Where(w => w.File != null)
                .GroupBy(w => Path.GetFullPath(w.File!)).FirstOrDefault(g => g.Count() > 1) is { } clash)
            throw new UserException($"{clash.Key}: would be written for both {string.Join(" and ", clash.Select(j => j.Input).Take(2))}; rename one of them.", ExitCodes.Usage);
        return jobs;
    }

    static IImageModel LoadTorch(ParseResult p, ModelSource source, string deviceName)
    {
        if (p.GetValue(source.Weights) is { } w && w.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
            throw new UserException($"{w}: is an ONNX model; add --runtime onnx to run it.", ExitCodes.Usage);
        var device = Devices.Resolve(deviceName);
        var (model, info, from, _, domain) = source.Load(p);
        Console.WriteLine(from);
        model.to(device);
        Cpu.CpuModel.Prepare(model, device);
        return new TorchImageModel(model, info, device, domain);
    }

    // Touches nothing of TorchSharp, so libtorch is never loaded on this path.
    static IImageModel LoadOnnx(ParseResult p, ModelSource source)
    {
        if (p.GetValue(source.Checkpoint) != null || p.GetValue(source.Weights) is not { } path)
            throw new UserException("--runtime onnx runs an exported model: pass --weights MODEL.onnx (made by `denoiser export --format onnx`).", ExitCodes.Usage);
        var model = new OnnxImageModel(path, p.GetValue(source.Model));
        Console.WriteLine($"onnx: {path} ({model.Info.Name}, ONNX Runtime)");
        return model;
    }

    const long LargePicture = 4_000_000; // pixels; below it a forced collection costs more than it saves

    static int Run(List<Job> jobs, IImageModel model, Settings settings)
    {
        int failed = 0;
        ConsoleProgress.WithProgress($"denoising {jobs.Count} image{(jobs.Count == 1 ? "" : "s")}", jobs.Count, (status, finished) =>
        {
            foreach (var (input, target, side) in jobs)
            {
                try
                {
                    var picture = ImageFile.ReadPicture(input);
                    double sigma = NoiseLevel.Estimate(picture);
                    // A large picture's decoding and noise estimate leave hundreds of MB of arrays that the GC would
                    // otherwise carry through the whole run of tiles (measured, 12 MP: see docs/natural-images.md).
                    if ((long)picture.Width * picture.Height > LargePicture) GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                    int tiles = PictureDenoiser.TileCount(model, picture, settings.Color), tile = 0;
                    var (result, note) = PictureDenoiser.Denoise(model, picture, settings.Color, settings.Invert, settings.Domain,
                        () => status($"{input}: tile {++tile}/{tiles}"));
                    ImageFile.Write(target, result, settings.Format, settings.Quality);
                    if (result.Bits == 16 && settings.Format is "jpg" or "webp") note += $"; written at 8 bits ({settings.Format} holds no more; png and tiff keep 16)";
                    string compared = "";
                    if (side != null)
                    {
                        ImageFile.Write(side, Picture.SideBySide(picture, result));
                        compared = $", compare: {side}";
                    }
                    string level = double.IsFinite(sigma) ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"; noise ~{sigma:F1}/255 estimated") : "";
                    finished($"{input} -> {target} ({picture.Width}x{picture.Height}{(tiles > 1 ? $", {tiles} tiles" : "")}{level}{(note == "" ? "" : "; " + note)}{compared})");
                }
                catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException && jobs.Count > 1)
                {
                    Console.Error.WriteLine($"error: {e.Message.ReplaceLineEndings(" ")}");
                    failed++;
                    finished(null);
                }
            }
        });
        if (failed > 0) throw new UserException($"{failed} of {jobs.Count} images could not be denoised (see above); the others were written.");
        return ExitCodes.Ok;
    }
}
