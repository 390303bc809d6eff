// Every setting of a training run, declared once: its default with why, then its option, help and range. Resolved
// once, printed, and saved with the run.
using Denoiser.Commands;
using Denoiser.Data;

namespace Denoiser.Training;

/// <summary>
/// Precedence: these defaults, then appsettings.json ("Train" section), then DENOISER_Train__* environment
/// variables, then command-line options. Frozen after that, stored in settings.json and in every checkpoint.
/// </summary>
/// <remarks>
/// A setting is its property here and its line in <see cref="Options"/>; everything else (train's options and help,
/// the settings file, DENOISER_Train__* variables, range errors, what --resume may change) is derived from those.
/// </remarks>
public sealed record TrainSettings
{
    public string Model { get; init; } = Models.ConvDenoiser.Kind; // the seed; `denoiser shapes` lists the others
    public string Dataset { get; init; } = "auto"; // auto = what DataDir holds: MNIST, CIFAR-10 or pictures
    public int Crop { get; init; } = 0;
    public int Patch { get; init; } = 0;
    public int PatchesPerEpoch { get; init; } = 0;
    public int Epochs { get; init; } = 20; // the seed's recipe; PSNR is still rising slowly at 20
    public int BatchSize { get; init; } = 20; // the seed's DataLoader batch size
    public double LearningRate { get; init; } = 1e-3; // Adam's usual default, as in the seed
    public LrSchedule LrSchedule { get; init; } = LrSchedule.Constant; // the seed's; cosine or step for photo models
    public Loss Loss { get; init; } = Loss.Mse; // the seed's; l1 as DRUNet trains
    public TargetKind Target { get; init; } = TargetKind.Clean;
    public string? CleanDir { get; init; }
    public Noise Noise { get; init; } = Data.Noise.Parse("gaussian:0.5,clip"); // x + 0.5*randn clipped to [0, 1], as in the seed
    public string? RealPairs { get; init; } // null = synthetic noise only
    public double RealShare { get; init; } = 0.25; // real pairs are few (PolyU's 11 frames): enough to learn a camera's noise, not to forget the synthetic range
    public double RealDrift { get; init; } = 0; // off: settings recorded before the option lack it, and a resumed run keeps its recipe; photo-rgb trains with 16
    public long Seed { get; init; } = 1;
    public string Device { get; init; } = "auto"; // auto = CUDA when available, else CPU
    public int Threads { get; init; } = 0;
    public string DataDir { get; init; } = "data/mnist";
    public string ModelsDir { get; init; } = "models"; // each run gets a folder here unless RunDir is set
    public string? RunDir { get; init; }
    public int TrainSize { get; init; } = 0;
    public int TestSize { get; init; } = 0;
    public double ClipGrad { get; init; } = 0; // the seed clips none
    public bool TensorBoard { get; init; } = false;
    public string? InitFrom { get; init; } // resolved to a file when the run starts; null = random

