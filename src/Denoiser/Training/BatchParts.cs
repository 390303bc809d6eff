// Forward and backward of a batch as one part per CPU core, each part on its own thread.
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Training;

/// <summary>
/// libtorch's intra-op threads split each operation of a small batch across the cores: for the seed model that is
/// a fork, a join and a spin-wait per operation, and a second core that helps little (1.3x at batch 20). Giving each
/// core its own part of the batch instead, with one libtorch thread each, measured 1.17x (batch 128) to 1.22x
/// (batch 20) faster in one `denoiser bench`-style A/B run. The parts' gradients are computed apart (autograd.grad)
/// and summed on the calling thread in a fixed order, so a run is repeatable bit for bit however the threads are
/// scheduled; the result differs from the whole-batch gradient only by float rounding.
/// </summary>
public sealed class BatchParts : IDisposable
{
    readonly Worker[] workers; // parts 1..n-1; part 0 runs on the calling thread
    readonly HashSet<string> seenShapes = new();

    public int Count => workers.Length + 1;

    /// <param name="parts">Parts per batch, usually the CPU threads libtorch would use; 1 runs the batch whole.</param>
    public BatchParts(int parts)
    {
        workers = Enumerable.Range(1, Math.Max(0, parts - 1)).Select(i => new Worker(i)).ToArray();
    }

    /// <summary>
    /// Gives the calling thread one libtorch thread until disposed (when there are parts): its part runs like the
    /// workers', and between parts no OpenMP team of the caller's is left spin-waiting on a core a worker needs
    /// (switching per batch instead measured about 2x slower than not splitting at all).
    /// </summary>
    public IDisposable OneThreadHere()
    {
        int threads = torch.get_num_threads();
        if (Count > 1) torch.set_num_threads(1);
        return new Restore(threads);
    }

    sealed class Restore(int threads) : IDisposable
    {
        public void Dispose() { if (torch.get_num_threads() != threads) torch.set_num_threads(threads); }
    }

    /// <summary>
    /// MSE of <paramref name="model"/> on the batch (in parts, within <see cref="OneThreadHere"/>); sets every
    /// parameter's .grad to the gradient of the batch's mean loss (replacing, not adding to, what it held) and returns
    /// that loss (detached).
    /// </summary>
    public Tensor LossAndGradients(nn.Module<Tensor, Tensor> model, Tensor noisy, Tensor clean)
    {
        var parameters = model.parameters().ToArray();
        long n = noisy.shape[0];
        int parts = (int)Math.Min(Count, n);
        if (parts == 1 || noisy.device_type != DeviceType.CPU)
        {
            var loss = nn.functional.mse_loss(model.forward(noisy), clean);
            // Set rather than accumulated, as the parts' sums are: no zero_grad needed before.
            foreach (var (p, g) in parameters.Zip(autograd.grad(new[] { loss }, parameters))) p.grad = g;
            return loss.detach();
        }

        var results = new (Tensor Loss, IList<Tensor> Grads)[parts];
        void Part(int i)
        {
            long start = n * i / parts, len = n * (i + 1) / parts - start;
            using var scope = NewDisposeScope();
            // Each part's mean loss weighted by its share, so that the parts' gradients add up to the batch's.
            var loss = nn.functional.mse_loss(model.forward(noisy.narrow(0, start, len)), clean.narrow(0, start, len)) * ((double)len / n);
            var grads = autograd.grad(new[] { loss }, parameters);
            // Out of this thread's scope: the calling thread sums and then disposes them.
            results[i] = (loss.detach().DetachFromDisposeScope(), grads.Select(g => g.DetachFromDisposeScope()).ToList());
        }

        RunParts($"train {string.Join('x', noisy.shape)}", parts, Part);

        // Fixed order: part 0 + part 1 + ..., whichever finished first.
        for (int p = 0; p < parameters.Length; p++)
        {
            var sum = results[0].Grads[p];
            for (int i = 1; i < parts; i++) sum.add_(results[i].Grads[p]);
            parameters[p].grad = sum; // the parameter now holds the gradient; the handles below can go
        }
        var total = results[0].Loss.clone(); // made here, so it belongs to the caller's dispose scope
        for (int i = 1; i < parts; i++) total.add_(results[i].Loss);
        foreach (var (loss, grads) in results)
        {
            loss.Dispose();
            foreach (var g in grads) g.Dispose();
        }
        return total;
    }

