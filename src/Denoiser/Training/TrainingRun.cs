// `train` from its resolved settings to a finished run: a run folder started, or resumed from its last checkpoint, the
// data loaded, and the model trained with a progress display until done or stopped (Ctrl-C, SIGTERM) with a checkpoint.
using System.Text.Json;
using Denoiser.Data;
using Denoiser.Reporting;
using TorchSharp;

namespace Denoiser.Training;

public static class TrainingRun
{
    /// <param name="settings">Resolved: defaults, configuration, then the options typed.</param>
    /// <param name="given">The options typed on the command line, by name ("--epochs"): on --resume only these may change the run.</param>
    /// <param name="ensureMnist">Fetches MNIST into a folder when it is missing.</param>
    public static int Start(TrainSettings settings, DataSettings data, Action<string> ensureMnist, bool resume, bool overwrite, IReadOnlySet<string> given)
    {
        // Self-supervised targets add nothing to images that are noisy already, unless asked to draw pairs from clean ones.
        if (settings.Target.SelfSupervised && !given.Contains("--noise")) settings = settings with { Noise = NoNoise.Instance };
        // A resumed run's rules between settings hold for its recipe with the changes typed, checked once merged (below):
        // `--resume --real-pairs DIR` alone names no --patch, which the recipe has.
        if (!resume && settings.Validate() is { } invalid) throw new UserException(invalid + ".", ExitCodes.Usage);
        if (resume && overwrite) throw new UserException("--resume continues a run and --overwrite starts one afresh; give one of them.", ExitCodes.Usage);
        settings = settings with { Dataset = Datasets.Name(Datasets.Parse(settings.Dataset)) }; // as runs record it, so equal means the same
        var run = resume ? settings.RunDir is { } dir ? new RunFolder(dir) : RunFolder.Latest(settings.ModelsDir, r => File.Exists(r.Last) ? r.Last : r.SettingsFile)
                         : settings.RunDir is { } newDir ? new RunFolder(newDir) : RunFolder.New(settings.ModelsDir);
        if (resume && (run == null || !File.Exists(run.Last)))
        {
            // As Lightning's ckpt_path="last": a run killed before its first checkpoint (or never started) starts from its
            // beginning, so one command serves the first start and every requeue.
            run ??= RunFolder.New(settings.ModelsDir);
            var recorded = Resuming.RecordedSettings(run);
            if (recorded != null) settings = Resuming.Continued(settings, recorded, run, given);
            Console.WriteLine($"--resume: {run.Root} has no checkpoint yet; starting it from the beginning" +
                              (recorded != null ? " with its recorded settings" : ""));
            resume = false;
        }
        if (resume)
        {
            Checkpoint.Loaded saved;
            (settings, saved) = Resuming.Resumed(settings, run!, given); // the recipe, to load the data with
            // A requeued job whose run finished before it was killed must succeed, so a finished run is a no-op.
            if (Resuming.Finished(saved, settings, run!)) return ExitCodes.Ok;
        }
        else settings = settings with { RunDir = run!.Root, InitFrom = settings.InitFrom is { } from ? StartingWeights.Resolve(from) : null };
        if (settings.Validate() is { } problem) throw new UserException(problem + ".", ExitCodes.Usage);

        int threads = Devices.SetThreads(settings.Threads);
        var device = Devices.Resolve(settings.Device);
        var info = Models.Registry.Get(settings.Model);
        torch.manual_seed(settings.Seed); // initialisation, before the model is built
        using var model = info.Create();
        // A start of another model is a usage error before any data is read or file written.
        if (!resume && settings.InitFrom is { } start) StartingWeights.LoadInto(model, info.Name, start);
        using var training = TrainingData.Load(settings, info, ensureMnist, data.FashionMnistDir);
        settings = training.Settings;
        var (trainSet, testSet) = (training.Train, training.Test);

        // Only now the run folder: nothing is written into it when the data or options are bad, and every look at it
        // is made under its lock, so two trainers started at once cannot both find it free.
        using var runLock = RunLock.Acquire(run!.Root);
        Checkpoint.Loaded? checkpoint = null;
        if (resume)
        {
            checkpoint = Resuming.Resumed(settings, run, given).Checkpoint; // again: another trainer may have gone on meanwhile
            if (Resuming.Finished(checkpoint, settings, run)) return ExitCodes.Ok;
            checkpoint.LoadWeights(model);
        }
        else if (run.ExistingOutputs() is [var first, ..] && !overwrite)
            throw new UserException($"{run.Root} already holds a run ({Path.GetFileName(first)}); pass --resume to continue it, --overwrite to start afresh, or choose another --run-dir.", ExitCodes.Usage);
        else run.DeleteOutputs();
        // Recorded before the first batch: a run killed at any moment after this resumes with these settings.
        AtomicFile.WriteAllText(run.SettingsFile, JsonSerializer.Serialize(settings, new JsonSerializerOptions { WriteIndented = true }));

        Console.WriteLine($"device: {device.type.ToString().ToLowerInvariant()}, {threads} threads" +
                          (settings.Threads > threads ? $" (--threads {settings.Threads} capped at the {threads} cores)" : ""));
        Console.WriteLine("settings: " + JsonSerializer.Serialize(settings));
        Console.WriteLine($"model: {info.Name} ({info.Description})");
        Console.WriteLine(trainSet is MixedPatches mixed
            ? $"data: {mixed.Count:N0} patches of {mixed.Width}x{mixed.Height}x{info.Channels} per epoch, redrawn every epoch: {mixed.Count - mixed.RealCount:N0} from " +
              $"{settings.DataDir}'s training images with noise drawn, {mixed.RealCount:N0} from the real pairs in {settings.RealPairs}; " +
              $"{testSet.Count:N0} fixed test crops of the held-out images"
            : trainSet is Patches drawn
            ? $"data: {drawn.Count:N0} patches of {drawn.Side}x{drawn.Side}x{info.Channels} per epoch, redrawn every epoch from {drawn.ImageCount:N0} training images; " +
              $"{testSet.Count:N0} fixed test crops of the held-out images, from {settings.DataDir}"
            : $"data: {trainSet.Count:N0} training and {testSet.Count:N0} test images of {trainSet.Width}x{trainSet.Height}" +
              $"x{info.Channels} from {settings.DataDir} ({Datasets.Describe(training.Kind)})");
        if (TrainingData.DescribeTarget(settings) is { } learning) Console.WriteLine("target: " + learning);
        string at = checkpoint?.Header.Interrupted is { } i ? $", batch {i.Batch + 1:N0}" : "";
        Console.WriteLine(checkpoint == null ? $"run: {run.Root}" : $"run: {run.Root} (resuming at epoch {checkpoint.Header.NextEpoch}{at})");

        int exitCode = TrainUntilDoneOrStopped(observer => new Trainer(settings, run, device, observer, Stop.Token).Run(model, training.Target, trainSet, testSet, checkpoint), run);
        if (exitCode != ExitCodes.Ok) return exitCode;
        Console.WriteLine($"checkpoints: {run.Best} (best test loss), {run.Last} (resume point)");
        Console.WriteLine($"samples: {Path.Combine(run.Root, "samples")}; metrics: {run.MetricsFile}");
        Console.WriteLine($"denoise an image with: denoiser denoise IMAGE.png --checkpoint {run.Best}");
        return ExitCodes.Ok;
    }