    /// <summary>
    /// Each setting's option, in the order help lists them: its configuration key (the property's name), option, help,
    /// how it is read from and written to the record, its range, and whether a resumed run may change it.
    /// </summary>
    public static readonly IReadOnlyList<Setting> Options =
    [
        Setting.Of(nameof(Model), "--model", $"Model to train: {Models.Registry.Names}",
                   s => s.Model, (s, v) => s with { Model = v }),
        Setting.Of(nameof(Dataset), "--dataset", $"What --data-dir holds: {Datasets.Names}",
                   s => s.Dataset, (s, v) => s with { Dataset = v }),
        Setting.Of(nameof(Crop), "--crop", "Side of the random crops taken from a folder of images; 0 = the model's own (28 or 32)",
                   s => s.Crop, (s, v) => s with { Crop = v }, Rule.AtLeast(0, "the model's own size")),
        Setting.Of(nameof(Patch), "--patch", "Side of random patches of a folder's whole images, redrawn every epoch in any of 8 flips and rotations (photo models); 0 = fixed crops (--crop)",
                   s => s.Patch, (s, v) => s with { Patch = v }, Rule.AtLeast(0, "fixed crops")),
        Setting.Of(nameof(PatchesPerEpoch), "--patches-per-epoch", "With --patch: patches per epoch; 0 = 16 per training image",
                   s => s.PatchesPerEpoch, (s, v) => s with { PatchesPerEpoch = v }, Rule.AtLeast(0, "16 per training image")),
        Setting.Of(nameof(Epochs), "--epochs", "Epochs to train (in total, when resuming)",
                   s => s.Epochs, (s, v) => s with { Epochs = v }, Rule.AtLeast(1), resumable: true),
        Setting.Of(nameof(BatchSize), "--batch-size", "Images per batch",
                   s => s.BatchSize, (s, v) => s with { BatchSize = v }, Rule.AtLeast(1)),
        Setting.Of(nameof(LearningRate), "--lr", "Adam learning rate",
                   s => s.LearningRate, (s, v) => s with { LearningRate = v }, Rule.Positive<double>()),
        Setting.Of(nameof(LrSchedule), "--lr-schedule", $"Learning rate over the run: {LrSchedule.Kinds}",
                   s => s.LrSchedule, (s, v) => s with { LrSchedule = v }, parse: LrSchedule.Parse),
        Setting.Of(nameof(Loss), "--loss", $"What training minimises: {Loss.Kinds} (validation is MSE / PSNR either way)",
                   s => s.Loss, (s, v) => s with { Loss = v }, parse: Loss.Parse),
        Setting.Of(nameof(Target), "--target", $"What the model learns from: {TargetKind.Kinds} (clean images with --noise added; pairs of noisy shots, Noise2Noise; single noisy images, Noise2Void)",
                   s => s.Target, (s, v) => s with { Target = v }, parse: TargetKind.Parse),
        Setting.Of(nameof(CleanDir), "--clean-dir", "With --target noisy-pairs or blind-spot: clean versions of the folder's images (same names), for validation PSNR only",
                   s => s.CleanDir, (s, v) => s with { CleanDir = v }),
        Setting.Of(nameof(Noise), "--noise", $"Noise added to [0,1] images: {Data.Noise.Kinds}",
                   s => s.Noise, (s, v) => s with { Noise = v }, parse: Data.Noise.Parse),
        Setting.Of(nameof(RealPairs), "--real-pairs", "Real noisy photographs with clean versions to train on beside --data-dir's clean images (" + Data.RealPairs.Rule + "); with --patch",
                   s => s.RealPairs, (s, v) => s with { RealPairs = v }, resumable: true),
        Setting.Of(nameof(RealShare), "--real-share", "With --real-pairs: the share of each epoch's patches cut from them",
                   s => s.RealShare, (s, v) => s with { RealShare = v }, Rule.AtLeast(0.0)),
        Setting.Of(nameof(RealDrift), "--real-drift", "With --real-pairs: move each clean version to its noisy photograph's slow brightness (their difference blurred by a Gaussian of this many pixels), which no denoiser can know; 0 = off",
                   s => s.RealDrift, (s, v) => s with { RealDrift = v }, Rule.AtLeast(0.0, "off")),
        Setting.Of(nameof(Seed), "--seed", "Seed for initialisation, shuffling and noise",
                   s => s.Seed, (s, v) => s with { Seed = v }),
        Setting.Of(nameof(Device), "--device", Devices.DeviceHelp,
                   s => s.Device, (s, v) => s with { Device = v }, resumable: true),
        Setting.Of(nameof(Threads), "--threads", Devices.ThreadsHelp,
                   s => s.Threads, (s, v) => s with { Threads = v }, Rule.AtLeast(0, "one per core"), resumable: true),
        Setting.Of(nameof(DataDir), "--data-dir", "MNIST's IDX files (fetched when missing), CIFAR-10's binary files or .tar.gz, or a folder of images",
                   s => s.DataDir, (s, v) => s with { DataDir = v }, resumable: true),
        Setting.Of(nameof(ModelsDir), "--models-dir", "Folder where new run folders are made",
                   s => s.ModelsDir, (s, v) => s with { ModelsDir = v }, resumable: true),
        Setting.Of(nameof(RunDir), "--run-dir", "Run folder to write (or, with --resume, to continue) [default: a new folder under --models-dir]",
                   s => s.RunDir, (s, v) => s with { RunDir = v }, resumable: true),
        Setting.Of(nameof(TrainSize), "--train-size", "Use the first N training images; 0 = all",
                   s => s.TrainSize, (s, v) => s with { TrainSize = v }, Rule.AtLeast(0, "all")),
        Setting.Of(nameof(TestSize), "--test-size", "Use the first N test images; 0 = all",
                   s => s.TestSize, (s, v) => s with { TestSize = v }, Rule.AtLeast(0, "all")),
        Setting.Of(nameof(ClipGrad), "--clip-grad", "Clip the gradient norm to this per step; 0 = off",
                   s => s.ClipGrad, (s, v) => s with { ClipGrad = v }, Rule.AtLeast(0.0, "off")),
        Setting.Of(nameof(TensorBoard), "--tensorboard", "Also write TensorBoard event files (scalars, sample pictures) to RUN/tensorboard",
                   s => s.TensorBoard, (s, v) => s with { TensorBoard = v }, resumable: true),
        Setting.Of(nameof(InitFrom), "--init-from", "Fine-tune: start from these weights (a run folder, a checkpoint, a .safetensors file or a shipped model's name) instead of random ones",
                   s => s.InitFrom, (s, v) => s with { InitFrom = v }),
    ];

