// The baseline the benchmark compares with: the loop a TorchSharp tutorial writes for the seed model.
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Denoiser.Benchmarks;

/// <summary>
/// The seed model as an nn.Sequential in the default (NCHW) layout, TorchSharp's Adam, the dataset held as one float
/// tensor, and per batch: index_select on a permutation, x + 0.5*randn clipped, forward, MSE, backward, step, and
/// loss.item() for the running loss. None of Denoiser's own layers or loop.
/// </summary>
public sealed class PlainLoop : IDisposable
{
    readonly Module<Tensor, Tensor> model = Sequential(
        Conv2d(1, 32, 3, padding: 1), ReLU(), MaxPool2d(2, 2),
        Conv2d(32, 16, 3, padding: 1), ReLU(), MaxPool2d(2, 2),
        Conv2d(16, 8, 3, padding: 1), ReLU(), MaxPool2d(2, 2),
        ConvTranspose2d(8, 8, 3, stride: 2), ReLU(),
        ConvTranspose2d(8, 16, 2, stride: 2), ReLU(),
        ConvTranspose2d(16, 32, 2, stride: 2), ReLU(),
        Conv2d(32, 1, 3, padding: 1), Sigmoid());
    readonly optim.Optimizer optimizer;
    readonly Tensor images;

    public PlainLoop(Tensor images)
    {
        this.images = images;
        optimizer = optim.Adam(model.parameters(), lr: 1e-3);
    }

    /// <summary>One pass over the images; returns the mean loss (NaN is possible here: see CpuLayers on oneDNN).</summary>
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
    }
}
