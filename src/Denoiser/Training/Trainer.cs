// The training loop: seeded epochs of noisy batches, evaluation, checkpoints, metrics and a sample picture.
using System.Diagnostics;
using Denoiser.Cpu;
using Denoiser.Data;
using Denoiser.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Training;

/// <summary>What the loop tells the outside world; the command turns it into a progress bar and log lines.</summary>
public interface ITrainingObserver
{
    void EpochStarted(int epoch, int epochs, long images);
    /// <param name="runningLoss">Mean training loss so far this epoch.</param>
    void Progress(long imagesDone, double runningLoss);
    void EpochFinished(EpochMetrics metrics, bool best);

    /// <summary>An observer that shows nothing (benchmarks, tests).</summary>
    static ITrainingObserver Silent { get; } = new SilentObserver();

    sealed class SilentObserver : ITrainingObserver
    {
        public void EpochStarted(int epoch, int epochs, long images) { }
        public void Progress(long imagesDone, double runningLoss) { }
        public void EpochFinished(EpochMetrics metrics, bool best) { }
    }
}

/// <summary>Training was asked to stop (Ctrl-C, SIGTERM); a resumable checkpoint was saved first.</summary>
public sealed class TrainingInterruptedException(string checkpoint, int epoch, long batch)
    : Exception($"interrupted in epoch {epoch} after batch {batch:N0}; saved {checkpoint}")
{
    public string Checkpoint { get; } = checkpoint;
}

/// <param name="stop">Cancelled to stop after the current batch, saving a checkpoint that resumes exactly there.</param>
public sealed class Trainer(TrainSettings settings, RunFolder run, Device device, ITrainingObserver observer, CancellationToken stop = default)
{
    const int ReportEvery = 100; // batches between progress updates (each one is a host sync)

    /// <summary>Trains <paramref name="model"/> from <paramref name="resume"/> (or from its first epoch) up to settings.Epochs; returns the history.</summary>
    /// <param name="model">The settings' model, initialised from their seed and holding its starting weights (random,
    /// --init-from's, or <paramref name="resume"/>'s), on the CPU; it is moved to the device.</param>
    /// <param name="target">What the examples teach (TrainingData made it for this data).</param>
    /// <param name="trainSet">A fixed set, or patches redrawn every epoch.</param>
    public IReadOnlyList<EpochMetrics> Run(nn.Module<Tensor, Tensor> model, Target target, IEpochImages trainSet, ImageSet testSet, Checkpoint.Loaded? resume)
    {
        model.to(device);
        using var optimizer = new Adam(model.parameters(), settings.LearningRate); // Training.Adam: TorchSharp's, its numbers held
        resume?.LoadOptimizer(optimizer);
        using var parts = BatchParts.For(model, device.type == DeviceType.CPU ? torch.get_num_threads() : 1);

        var history = resume?.Header.History.ToList() ?? new List<EpochMetrics>();
        double bestLoss = resume?.Header.BestTestLoss ?? double.PositiveInfinity;

        using var test = TestSet.Make(testSet, target, settings.Seed, device);
        // TensorBoard's event files are append-only logs of their own; they are the one output not renamed into place.
        var board = settings.TensorBoard ? torch.utils.tensorboard.SummaryWriter(Path.Combine(run.Root, "tensorboard")) : null;

        var partial = resume?.Header.Interrupted;
        for (int epoch = resume?.Header.NextEpoch ?? 1; epoch <= settings.Epochs; epoch++, partial = null)
        {
            var clock = Stopwatch.StartNew();
            var (trainLoss, stopped) = TrainEpoch(model, optimizer, trainSet, target, epoch, partial, parts);
            if (stopped != null)
            {
                var saved = new CheckpointHeader(settings.Model, epoch - 1, epoch, settings, history, bestLoss, DateTimeOffset.Now, stopped);
                Checkpoint.Save(run.Last, Checkpoint.Serialize(saved, model, optimizer));
                throw new TrainingInterruptedException(run.Last, epoch, stopped.Batch);
            }
            double trainSeconds = clock.Elapsed.TotalSeconds + (partial?.Seconds ?? 0);
            var scores = test.Validation.Score(model, parts);
            var metrics = new EpochMetrics(epoch, trainLoss, scores.Mse, scores.Psnr, scores.NoisyPsnr,
                clock.Elapsed.TotalSeconds + (partial?.Seconds ?? 0), trainSet.Count / trainSeconds);
            history.Add(metrics);
            bool best = scores.Mse < bestLoss;
            if (best) bestLoss = scores.Mse;
            observer.EpochFinished(metrics, best);
            var header = new CheckpointHeader(settings.Model, epoch, epoch + 1, settings, history, bestLoss, DateTimeOffset.Now);
            SaveEpoch(header, model, optimizer, test, board, best);
        }
        return history;
    }

