// What a training example teaches: the input the model sees and what its output is compared with. Supervised
// training adds noise to clean images; Noise2Noise and Noise2Void learn from noisy images alone.
using Denoiser.Cpu;
using Denoiser.Data;
using Denoiser.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Training;

/// <summary>What a run learns from: clean images with noise added, pairs of noisy shots (Noise2Noise), or single noisy images (Noise2Void).</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(SpecJsonConverter<TargetKind>))]
public sealed record TargetKind : ISpec<TargetKind>
{
    public const string Kinds = "clean, noisy-pairs or blind-spot";

    public static readonly TargetKind Clean = new("clean"), NoisyPairs = new("noisy-pairs"), BlindSpot = new("blind-spot");

    TargetKind(string spec) => Spec = spec;

    public string Spec { get; }

    /// <summary>Learns from noisy images alone.</summary>
    public bool SelfSupervised => this != Clean;

    public static TargetKind Parse(string spec) => spec.Trim().ToLowerInvariant() switch
    {
        "clean" => Clean,
        "noisy-pairs" => NoisyPairs,
        "blind-spot" => BlindSpot,
        _ => throw new FormatException($"'{spec}' is not a target; use {Kinds}"),
    };

    public override string ToString() => Spec;
}

/// <summary>
/// A batch of stored examples (float in [0, 1], (B, k x C, H, W): one image, or a noisy pair stacked as channels) in,
/// the model's input and the loss's target out. The held-out examples may carry each one's clean version stacked
/// after them (--clean-dir), for PSNR; without it a self-supervised run is validated by its own loss on them.
/// </summary>
public abstract class Target(int channels)
{
    /// <summary>The model's channels (C).</summary>
    protected int Channels { get; } = channels;

    /// <summary>Channels of one stored training example.</summary>
    public virtual int Stored => Channels;

    /// <param name="onDisk">The folder holds noisy pairs (NAME_a / NAME_b), rather than clean images to draw pairs from.</param>
    /// <param name="noiseLevel">The model takes the noise level as a plane after the image (supervised training only:
    /// the level is that of the noise drawn, which self-supervised data does not know).</param>
    /// <param name="realPairs">Some examples are real noisy photographs with their clean versions (<see cref="MixedPatches"/>), the rest clean images.</param>
    public static Target Create(TargetKind kind, Noise noise, int channels, bool onDisk, bool noiseLevel = false, bool realPairs = false) =>
        kind == TargetKind.Clean ? new Supervised(noise, channels, noiseLevel, realPairs) :
        realPairs ? throw new UserException($"--real-pairs: real noisy photographs with clean versions train the supervised target; drop --target {kind} or --real-pairs.", ExitCodes.Usage) :
        noiseLevel ? throw new UserException($"--target {kind}: this model is told the noise level, which only clean images with noise drawn on them (--target clean) give; choose another --model.", ExitCodes.Usage) :
        kind == TargetKind.BlindSpot ? new BlindSpots(channels) :
        onDisk ? new StoredPairs(channels) : new DrawnPairs(noise, channels);

    /// <summary>The model's input and the loss's target for one batch; draws from <paramref name="gen"/> only.</summary>
    public abstract (Tensor Input, Tensor Target) Make(Tensor examples, Generator gen);

    /// <summary>The loss of the model's output against <see cref="Make"/>'s target.</summary>
    public virtual Tensor Loss(Tensor output, Tensor target, Func<Tensor, Tensor, Tensor> objective) => objective(output, target);

    /// <summary>The held-out examples as validation sees them, any randomness drawn once from <paramref name="gen"/>.</summary>
    public Validation Validate(Tensor examples, Generator gen)
    {
        using var scope = NewDisposeScope();
        bool hasClean = examples.shape[1] == ValidationStored + Channels;
        var clean = hasClean ? examples.narrow(1, ValidationStored, Channels) : null;
        var made = MakeValidation(examples.narrow(1, 0, ValidationStored), clean, gen);
        return made.MoveToOuterDisposeScope();
    }

    protected abstract Validation MakeValidation(Tensor stored, Tensor? clean, Generator gen);

    /// <summary>Channels of one held-out example before any clean version (the held-out split may be stored otherwise than training's).</summary>
    protected virtual int ValidationStored => Stored;

