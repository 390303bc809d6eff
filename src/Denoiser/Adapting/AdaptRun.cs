// `adapt` from the command line to the run folder: the photographs and the base model checked first, the adaptation,
// then best.ckpt (the weights the verdict kept), adapted.json (what was done and measured) and adapt.png, written only at
// the end, so a refused or failed adaptation leaves the folder as it was.
using System.Text.Json;
using Denoiser.Batch;
using Denoiser.Data;
using Denoiser.Interchange;
using Denoiser.Models;
using Denoiser.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Adapting;

/// <param name="From">A shipped model's name, a run folder, a checkpoint or a weights file; null: the shipped default for the photographs' kind.</param>
public sealed record AdaptRequest(IReadOnlyList<string> Inputs, bool Recursive, string RunDir, string? From, bool Overwrite, AdaptPlan Plan);

/// <summary>adapted.json: what `runs` and `serve` say of an adapted run, and the figures of its verdict.</summary>
public sealed record AdaptedRecord(string From, string Method, int Photos, int Crops, int HeldOut, double Minutes, int Steps, double TrainSeconds,
                                   double MeanLevel, double NoisyPsnr, double BasePsnr, double AdaptedPsnr, bool Kept, DateTimeOffset Saved);

public static class AdaptRun
{
    public const string PreviewFile = "adapt.png";

    public static int Start(AdaptRequest request, Device device, Func<bool, string> defaultFor, IAdaptObserver observer)
    {
        var files = InputFiles.Expand(request.Inputs, request.Recursive).Select(f => f.Path).ToList();
        if (files.Count == 0) throw new UserException("adapt: no photographs given; name files, folders or patterns of your camera's noisy photographs.", ExitCodes.Usage);
        if (files.FirstOrDefault(f => !File.Exists(f)) is { } missing) throw new UserException($"{missing}: file not found.");
        var run = new RunFolder(request.RunDir);
        if (run.ExistingOutputs().Count > 0 || File.Exists(run.AdaptedFile))
            if (!request.Overwrite)
                throw new UserException($"{run.Root} already holds a run; pass --overwrite to replace it, or choose another --run-dir.", ExitCodes.Usage);

        // The first photograph says which kind of model to adapt (colour or grey); every other must be of that kind.
        Picture? unread = ImageFile.Read(files[0]); // decoded once, and let go after its crops like the others
        bool colour = unread.IsColor;
        string from = request.From ?? defaultFor(colour);
        string path = StartingWeights.Resolve(from, "--from");
        var (model, info, settings) = LoadBase(path);
        using var _ = model;
        if (info.Channels != (colour ? 3 : 1))
            throw new UserException($"{files[0]}: is a {(colour ? "colour" : "grey")} photograph, and {from} is a {(info.Channels == 3 ? "colour" : "grey")} model; " +
                                    $"adapt {(colour ? "the colour default (leave out --from)" : "the grey default (leave out --from)")} or give photographs of its kind.", ExitCodes.Usage);
        model.to(device);

        Picture Read(string file)
        {
            var picture = file == files[0] && unread != null ? unread : ImageFile.Read(file);
            unread = null;
            if (picture.IsColor != colour)
                throw new UserException($"{file}: is {(picture.IsColor ? "colour" : "grey")}, and {files[0]} is {(colour ? "colour" : "grey")}; adapt one kind of photograph at a time.", ExitCodes.Usage);
            return picture;
        }
        var outcome = Adaptation.Run(model, info, settings.Loss, files, Read, request.Plan, observer, device);

        // Only now the folder, under the run lock.
        using var runLock = RunLock.Acquire(run.Root);
        if (request.Overwrite) { run.DeleteOutputs(); File.Delete(run.AdaptedFile); }
        var adaptedSettings = settings with { RunDir = run.Root, InitFrom = path, Epochs = 1 };
        var metrics = new EpochMetrics(1, outcome.TrainLoss, double.NaN, outcome.Kept ? outcome.AdaptedPsnr : outcome.BasePsnr, outcome.NoisyPsnr, outcome.Seconds,
                                       outcome.TrainSeconds > 0 ? outcome.Steps * request.Plan.BatchSize / outcome.TrainSeconds : 0);
        var header = new CheckpointHeader(info.Name, 1, 2, adaptedSettings, new[] { metrics }, double.NaN, DateTimeOffset.Now);
        Checkpoint.Save(run.Best, Checkpoint.Serialize(header, model, null));
        ImageFile.Write(Path.Combine(run.Root, PreviewFile), outcome.Preview);
        var record = new AdaptedRecord(from, request.Plan.Method, outcome.Photos, outcome.Crops, outcome.HeldOut, request.Plan.Minutes, outcome.Steps, outcome.TrainSeconds,
                                       outcome.MeanLevel, outcome.NoisyPsnr, outcome.BasePsnr, outcome.AdaptedPsnr, outcome.Kept, DateTimeOffset.Now);
        AtomicFile.WriteAllText(run.AdaptedFile, JsonSerializer.Serialize(record, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));

        Console.WriteLine(Verdict(outcome));
        Console.WriteLine($"wrote {run.Best} ({(outcome.Kept ? "adapted" : "the base")} weights), {run.AdaptedFile} and {Path.Combine(run.Root, PreviewFile)} (noisy, {from}, adapted); " +
                          $"use it with `denoiser denoise PHOTO --checkpoint {run.Best}`.");
        return ExitCodes.Ok;
    }

    /// <summary>The one line that says whether adapting helped.</summary>
    public static string Verdict(AdaptOutcome o) =>
        FormattableString.Invariant($"held-out crops ({o.HeldOut} of {o.Crops}, from {o.Photos} photographs; the camera's own noise on the base model's clean versions): ") +
        FormattableString.Invariant($"base {o.BasePsnr:F2} dB, adapted {o.AdaptedPsnr:F2} dB ({o.Gain:+0.00;-0.00} dB after {o.Steps} steps in {o.TrainSeconds:F0} s): ") +
        (o.Kept ? (o.Gain >= AdaptPlan.MinGain ? "adapted weights kept." : "adapted weights kept, as --keep always asks.")
                : FormattableString.Invariant($"adapting did not help (under {AdaptPlan.MinGain} dB), so the base weights are kept."));

    /// <summary>The base model, its kind, and the settings it was trained with (for the run's recipe and loss).</summary>
    static (nn.Module<Tensor, Tensor> Model, ModelInfo Info, TrainSettings Settings) LoadBase(string path)
    {
        if (Checkpoint.Recognizes(path))
        {
            var loaded = Checkpoint.Read(path);
            var kind = Registry.Get(loaded.Header.Model);
            var model = kind.Create();
            loaded.LoadWeights(model);
            return (model, kind, loaded.Header.Settings);
        }
        var info = Registry.ForWeights(path, WeightsFile.ModelOf(path), null);
        var weights = info.Create();
        var metadata = WeightsFile.LoadInto(weights, info.Name, path);
        TrainSettings? settings = null;
        if (metadata.TryGetValue(WeightsFile.SettingsKey, out var json))
            try { settings = JsonSerializer.Deserialize<TrainSettings>(json); }
            catch (JsonException) { }
        return (weights, info, settings ?? new TrainSettings { Model = info.Name });
    }
}
