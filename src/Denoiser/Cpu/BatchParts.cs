// Forward and backward of a batch as one part per CPU core, each part on its own thread.
using Denoiser.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Cpu;

/// <summary>
/// libtorch's intra-op threads split each operation of a small batch across the cores: for the seed model that is a
/// fork, a join and a spin-wait per operation, and a second core that helps little. Giving each core its own part of
/// the batch instead, each with its own libtorch threads, is faster (docs/performance.md). The parts' gradients are
/// computed apart (autograd.grad) and summed on the calling thread in a fixed order, so a run is repeatable bit for bit
/// however the threads are scheduled; the result differs from the whole-batch gradient only by float rounding.
/// That holds only for a model whose layers treat each image on its own: a model with a layer that depends on the whole
/// batch (<see cref="NeedsWholeBatch"/>: BatchNorm) always runs in one part.
/// </summary>
public sealed class BatchParts : IDisposable
{
    /// <summary>
    /// Fewer pixels than this per part (8 MNIST digits) cost more in hand-overs than a core gains (the seed model, 28x28:
    /// 2 parts of 10 gained 1.02-1.07x at batch 20 on 2 cores, docs/performance.md). So a batch of 20 digits is at most
    /// 2 parts, whatever the cores; a batch of 8 photo patches of 96x96 is still one part per core. Counting images
    /// instead ran such a batch whole on one core, at half the speed.
    /// </summary>
    public const long MinPixelsPerPart = 8 * 28 * 28;

    readonly Worker[] workers; // parts 1..n-1; part 0 runs on the calling thread
    readonly int threadsPerPart;

    /// <summary>Parts the last run used (1: the batch ran whole), so tests and `bench` can see the split is taken.</summary>
    public int LastParts { get; private set; }

    public int MaxParts => workers.Length + 1;

    /// <summary>The CPU tricks this runner takes (all but in `bench`, which turns each off in turn).</summary>
    public CpuTricks Tricks { get; }

    /// <param name="threads">libtorch threads to use in all (torch.get_num_threads()).</param>
    /// <param name="tricks">SplitBatch off: one part.</param>
    /// <param name="cores">The machine's cores (Environment.ProcessorCount; tests pass others to check the rule).</param>
    public BatchParts(int threads, CpuTricks? tricks = null, int? cores = null)
    {
        Tricks = tricks ??= CpuTricks.All;
        int usable = Math.Min(threads, cores ?? Environment.ProcessorCount);
        // Never more parts than cores: a part is a thread that must not wait for a core.
        int parts = tricks.SplitBatch ? Math.Clamp(usable, 1, 64) : 1;
        threadsPerPart = Math.Max(1, usable / parts);
        workers = Enumerable.Range(1, parts - 1).Select(i => new Worker(i, threadsPerPart)).ToArray();
    }

    /// <summary>How many parts a batch of <paramref name="images"/> of <paramref name="pixels"/> each runs in: one per core, at least one image and MinPixelsPerPart each.</summary>
    public int PartsFor(long images, long pixels) =>
        (int)Math.Clamp(Math.Min(images, images * pixels / MinPixelsPerPart), 1, MaxParts);

    static long PixelsPerImage(Tensor input) => input.shape.Skip(2).Aggregate(1L, (a, b) => a * b);

    /// <summary>
    /// Whether <paramref name="model"/> has a layer whose result depends on the whole batch, so that a batch must go
    /// through it in one piece, as in PyTorch (issue 44): a BatchNorm (1d, 2d or 3d) normalises by the batch's statistics
    /// while training and updates its running statistics once per call, so in parts it would use each part's statistics
    /// and update them once per part, from two threads at once; an InstanceNorm that tracks running statistics updates
    /// them likewise. GroupNorm, LayerNorm and an InstanceNorm without running statistics treat each image on its own.
    /// Told by the layers' types, not the model's name, so a new model with such a layer is covered; and whatever the mode, so
    /// evaluation does not split such a model either (in eval() a BatchNorm uses its running statistics and could split,
    /// but one rule is simpler, and evaluation is a small share of a training run).
    /// </summary>
    public static bool NeedsWholeBatch(nn.Module model) =>
        model.modules().OfType<TorchSharp.Modules.NormBase>().Any(norm => norm is TorchSharp.Modules.BatchNorm || norm.track_running_stats);

