// Per-epoch figures, PSNR, and metrics.csv (one row per epoch, so runs compare line by line).
using System.Globalization;
using System.Text;
using Denoiser.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Training;

/// <param name="TrainLoss">Mean per-pixel MSE over the epoch's noisy training batches.</param>
/// <param name="TestLoss">Mean per-pixel MSE of the denoised test set against the clean one.</param>
/// <param name="TestPsnr">Mean over test images of 10*log10(1/MSE), in dB, for the denoised images.</param>
/// <param name="NoisyPsnr">The same for the noisy inputs: the figure the model has to beat.</param>
/// <param name="Seconds">Wall time of the whole epoch: training and evaluation.</param>
/// <param name="ImagesPerSecond">Training images per second (evaluation excluded).</param>
public sealed record EpochMetrics(
    int Epoch, double TrainLoss, double TestLoss, double TestPsnr, double NoisyPsnr, double Seconds, double ImagesPerSecond);

public static class Metrics
{
    /// <summary>MSE per image is floored at 1e-10 (100 dB) so that a perfect image does not make the mean infinite.</summary>
    public const double MinMse = 1e-10;

    /// <summary>Per-image PSNR in dB of (B, C, H, W) images in [0, 1]: 10*log10(1/MSE). Shape (B).</summary>
    public static Tensor Psnr(Tensor output, Tensor target)
    {
        using var scope = NewDisposeScope();
        var mse = SquaredError(output, target).mean(new long[] { 1, 2, 3 }).AtLeast(MinMse);
        return mse.log10().Times_(-10).MoveToOuterDisposeScope();
    }

    /// <summary>(a - b)^2 elementwise.</summary>
    /// <remarks>
    /// Not square(): TorchSharp 0.107 makes it pow(2) with a temporary Scalar of its own (docs/native-lifetimes.md).
    /// </remarks>
    public static Tensor SquaredError(Tensor a, Tensor b)
    {
        var d = a - b;
        return d.mul(d);
    }

    public static string CsvHeader => "epoch,train_loss,test_loss,test_psnr_db,noisy_psnr_db,seconds,images_per_s";

    public static string CsvRow(EpochMetrics m) => string.Join(',',
        m.Epoch.ToString(CultureInfo.InvariantCulture), F(m.TrainLoss, "G6"), F(m.TestLoss, "G6"),
        F(m.TestPsnr, "F3"), F(m.NoisyPsnr, "F3"), F(m.Seconds, "F1"), F(m.ImagesPerSecond, "F0"));

    /// <summary>Rewrites metrics.csv whole, atomically, from the run's history.</summary>
    public static void WriteCsv(string path, IEnumerable<EpochMetrics> history)
    {
        var csv = new StringBuilder().AppendLine(CsvHeader);
        foreach (var m in history) csv.AppendLine(CsvRow(m));
        AtomicFile.WriteAllText(path, csv.ToString());
    }

    static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
}
