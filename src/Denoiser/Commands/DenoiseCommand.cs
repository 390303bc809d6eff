// `denoiser denoise IMAGE...`: load a model (TorchSharp or ONNX Runtime), denoise each image, write it at its own depth;
// as one task of a job array if asked (--shard, --skip-existing, --report).
using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Denoiser.Data;
using Denoiser.Inference;
using Denoiser.Models;
using Denoiser.Reporting;
using TorchSharp;

namespace Denoiser.Commands;

public static class DenoiseCommand
{
    public static Command Create(AppConfig config)
    {
        var inputs = new Argument<string[]>("images") { Description = "Image files (PNG, JPEG, BMP, GIF, TGA, WebP, TIFF; 8 or 16 bits), folders or glob patterns", Arity = ArgumentArity.OneOrMore };
        var recursive = new Opt<bool>("--recursive", "Look for images in subfolders of folder arguments too", "-r");
        var output = new Opt<string?>("--output", "Output file (one input), or folder (several inputs: the input tree is mirrored) [default: NAME.denoised.EXT beside each input]", "-o");
        var overwrite = new Opt<bool>("--overwrite", "Replace outputs that already exist");
        var format = new Opt<string>("--format", "Output format: png or tiff (keep alpha and 16 bits), webp (keeps alpha) or jpg") { Default = "png", Choices = ImageFile.OutputFormats };
        var quality = new Opt<int>("--quality", "JPEG and WebP quality, 1-100") { Default = 90, Rule = Rule.Between(1, 100) };
        var color = new Opt<string>("--color", "Colour images through a grayscale model: luma (denoise Y of YCbCr) or channels (each of R, G, B); an RGB model takes them whole")
            { Default = "luma", Choices = ["luma", "channels"] };
        var invert = new Opt<string>("--invert", "Invert dark-on-light images around the model (MNIST is light on dark): auto, yes or no") { Default = "auto", Choices = ["auto", "yes", "no"] };
        var compare = new Opt<bool>("--compare", "Also write NAME.compare.png: input and output side by side");
        var strength = new Opt<double>("--strength",
            "How strongly to denoise: a model told the noise level (resunet-rgb, the shipped colour model) is given the estimated level times this (more smooths more); " +
            "a blind model keeps 1 - S of the noise (S from 0 to 1)")
            { Default = 1, Rule = new(s => s > 0 && s <= 20, "above 0 and at most 20 (1: as estimated)", SaysValue: true) };
        var sigma = new Opt<double?>("--sigma", "The noise level to give a model told it, on the 0-255 scale (the RMS of the noise), instead of its estimate; --strength multiplies it")
            { Rule = SigmaRule };
        var runtime = new Opt<string>("--runtime", "torch (TorchSharp/libtorch) or onnx (ONNX Runtime, needs --weights MODEL.onnx)") { Default = "torch", Choices = ["torch", "onnx"] };
        var ensemble = new Opt<bool>("--ensemble", "Average the model over the image's 8 flips and rotations (x8 self-ensemble): a few hundredths of a dB for 8 times the time");
        var posterior = new Opt<bool>("--posterior",
            "For a blind-spot (Noise2Void) model: combine its prediction of each pixel, made without the pixel, with the noisy pixel, for Gaussian noise of the estimated level; 64 times the time");
        var posteriorSigma = new Opt<double?>("--posterior-sigma", "The noise's sigma (0-255 scale) for --posterior, which it implies [default: estimated on each plane denoised]")
            { Rule = SigmaRule };
        var shard = new Opt<string?>("--shard", "Take only task K's share of N (K/N, K from 0) of the sorted inputs; N alone takes K from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID");
        var skipExisting = new Opt<bool>("--skip-existing", "Skip inputs whose outputs exist (outputs are written whole or not at all), so a re-run task finishes the rest");
        var report = new Opt<string?>("--report", "Write a JSON summary to this file: inputs, outputs, skipped, failed with reasons, seconds");
        var source = new ModelSource(config);
        var devices = new DeviceOptions(config); // the torch runtime's; ONNX Runtime chooses its own

        var command = new Command("denoise", "Denoise images with a checkpoint, a safetensors or PyTorch .pt weights file, a shipped model or an ONNX model.")
        {
            inputs, recursive, output, overwrite, format, quality, color, invert, compare, strength, sigma, runtime, ensemble, posterior, posteriorSigma, shard, skipExisting, report,
        };
        foreach (var o in source.Options.Concat(devices.Options)) command.Options.Add(o);
        command.SetAction(p =>
        {
            var clock = Stopwatch.StartNew(); // the report's seconds: the whole task, model loading included
            string? reportPath = report.Get(p);
            if (reportPath is { } r && Path.GetDirectoryName(Path.GetFullPath(r)) is { } folder && !Directory.Exists(folder))
                throw new UserException($"--report {r}: the folder {folder} does not exist.", ExitCodes.Usage);
            // From here on any failure is in the report too: a job array's merge step sees every task, however it ended.
            var summary = new Report(shard.Get(p), [], []);
            try
            {
                int jpegQuality = quality.Get(p);
                if (overwrite.Get(p) && skipExisting.Get(p))
                    throw new UserException("--overwrite and --skip-existing contradict each other; give one of them.", ExitCodes.Usage);
                double? blindSpot = posteriorSigma.Get(p) ?? (posterior.Get(p) ? double.NaN : null);
                var howStrong = new Strength(sigma.Get(p), strength.Get(p));
                var task = shard.Get(p) is { } value ? Shard.Parse(value, Environment.GetEnvironmentVariable) : null;
                var files = InputFiles.Expand(p.GetValue(inputs)!, recursive.Get(p));
                var (jobs, skipped) = Plan(files, output.Get(p), overwrite.Get(p), skipExisting.Get(p), "." + format.Get(p),
                                           recursive.Get(p), compare.Get(p), task);
                if (task != null || skipped.Count > 0)
                    Console.WriteLine($"{(task == null ? "" : $"shard {task}: ")}{jobs.Count + skipped.Count} of {files.Count} inputs" +
                                      (skipped.Count > 0 ? $", {skipped.Count} already denoised and skipped" : ""));
                summary = new Report(task?.ToString(), jobs.Select(j => j.Input).Concat(skipped).Order(StringComparer.Ordinal).ToList(), skipped);
                if (jobs.Count == 0)
                {
                    Finish(summary, reportPath, clock);
                    return ExitCodes.Ok; // nothing left: no model is loaded
                }
                Func<IImageModel, IImageModel> wrap = m => ensemble.Get(p) ? new SelfEnsemble(m) : m;
                // No model named: each picture gets the latest run if it was trained on pictures like it, else the shipped model for its kind.
                bool pick = !source.Named(p) && runtime.Get(p) == "torch";
                using var picker = pick ? new ModelPicker(source, source.ModelsDir.Get(p), devices.Apply(p), wrap) : null;
                using var named = pick ? null : wrap(runtime.Get(p) == "onnx" ? LoadOnnx(p, source) : LoadTorch(p, source, devices));
                if (named != null && howStrong.RefusedBy(named.Info) is { } refused) throw new UserException(refused + ".", ExitCodes.Usage);
                Func<Picture, (IImageModel, string?)> choose = picker != null ? picture => picker.For(picture) : _ => (named!, null);
                var settings = new Settings(format.Get(p), jpegQuality, Enum.Parse<ColorMode>(color.Get(p), ignoreCase: true),
                                            Enum.Parse<InvertMode>(invert.Get(p), ignoreCase: true), blindSpot, howStrong);
                return Run(jobs, choose, settings, summary, reportPath, clock);
            }
            catch (Exception e) when (reportPath != null && !summary.Written)
            {
                // The task failed before its images (bad options, a model that does not load, no inputs): the report
                // says why.
                summary.Error = e.Message.ReplaceLineEndings(" ");
                Finish(summary, reportPath, clock);
                throw;
            }
        });
        return command;
    }

