// Every setting of a training run, with its default and why; resolved once, printed, and saved with the run.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Denoiser.Training;

/// <summary>
/// Precedence: these defaults, then appsettings.json ("Train" section), then DENOISER_Train__* environment
/// variables, then command-line options. Frozen after that, stored in settings.json and in every checkpoint.
/// </summary>
public sealed record TrainSettings
{
    public string Model { get; init; } = Models.ConvDenoiser.Kind; // the seed; `denoiser shapes` lists the others
    public string Dataset { get; init; } = "auto";      // auto = what DataDir holds: MNIST, CIFAR-10 or pictures
    public int Crop { get; init; } = 0;                 // side of the crops taken from a folder of pictures; 0 = the model's own
    public int Patch { get; init; } = 0;                // side of the patches redrawn every epoch from a folder's whole images; 0 = fixed crops
    public int PatchesPerEpoch { get; init; } = 0;      // with Patch: patches per epoch; 0 = 16 per training image
    public int Epochs { get; init; } = 20;              // the seed's recipe; PSNR is still rising slowly at 20
    public int BatchSize { get; init; } = 20;           // the seed's DataLoader batch size
    public double LearningRate { get; init; } = 1e-3;   // Adam's usual default, as in the seed
    public string LrSchedule { get; init; } = "constant"; // the seed's; cosine or step:EVERY:FACTOR for photo models
    public string Loss { get; init; } = "mse";          // the seed's; l1 as DRUNet trains (see Training.Loss)
    public string Target { get; init; } = "clean";      // clean images + Noise; noisy-pairs (Noise2Noise) or blind-spot (Noise2Void): noisy images alone
    public string? CleanDir { get; init; }              // self-supervised runs: clean versions of the folder's images, for validation PSNR only
    [JsonConverter(typeof(NoiseSpecConverter))]
    public string Noise { get; init; } = "gaussian:0.5,clip"; // x + 0.5*randn clipped to [0, 1], as in the seed; see Data.Noise for kinds
    public long Seed { get; init; } = 1;                // drives initialisation, shuffling and noise
    public string Device { get; init; } = "auto";       // auto = CUDA when available, else CPU
    public int Threads { get; init; } = 0;              // intra-op threads; 0 = one per core
    public string DataDir { get; init; } = "data/mnist";
    public string ModelsDir { get; init; } = "models";  // each run gets a folder here unless RunDir is set
    public string? RunDir { get; init; }
    public int TrainSize { get; init; } = 0;            // first N training images; 0 = all 60,000
    public int TestSize { get; init; } = 0;             // first N test images; 0 = all 10,000
    public double ClipGrad { get; init; } = 0;          // max gradient norm per step; 0 = no clipping (the seed clips none)
    public bool TensorBoard { get; init; } = false;     // also write TensorBoard event files to RUN/tensorboard
    public string? InitFrom { get; init; }               // fine-tuning: weights to start from (resolved to a file); null = random

    /// <summary>An epoch's patches are one byte array: bounded, so a mistyped count is a usage error, not an allocation failure.</summary>
    const long MaxEpochBytes = 1L << 30;

    /// <summary>The first broken range, as an option name and what it must be; null when all are valid.</summary>
    public string? Validate() =>
        Models.Registry.Find(Model) == null ? $"--model must be one of {Models.Registry.Names}, not '{Model}'" :
        DatasetProblem() is { } dataset ? "--dataset: " + dataset :
        Crop < 0 ? "--crop must be 0 (the model's own size) or more" :
        Patch < 0 ? "--patch must be 0 (fixed crops) or more" :
        Patch > 0 && Crop > 0 ? "--patch and --crop: give one (--patch redraws its patches every epoch, --crop draws its crops once)" :
        PatchesPerEpoch < 0 ? "--patches-per-epoch must be 0 (16 per training image) or more" :
        PatchesPerEpoch > 0 && Patch == 0 ? "--patches-per-epoch needs --patch" :
        (long)PatchesPerEpoch * Patch * Patch > MaxEpochBytes ? $"--patches-per-epoch {PatchesPerEpoch} of --patch {Patch} would hold more than 1 GB of pixels an epoch; use fewer patches and more epochs" :
        Epochs < 1 ? "--epochs must be at least 1" :
        BatchSize < 1 ? "--batch-size must be at least 1" :
        !(LearningRate > 0) || double.IsInfinity(LearningRate) ? "--lr must be a positive number" :
        ScheduleProblem() is { } schedule ? "--lr-schedule: " + schedule :
        LossProblem() is { } loss ? "--loss: " + loss :
        Target is not ("clean" or "noisy-pairs" or "blind-spot") ? $"--target must be {Training.Target.Kinds}, not '{Target}'" :
        CleanDir != null && Target == "clean" ? "--clean-dir is for --target noisy-pairs or blind-spot (the supervised target's images are clean already)" :
        Noise.Trim().Equals("none", StringComparison.OrdinalIgnoreCase) && Target == "clean" ? "--noise none: supervised training learns to remove the noise it adds; for images that are noisy already use --target blind-spot or noisy-pairs" :
        !Noise.Trim().Equals("none", StringComparison.OrdinalIgnoreCase) && Target == "blind-spot" ? $"--noise {Noise}: --target blind-spot learns the noise already in the images and adds none; drop --noise" :
        NoiseProblem() is { } noise ? "--noise: " + noise :
        Threads < 0 ? "--threads must be 0 (one per core) or more" :
        !(ClipGrad >= 0) || double.IsInfinity(ClipGrad) ? "--clip-grad must be 0 (off) or a positive number" :
        TrainSize < 0 ? "--train-size must be 0 (all) or more" :
        TestSize < 0 ? "--test-size must be 0 (all) or more" :
        Devices.Problem(Device) is { } device ? device :
        null;

    string? DatasetProblem()
    {
        try { Data.Datasets.Parse(Dataset); return null; }
        catch (FormatException e) { return e.Message; }
    }

    string? ScheduleProblem()
    {
        try { Training.LrSchedule.Parse(LrSchedule); return null; }
        catch (FormatException e) { return e.Message; }
    }

    string? LossProblem()
    {
        try { Training.Loss.Parse(Loss); return null; }
        catch (FormatException e) { return e.Message; }
    }

    string? NoiseProblem()
    {
        try { Data.Noise.Parse(Noise); return null; }
        catch (FormatException e) { return e.Message; }
    }
}

/// <summary>Reads a noise spec written as a string, or as a bare sigma (the first checkpoints stored a number).</summary>
public sealed class NoiseSpecConverter : JsonConverter<string>
{
    public override string Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Number
            ? "gaussian:" + reader.GetDouble().ToString(System.Globalization.CultureInfo.InvariantCulture)
            : reader.GetString() ?? throw new JsonException("Noise is null");

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}