    /// <summary>An epoch's patches are one byte array: bounded, so a mistyped count is a usage error, not an allocation failure.</summary>
    const long MaxEpochBytes = 1L << 30;

    /// <summary>The first broken rule between settings, as an option name and what it must be; null when all hold.</summary>
    /// <remarks>Each setting's own range is checked where it is read (<see cref="Options"/>).</remarks>
    public string? Validate() =>
        Models.Registry.Find(Model) == null ? $"--model must be one of {Models.Registry.Names}, not '{Model}'" :
        DatasetProblem() is { } dataset ? "--dataset: " + dataset :
        Patch > 0 && Crop > 0 ? "--patch and --crop: give one (--patch redraws its patches every epoch, --crop draws its crops once)" :
        PatchesPerEpoch > 0 && Patch == 0 ? "--patches-per-epoch needs --patch" :
        (long)PatchesPerEpoch * Patch * Patch > MaxEpochBytes ? $"--patches-per-epoch {PatchesPerEpoch} of --patch {Patch} would hold more than 1 GB of pixels an epoch; use fewer patches and more epochs" :
        RealPairs != null && Patch == 0 ? "--real-pairs needs --patch (patches are cut from the full-size photographs)" :
        RealDrift > 0 && RealPairs == null ? "--real-drift needs --real-pairs" :
        RealShare > 1 ? $"--real-share {RealShare}: a share is between 0 and 1" :
        CleanDir != null && Target == TargetKind.Clean ? "--clean-dir is for --target noisy-pairs or blind-spot (the supervised target's images are clean already)" :
        Noise is NoNoise && Target == TargetKind.Clean ? "--noise none: supervised training learns to remove the noise it adds; for images that are noisy already use --target blind-spot or noisy-pairs" :
        Noise is not NoNoise && Target == TargetKind.BlindSpot ? $"--noise {Noise}: --target blind-spot learns the noise already in the images and adds none; drop --noise" :
        Devices.Problem(Device) is { } device ? device :
        null;

    string? DatasetProblem()
    {
        try { Datasets.Parse(Dataset); return null; }
        catch (FormatException e) { return e.Message; }
    }
}