    static readonly Rule<double?> SigmaRule = new(level => level is not { } l || l > 0 && l < 255, "a noise level above 0 and below 255 (the 0-255 scale)", SaysValue: true);

    sealed record Settings(string Format, int Quality, ColorMode Color, InvertMode Invert, double? Posterior, Strength Strength);

    sealed record Job(string Input, string Output, string? Compare);

    /// <summary>What a task did, for --report: a job array's tasks are merged from these.</summary>
    sealed record Report(string? Shard, List<string> Inputs, List<string> Skipped)
    {
        public List<string> Outputs { get; } = [];
        public List<Failure> Failed { get; } = [];
        public double Seconds { get; set; }
        /// <summary>Why the whole task failed before denoising its images; null when it got to them.</summary>
        public string? Error { get; set; }
        [System.Text.Json.Serialization.JsonIgnore] public bool Written { get; set; }
    }

    sealed record Failure(string Input, string Reason);

    static readonly JsonSerializerOptions ReportJson = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    static void Finish(Report summary, string? path, Stopwatch clock)
    {
        summary.Seconds = Math.Round(clock.Elapsed.TotalSeconds, 3);
        summary.Written = true;
        if (path != null) AtomicFile.WriteAllText(path, JsonSerializer.Serialize(summary, ReportJson));
    }

