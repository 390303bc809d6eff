// --resume: the recipe a run was started with, what may change on the way (epochs, device, ...), and a run with
// nothing left to do.
using System.Text.Json;

namespace Denoiser.Training;

public static class Resuming
{
    /// <summary>The settings a run resumes with: its own recipe, and what may change on the way (epochs, device, ...).</summary>
    public static (TrainSettings Settings, Checkpoint.Loaded Checkpoint) Resumed(TrainSettings settings, RunFolder run, IReadOnlySet<string> given)
    {
        var checkpoint = Checkpoint.Read(run.Last);
        return (Continued(settings, checkpoint.Header.Settings, run, given), checkpoint);
    }

    /// <summary>The recorded settings of a run that has not saved a checkpoint yet; null when it has none.</summary>
    public static TrainSettings? RecordedSettings(RunFolder run)
    {
        if (!File.Exists(run.SettingsFile)) return null;
        try { return JsonSerializer.Deserialize<TrainSettings>(File.ReadAllText(run.SettingsFile)) ?? throw new JsonException("null"); }
        catch (JsonException e)
        {
            throw new UserException($"{run.SettingsFile}: not a run's settings ({e.Message.Split('\n')[0]}); delete it to start the run with the options given, or choose another --run-dir.");
        }
    }

    /// <summary>
    /// <paramref name="saved"/>, the recipe a run was started with, and what may change on the way (epochs, device, ...);
    /// a recipe option given that contradicts it is refused.
    /// </summary>
    public static TrainSettings Continued(TrainSettings settings, TrainSettings saved, RunFolder run, IReadOnlySet<string> given)
    {
        if (given.Contains("--init-from")) settings = settings with { InitFrom = StartingWeights.Resolve(settings.InitFrom!) };
        if (TrainSettings.Options.FirstOrDefault(o => !o.Resumable && given.Contains(o.Name) && !o.Same(settings, saved)) is { } changed)
            throw new UserException($"--resume continues {run.Root} with its own recipe, so {changed.Name} cannot change; start a new run instead.", ExitCodes.Usage);
        foreach (var o in TrainSettings.Options.Where(o => o.Resumable && given.Contains(o.Name)))
            saved = o.Copy(settings, saved);
        return saved with { RunDir = run.Root };
    }

    public static bool Finished(Checkpoint.Loaded checkpoint, TrainSettings settings, RunFolder run)
    {
        if (checkpoint.Header.NextEpoch <= settings.Epochs) return false;
        Console.WriteLine($"nothing to do: {run.Root} already has {checkpoint.Header.Epoch} of {settings.Epochs} epochs (pass a larger --epochs to train further).");
        return true;
    }
}
