// `denoiser train`: resolve settings, get MNIST, open or resume a run folder, train with a progress display.
using System.CommandLine;
using System.Text.Json;
using Denoiser.Data;
using Denoiser.Training;
using Spectre.Console;

namespace Denoiser.Commands;

public static class TrainCommand
{
    public static Command Create(AppConfig config)
    {
        var d = config.Train;
        var epochs = new Option<int>("--epochs") { Description = "Epochs to train (in total, when resuming)", DefaultValueFactory = _ => d.Epochs };
        var batch = new Option<int>("--batch-size") { Description = "Images per batch", DefaultValueFactory = _ => d.BatchSize };
        var lr = new Option<double>("--lr") { Description = "Adam learning rate", DefaultValueFactory = _ => d.LearningRate };
        var noise = new Option<string>("--noise") { Description = $"Noise added to [0,1] images: {Data.Noise.Kinds}", DefaultValueFactory = _ => d.Noise };
        var seed = new Option<long>("--seed") { Description = "Seed for initialisation, shuffling and noise", DefaultValueFactory = _ => d.Seed };
        var device = new Option<string>("--device") { Description = "auto, cpu or cuda", DefaultValueFactory = _ => d.Device };
        var threads = new Option<int>("--threads") { Description = "CPU threads for libtorch; 0 = one per core, and never more than the cores", DefaultValueFactory = _ => d.Threads };
        var dataDir = new Option<string>("--data-dir") { Description = "MNIST's IDX files (fetched when missing), CIFAR-10's binary files or .tar.gz, or a folder of images", DefaultValueFactory = _ => d.DataDir };
        var modelsDir = new Option<string>("--models-dir") { Description = "Folder where new run folders are made", DefaultValueFactory = _ => d.ModelsDir };
        var runDir = new Option<string?>("--run-dir") { Description = "Run folder to write (or, with --resume, to continue) [default: a new folder under --models-dir]" };
        var trainSize = new Option<int>("--train-size") { Description = "Use the first N training images; 0 = all", DefaultValueFactory = _ => d.TrainSize };
        var testSize = new Option<int>("--test-size") { Description = "Use the first N test images; 0 = all", DefaultValueFactory = _ => d.TestSize };
        var clipGrad = new Option<double>("--clip-grad") { Description = "Clip the gradient norm to this per step; 0 = off", DefaultValueFactory = _ => d.ClipGrad };
        var tensorboard = new Option<bool>("--tensorboard") { Description = "Also write TensorBoard event files (scalars, sample pictures) to RUN/tensorboard", DefaultValueFactory = _ => d.TensorBoard };
        var model = new Option<string>("--model") { Description = $"Model to train: {Models.Registry.Names}", DefaultValueFactory = _ => d.Model };
        var dataset = new Option<string>("--dataset") { Description = $"What --data-dir holds: {Datasets.Names}", DefaultValueFactory = _ => d.Dataset };
        var crop = new Option<int>("--crop") { Description = "Side of the random crops taken from a folder of images; 0 = the model's own (28 or 32)", DefaultValueFactory = _ => d.Crop };
        var patch = new Option<int>("--patch") { Description = "Side of random patches of a folder's whole images, redrawn every epoch in any of 8 flips and rotations (photo models); 0 = fixed crops (--crop)", DefaultValueFactory = _ => d.Patch };
        var patches = new Option<int>("--patches-per-epoch") { Description = $"With --patch: patches per epoch; 0 = {Patches.DefaultPerImage} per training image", DefaultValueFactory = _ => d.PatchesPerEpoch };
        var schedule = new Option<string>("--lr-schedule") { Description = $"Learning rate over the run: {LrSchedule.Kinds}", DefaultValueFactory = _ => d.LrSchedule };
        var loss = new Option<string>("--loss") { Description = $"What training minimises: {Training.Loss.Kinds} (validation is MSE / PSNR either way)", DefaultValueFactory = _ => d.Loss };
        var target = new Option<string>("--target") { Description = $"What the model learns from: {Training.Target.Kinds} (clean images with --noise added; pairs of noisy shots, Noise2Noise; single noisy images, Noise2Void)", DefaultValueFactory = _ => d.Target };
        var cleanDir = new Option<string?>("--clean-dir") { Description = "With --target noisy-pairs or blind-spot: clean versions of the folder's images (same names), for validation PSNR only" };
        var initFrom = new Option<string?>("--init-from") { Description = "Fine-tune: start from these weights (a run folder, a checkpoint, a .safetensors file or a shipped model's name) instead of random ones" };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --run-dir (default: the latest run) from its last checkpoint" };
        var overwrite = new Option<bool>("--overwrite") { Description = "Start afresh in a --run-dir that holds an earlier run, deleting that run's files" };

        var command = new Command("train", "Train a denoiser (the seed ConvDenoiser on noisy MNIST by default); writes checkpoints, metrics and sample pictures.")
        {
            model, dataset, crop, patch, patches, epochs, batch, lr, schedule, loss, target, cleanDir, noise, seed, device, threads, dataDir, modelsDir, runDir, trainSize, testSize, clipGrad, tensorboard, initFrom, resume, overwrite,
        };
        command.SetAction(p =>
        {
            var settings = d with
            {
                Model = p.GetValue(model)!, Dataset = p.GetValue(dataset)!, Crop = p.GetValue(crop),
                Patch = p.GetValue(patch), PatchesPerEpoch = p.GetValue(patches), LrSchedule = p.GetValue(schedule)!, Loss = p.GetValue(loss)!, Target = p.GetValue(target)!, CleanDir = p.GetValue(cleanDir) ?? d.CleanDir,
                Epochs = p.GetValue(epochs), BatchSize = p.GetValue(batch), LearningRate = p.GetValue(lr),
                Noise = p.GetValue(noise)!, Seed = p.GetValue(seed), Device = p.GetValue(device)!,
                Threads = p.GetValue(threads), DataDir = p.GetValue(dataDir)!, ModelsDir = p.GetValue(modelsDir)!,
                RunDir = p.GetValue(runDir) ?? d.RunDir, TrainSize = p.GetValue(trainSize), TestSize = p.GetValue(testSize),
                TensorBoard = p.GetValue(tensorboard), ClipGrad = p.GetValue(clipGrad), InitFrom = p.GetValue(initFrom),
            };
            // Options typed on the command line; on --resume they may change how the run continues, not its recipe.
            var given = new Option[] { model, dataset, crop, patch, patches, schedule, loss, target, cleanDir, epochs, batch, lr, noise, seed, device, threads, dataDir, trainSize, testSize, clipGrad, tensorboard, initFrom }
                .Where(o => p.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToHashSet();
            return Run(settings, config.Data, p.GetValue(resume), p.GetValue(overwrite), given);
        });
        return command;
    }

    static int Run(TrainSettings settings, DataSettings data, bool resume, bool overwrite, IReadOnlySet<string> given)
    {
        // Self-supervised targets add nothing to images that are noisy already, unless asked to draw pairs from clean ones.
        if (settings.Target != "clean" && !given.Contains("--noise")) settings = settings with { Noise = "none" };
        if (settings.Validate() is { } invalid) throw new UserException(invalid + ".", ExitCodes.Usage);
        if (resume && overwrite) throw new UserException("--resume continues a run and --overwrite starts one afresh; give one of them.", ExitCodes.Usage);
        settings = settings with { Noise = Noise.Parse(settings.Noise).Spec }; // canonical, so "0.5,CLIP" == "gaussian:0.5,clip"
        var run = resume ? settings.RunDir is { } dir ? new RunFolder(dir) : RunFolder.Latest(settings.ModelsDir, r => File.Exists(r.Last) ? r.Last : r.SettingsFile)
                         : settings.RunDir is { } newDir ? new RunFolder(newDir) : RunFolder.New(settings.ModelsDir);
        if (resume && (run == null || !File.Exists(run.Last)))
        {
            // As Lightning's ckpt_path="last": a run killed before its first checkpoint (or never started) starts from its
            // beginning, so one command serves the first start and every requeue.
            run ??= RunFolder.New(settings.ModelsDir);
            var recorded = RecordedSettings(run);
            if (recorded != null) settings = Continued(settings, recorded, run, given);
            Console.WriteLine($"--resume: {run.Root} has no checkpoint yet; starting it from the beginning" +
                              (recorded != null ? " with its recorded settings" : ""));
            resume = false;
        }
        if (resume)
        {
            Checkpoint.Loaded saved;
            (settings, saved) = Resumed(settings, run!, given); // the recipe, to load the data with
            // A requeued job whose run finished before it was killed must succeed, so a finished run is a no-op.
            if (Finished(saved, settings, run!)) return ExitCodes.Ok;
        }
        else settings = settings with { RunDir = run!.Root, InitFrom = settings.InitFrom is { } from ? StartingWeights.Resolve(from) : null };
        if (settings.Validate() is { } problem) throw new UserException(problem + ".", ExitCodes.Usage);

        int threads = Devices.SetThreads(settings.Threads);
        var device = Devices.Resolve(settings.Device);
        var info = Models.Registry.Get(settings.Model);
        if (!resume && settings.InitFrom is { } start)
        {
            using var probe = info.Create(); // a start of another model is a usage error before any data is read or file written
            StartingWeights.LoadInto(probe, info.Name, start);
        }
        var (trainSet, testSet, kind, located) = LoadData(settings, info, data);
        settings = located with { Dataset = kind.ToString().ToLowerInvariant() }; // what "auto" found, for the run's record
        using var _ = trainSet as IDisposable;
        using var __ = testSet;

        // Only now the run folder: nothing is written into it when the data or options are bad, and every look at it
        // is made under its lock, so two trainers started at once cannot both find it free.
        using var runLock = RunLock.Acquire(run!.Root);
        Checkpoint.Loaded? checkpoint = null;
        if (resume)
        {
            checkpoint = Resumed(settings, run, given).Checkpoint; // again: another trainer may have gone on meanwhile
            if (Finished(checkpoint, settings, run)) return ExitCodes.Ok;
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
        Console.WriteLine(trainSet is Patches drawn
            ? $"data: {drawn.Count:N0} patches of {drawn.Side}x{drawn.Side}x{info.Channels} per epoch, redrawn every epoch from {drawn.ImageCount:N0} training images; " +
              $"{testSet.Count:N0} fixed test crops of the held-out images, from {settings.DataDir}"
            : $"data: {trainSet.Count:N0} training and {testSet.Count:N0} test images of {trainSet.Width}x{trainSet.Height}" +
              $"x{info.Channels} from {settings.DataDir} ({Datasets.Describe(kind)})");
        if (DescribeTarget(settings) is { } learning) Console.WriteLine("target: " + learning);
        string at = checkpoint?.Header.Interrupted is { } i ? $", batch {i.Batch + 1:N0}" : "";
        Console.WriteLine(checkpoint == null ? $"run: {run.Root}" : $"run: {run.Root} (resuming at epoch {checkpoint.Header.NextEpoch}{at})");

        int exitCode = TrainUntilDoneOrStopped(observer => new Trainer(settings, run, device, observer, Stop.Token).Run(trainSet, testSet, checkpoint), run);
        if (exitCode != ExitCodes.Ok) return exitCode;
        Console.WriteLine($"checkpoints: {run.Best} (best test loss), {run.Last} (resume point)");
        Console.WriteLine($"samples: {Path.Combine(run.Root, "samples")}; metrics: {run.MetricsFile}");
        Console.WriteLine($"denoise an image with: denoiser denoise IMAGE.png --checkpoint {run.Best}");
        return ExitCodes.Ok;
    }

    /// <summary>The settings a run resumes with: its own recipe, and what may change on the way (epochs, device, ...).</summary>
    static (TrainSettings Settings, Checkpoint.Loaded Checkpoint) Resumed(TrainSettings settings, RunFolder run, IReadOnlySet<string> given)
    {
        var checkpoint = Checkpoint.Read(run.Last);
        return (Continued(settings, checkpoint.Header.Settings, run, given), checkpoint);
    }

    /// <summary>The recorded settings of a run that has not saved a checkpoint yet; null when it has none.</summary>
    static TrainSettings? RecordedSettings(RunFolder run)
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
    static TrainSettings Continued(TrainSettings settings, TrainSettings saved, RunFolder run, IReadOnlySet<string> given)
    {
        var recipe = new (string Option, bool Differs)[]
        {
            ("--model", settings.Model != saved.Model), ("--dataset", !SameDataset(settings.Dataset, saved.Dataset)), ("--crop", settings.Crop != saved.Crop),
            ("--patch", settings.Patch != saved.Patch), ("--patches-per-epoch", settings.PatchesPerEpoch != saved.PatchesPerEpoch),
            ("--lr-schedule", settings.LrSchedule != saved.LrSchedule), ("--loss", settings.Loss != saved.Loss),
            ("--target", settings.Target != saved.Target), ("--clean-dir", settings.CleanDir != saved.CleanDir),
            ("--batch-size", settings.BatchSize != saved.BatchSize), ("--lr", settings.LearningRate != saved.LearningRate),
            ("--noise", settings.Noise != saved.Noise), ("--seed", settings.Seed != saved.Seed),
            ("--train-size", settings.TrainSize != saved.TrainSize), ("--test-size", settings.TestSize != saved.TestSize),
            ("--clip-grad", settings.ClipGrad != saved.ClipGrad), ("--init-from", given.Contains("--init-from") && StartingWeights.Resolve(settings.InitFrom!) != saved.InitFrom),
        };
        if (recipe.FirstOrDefault(r => r.Differs && given.Contains(r.Option)).Option is { } changed)
            throw new UserException($"--resume continues {run.Root} with its own recipe, so {changed} cannot change; start a new run instead.", ExitCodes.Usage);
        return saved with
        {
            Epochs = given.Contains("--epochs") ? settings.Epochs : saved.Epochs,
            Device = given.Contains("--device") ? settings.Device : saved.Device,
            Threads = given.Contains("--threads") ? settings.Threads : saved.Threads,
            DataDir = given.Contains("--data-dir") ? settings.DataDir : saved.DataDir,
            TensorBoard = given.Contains("--tensorboard") ? settings.TensorBoard : saved.TensorBoard,
            RunDir = run.Root,
        };
    }

    /// <summary>The same dataset however spelt (a run records "fashionmnist" for --dataset fashion-mnist).</summary>
    static bool SameDataset(string a, string b)
    {
        try { return Datasets.Parse(a) == Datasets.Parse(b); }
        catch (FormatException) { return a == b; }
    }

    static bool Finished(Checkpoint.Loaded checkpoint, TrainSettings settings, RunFolder run)
    {
        if (checkpoint.Header.NextEpoch <= settings.Epochs) return false;
        Console.WriteLine($"nothing to do: {run.Root} already has {checkpoint.Header.Epoch} of {settings.Epochs} epochs (pass a larger --epochs to train further).");
        return true;
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

    static int? Limit(int size) => size > 0 ? size : null;

    /// <summary>Both splits, converted to the model's channels, after checking the model maps their size to itself.</summary>
    /// <remarks>Settings: with DataDir where Fashion-MNIST was found (Debian's folder unless --data-dir holds it), for the run's record.</remarks>
    static string? DescribeTarget(TrainSettings s)
    {
        string validation = s.CleanDir is { } clean ? $"validated by PSNR against the clean versions in {clean}"
                                                    : "validated by the same loss on the held-out noisy images (no clean images seen)";
        return s.Target switch
        {
            "noisy-pairs" when s.Noise == "none" => $"noisy pairs (Noise2Noise): one of each pair in, the other as the target, nothing added; {validation}",
            "noisy-pairs" => $"Noise2Noise pairs drawn from clean images: two independent draws of {s.Noise}, one in and one as the target; the clean images only in validation",
            "blind-spot" => $"blind spots (Noise2Void): 1 pixel in {BlindSpot.Box * BlindSpot.Box} of each patch replaced by a neighbour, the loss at those alone, nothing added; {validation}",
            _ => null,
        };
    }

    /// <summary>How the folder's files make training examples for the run's target (the test split adds --clean-dir's).</summary>
    static FolderLayout Layout(TrainSettings settings, DatasetKind kind)
    {
        if (settings.Target == "clean") return FolderLayout.Single;
        if (kind != DatasetKind.Images)
            throw new UserException($"--target {settings.Target} trains on a folder of noisy images, and {settings.DataDir} holds {Datasets.Describe(kind)}; point --data-dir at a folder of images.", ExitCodes.Usage);
        if (settings.CleanDir is { } clean && !Directory.Exists(clean))
            throw new UserException($"--clean-dir {clean}: folder not found; give the folder of the clean versions, or drop --clean-dir to validate on the self-supervised loss.", ExitCodes.Usage);
        if (settings.Target == "blind-spot") return FolderLayout.Single;
        bool pairs = NoisyPairs.Holds(settings.DataDir), drawn = settings.Noise != "none";
        if (pairs && drawn)
            throw new UserException($"{settings.DataDir}: holds noisy pairs, and --noise {settings.Noise} would add noise to them; drop --noise (nothing is added to images that are noisy already).", ExitCodes.Usage);
        if (!pairs && !drawn)
            throw new UserException($"{settings.DataDir}: holds no noisy pairs ({NoisyPairs.Rule}); give a folder of pairs, or --noise SPEC to draw two noisy versions of each clean image.", ExitCodes.Usage);
        if (drawn && settings.CleanDir != null)
            throw new UserException($"--clean-dir: with --noise the pairs are drawn from {settings.DataDir}'s clean images, which validation uses already; drop --clean-dir.", ExitCodes.Usage);
        return pairs ? new FolderLayout(Pairs: true) : FolderLayout.Single;
    }

    internal static (IEpochImages Train, ImageSet Test, DatasetKind Kind, TrainSettings Settings) LoadData(TrainSettings settings, Models.ModelInfo info, DataSettings data)
    {
        int side = settings.Patch > 0 ? settings.Patch : settings.Crop > 0 ? settings.Crop : info.Side;
        var request = new DatasetRequest(settings.DataDir, Datasets.Parse(settings.Dataset), side, info.Channels, settings.Seed);
        var kind = Datasets.Resolve(request);
        if (kind == DatasetKind.Mnist) DataCommand.EnsureMnist(settings.DataDir, data);
        if (kind == DatasetKind.FashionMnist)
        {
            settings = settings with { DataDir = FashionMnist.Folder(settings.DataDir, data.FashionMnistDir) };
            request = request with { DataDir = settings.DataDir };
        }
        string sideOption = settings.Patch > 0 ? "--patch" : "--crop";
        if (settings.Patch > 0 && kind != DatasetKind.Images)
            throw new UserException($"--patch draws patches from a folder of images, and {settings.DataDir} holds {Datasets.Describe(kind)}; drop --patch or point --data-dir at a folder of images.", ExitCodes.Usage);
        if (kind == DatasetKind.Images && info.PaddedSide(side) != side)
            throw new UserException($"{sideOption} {side}: {info.Name} maps only sides of {info.KeptSides} to themselves; try {sideOption} {info.PaddedSide(side)}.", ExitCodes.Usage);
        var layout = Layout(settings, kind);
        IEpochImages train = settings.Patch > 0
            ? Patches.FromFolder(settings.DataDir, side, info.Channels, settings.PatchesPerEpoch, settings.Seed, Limit(settings.TrainSize), layout)
            : layout == FolderLayout.Single ? Datasets.Load(request with { Kind = kind }, train: true, Limit(settings.TrainSize))
            : ImageFolder.Load(settings.DataDir, train: true, side, info.Channels, settings.Seed, Limit(settings.TrainSize), layout);
        ImageSet? test = null;
        try
        {
            test = layout == FolderLayout.Single && settings.CleanDir == null
                ? Datasets.Load(request with { Kind = kind }, train: false, Limit(settings.TestSize))
                : ImageFolder.Load(settings.DataDir, train: false, side, info.Channels, settings.Seed, Limit(settings.TestSize), layout with { CleanDir = settings.CleanDir });
            foreach (int trainSide in new[] { train.Height, train.Width })
                if (info.PaddedSide(trainSide) != trainSide)
                    throw new UserException($"{settings.DataDir}: its {train.Width}x{train.Height} images do not come out of {info.Name} at the same size " +
                                            $"(it keeps sides of {info.KeptSides}); choose another --model (see `denoiser shapes --model {info.Name} --input {train.Channels}x{train.Height}x{train.Width}`).", ExitCodes.Usage);
        }
        catch
        {
            (train as IDisposable)?.Dispose();
            test?.Dispose();
            throw;
        }
        // The files' bytes (55 MB for MNIST) are garbage once they are tensors, and a training run allocates too
        // little managed memory for the GC to come by on its own: measured, 80 MB less peak resident memory.
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        return (train, test, kind, settings);
    }
}