    /// <summary>
    /// Decides every output first (and with --compare its side-by-side picture), so that a clash is reported before any
    /// work or any write; then this shard's jobs, less those whose outputs exist when --skip-existing is given. The
    /// clash check covers all inputs, the existence checks only this shard's: other tasks may be writing theirs.
    /// </summary>
    static (List<Job> Jobs, List<string> Skipped) Plan(List<InputFile> files, string? output, bool overwrite, bool skipExisting,
                                                      string extension, bool recursive, bool compare, Shard? shard)
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
        if (jobs.SelectMany(j => new[] { (j.Input, File: j.Output), (j.Input, File: j.Compare) }).Where(w => w.File != null)
                .GroupBy(w => Path.GetFullPath(w.File!)).FirstOrDefault(g => g.Count() > 1) is { } clash)
            throw new UserException($"{clash.Key}: would be written for both {string.Join(" and ", clash.Select(j => j.Input).Take(2))}; rename one of them.", ExitCodes.Usage);
        if (shard != null) jobs = shard.Take(jobs, j => j.Input);
        var skipped = new List<string>();
        foreach (var job in jobs)
        {
            if (!File.Exists(job.Input)) throw new UserException($"{job.Input}: file not found.");
            foreach (var written in new[] { job.Output, job.Compare }.OfType<string>())
                if (inputs.Contains(Path.GetFullPath(written)))
                    throw new UserException($"{written}: is {(Path.GetFullPath(written) == Path.GetFullPath(job.Input) ? "the input itself" : "one of the inputs")}; " +
                                            "choose another --output (inputs are never overwritten).", ExitCodes.Usage);
            if (skipExisting && File.Exists(job.Output) && (job.Compare == null || File.Exists(job.Compare)))
            {
                skipped.Add(job.Input); // an input that is an output was refused above, --skip-existing or not
                continue;
            }
            foreach (var written in new[] { job.Output, job.Compare }.OfType<string>())
            {
                if (File.Exists(written) && !overwrite && !skipExisting)
                    throw new UserException($"{written}: already exists; pass --overwrite to replace it, --skip-existing to leave it, or choose another --output.", ExitCodes.Usage);
            }
        }
        var done = skipped.ToHashSet();
        return (jobs.Where(j => !done.Contains(j.Input)).ToList(), skipped);
    }

    static IImageModel LoadTorch(ParseResult p, ModelSource source, DeviceOptions devices)
    {
        if (source.Weights.Get(p) is { } w && w.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
            throw new UserException($"{w}: is an ONNX model; add --runtime onnx to run it.", ExitCodes.Usage);
        var device = devices.Apply(p);
        var (model, info, from, _, domain) = source.Load(p);
        Console.WriteLine(from);
        return new TorchImageModel(model, info, device, domain);
    }

    // Touches nothing of TorchSharp, so libtorch is never loaded on this path.
    static IImageModel LoadOnnx(ParseResult p, ModelSource source)
    {
        if (source.Checkpoint.Get(p) != null || source.Weights.Get(p) is not { } path)
            throw new UserException("--runtime onnx runs an exported model: pass --weights MODEL.onnx (made by `denoiser export --format onnx`).", ExitCodes.Usage);
        var model = new OnnxImageModel(path, source.Model.Get(p));
        Console.WriteLine($"onnx: {path} ({model.Info.Name}, ONNX Runtime)");
        return model;
    }

    const long LargePicture = 4_000_000; // pixels; below it a forced collection costs more than it saves

    /// <param name="choose">The model for a picture, and why it was chosen when it was not named.</param>
    static int Run(List<Job> jobs, Func<Picture, (IImageModel Model, string? Why)> choose, Settings settings, Report summary, string? reportPath, Stopwatch clock)
    {
        string? lastWhy = null;
        ConsoleProgress.WithProgress($"denoising {jobs.Count} image{(jobs.Count == 1 ? "" : "s")}", jobs.Count, (status, finished) =>
        {
            foreach (var (input, target, side) in jobs)
            {
                try
                {
                    var picture = ImageFile.Read(input);
                    var (model, why) = choose(picture); // PictureDenoiser refuses a strength the chosen model cannot take
                    if (settings.Posterior != null && Math.Min(picture.Width, picture.Height) < BlindSpotPosterior.MinSide)
                        throw new InvalidDataException($"{input}: is {picture.Width}x{picture.Height}; the blind-spot posterior needs at least {BlindSpotPosterior.MinSide}x{BlindSpotPosterior.MinSide} pixels.");
                    // A model told the level estimates it itself (and the note says so); for the others, the white-noise estimate.
                    double sigma = model.Info.TakesNoiseLevel ? double.NaN : NoiseLevel.Estimate(picture);
                    // A large picture's decoding and noise estimate leave hundreds of MB of arrays that the GC would
                    // otherwise carry through the whole run of tiles (measured, 12 MP: see docs/natural-images.md).
                    if ((long)picture.Width * picture.Height > LargePicture) GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                    int tiles = PictureDenoiser.TileCount(model, picture, settings.Color);
                    int runs = PictureDenoiser.TileCount(model, picture, settings.Color, settings.Posterior != null), run = 0; // --posterior: 64 a tile
                    var (result, note, _) = PictureDenoiser.Denoise(model, picture, settings.Color, settings.Invert, model.Domain,
                        () => status($"{input}: {(settings.Posterior == null ? "tile" : "pass")} {++run}/{runs}"), settings.Posterior, settings.Strength);
                    ImageFile.Write(target, result, settings.Format, settings.Quality);
                    if (result.Bits == 16 && settings.Format is "jpg" or "webp") note += $"; written at 8 bits ({settings.Format} holds no more; png and tiff keep 16)";
                    string compared = "";
                    if (side != null)
                    {
                        ImageFile.Write(side, Picture.SideBySide(picture, result));
                        compared = $", compare: {side}";
                    }
                    string level = double.IsFinite(sigma) ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"; noise ~{sigma:F1}/255 estimated") : "";
                    if (why != null && why != lastWhy) note = $"model: {why}" + (note == "" ? "" : "; " + note); // said when it changes
                    lastWhy = why;
                    summary.Outputs.Add(target);
                    finished($"{input} -> {target} ({picture.Width}x{picture.Height}{(tiles > 1 ? $", {tiles} tiles" : "")}{level}{(note == "" ? "" : "; " + note)}{compared})");
                }
                catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
                {
                    string reason = e.Message.ReplaceLineEndings(" ");
                    summary.Failed.Add(new Failure(input, reason));
                    if (jobs.Count > 1) Console.Error.WriteLine($"error: {reason}");
                    finished(null);
                }
            }
        });
        Finish(summary, reportPath, clock);
        if (summary.Failed.Count == 1 && jobs.Count == 1) throw new UserException(summary.Failed[0].Reason);
        if (summary.Failed.Count > 0)
            throw new UserException($"{summary.Failed.Count} of {jobs.Count} images could not be denoised (see above); the others were written.");
        return ExitCodes.Ok;
    }
}