    /// <summary>The epoch's files: the sample picture, metrics, plots, TensorBoard, then the checkpoints.</summary>
    void SaveEpoch(CheckpointHeader header, nn.Module<Tensor, Tensor> model, TorchSharp.Modules.OptimizerHelper optimizer, TestSet test,
                   TorchSharp.Modules.SummaryWriter? board, bool best)
    {
        int epoch = header.Epoch;
        var metrics = header.History[^1];
        byte[] checkpoint = Checkpoint.Serialize(header, model, optimizer);
        WriteSample(model, test.SampleClean, test.SampleInput, run.Sample(epoch));
        Metrics.WriteCsv(run.MetricsFile, header.History);
        Reporting.Plots.TrainingCurves(run.Root, header.History);
        if (board != null)
        {
            foreach (var (tag, value) in new[] { ("loss/train", metrics.TrainLoss), ("loss/test", metrics.TestLoss),
                                                 ("psnr_db/test", metrics.TestPsnr), ("psnr_db/noisy", metrics.NoisyPsnr) })
                board.add_scalar(tag, (float)value, epoch);
            board.add_img("samples", run.Sample(epoch), epoch);
        }
        if (best) Checkpoint.Save(run.Best, checkpoint);
        Checkpoint.Save(run.Last, checkpoint); // last: the resume point, written after everything it vouches for
        NativeRuntime.ReleaseFreeMemory();
    }

    /// <summary>The held-out examples with any noise or masks drawn once from the run's seed (so epochs compare), and the ten for the picture.</summary>
    sealed class TestSet : IDisposable
    {
        public required Validation Validation;
        public required Tensor SampleInput;
        public Tensor? SampleClean;

        public static TestSet Make(ImageSet set, Target target, long seed, Device device)
        {
            using var scope = NewDisposeScope();
            using var gen = new Generator(Seeds.ForTestNoise(seed), device);
            var validation = target.Validate(set.Images.to(device), gen);
            var picked = torch.tensor(SampleGrid.PickIndices(set.Labels), device: device);
            var made = new TestSet
            {
                Validation = validation.MoveToOuterDisposeScope(), SampleInput = validation.Input.index_select(0, picked).MoveToOuterDisposeScope(),
                SampleClean = validation.Clean?.index_select(0, picked).MoveToOuterDisposeScope(),
            };
            return made;
        }

        public void Dispose()
        {
            Validation.Dispose();
            SampleInput.Dispose();
            SampleClean?.Dispose();
        }
    }

