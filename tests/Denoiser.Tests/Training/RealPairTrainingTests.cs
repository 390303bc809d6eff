// Real noisy/clean pairs train beside clean pictures: an epoch holds the share asked, each real patch cut at one place in
// both photographs, and the supervised target takes a real input as it is (with its gains) and tells the model its RMS.
using Denoiser.Data;
using Denoiser.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Denoiser.Tests.Training;

public class RealPairTrainingTests
{
    /// <summary>Clean pictures in clean/, and one real pair in pairs/: the mean a scene, the shot that scene plus noise.</summary>
    static (string Clean, string Pairs) Folders(TempDir dir)
    {
        for (int i = 0; i < 4; i++) TestFiles.WriteRgbPng(dir[$"clean/{i}.png"], 40, 36, seed: i);
        var mean = TestFiles.Scene(64, 48, seed: 1);
        var random = new Random(3);
        var shot = mean with { Planes = mean.Planes.Select(v => Math.Clamp(v + (float)(random.NextDouble() - 0.5) * 0.2f, 0, 1)).ToArray() };
        ImageFile.Write(dir["pairs/scene_mean.png"], mean);
        ImageFile.Write(dir["pairs/scene_real.png"], shot);
        return (dir["clean"], dir["pairs"]);
    }

    [Fact]
    public void An_epoch_holds_the_share_of_real_patches_flagged_and_cut_at_one_place_in_both()
    {
        using var dir = new TempDir();
        var (clean, pairs) = Folders(dir);
        using var patches = MixedPatches.Load(clean, pairs, realShare: 0.25, drift: 0, side: 16, channels: 3, perEpoch: 40, seed: 1);
        Assert.Equal((40, 10, 7), (patches.Count, patches.RealCount, patches.Channels));
        using var epoch = patches.ForEpoch(1);
        Assert.Equal(new long[] { 40, 7, 16, 16 }, epoch.shape);
        using var flags = epoch.select(1, 6).amax(new long[] { 1, 2 }).to_type(ScalarType.Int32);
        Assert.Equal(10, flags.data<int>().Count(v => v == 255));
        using var real = epoch.index_select(0, flags.eq(255).nonzero().flatten());
        using var difference = real.narrow(1, 0, 3).to_type(ScalarType.Float32) - real.narrow(1, 3, 3).to_type(ScalarType.Float32);
        // The shot's noise is uniform in +-0.1: cut at one place, the difference stays within it (plus rounding).
        Assert.True(difference.abs().max().item<float>() <= 26);
        Assert.True(difference.abs().mean().item<float>() > 5);
        using var again = patches.ForEpoch(1);
        Assert.True(epoch.eq(again).all().item<bool>());
    }

    /// <summary>
    /// A shot brighter than its mean by a slow ramp (0 to 0.08 across the picture) and noisy: the moved clean version
    /// keeps the mean's detail, takes the ramp, and takes almost none of the noise.
    /// </summary>
    [Fact]
    public void The_clean_version_follows_the_shots_slow_brightness_and_not_its_noise()
    {
        int w = 96, h = 64, n = w * h;
        var mean = TestFiles.Scene(w, h, seed: 2);
        var random = new Random(5);
        float Ramp(int i) => 0.08f * (i % n % w) / (w - 1);
        var noise = Enumerable.Range(0, 3 * n).Select(_ => (float)(random.NextDouble() - 0.5) * 0.2f).ToArray();
        var shot = mean with { Planes = mean.Planes.Select((v, i) => v + Ramp(i) + noise[i]).ToArray() };
        var moved = RealPairs.FollowDrift(Picture.Stack(new[] { shot, mean }), sigma: 8);
        Assert.Equal(shot.Planes, moved.Planes[..(3 * n)]); // the noisy photograph as it was
        var clean = moved.Planes[(3 * n)..];
        // Inside the picture (away from the clamps at 0 and 1 and the blur's borders): the ramp, give or take the noise's trace.
        var inner = Enumerable.Range(0, 3 * n).Where(i => i % n / w is >= 16 and < 48 && i % w is >= 16 and < 80 && mean.Planes[i] is > 0.1f and < 0.85f).ToList();
        double drift = inner.Average(i => Math.Abs(clean[i] - mean.Planes[i] - Ramp(i)));
        double noiseLeft = inner.Average(i => Math.Abs(clean[i] - mean.Planes[i] - Ramp(i) - noise[i]));
        Assert.True(drift < 0.006, $"the moved clean version is {drift:F4} from the mean plus the ramp");
        Assert.True(noiseLeft > 0.04, $"it took the shot's noise: {noiseLeft:F4} from it"); // uniform +-0.1 averages 0.05
        // A grey pair: one noisy plane, then one clean.
        var grey = RealPairs.FollowDrift(Picture.Stack(new[] { shot.As(1), mean.As(1) }), sigma: 8);
        var (greyShot, greyMean) = (shot.As(1).Planes, mean.As(1).Planes);
        Assert.True(inner.Where(i => i < n).Average(i => Math.Abs(grey.Planes[n + i] - greyMean[i] - Ramp(i))) < 0.006);
        Assert.Equal(greyShot, grey.Planes[..n]);
        // A pair that does not differ is left as it is.
        Assert.True(RealPairs.FollowDrift(Picture.Stack(new[] { mean, mean }), sigma: 8).Planes.SequenceEqual(Picture.Stack(new[] { mean, mean }).Planes));
    }

