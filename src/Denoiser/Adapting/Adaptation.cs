// `adapt`'s work, in the order it happens: crops of the user's photographs with the base model's clean versions and
// noise samples (ClonedNoise), a held-out share set aside, fine-tuning until the time is up, and a verdict from the
// held-out crops: the adapted weights are kept only when they take the cloned noise off better than the base's do.
using System.Diagnostics;
using Denoiser.Cpu;
using Denoiser.Data;
using Denoiser.Inference;
using Denoiser.Models;
using Denoiser.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Adapting;

/// <param name="Minutes">Wall time for the whole adaptation, reading the photographs included.</param>
/// <param name="LearningRate">Adam's rate at the start, down to 0 at the end by a cosine: under a tenth of a first training's, so
/// the weights move towards the camera's noise without forgetting what they know
/// (the rate measured on PolyU: docs/adapt.md).</param>
/// <param name="Method">cloned-noise (the default) or neighbor2neighbor (measured beside it: docs/adapt.md).</param>
/// <param name="KeepAlways">Keep the adapted weights whatever the verdict (to measure a method, not for use).</param>
public sealed record AdaptPlan(double Minutes, int BatchSize = 16, double LearningRate = 3e-5, int Seed = 1, string Method = AdaptPlan.Cloned, bool KeepAlways = false)
{
    public const string Cloned = "cloned-noise", Neighbours = "neighbor2neighbor";

    /// <summary>Crops cut in all: about 1.5 per second of the time allowed, so reading them takes a small share of it.</summary>
    public int Crops => (int)Math.Clamp(Math.Round(Minutes * 90), MinCrops, 480);

    /// <summary>Fewer crops than this leave too few to learn from and to judge by.</summary>
    public const int MinCrops = 16;

    /// <summary>The share of the crops held out to judge by.</summary>
    public const double HeldOut = 0.2;

    /// <summary>The gain on the held-out crops (dB) under which the base weights are kept.</summary>
    public const double MinGain = 0.05;
}

/// <param name="Kept">Whether the adapted weights are kept (else the model holds the base weights again).</param>
/// <param name="BasePsnr">The base model on the held-out crops with cloned noise, against their clean versions (dB).</param>
/// <param name="AdaptedPsnr">The adapted model on the same.</param>
/// <param name="NoisyPsnr">The held-out inputs themselves.</param>
public sealed record AdaptOutcome(bool Kept, double BasePsnr, double AdaptedPsnr, double NoisyPsnr, double TrainLoss,
                                  int Photos, int Crops, int HeldOut, int Steps, double PrepareSeconds, double TrainSeconds, double Seconds, double MeanLevel,
                                  Picture Preview)
{
    public double Gain => AdaptedPsnr - BasePsnr;
}

/// <summary>What adapt shows while it works.</summary>
public interface IAdaptObserver
{
    void Reading(int done, int total, string file);
    void Training(double elapsed, double total, int steps, double loss);
}