    /// <summary>
    /// The runner for <paramref name="model"/>: as the constructor's, or one part with all the threads when the model
    /// needs the whole batch (<see cref="NeedsWholeBatch"/>). <see cref="Backward"/> and <see cref="Forward"/> never
    /// split such a model whatever runner they are given; this one also gives the whole batch all the cores.
    /// </summary>
    public static BatchParts For(nn.Module model, int threads, CpuTricks? tricks = null, int? cores = null)
    {
        tricks ??= CpuTricks.All;
        return new BatchParts(threads, NeedsWholeBatch(model) ? tricks with { SplitBatch = false } : tricks, cores);
    }

    /// <summary>The parts <paramref name="model"/> runs <paramref name="input"/> in: one on another device or when it needs the whole batch.</summary>
    int PartsFor(nn.Module model, Tensor input) =>
        input.device_type != DeviceType.CPU || NeedsWholeBatch(model) ? 1 : PartsFor(input.shape[0], PixelsPerImage(input));

    /// <summary>
    /// Gives the calling thread its part's share of libtorch threads until disposed (when batches are split): its part
    /// runs like the workers', and between parts no OpenMP team of the caller's is left spin-waiting on a core a worker
    /// needs (switching per batch instead measured about 2x slower than not splitting at all).
    /// </summary>
    public IDisposable PartThreadsHere()
    {
        int threads = torch.get_num_threads();
        if (MaxParts > 1) torch.set_num_threads(threadsPerPart);
        return new Restore(() => { if (torch.get_num_threads() != threads) torch.set_num_threads(threads); });
    }

    /// <summary>
    /// <c>loss(input, target).backward()</c> for a batch taken in parts: each part's loss, weighted by its share of the
    /// batch, is differentiated on its own thread, and the gradients are added to each parameter's .grad in part order,
    /// as backward adds them. Returns the batch's loss, detached. Call within <see cref="PartThreadsHere"/>.
    /// </summary>
    public Tensor Backward(nn.Module model, Tensor input, Tensor target, Func<Tensor, Tensor, Tensor> loss)
    {
        var parameters = model.parameters().ToArray();
        long n = input.shape[0];
        int parts = PartsFor(model, input);
        var results = new (Tensor Loss, IList<Tensor> Grads)?[parts];
        void Part(int i)
        {
            long start = n * i / parts, len = n * (i + 1) / parts - start;
            using var scope = NewDisposeScope();
            var partLoss = loss(input.narrow(0, start, len), target.narrow(0, start, len)).Times((double)len / n);
            var grads = autograd.grad(new[] { partLoss }, parameters);
            // Out of this thread's scope: the calling thread sums and then disposes them.
            results[i] = (partLoss.detach().DetachFromDisposeScope(), grads.Select(g => g.DetachFromDisposeScope()).ToList());
        }
        try
        {
            RunParts("train", input.shape, parts, Part);
            for (int p = 0; p < parameters.Length; p++)
            {
                var sum = results[0]!.Value.Grads[p].clone(); // part 0 + part 1 + ..., whichever finished first
                for (int i = 1; i < parts; i++) sum.Plus_(results[i]!.Value.Grads[p]);
                using var grad = parameters[p].grad;
                if (grad is null) parameters[p].grad = sum;
                else { grad.Plus_(sum); sum.Dispose(); }
            }
            var total = results[0]!.Value.Loss.clone(); // made here, so it belongs to the caller's dispose scope
            for (int i = 1; i < parts; i++) total.Plus_(results[i]!.Value.Loss);
            return total;
        }
        finally
        {
            foreach (var r in results.OfType<(Tensor Loss, IList<Tensor> Grads)>())
            {
                r.Loss.Dispose();
                foreach (var g in r.Grads) g.Dispose();
            }
        }
    }

