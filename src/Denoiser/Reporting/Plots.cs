// Pictures of numbers: training curves per epoch, and PSNR against noise level; drawn with ScottPlot, written atomically.
using Denoiser.Data;
using Denoiser.Evaluation;
using Denoiser.Training;
using ScottPlot;

namespace Denoiser.Reporting;

public static class Plots
{
    const int Width = 720, Height = 420;

    /// <summary>loss.png (train and test MSE) and psnr.png (denoised and noisy test PSNR) over the epochs so far.</summary>
    public static void TrainingCurves(string runDir, IReadOnlyList<EpochMetrics> history)
    {
        double[] epochs = history.Select(m => (double)m.Epoch).ToArray();
        var loss = new Plot();
        loss.Add.Scatter(epochs, history.Select(m => m.TrainLoss).ToArray()).LegendText = "train (noisy batches)";
        loss.Add.Scatter(epochs, history.Select(m => m.TestLoss).ToArray()).LegendText = "test";
        Save(loss, "Loss per pixel", "epoch", "loss", Path.Combine(runDir, "loss.png"));

        if (history.All(m => double.IsNaN(m.TestPsnr))) return; // no clean images, no PSNR to draw
        var psnr = new Plot();
        psnr.Add.Scatter(epochs, history.Select(m => m.TestPsnr).ToArray()).LegendText = "denoised";
        psnr.Add.Scatter(epochs, history.Select(m => m.NoisyPsnr).ToArray()).LegendText = "noisy input";
        Save(psnr, "Test PSNR", "epoch", "PSNR (dB)", Path.Combine(runDir, "psnr.png"));
    }

    /// <summary>PSNR of each method against the Gaussian sigma, from evaluate's scores (gaussian noises only).</summary>
    public static bool PsnrAgainstSigma(IReadOnlyList<Score> scores, string path)
    {
        var gaussian = scores.Where(s => s.Class == null && s.Noise != Evaluation.RealNoise.Spec && Noise.Parse(s.Noise).IsGaussian).ToList();
        if (gaussian.Select(s => s.Noise).Distinct().Count() < 2) return false;
        var plot = new Plot();
        foreach (var method in gaussian.GroupBy(s => s.Method))
        {
            var points = method.Select(s => (Sigma: Noise.Parse(s.Noise).Level, s.PsnrDb)).OrderBy(p => p.Sigma).ToArray();
            plot.Add.Scatter(points.Select(p => p.Sigma).ToArray(), points.Select(p => p.PsnrDb).ToArray()).LegendText = method.Key;
        }
        Save(plot, "Mean test PSNR under Gaussian noise", "sigma", "PSNR (dB)", path);
        return true;
    }

    static void Save(Plot plot, string title, string x, string y, string path)
    {
        plot.Title(title);
        plot.XLabel(x);
        plot.YLabel(y);
        plot.ShowLegend(Alignment.UpperRight);
        byte[] png = plot.GetImageBytes(Width, Height, ImageFormat.Png);
        AtomicFile.Write(path, s => s.Write(png));
    }
}