public static class Adaptation
{
    /// <summary>
    /// Adapts <paramref name="model"/> (the base weights, trained with <paramref name="loss"/>) to the noise of
    /// <paramref name="photos"/>, which must all be of the model's kind (colour or grey); the model ends with the weights
    /// the verdict keeps. <paramref name="read"/> reads one photograph, so the caller decides what a bad file means.
    /// </summary>
    public static AdaptOutcome Run(nn.Module<Tensor, Tensor> model, ModelInfo info, Loss loss, IReadOnlyList<string> photos, Func<string, Picture> read,
                                   AdaptPlan plan, IAdaptObserver observer, Device device)
    {
        var clock = Stopwatch.StartNew();
        double budget = plan.Minutes * 60;
        var random = new Random(plan.Seed);
        var samples = new List<CropSample>();
        double levels = 0;
        var asImage = new TorchImageModel(model, info, device); // not disposed: it only lends the model to the level estimate
        int perPhoto = (int)Math.Ceiling((double)plan.Crops / photos.Count);
        for (int i = 0; i < photos.Count; i++)
        {
            observer.Reading(i, photos.Count, photos[i]);
            var photo = read(photos[i]).As(info.Channels);
            double level = info.TakesNoiseLevel ? NoiseLevel.ForModel(asImage, photo) / 255 : 0;
            levels += level;
            var crops = PhotoCrops.Cut(photo, PhotoCrops.Count(photo.Width, photo.Height, ClonedNoise.CropSide, perPhoto), ClonedNoise.CropSide, random);
            samples.AddRange(ClonedNoise.Sample(model, info, device, crops, i, level));
        }
        observer.Reading(photos.Count, photos.Count, "");
        if (samples.Count < AdaptPlan.MinCrops) throw TooLittle(samples.Count);

        var order = samples.OrderBy(_ => random.Next()).ToList();
        int held = Math.Max(AdaptPlan.MinCrops / 4, (int)Math.Round(order.Count * AdaptPlan.HeldOut));
        var judge = new ClonedNoise(order.Take(held).ToList(), info.Channels);
        ILesson learn = plan.Method == AdaptPlan.Neighbours ? new NeighbourPairs(order.Skip(held).ToList(), info.Channels)
                                                            : new ClonedNoise(order.Skip(held).ToList(), info.Channels);
        double prepared = clock.Elapsed.TotalSeconds;

        using var heldInput = JudgeSet(judge, info, plan.Seed, out var heldTarget);
        using var _t = heldTarget;
        double noisy = Psnr(heldInput.narrow(1, 0, info.Channels), heldTarget);
        double before = Judge(model, heldInput, heldTarget, device);
        var baseWeights = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());

