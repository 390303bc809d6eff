// Test-set evaluation under eval() and no_grad(): mean per-pixel MSE and mean per-image PSNR.
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Training;

public sealed record EvalResult(double Mse, double Psnr, double NoisyPsnr);

public static class Evaluation
{
    /// <summary>Scores the model on fixed noisy inputs; both tensors (N, 1, H, W) on the model's device.</summary>
    /// <remarks>
    /// Batches of 100: the heap keeps its high-water mark (NativeRuntime), and 200 measured 120 MB more peak resident
    /// memory for a training run at the same speed.
    /// </remarks>
    public static EvalResult Run(nn.Module<Tensor, Tensor> model, Tensor clean, Tensor noisy, BatchParts? parts = null, int batchSize = 100)
    {
        model.eval();
        using var _ = torch.no_grad();
        using var oneThread = parts?.OneThreadHere();
        using var mseSum = torch.zeros(1, dtype: ScalarType.Float64, device: clean.device);
        using var psnrSum = torch.zeros(1, dtype: ScalarType.Float64, device: clean.device);
        using var noisyPsnrSum = torch.zeros(1, dtype: ScalarType.Float64, device: clean.device);
        long n = clean.shape[0];
        for (long start = 0; start < n; start += batchSize)
        {
            using var scope = NewDisposeScope();
            long len = Math.Min(batchSize, n - start);
            var x = noisy.narrow(0, start, len);
            var y = clean.narrow(0, start, len);
            var output = parts != null ? parts.Forward(model, x) : model.forward(x);
            mseSum.add_((output - y).square().mean(new long[] { 1, 2, 3 }).sum().to_type(ScalarType.Float64));
            psnrSum.add_(Metrics.Psnr(output, y).sum().to_type(ScalarType.Float64));
            noisyPsnrSum.add_(Metrics.Psnr(x, y).sum().to_type(ScalarType.Float64));
        }
        model.train();
        // Host syncs: three scalars once per evaluation.
        return new EvalResult(mseSum.item<double>() / n, psnrSum.item<double>() / n, noisyPsnrSum.item<double>() / n);
    }
}