    static readonly CancellationTokenSource Stop = new();

    /// <summary>
    /// Trains with a progress display. Ctrl-C or SIGTERM: finish the batch, save a checkpoint that resumes exactly there,
    /// return 130 or 143. A second Ctrl-C ends the process at once; every file is written by rename, so none is left half-written.
    /// </summary>
    static int TrainUntilDoneOrStopped(Action<ITrainingObserver> train, RunFolder run)
    {
        int exitCode = ExitCodes.Ok;
        ConsoleCancelEventHandler onCtrlC = (_, e) =>
        {
            if (Stop.IsCancellationRequested) return;
            e.Cancel = true;
            exitCode = 130;
            Stop.Cancel();
            Console.Error.WriteLine("stopping after this batch to save a checkpoint; press Ctrl-C again to quit at once");
        };
        Console.CancelKeyPress += onCtrlC;
        using var onTerm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx =>
        {
            ctx.Cancel = true;
            exitCode = 143;
            Stop.Cancel();
        });
        try
        {
            new ConsoleTrainingObserver().Run(train);
            return ExitCodes.Ok;
        }
        catch (TrainingInterruptedException e)
        {
            Console.WriteLine($"{e.Message}. Resume with: denoiser train --resume --run-dir {run.Root}");
            return exitCode;
        }
        finally { Console.CancelKeyPress -= onCtrlC; }
    }
}