        // Train until the time left, less what the verdict and writing the run take (about two judgings).
        double judgeSeconds = clock.Elapsed.TotalSeconds - prepared;
        double trainUntil = budget - 2 * judgeSeconds - 1;
        double trainStart = clock.Elapsed.TotalSeconds, trainTime = Math.Max(trainUntil - trainStart, 0);
        int steps = 0;
        double lossSum = 0;
        int lossCount = 0;
        model.train();
        using (var parts = BatchParts.For(model, device.type == DeviceType.CPU ? get_num_threads() : 1))
        using (var threads = parts.PartThreadsHere())
        using (var optimizer = new Training.Adam(model.parameters(), plan.LearningRate))
        {
            var schedule = new LrSchedule("cosine");
            while (clock.Elapsed.TotalSeconds < trainUntil || steps == 0)
            {
                using var scope = NewDisposeScope();
                double done = (clock.Elapsed.TotalSeconds - trainStart) / Math.Max(trainTime, 1e-9);
                foreach (var group in optimizer.ParamGroups) group.LearningRate = schedule.At(plan.LearningRate, done, 1);
                var (input, target) = learn.Batch(plan.BatchSize, random, info, model, device);
                if (parts.Tricks.ChannelsLast) input = CpuLayout.ForModel(input);
                optimizer.zero_grad();
                var batchLoss = parts.Backward(model, input, target, (x, y) => learn.Loss(model.call(x), y, loss));
                optimizer.step();
                double value = batchLoss.item<float>();
                if (!double.IsFinite(value)) break; // the verdict below then keeps the base weights
                lossSum += value;
                lossCount++;
                steps++;
                observer.Training(clock.Elapsed.TotalSeconds - trainStart, trainTime, steps, lossSum / lossCount);
            }
        }
        double trained = clock.Elapsed.TotalSeconds - trainStart;
        double after = Judge(model, heldInput, heldTarget, device);
        var preview = Preview(model, info, judge, device);
        bool kept = double.IsFinite(after) && (after - before >= AdaptPlan.MinGain || plan.KeepAlways);
        if (!kept)
            using (no_grad())
                foreach (var (name, p) in model.state_dict()) p.copy_(baseWeights[name]);
        foreach (var t in baseWeights.Values) t.Dispose();
        return new AdaptOutcome(kept, before, after, noisy, lossCount > 0 ? lossSum / lossCount : double.NaN, photos.Count, samples.Count, held,
                                steps, prepared, trained, clock.Elapsed.TotalSeconds, levels / photos.Count * 255, preview);
    }

    public static UserException TooLittle(int crops) => new(
        $"too little to adapt to: the photographs give {crops} crops of {ClonedNoise.CropSide}x{ClonedNoise.CropSide}, and adapt needs {AdaptPlan.MinCrops} " +
        $"(about {AdaptPlan.MinCrops / 2 * ClonedNoise.CropSide * ClonedNoise.CropSide / 1e6:F1} megapixels of photographs, each at least {ClonedNoise.CropSide}x{ClonedNoise.CropSide}); add photographs.",
        ExitCodes.Usage);

    /// <summary>The held-out crops with cloned noise, drawn once (the same for the base and the adapted weights): input, and the clean target.</summary>
    static Tensor JudgeSet(ClonedNoise judge, ModelInfo info, int seed, out Tensor target)
    {
        var (input, clean) = judge.Batch(Math.Max(judge.Count * 2, 32), new Random(seed + 1), info);
        target = clean;
        return input;
    }

    /// <summary>Mean PSNR (dB) of the model's output on <paramref name="input"/> against <paramref name="target"/>.</summary>
    static double Judge(nn.Module<Tensor, Tensor> model, Tensor input, Tensor target, Device device)
    {
        model.eval();
        double sum = 0;
        long n = input.shape[0];
        using (no_grad())
            for (long start = 0; start < n; start += 16)
            {
                using var scope = NewDisposeScope();
                long len = Math.Min(16, n - start);
                var output = model.call(CpuLayout.ForModel(input.narrow(0, start, len).to(device))).Clamp(0, 1).cpu();
                sum += Metrics.Psnr(output, target.narrow(0, start, len)).sum().item<float>();
            }
        model.train();
        return sum / n;
    }

    /// <summary>
    /// Rows of real noisy crops of the user's photographs (held out, from flat to detailed), the base model's output and
    /// the adapted model's, each the middle 64x64 of a crop's inner square (away from where the adapted model lacks the frame).
    /// </summary>
    static Picture Preview(nn.Module<Tensor, Tensor> model, ModelInfo info, ClonedNoise judge, Device device)
    {
        const int Side = 64, From = (ClonedNoise.Inner - Side) / 2;
        var chosen = judge.Samples.OrderBy(s => s.Detail).Where((_, i) => i % Math.Max(1, judge.Count / 4) == 0).Take(4).ToList();
        int c = info.Channels, n = chosen.Count;
        var shape = new long[] { n, c, ClonedNoise.Inner, ClonedNoise.Inner };
        using var scope = NewDisposeScope();
        var clean = torch.tensor(chosen.SelectMany(s => s.Clean).ToArray(), shape);
        var noisy = torch.tensor(chosen.SelectMany(s => s.Clean.Zip(s.Noise, (a, b) => a + b)).ToArray(), shape);
        var levels = torch.tensor(chosen.Select(s => s.Level).ToArray()); // as `denoise` tells it
        model.eval();
        Tensor adapted;
        using (no_grad())
            adapted = model.call(CpuLayout.ForModel((info.TakesNoiseLevel ? NoiseMap.Append(noisy, levels) : noisy).to(device))).cpu();
        model.train();
        Tensor Middle(Tensor t) => t.narrow(2, From, Side).narrow(3, From, Side).Clamp(0, 1);
        return SampleGrid.Compose(Middle(noisy), Middle(clean), Middle(adapted));
    }

    static double Psnr(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return Metrics.Psnr(a, b).mean().item<float>();
    }
}
