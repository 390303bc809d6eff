// The training loop: resuming is exact, files land where promised, PSNR is computed as defined.
using Denoiser.Data;
using Denoiser.Models;
using Denoiser.Training;
using TorchSharp;
using Xunit;

namespace Denoiser.Tests.Training;

public class TrainerTests
{
    sealed class Recorder : ITrainingObserver
    {
        public List<EpochMetrics> Epochs { get; } = new();
        public void EpochStarted(int epoch, int epochs, long images) { }
        public void Progress(long imagesDone, double runningLoss) { }
        public void EpochFinished(EpochMetrics metrics, bool best) => Epochs.Add(metrics);
    }

    static TrainSettings Settings(string runDir, int epochs) =>
        new() { Epochs = epochs, BatchSize = 20, Seed = 7, Threads = 2, RunDir = runDir, Device = "cpu" };

    /// <summary>The settings' model as the train command builds it (seeded, resumed weights loaded), and the supervised target.</summary>
    static IReadOnlyList<EpochMetrics> Train(TrainSettings settings, RunFolder run, ITrainingObserver observer, IEpochImages train, ImageSet test,
                                             Checkpoint.Loaded? resume = null)
    {
        torch.manual_seed(settings.Seed);
        using var model = new ConvDenoiser();
        resume?.LoadWeights(model);
        var target = Target.Create(TargetKind.Clean, settings.Noise, channels: 1, onDisk: false);
        return new Trainer(settings, run, torch.CPU, observer).Run(model, target, train, test, resume);
    }

    static List<torch.Tensor> Weights(string checkpoint)
    {
        using var model = new ConvDenoiser();
        Checkpoint.Read(checkpoint).LoadWeights(model);
        return model.parameters().Select(p => p.detach().clone()).ToList();
    }

    [Fact]
    public void Two_epochs_equal_one_epoch_resumed_for_one_more()
    {
        using var dir = new TempDir();
        TestFiles.WriteMnist(dir["data"], train: 200, test: 40);
        using var train = ImageSet.LoadMnist(dir["data"], train: true);
        using var test = ImageSet.LoadMnist(dir["data"], train: false);
        Devices.SetThreads(2);

        var straight = new RunFolder(dir["straight"]);
        Train(Settings(straight.Root, 2), straight, new Recorder(), train, test);

        var split = new RunFolder(dir["split"]);
        Train(Settings(split.Root, 1), split, new Recorder(), train, test);
        var resumed = new Recorder();
        Train(Settings(split.Root, 2), split, resumed, train, test, Checkpoint.Read(split.Last));

        Assert.Equal(2, Assert.Single(resumed.Epochs).Epoch);
        foreach (var (a, b) in Weights(straight.Last).Zip(Weights(split.Last)))
            Assert.True(a.allclose(b, rtol: 0, atol: 0), "weights differ after resuming");
        var history = Checkpoint.Read(split.Last).Header.History;
        Assert.Equal(Checkpoint.Read(straight.Last).Header.History.Select(m => m.TestLoss), history.Select(m => m.TestLoss));
    }

    [Fact]
    public void A_run_writes_checkpoints_settings_metrics_and_one_sample_per_epoch()
    {
        using var dir = new TempDir();
        TestFiles.WriteMnist(dir["data"], train: 100, test: 20);
        using var train = ImageSet.LoadMnist(dir["data"], train: true);
        using var test = ImageSet.LoadMnist(dir["data"], train: false);
        var run = new RunFolder(dir["run"]);

        var history = Train(Settings(run.Root, 2), run, new Recorder(), train, test);

        Assert.Equal(2, history.Count);
        Assert.All(new[] { run.Best, run.Last, run.MetricsFile, run.Sample(1), run.Sample(2),
                           Path.Combine(run.Root, "loss.png"), Path.Combine(run.Root, "psnr.png") },
                   f => Assert.True(File.Exists(f), f));
        var csv = File.ReadAllLines(run.MetricsFile);
        Assert.Equal(Metrics.CsvHeader, csv[0]);
        Assert.Equal(3, csv.Length);
        var sample = TestFiles.ReadGrey(run.Sample(2));
        Assert.Equal((10 * 56 + 11 * 2, 3 * 56 + 4 * 2), (sample.Width, sample.Height)); // 3 rows of 10 digits at 2x
        Assert.Empty(Directory.GetFiles(run.Root, "*.tmp", SearchOption.AllDirectories));
        Assert.Equal((720, 420), (TestFiles.ReadGrey(Path.Combine(run.Root, "psnr.png")).Width, TestFiles.ReadGrey(Path.Combine(run.Root, "psnr.png")).Height));
        Assert.All(history, m => Assert.True(double.IsFinite(m.TrainLoss) && double.IsFinite(m.TestPsnr)));
        Assert.True(history[1].TestLoss < history[0].TestLoss, "ten Adam steps should lower the test loss");
    }

    [Fact]
    public void Psnr_is_ten_log10_of_one_over_the_per_image_mse()
    {
        using var clean = torch.zeros(2, 1, 4, 4);
        using var output = torch.zeros(2, 1, 4, 4);
        output[0].fill_(0.1f);  // MSE 0.01 -> 20 dB
        output[1].fill_(0.01f); // MSE 1e-4 -> 40 dB
        using var psnr = Metrics.Psnr(output, clean);
        Assert.Equal(20.0, psnr[0].item<float>(), 3);
        Assert.Equal(40.0, psnr[1].item<float>(), 3);
        using var perfect = Metrics.Psnr(clean, clean);
        Assert.Equal(100.0, perfect[0].item<float>(), 3); // MSE floored at 1e-10
    }

    [Fact]
    public void Seeds_differ_per_epoch_and_repeat_per_seed()
    {
        Assert.Equal(Seeds.ForEpoch(1, 3), Seeds.ForEpoch(1, 3));
        Assert.NotEqual(Seeds.ForEpoch(1, 3), Seeds.ForEpoch(1, 4));
        Assert.NotEqual(Seeds.ForEpoch(1, 3), Seeds.ForEpoch(2, 3));
    }
}