    /// <summary>
    /// Clean images, the noise added to them: the seed's supervised training. A model told the noise level gets each
    /// example's own (the RMS of the noise drawn on it) as a plane after the image. With <paramref name="realPairs"/>
    /// an example is (input, clean, flag) as <see cref="MixedPatches"/> stores it: where the flag is set the input is a
    /// real noisy photograph, taken as it is, and both it and its clean version get one gain per channel (a white balance
    /// the camera did not choose); elsewhere noise is drawn on the clean planes. The held-out split is clean images.
    /// </summary>
    sealed class Supervised(Noise noise, int channels, bool noiseLevel, bool realPairs = false) : Target(channels)
    {
        /// <summary>Real pairs' per-channel gains are drawn in [1 - this, 1 + this].</summary>
        const double Gain = 0.15;

        public override int Stored => realPairs ? 2 * Channels + 1 : Channels;
        protected override int ValidationStored => Channels;

        public override (Tensor Input, Tensor Target) Make(Tensor examples, Generator gen)
        {
            if (!realPairs) return (Input(examples, noise.Apply(examples, gen)), examples);
            long n = examples.shape[0];
            var real = examples.narrow(1, 2 * Channels, 1).narrow(2, 0, 1).narrow(3, 0, 1).Above(0.5); // (n, 1, 1, 1)
            var gains = torch.where(real, torch.rand(new long[] { n, Channels, 1, 1 }, generator: gen, device: examples.device).Times_(2 * Gain).Plus_(1 - Gain), torch.ones(1, device: examples.device));
            var clean = (examples.narrow(1, Channels, Channels) * gains).Clamp_(0, 1);
            var drawn = noise.Apply(clean, gen); // drawn for every example, so the generator's stream does not depend on the mix
            var noisy = torch.where(real, (examples.narrow(1, 0, Channels) * gains).Clamp_(0, 1), drawn);
            return (Input(clean, noisy), clean);
        }

        protected override Validation MakeValidation(Tensor stored, Tensor? clean, Generator gen) =>
            new(Input(stored, noise.Apply(stored, gen)), stored.alias(), null);

        Tensor Input(Tensor clean, Tensor noisy)
        {
            if (!noiseLevel) return noisy;
            using (noisy) return Models.NoiseMap.Append(noisy, Models.NoiseMap.Rms(noisy, clean));
        }
    }

    /// <summary>
    /// Noise2Noise from a clean folder, for benchmarks: two independent draws of the noise on each image, one the input
    /// and the other the target; the clean image reaches the loss only through them. Validation uses the clean images
    /// (the folder is clean), with noise drawn once.
    /// </summary>
    sealed class DrawnPairs(Noise noise, int channels) : Target(channels)
    {
        public override (Tensor Input, Tensor Target) Make(Tensor clean, Generator gen)
        {
            var input = noise.Apply(clean, gen);
            return (input, noise.Apply(clean, gen)); // a second draw, after the first: never the same noise
        }

        protected override Validation MakeValidation(Tensor stored, Tensor? clean, Generator gen) =>
            new(noise.Apply(stored, gen), stored.alias(), null);
    }

    /// <summary>
    /// Noise2Noise from a folder of pairs: each batch example is one pair, either way round (a coin per example), so
    /// the model learns from both shots. Validation: the input is the _a image; the loss is against _b, or PSNR against
    /// the clean version when there is one.
    /// </summary>
    sealed class StoredPairs(int channels) : Target(channels)
    {
        public override int Stored => 2 * Channels;

        public override (Tensor Input, Tensor Target) Make(Tensor pairs, Generator gen)
        {
            var a = pairs.narrow(1, 0, Channels);
            var b = pairs.narrow(1, Channels, Channels);
            var swap = torch.rand(new long[] { pairs.shape[0], 1, 1, 1 }, generator: gen, device: pairs.device).Below(0.5);
            return (torch.where(swap, b, a), torch.where(swap, a, b));
        }

        protected override Validation MakeValidation(Tensor stored, Tensor? clean, Generator gen) =>
            new(stored.narrow(1, 0, Channels).contiguous(), clean?.contiguous(), clean is null ? stored.narrow(1, Channels, Channels).contiguous() : null);
    }

    /// <summary>
    /// Noise2Void: the blind spots of <see cref="BlindSpot"/> replaced in the input; the loss only at them, against the
    /// noisy values they had. The target carries the mask as one more channel, so a batch split across cores keeps
    /// each example's mask with it.
    /// </summary>
    sealed class BlindSpots(int channels) : Target(channels)
    {
        public override (Tensor Input, Tensor Target) Make(Tensor noisy, Generator gen)
        {
            // System.Random seeded from the run's generator: the masks replay exactly on resume, as the noise does.
            long seed = torch.randint(0, int.MaxValue, new long[] { 1 }, generator: gen, device: noisy.device).item<long>();
            var (input, mask) = Mask(noisy, new Random((int)seed));
            return (input, torch.cat(new[] { noisy, mask }, 1));
        }

