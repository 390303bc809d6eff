// `denoise` as one task: its inputs expanded, its outputs planned, this shard's pictures denoised and written at their
// own depth, and, whatever happens, its report (--report).
using System.Diagnostics;
using Denoiser.Data;
using Denoiser.Inference;
using Denoiser.Reporting;

namespace Denoiser.Batch;

/// <summary>What denoise was asked, as its options give it.</summary>
/// <param name="Strength">--strength, the factor on the estimated level.</param>
/// <param name="Sigma">--sigma, a noise level to give instead of the estimate (0-255 scale).</param>
/// <param name="Tile">--tile, the side each tile keeps; null: the model's own.</param>
public sealed record DenoiseRequest(
    string[] Inputs, bool Recursive, string? Output, bool Overwrite, bool SkipExisting, string Format, int Quality, string Color,
    string Invert, bool Compare, double Strength, double? Sigma, bool Posterior, double? PosteriorSigma, int? Tile = null);

public static class DenoiseBatch
{
    const long LargePicture = 4_000_000; // pixels; below it a forced collection costs more than it saves

    /// <param name="shard">--shard as given, for the report before it is understood.</param>
    /// <param name="read">The request, read inside the task: a broken option rule is then in the report too.</param>
    /// <param name="models">The models, loaded only when there are pictures left to denoise.</param>
    public static int Run(string? reportPath, string? shard, Func<DenoiseRequest> read, Func<IModelChoice> models)
    {
        var clock = Stopwatch.StartNew(); // the report's seconds: the whole task, model loading included
        if (reportPath is { } r && Path.GetDirectoryName(Path.GetFullPath(r)) is { } folder && !Directory.Exists(folder))
            throw new UserException($"--report {r}: the folder {folder} does not exist.", ExitCodes.Usage);
        // From here on any failure is in the report too: a job array's merge step sees every task, however it ended.
        var summary = new TaskReport(shard, [], []);
        try
        {
            var request = read();
            if (request.Overwrite && request.SkipExisting)
                throw new UserException("--overwrite and --skip-existing contradict each other; give one of them.", ExitCodes.Usage);
            var task = shard is { } value ? Shard.Parse(value, Environment.GetEnvironmentVariable) : null;
            var files = InputFiles.Expand(request.Inputs, request.Recursive);
            var (jobs, skipped) = OutputPlan.Make(files, request.Output, request.Overwrite, request.SkipExisting, "." + request.Format,
                                                  request.Recursive, request.Compare, task);
            if (task != null || skipped.Count > 0)
                Console.WriteLine($"{(task == null ? "" : $"shard {task}: ")}{jobs.Count + skipped.Count} of {files.Count} inputs" +
                                  (skipped.Count > 0 ? $", {skipped.Count} already denoised and skipped" : ""));
            summary = new TaskReport(task?.ToString(), jobs.Select(j => j.Input).Concat(skipped).Order(StringComparer.Ordinal).ToList(), skipped);
            if (jobs.Count == 0)
            {
                summary.Finish(reportPath, clock);
                return ExitCodes.Ok; // nothing left: no model is loaded
            }
            using var choice = models();
            var strength = new Strength(request.Sigma, request.Strength);
            if (choice.Named is { } named && strength.RefusedBy(named.Info) is { } refused) throw new UserException(refused + ".", ExitCodes.Usage);
            return Denoise(jobs, choice, request, strength, summary, reportPath, clock);
        }
        catch (Exception e) when (reportPath != null && !summary.Written)
        {
            // The task failed before its images (bad options, a model that does not load, no inputs): the report says why.
            summary.Error = e.Message.ReplaceLineEndings(" ");
            summary.Finish(reportPath, clock);
            throw;
        }
    }

    static int Denoise(List<Job> jobs, IModelChoice choice, DenoiseRequest request, Strength strength, TaskReport summary, string? reportPath, Stopwatch clock)
    {
        var color = Enum.Parse<ColorMode>(request.Color, ignoreCase: true);
        var invert = Enum.Parse<InvertMode>(request.Invert, ignoreCase: true);
        double? posterior = request.PosteriorSigma ?? (request.Posterior ? double.NaN : null); // NaN: estimated on each plane
        string? lastWhy = null;
        ConsoleProgress.WithProgress($"denoising {jobs.Count} image{(jobs.Count == 1 ? "" : "s")}", jobs.Count, (status, finished) =>
        {
            foreach (var (input, target, side) in jobs)
            {
                try
                {
                    var picture = ImageFile.Read(input);
                    var (model, why) = choice.For(picture); // PictureDenoiser refuses a strength the chosen model cannot take
                    if (posterior != null && Math.Min(picture.Width, picture.Height) < BlindSpotPosterior.MinSide)
                        throw new InvalidDataException($"{input}: is {picture.Width}x{picture.Height}; the blind-spot posterior needs at least {BlindSpotPosterior.MinSide}x{BlindSpotPosterior.MinSide} pixels.");
                    // A model told the level estimates it itself (and the note says so); for the others, the white-noise estimate.
                    double sigma = model.Info.TakesNoiseLevel ? double.NaN : NoiseLevel.Estimate(picture);
                    // A large picture's decoding and noise estimate leave hundreds of MB of arrays that the GC would
                    // otherwise carry through the whole run of tiles (measured, 12 MP: see docs/natural-images.md).
                    if ((long)picture.Width * picture.Height > LargePicture) GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                    int tiles = PictureDenoiser.TileCount(model, picture, color, tileSize: request.Tile);
                    int runs = PictureDenoiser.TileCount(model, picture, color, posterior != null, request.Tile), run = 0; // --posterior: 64 a tile
                    // Without --compare nothing reads the picture after: its planes take the result (one picture of floats, not two).
                    var (result, note, _) = PictureDenoiser.Denoise(model, picture, color, invert, model.Domain,
                        () => status($"{input}: {(posterior == null ? "tile" : "pass")} {++run}/{runs}"), posterior, strength, consume: side == null, request.Tile);
                    ImageFile.Write(target, result, request.Format, request.Quality);
                    if (result.Bits == 16 && request.Format is "jpg" or "webp") note += $"; written at 8 bits ({request.Format} holds no more; png and tiff keep 16)";
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
        summary.Finish(reportPath, clock);
        if (summary.Failed.Count == 1 && jobs.Count == 1) throw new UserException(summary.Failed[0].Reason);
        if (summary.Failed.Count > 0)
            throw new UserException($"{summary.Failed.Count} of {jobs.Count} images could not be denoised (see above); the others were written.");
        return ExitCodes.Ok;
    }
}
