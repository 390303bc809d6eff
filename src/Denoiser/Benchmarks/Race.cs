// The contenders `bench` races: Denoiser's trainer on a workload with some CPU tricks, the plain TorchSharp loop, and
// inference both ways; each measured in alternating turns (Rounds).
using Denoiser.Cpu;
using Denoiser.Data;
using Denoiser.Models;
using Denoiser.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Benchmarks;

/// <summary>A training workload: a model, its image side, the batch size, and the images a turn goes through.</summary>
public sealed record Workload(string Name, Func<nn.Module<Tensor, Tensor>> Model, int Side, int Batch, int Images)
{
    public static readonly Workload Seed20 = new("seed, batch 20", () => new ConvDenoiser(), 28, 20, 640);
    public static readonly Workload Seed128 = new("seed, batch 128", () => new ConvDenoiser(), 28, 128, 640);
    // DnCNN's own training shape (40x40 patches), at a batch small enough for a turn of about a second.
    public static readonly Workload DnCnn40 = new("dncnn, 40x40, batch 16", () => new DnCNN(), 40, 16, 16);
    // The photo recipe's shape of batch, small: a turn is one step (about a second).
    public static readonly Workload Photo8 = new("resunet, 96x96, batch 8", () => new ResUNet(), 96, 8, 8);

    /// <summary>Each trick, and the tricks with it turned off.</summary>
    public static readonly (string Name, CpuTricks Without)[] Tricks =
    {
        ("channels-last", CpuTricks.All with { ChannelsLast = false }),
        ("batch split", CpuTricks.All with { SplitBatch = false }),
    };

    /// <summary>Whether turning a trick off changes anything for this workload (channels-last always does).</summary>
    public bool Engages(CpuTricks without)
    {
        if (without.SplitBatch == CpuTricks.All.SplitBatch) return true;
        using var model = Model();
        using var parts = BatchParts.For(model, torch.get_num_threads()); // one part for a model with BatchNorm
        return parts.PartsFor(Batch, (long)Side * Side) > 1;
    }
}

/// <summary>
/// Denoiser training a workload with some tricks: the trainer's own epoch loop (realLoop, with its loss checks and
/// bookkeeping), or its training step alone, which goes on through a NaN: without channels-last the seed model
/// meets the oneDNN gradient bug (CpuLayout). Each turn is an epoch of the workload's synthetic images.
/// </summary>
public sealed class Contender : IDisposable
{
    readonly Workload w;
    readonly bool realLoop;
    readonly ImageSet images;
    readonly nn.Module<Tensor, Tensor> model;
    readonly TorchSharp.Modules.OptimizerHelper optimizer;
    readonly BatchParts parts;
    readonly Trainer trainer;
    readonly Target target;
    int epoch;

    public Contender(Workload w, CpuTricks tricks, bool realLoop = false)
    {
        (this.w, this.realLoop) = (w, realLoop);
        torch.manual_seed(0);
        images = new ImageSet(torch.randint(0, 256, new long[] { w.Images, 1, w.Side, w.Side }, ScalarType.Byte).DetachFromDisposeScope(),
                              torch.full(w.Images, -1L, dtype: ScalarType.Int64).DetachFromDisposeScope());
        model = w.Model();
        optimizer = new Adam(model.parameters(), lr: 1e-3); // the trainer's (Training.Adam)
        parts = BatchParts.For(model, torch.get_num_threads(), tricks);
        var settings = new TrainSettings { BatchSize = w.Batch };
        trainer = new Trainer(settings, new RunFolder(Path.GetTempPath()), torch.CPU, ITrainingObserver.Silent);
        target = Target.Create(TargetKind.Clean, settings.Noise, channels: 1, onDisk: false);
    }

    public long Turn()
    {
        if (realLoop) trainer.TrainEpoch(model, optimizer, images, target, ++epoch, from: null, parts);
        else
        {
            using var partThreads = parts.PartThreadsHere();
            using var gen = new Generator((ulong)++epoch);
            for (long start = 0; start < w.Images; start += w.Batch)
            {
                using var scope = NewDisposeScope();
                var clean = ImageSet.ToImages(images.Pixels.narrow(0, start, Math.Min(w.Batch, w.Images - start)));
                Trainer.Step(model, optimizer, clean, target, gen, parts);
            }
        }
        return w.Images;
    }

    public void Dispose()
    {
        parts.Dispose();
        optimizer.Dispose();
        model.Dispose();
        images.Dispose();
    }
}

/// <summary>Two contenders in alternating turns (<see cref="Rounds"/>), or one alone; images/s each.</summary>
public static class Race
{
    public static (Rate A, Rate B) Training(Contender a, Func<long> b, double seconds)
    {
        using (a) return Rounds.Compare(a.Turn, b, seconds);
    }

    public static (Rate A, Rate B) Training(Contender a, Contender b, double seconds)
    {
        using (a) using (b) return Rounds.Compare(a.Turn, b.Turn, seconds);
    }

    public static (Rate A, Rate B) AgainstPlain(Workload w, double seconds)
    {
        torch.manual_seed(0);
        using var plain = new PlainLoop(torch.rand(w.Images, 1, 28, 28));
        return Training(new Contender(w, CpuTricks.All, realLoop: true), () => { plain.Epoch(w.Batch); return w.Images; }, seconds);
    }

    /// <summary>Forward passes under eval() and no_grad(), split across the cores as training's evaluation runs them.</summary>
    public static (Rate A, Rate B) Inference(int batch, double seconds)
    {
        torch.manual_seed(0);
        using var model = new ConvDenoiser();
        using var plain = new PlainLoop(torch.empty(0));
        using var x = torch.rand(batch, 1, 28, 28);
        using var parts = new BatchParts(torch.get_num_threads());
        model.eval();
        return Rounds.Compare(
            () => { using (parts.PartThreadsHere()) using (var scope = NewDisposeScope()) parts.Forward(model, CpuLayout.ForModel(x)); return batch; },
            () => { using (var scope = NewDisposeScope()) plain.Infer(x); return batch; },
            seconds);
    }

    public static Rate DenoiserAlone(double seconds)
    {
        using var denoiser = new Contender(Workload.Seed20, CpuTricks.All, realLoop: true);
        return Rounds.Alone(denoiser.Turn, seconds);
    }

    public static Rate PlainAlone(double seconds)
    {
        torch.manual_seed(0);
        using var plain = new PlainLoop(torch.rand(Workload.Seed20.Images, 1, 28, 28));
        return Rounds.Alone(() => { plain.Epoch(Workload.Seed20.Batch); return Workload.Seed20.Images; }, seconds);
    }
}