    /// <summary>
    /// The model's output for the batch under no_grad, its parts run like LossAndGradients' (within
    /// <see cref="OneThreadHere"/>): inference at batch 256 measured 1.11x the whole batch on libtorch's two threads.
    /// </summary>
    public Tensor Forward(nn.Module<Tensor, Tensor> model, Tensor x)
    {
        long n = x.shape[0];
        int parts = (int)Math.Min(Count, n);
        if (parts == 1 || x.device_type != DeviceType.CPU)
            using (torch.no_grad()) return model.forward(x);

        var outputs = new Tensor[parts];
        void Part(int i)
        {
            long start = n * i / parts, len = n * (i + 1) / parts - start;
            using var noGrad = torch.no_grad(); // grad mode belongs to each thread
            using var scope = NewDisposeScope();
            outputs[i] = model.forward(x.narrow(0, start, len)).DetachFromDisposeScope();
        }
        try
        {
            RunParts($"infer {string.Join('x', x.shape)}", parts, Part);
            return torch.cat(outputs, 0);
        }
        finally
        {
            foreach (var o in outputs) o?.Dispose();
        }
    }

    /// <summary>Runs part 0 here and the others on the workers; rethrows the first failure once all have ended.</summary>
    void RunParts(string shape, int parts, Action<int> part)
    {
        // The first batch of a shape runs its parts one after another: libtorch sets up its kernels for a new shape
        // (oneDNN primitives and more) on first use, and doing that from two threads at once crashed here.
        bool together = seenShapes.Contains(shape);
        Exception? failure = null;
        if (together) for (int i = 1; i < parts; i++) workers[i - 1].Start(part);
        try { part(0); } catch (Exception e) { failure = e; }
        for (int i = 1; i < parts; i++)
        {
            if (!together) workers[i - 1].Start(part);
            var workerFailure = workers[i - 1].Wait(); // every worker, even after a failure: none may still be running
            failure ??= workerFailure;
        }
        // Only a run that went through sets the shape up: one that failed part-way (the loss, before any backward)
        // leaves first uses to come, and the next run of the shape must again take its parts one at a time (found
        // as a test host crash: a failed first batch, then the same shape run concurrently).
        if (failure != null) throw new AggregateException(failure).InnerException!;
        seenShapes.Add(shape);
    }

    public void Dispose()
    {
        foreach (var w in workers) w.Dispose();
    }

    /// <summary>A background thread with one libtorch thread that runs one part at a time.</summary>
    sealed class Worker : IDisposable
    {
        readonly Handoff go = new(), done = new();
        readonly Thread thread;
        readonly int index;
        Action<int>? job;
        Exception? failure;
        volatile bool stopping;

        public Worker(int index)
        {
            this.index = index;
            thread = new Thread(Loop) { IsBackground = true, Name = $"batch part {index}" };
            thread.Start();
            done.Wait(); // set up before anything else runs: set_num_threads also clears oneDNN's computation cache
        }

        void Loop()
        {
            torch.set_num_threads(1); // per thread: libtorch's (OpenMP's) thread count is this thread's own setting
            done.Signal();
            while (true)
            {
                go.Wait();
                if (stopping) return;
                try { job!(index); failure = null; }
                catch (Exception e) { failure = e; }
                done.Signal();
            }
        }

        public void Start(Action<int> part) { job = part; go.Signal(); }

        public Exception? Wait() { done.Wait(); return failure; }

        public void Dispose()
        {
            stopping = true;
            go.Signal();
            thread.Join();
            go.Dispose();
            done.Dispose();
        }
    }
}
