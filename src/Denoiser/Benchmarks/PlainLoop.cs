// The baseline the benchmark compares with: the loop a TorchSharp tutorial writes for the seed model.
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Denoiser.Benchmarks;

/// <summary>
/// The seed model as its file defines it, with none of Denoiser's CPU work (Cpu/): the default (NCHW) layout,
/// TorchSharp's Adam, the dataset held as one float tensor, and per batch: index_select on a permutation,
/// x + 0.5*randn clipped, forward, MSE, backward, step, and loss.item() for the running loss.
/// </summary>
public sealed class PlainLoop : IDisposable
{
    readonly Module<Tensor, Tensor> model = new Models.ConvDenoiser();
    readonly optim.Optimizer optimizer;
    readonly Tensor images;

    /// <param name="images">Taken over: disposed with the loop.</param>
    public PlainLoop(Tensor images)
    {
        this.images = images;
        optimizer = optim.Adam(model.parameters(), lr: 1e-3);
    }

    /// <summary>One pass over the images; returns the mean loss (NaN is possible here: see CpuLayout on oneDNN).</summary>
    public double Epoch(int batchSize)
    {
        model.train();
        long n = images.shape[0];
        using var order = randperm(n);
        double sum = 0;
        for (long start = 0; start < n; start += batchSize)
        {
            using var scope = NewDisposeScope();
            long len = Math.Min(batchSize, n - start);
            var clean = images.index_select(0, order.narrow(0, start, len));
            var noisy = (clean + 0.5 * randn_like(clean)).clamp(0, 1);
            optimizer.zero_grad();
            var loss = functional.mse_loss(model.forward(noisy), clean);
            loss.backward();
            optimizer.step();
            sum += loss.item<float>() * len;
        }
        return sum / n;
    }

    public Tensor Infer(Tensor batch)
    {
        model.eval();
        using var _ = no_grad();
        return model.forward(batch);
    }

    public void Dispose()
    {
        optimizer.Dispose();
        model.Dispose();
        images.Dispose();
    }
}