    [Fact]
    public void The_target_takes_a_real_input_as_it_is_and_draws_noise_for_the_rest()
    {
        var target = Target.Create(TargetKind.Clean, Noise.Parse("gaussian:0.1"), 3, onDisk: false, noiseLevel: true, realPairs: true);
        Assert.Equal(7, target.Stored);
        using var scope = NewDisposeScope();
        var cleanPlanes = torch.full(new long[] { 2, 3, 8, 8 }, 0.5f);
        var noisyPlanes = torch.full(new long[] { 2, 3, 8, 8 }, 0.6f);
        var flag = torch.tensor(new[] { 1f, 0f }).view(2, 1, 1, 1).expand(2, 1, 8, 8);
        var examples = torch.cat(new[] { noisyPlanes, cleanPlanes, flag }, 1);
        var (input, reference) = target.Make(examples, new Generator(1));
        Assert.Equal(new long[] { 2, 4, 8, 8 }, input.shape); // RGB and the level plane
        // The real example: input and clean scaled by the same gain per channel, so the input is 1.2 x its clean version.
        Assert.True((input[0, ..3] / reference[0]).allclose(torch.full(new long[] { 3, 8, 8 }, 1.2f), atol: 1e-5));
        var level = (input[0, ..3] - reference[0]).square().mean().sqrt().item<float>();
        Assert.InRange(input[0, 3].mean().item<float>(), level - 1e-5, level + 1e-5);
        // The synthetic one: its clean planes (gain 1), noise of sigma 0.1 drawn on them, and that noise's RMS as its level.
        Assert.True(reference[1].allclose(cleanPlanes[1]));
        Assert.InRange((input[1, ..3] - reference[1]).std().item<float>(), 0.07, 0.13);
    }

    [Fact]
    public void Real_pairs_train_a_model_told_the_level_end_to_end()
    {
        using var dir = new TempDir();
        var (clean, pairs) = Folders(dir);
        var run = dir["run"];
        var result = EndToEnd.Cli.Run(dir.Path, "train", "--model", "resunet-rgb", "--data-dir", clean, "--real-pairs", pairs, "--patch", "16",
                                      "--patches-per-epoch", "8", "--batch-size", "4", "--noise", "camera-wide", "--epochs", "1", "--real-drift", "8", "--run-dir", run);
        Assert.True(result.ExitCode == 0, result.Out + result.Err);
        Assert.Contains("from the real pairs in", result.Out);
        Assert.Contains("\"RealDrift\": 8", File.ReadAllText(Path.Combine(run, "settings.json")));
        Assert.True(File.Exists(Path.Combine(run, "best.ckpt")));
        // A later session resumes it with the real pairs where they are now (a resumable setting), nothing else typed.
        var resumed = EndToEnd.Cli.Run(dir.Path, "train", "--resume", "--run-dir", run, "--real-pairs", pairs, "--epochs", "2");
        Assert.True(resumed.ExitCode == 0, resumed.Out + resumed.Err);
        Assert.Contains("resuming at epoch 2", resumed.Out);

        var refused = EndToEnd.Cli.Run(dir.Path, "train", "--model", "resunet-rgb", "--data-dir", clean, "--real-pairs", dir["missing"], "--patch", "16",
                                       "--noise", "camera", "--epochs", "1", "--run-dir", dir["run2"]);
        EndToEnd.Cli.AssertOneLineFailure(refused, 2, "--real-pairs");
        Assert.False(Directory.Exists(dir["run2"]));
        var driftAlone = EndToEnd.Cli.Run(dir.Path, "train", "--model", "resunet-rgb", "--data-dir", clean, "--patch", "16",
                                          "--noise", "camera", "--epochs", "1", "--real-drift", "16", "--run-dir", dir["run3"]);
        EndToEnd.Cli.AssertOneLineFailure(driftAlone, 2, "--real-drift needs --real-pairs");
        Assert.False(Directory.Exists(dir["run3"]));
    }
}