        public override Tensor Loss(Tensor output, Tensor target, Func<Tensor, Tensor, Tensor> objective) =>
            MaskedLoss(output, target, objective);

        static Tensor MaskedLoss(Tensor output, Tensor target, Func<Tensor, Tensor, Tensor> objective)
        {
            long c = output.shape[1];
            var noisy = target.narrow(1, 0, c);
            var mask = target.narrow(1, c, 1);
            // objective is a mean of f(difference) with f(0) = 0, so masking both sides and rescaling gives the mean over the spots:
            // times numel / (spots x c), as the operators would compute it (reciprocal, then times) with the numbers held.
            return objective(output * mask, noisy * mask) * mask.sum().Times(c).reciprocal().Times(output.numel());
        }

        protected override Validation MakeValidation(Tensor stored, Tensor? clean, Generator gen)
        {
            if (clean is not null) return new(stored.alias(), clean.alias(), null);
            long seed = torch.randint(0, int.MaxValue, new long[] { 1 }, generator: gen, device: stored.device).item<long>();
            var (input, mask) = Mask(stored, new Random((int)seed));
            return new(input, null, torch.cat(new[] { stored, mask }, 1), (output, target) => MaskedLoss(output, target, (o, t) => nn.functional.mse_loss(o, t)));
        }

        static (Tensor Input, Tensor Mask) Mask(Tensor noisy, Random random)
        {
            int n = (int)noisy.shape[0], c = (int)noisy.shape[1], h = (int)noisy.shape[2], w = (int)noisy.shape[3];
            float[] values = noisy.cpu().contiguous().data<float>().ToArray();
            var (mask, _) = BlindSpot.Apply(values, n, c, h, w, random);
            return (torch.tensor(values, noisy.shape, device: noisy.device),
                    torch.tensor(mask, new long[] { n, 1, h, w }, device: noisy.device).to_type(ScalarType.Float32));
        }
    }
}

/// <summary>
/// The held-out examples as validation sees them: the model's input, and either the clean images (PSNR) or the
/// self-supervised target (the training loss's own reference; <see cref="SelfLoss"/> when it is not plain MSE).
/// </summary>
public sealed class Validation(Tensor input, Tensor? clean, Tensor? selfTarget, Func<Tensor, Tensor, Tensor>? selfLoss = null) : IDisposable
{
    public Tensor Input { get; } = input;
    public Tensor? Clean { get; } = clean;
    public Tensor? SelfTarget { get; } = selfTarget;
    Func<Tensor, Tensor, Tensor> SelfLoss { get; } = selfLoss ?? ((o, t) => nn.functional.mse_loss(o, t));

    /// <summary>
    /// MSE and PSNR against the clean images when there are any; otherwise the self-supervised loss (MSE against the
    /// other of a pair, or at the blind spots) with the PSNRs not a number, as nothing clean exists to measure them.
    /// </summary>
    public TestScores Score(nn.Module<Tensor, Tensor> model, BatchParts parts)
    {
        if (Clean is { } clean) return Evaluator.Score(model, clean, Input, parts);
        model.eval();
        using var _ = torch.no_grad();
        using var partThreads = parts.PartThreadsHere();
        using var scope = NewDisposeScope();
        long n = Input.shape[0], batch = 100;
        var sum = torch.zeros(1, dtype: ScalarType.Float64, device: Input.device);
        for (long start = 0; start < n; start += batch)
        {
            long len = Math.Min(batch, n - start);
            var output = parts.Forward(model, Cpu.CpuLayout.ForModel(Input.narrow(0, start, len)));
            sum.Plus_(SelfLoss(output, SelfTarget!.narrow(0, start, len)).to_type(ScalarType.Float64).Times(len));
        }
        model.train();
        return new TestScores(sum.item<double>() / n, double.NaN, double.NaN);
    }

    public Validation MoveToOuterDisposeScope()
    {
        foreach (var t in new[] { Input, Clean, SelfTarget }) t?.MoveToOuterDisposeScope();
        return this;
    }

    public void Dispose()
    {
        foreach (var t in new[] { Input, Clean, SelfTarget }) t?.Dispose();
    }
}
