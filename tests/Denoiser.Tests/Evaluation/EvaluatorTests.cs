// The evaluation table: one row per noise and method, per-class rows that add up, and figures that mean something.
using Denoiser.Data;
using Denoiser.Evaluation;
using Denoiser.Models;
using Denoiser.Training;
using TorchSharp;
using Xunit;

namespace Denoiser.Tests.Evaluation;

public class EvaluatorTests
{
    [Fact]
    public void Scores_every_method_under_every_noise_overall_and_per_class()
    {
        using var dir = new TempDir();
        TestFiles.WriteMnist(dir.Path, train: 10, test: 30);
        using var test = ImageSet.LoadMnist(dir.Path, train: false);
        using var model = new ConvDenoiser();
        var noises = new Noise[] { new GaussianNoise(0.5), new SaltPepperNoise(0.1) };

        var scores = Evaluator.Run(model, test.Images, test.Labels, noises, seed: 3, batchSize: 7);

        var overall = scores.Where(s => s.Class == null).ToList();
        Assert.Equal(8, overall.Count);
        Assert.Equal(new[] { "gaussian:0.5", "salt-pepper:0.1" }, overall.Select(s => s.Noise).Distinct());
        Assert.All(overall, s => Assert.Equal(30, s.Count));
        foreach (var group in scores.Where(s => s.Class != null).GroupBy(s => (s.Noise, s.Method)))
        {
            Assert.Equal(10, group.Count());
            Assert.Equal(30, group.Sum(s => s.Count));
            var all = overall.Single(s => (s.Noise, s.Method) == group.Key);
            Assert.Equal(all.PsnrDb, group.Sum(s => s.PsnrDb * s.Count) / 30, 6); // per-class means average to the mean
        }

        // The noisy-input row is the plain PSNR of the noise, drawn the same way again.
        using var gen = new torch.Generator(Seeds.ForTestNoise(3));
        using var noisy = noises[0].Apply(test.Images, gen);
        using var psnr = Metrics.Psnr(noisy, test.Images);
        Assert.Equal(psnr.mean().item<float>(), overall.Single(s => s.Method == Evaluator.Noisy && s.Noise == "gaussian:0.5").PsnrDb, 4);
        // Salt-and-pepper noise is what a median filter is for.
        var sp = overall.Where(s => s.Noise == "salt-pepper:0.1").ToDictionary(s => s.Method);
        Assert.True(sp[Evaluator.Median].PsnrDb > sp[Evaluator.Noisy].PsnrDb);
    }
}