    /// <summary>One epoch, from its start or from where <paramref name="from"/> stopped; returns the mean loss, or where it stopped.</summary>
    /// <remarks>Internal for `denoiser bench`, which times this very loop.</remarks>
    internal (double Loss, Interruption? Stopped) TrainEpoch(nn.Module<Tensor, Tensor> model, TorchSharp.Modules.OptimizerHelper optimizer,
                                                             IEpochImages images, Target target, int epoch, Interruption? from, BatchParts parts)
    {
        model.train();
        using var drawn = images.ForEpoch(epoch);
        using var onDevice = drawn.device == device ? null : drawn.to(device);
        var pixels = onDevice ?? drawn; // bytes (or floats from float TIFFs); each batch becomes float on its own
        long n = pixels.shape[0];
        var schedule = settings.LrSchedule;
        var objective = settings.Loss;
        int batch = settings.BatchSize;
        observer.EpochStarted(epoch, settings.Epochs, n);
        var clock = Stopwatch.StartNew();
        using var gen = new Generator(Seeds.ForEpoch(settings.Seed, epoch), device);
        using var order = torch.randperm(n, generator: gen, device: device);
        using var lossSum = torch.tensor(new[] { from?.LossSum ?? 0 }, device: device);
        // The last ReportEvery batches' losses, so that a non-finite sum can name the batch it came from.
        using var window = torch.zeros(ReportEvery, device: device);
        long checkedUpTo = (from?.Batch ?? 0) - 1;
        if (from != null)
            using (var state = torch.tensor(from.Generator)) gen.set_state(state); // the same noise draws as if never stopped

        long batches = (n + batch - 1) / batch;
        using var partThreads = parts.PartThreadsHere();
        for (long b = from?.Batch ?? 0; b < batches; b++)
        {
            using var scope = NewDisposeScope();
            long start = b * batch, len = Math.Min(batch, n - start);
            foreach (var group in optimizer.ParamGroups)
                group.LearningRate = schedule.At(settings.LearningRate, epoch - 1 + (double)b / batches, settings.Epochs);
            var examples = ImageSet.ToImages(pixels.index_select(0, order.narrow(0, start, len)));
            var loss = Step(model, optimizer, examples, target, gen, parts, settings.ClipGrad, objective);
            // On the device, no host sync per batch: a non-finite loss makes the sum non-finite, and is found later.
            window.narrow(0, b % ReportEvery, 1).copy_(loss);
            lossSum.Plus_(loss.to_type(ScalarType.Float64).Times(len)); // numbers through Held (docs/native-lifetimes.md)
            if ((b + 1) % ReportEvery == 0 || b == batches - 1)
            {
                CheckFinite(lossSum, window, checkedUpTo, b, epoch); // host sync, 1 in 100 batches
                checkedUpTo = b;
                observer.Progress(start + len, lossSum.item<double>() / (start + len));
            }
            if (stop.IsCancellationRequested && b < batches - 1)
            {
                CheckFinite(lossSum, window, checkedUpTo, b, epoch);
                using var state = gen.get_state();
                return (double.NaN, new Interruption(b + 1, state.data<byte>().ToArray(), lossSum.item<double>(),
                                                     clock.Elapsed.TotalSeconds + (from?.Seconds ?? 0)));
            }
        }
        return (lossSum.item<double>() / n, null);
    }

    /// <summary>
    /// One optimisation step on a batch of examples: the target makes the model's input and the loss's reference (for
    /// supervised training, the noisy batch and the clean one), and the loss (MSE unless given) compares them.
    /// </summary>
    /// <returns>The batch's loss, detached.</returns>
    public static Tensor Step(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, Tensor examples, Target target, Generator gen,
                              BatchParts parts, double clipGrad = 0, Loss? objective = null)
    {
        var (input, reference) = target.Make(examples, gen); // the whole batch at once: the same draws however it is split
        if (parts.Tricks.ChannelsLast) input = CpuLayout.ForModel(input); // faster, and a oneDNN bug kept away (Cpu/CpuLayout)
        optimizer.zero_grad();
        objective ??= Loss.Mse;
        // forward, loss and backward, as objective(model.call(input), reference).backward(), with the batch in parts across the cores
        var loss = parts.Backward(model, input, reference, (x, y) => target.Loss(model.call(x), y, objective.Of));
        if (clipGrad > 0) nn.utils.clip_grad_norm_(model.parameters(), clipGrad);
        optimizer.step();
        return loss;
    }

    /// <summary>Throws naming the first batch after <paramref name="checkedUpTo"/> whose loss is not finite, if any.</summary>
    void CheckFinite(Tensor lossSum, Tensor window, long checkedUpTo, long last, int epoch)
    {
        if (double.IsFinite(lossSum.item<double>())) return;
        float[] losses = window.cpu().data<float>().ToArray();
        for (long b = checkedUpTo + 1; b <= last; b++)
            if (!float.IsFinite(losses[b % ReportEvery])) throw Diverged(epoch, b);
        throw Diverged(epoch, checkedUpTo + 1); // an infinite loss can leave finite ones only in a float64 sum overflow
    }

    UserException Diverged(int epoch, long batch) => new(
        $"training diverged: the loss is not finite at epoch {epoch}, batch {batch + 1:N0} (--lr {settings.LearningRate}). " +
        (File.Exists(run.Last) ? $"{run.Last} still holds the last good epoch. " : "No epoch had finished, so nothing was saved. ") +
        "Lower --lr (the seed uses 0.001) or pass --clip-grad 1.");

    /// <summary>Rows of clean (when there are clean images), input and output.</summary>
    static void WriteSample(nn.Module<Tensor, Tensor> model, Tensor? clean, Tensor input, string path)
    {
        model.eval();
        using (torch.no_grad())
        using (var scope = NewDisposeScope())
        {
            var output = model.call(input);
            ImageFile.Write(path, SampleGrid.Compose(new[] { clean, input.narrow(1, 0, output.shape[1]), output }.OfType<Tensor>().ToArray())); // without any noise-level plane
        }
        model.train();
    }

}