    /// <summary><c>model.call(input)</c> under no_grad for a batch taken in parts (within <see cref="PartThreadsHere"/>).</summary>
    public Tensor Forward(nn.Module<Tensor, Tensor> model, Tensor input)
    {
        long n = input.shape[0];
        int parts = PartsFor(model, input);
        var outputs = new Tensor?[parts];
        void Part(int i)
        {
            long start = n * i / parts, len = n * (i + 1) / parts - start;
            using var noGrad = torch.no_grad(); // grad mode belongs to each thread
            using var scope = NewDisposeScope();
            outputs[i] = model.call(input.narrow(0, start, len)).DetachFromDisposeScope();
        }
        try
        {
            RunParts("infer", input.shape, parts, Part);
            return parts == 1 ? outputs[0]!.alias() : torch.cat(outputs!, 0);
        }
        finally
        {
            foreach (var o in outputs) o?.Dispose();
        }
    }

    // The shapes whose first run has completed, in this process. libtorch sets up its kernels for a new shape (oneDNN
    // primitives and more) on first use, and doing that from two threads at once crashed here; so the first run of a
    // shape takes its parts one after another, and only a run that went through counts (one that failed part-way
    // leaves first uses to come). No two threads ever run a shape's first use at the same time.
    static readonly HashSet<string> ready = new();
    static readonly object setUp = new();

    /// <summary>Runs part 0 here and the others on the workers; rethrows the first failure once all have ended.</summary>
    void RunParts(string mode, long[] shape, int parts, Action<int> part)
    {
        LastParts = parts;
        string key = $"{mode} {string.Join('x', shape)} / {parts}";
        bool together;
        lock (setUp) together = ready.Contains(key);
        if (!together)
        {
            lock (setUp)
            {
                for (int i = 0; i < parts; i++) RunOne(i);
                ready.Add(key);
            }
            return;
        }
        Exception? failure = null;
        for (int i = 1; i < parts; i++) workers[i - 1].Start(part);
        try { part(0); } catch (Exception e) { failure = e; }
        for (int i = 1; i < parts; i++) failure ??= workers[i - 1].Wait(); // every worker, even after a failure
        if (failure != null) throw new AggregateException(failure).InnerException!;

        void RunOne(int i)
        {
            if (i == 0) { part(0); return; }
            workers[i - 1].Start(part);
            if (workers[i - 1].Wait() is { } e) throw new AggregateException(e).InnerException!;
        }
    }

    public void Dispose()
    {
        foreach (var w in workers) w.Dispose();
    }

    sealed class Restore(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }

    /// <summary>A background thread with its own libtorch threads that runs one part at a time.</summary>
    sealed class Worker : IDisposable
    {
        // ManualResetEventSlim spins briefly before it blocks. Spinning for up to 5 ms instead (the gaps between parts)
        // measured 0.97-1.06x at batch 20 and 1.00x on the 64-channel model: not worth a hand-made wait.
        readonly ManualResetEventSlim go = new(), done = new();
        readonly Thread thread;
        readonly int index;
        Action<int>? job;
        Exception? failure;
        volatile bool stopping;

        public Worker(int index, int threads)
        {
            this.index = index;
            thread = new Thread(() => Loop(threads)) { IsBackground = true, Name = $"batch part {index}" };
            thread.Start();
            Wait(); // set up before anything else runs: set_num_threads also clears oneDNN's computation cache
        }

        void Loop(int threads)
        {
            torch.set_num_threads(threads); // per thread: libtorch's (OpenMP's) thread count is this thread's own setting
            done.Set();
            while (true)
            {
                WaitFor(go);
                if (stopping) return;
                try { job!(index); failure = null; }
                catch (Exception e) { failure = e; }
                done.Set();
            }
        }

        public void Start(Action<int> part) { job = part; go.Set(); }

        public Exception? Wait() { WaitFor(done); return failure; }

        static void WaitFor(ManualResetEventSlim e)
        {
            e.Wait();
            e.Reset();
        }

        public void Dispose()
        {
            stopping = true;
            go.Set();
            thread.Join();
            go.Dispose();
            done.Dispose();
        }
    }
}
