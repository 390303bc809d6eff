// The evaluation table: one row per noise and method, per-class rows that add up, and figures that mean something.
using Denoiser.Data;
using Denoiser.Evaluation;
using Denoiser.Inference;
using Denoiser.Models;
using Denoiser.Training;
using TorchSharp;
using Xunit;

namespace Denoiser.Tests.Evaluation;

public class EvaluatorTests
{
    /// <summary>The shipped colour model on test crops (evaluate without --images) is told each noise's level, as in training.</summary>
    [Fact]
    public void A_model_told_the_level_is_told_it_on_test_crops()
    {
        var (_, path) = Pretrained.Get(Denoiser.Commands.ModelPicker.Colour);
        using var model = ResUNetRgb.Info.Create();
        Denoiser.Interchange.WeightsFile.LoadInto(model, ResUNetRgb.Kind, path);
        using var clean = TestFiles.Scene(96, 96).ToTensor().expand(3, -1, -1, -1).contiguous();
        using var labels = torch.full(3, -1L);
        var noises = new Noise[] { Noise.Parse("gaussian:25/255"), Noise.Parse("camera:0") };
        var scores = Evaluator.Run(model, clean, labels, noises, seed: 1, takesLevel: true);
        foreach (var noise in noises)
        {
            double Psnr(string method) => scores.Single(s => s.Noise == noise.Spec && s.Method == method).PsnrDb;
            Assert.True(Psnr(Evaluator.Model) > Psnr(Evaluator.Noisy) + 3, $"{noise.Spec}: model {Psnr(Evaluator.Model):F2} dB, noisy {Psnr(Evaluator.Noisy):F2} dB");
        }
        using var picture = Evaluator.Samples(model, clean, labels, noises[0], 1, takesLevel: true).ToTensor();
        Assert.Equal(3, picture.shape[1]);
    }

    [Fact]
    public void Scores_every_method_under_every_noise_overall_and_per_class()
    {
        using var dir = new TempDir();
        TestFiles.WriteMnist(dir.Path, train: 10, test: 30);
        using var test = ImageSet.LoadMnist(dir.Path, train: false);
        using var model = new ConvDenoiser();
        var noises = new Noise[] { Noise.Parse("gaussian:0.5,clip"), new SaltPepperNoise(0.1) };

        var scores = Evaluator.Run(model, test.Images, test.Labels, noises, seed: 3, batchSize: 7);

        var overall = scores.Where(s => s.Class == null).ToList();
        Assert.Equal(8, overall.Count);
        Assert.Equal(new[] { "gaussian:0.5,clip", "salt-pepper:0.1" }, overall.Select(s => s.Noise).Distinct());
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
        Assert.Equal(psnr.mean().item<float>(), overall.Single(s => s.Method == Evaluator.Noisy && s.Noise == "gaussian:0.5,clip").PsnrDb, 4);
        // Salt-and-pepper noise is what a median filter is for.
        var sp = overall.Where(s => s.Noise == "salt-pepper:0.1").ToDictionary(s => s.Method);
        Assert.True(sp[Evaluator.Median].PsnrDb > sp[Evaluator.Noisy].PsnrDb);
    }
    /// <summary>Returns its input: what comes out of a method is then its colour handling alone.</summary>
    sealed class Identity : IImageModel
    {
        public ModelInfo Info => ConvDenoiser.Info;
        public TrainingDomain Domain => TrainingDomain.Of(Info, (TrainSettings?)null);
        public Picture Run(Picture p) => p with { Planes = Run(p.Planes, p.Height, p.Width) };
        public float[] Run(float[] image, int height, int width) => image;
        public void Dispose() { }
    }

    [Fact]
    public void A_grey_model_scores_colour_sets_per_channel_and_on_luma_and_the_luma_round_trip_is_exact()
    {
        using var gen = new torch.Generator(7);
        using var colour = torch.rand(new long[] { 1, 3, 24, 20 }, generator: gen);
        using var grey = torch.rand(new long[] { 1, 1, 24, 20 }, generator: gen);
        var noise = new Noise[] { Noise.Parse("gaussian:25/255") };

        var scores = Evaluator.RunImages(new Identity(), "c", new[] { ("a", colour) }, noise, seed: 1).ToDictionary(s => s.Method);
        // Luma out and back with the noisy chroma gives the noisy image itself (clipped), as channel by channel does.
        Assert.Equal(scores[Evaluator.Model].PsnrDb, scores[Evaluator.ModelLuma].PsnrDb, 3);
        Assert.True(scores[Evaluator.Model].PsnrDb > scores[Evaluator.Noisy].PsnrDb); // clipping alone helps
        Assert.DoesNotContain(Evaluator.RunImages(new Identity(), "g", new[] { ("a", grey) }, noise, seed: 1), s => s.Method == Evaluator.ModelLuma);
    }
}
