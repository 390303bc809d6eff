// Every setting of a training run, declared once: its option, help, range and default with why. Resolved once,
// printed, and saved with the run.
using Denoiser.Data;

namespace Denoiser.Training;

/// <summary>
/// A setting's command-line option, its help and its range: everything else (the option list, binding, the settings
/// file, environment variables, what --resume may change) is derived from these (Commands/SettingOptions).
/// </summary>
/// <param name="name">The option, "--epochs"; its configuration key is the property's name (Train:Epochs).</param>
/// <param name="help">What it does; "{models}" stands for the registered models' names.</param>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OptionAttribute(string name, string help) : Attribute
{
    public string Name { get; } = name;
    public string Help { get; } = help;
    /// <summary>The smallest value a number may take (NaN: no bound).</summary>
    public double Min { get; init; } = double.NaN;
    /// <summary>What 0 means, when 0 is allowed and special ("all", "one per core"); said in the range error.</summary>
    public string? Zero { get; init; }
    /// <summary>Only above Min (the learning rate), not at it.</summary>
    public bool AboveMin { get; init; }
    /// <summary>May change when a run resumes (how it continues, not its recipe).</summary>
    public bool Resumable { get; init; }
}

/// <summary>
/// Precedence: these defaults, then appsettings.json ("Train" section), then DENOISER_Train__* environment
/// variables, then command-line options. Frozen after that, stored in settings.json and in every checkpoint.
/// </summary>
public sealed record TrainSettings
{
    [Option("--model", "Model to train: {models}")]
    public string Model { get; init; } = Models.ConvDenoiser.Kind; // the seed; `denoiser shapes` lists the others

    [Option("--dataset", $"What --data-dir holds: {Datasets.Names}")]
    public string Dataset { get; init; } = "auto"; // auto = what DataDir holds: MNIST, CIFAR-10 or pictures

    [Option("--crop", "Side of the random crops taken from a folder of images; 0 = the model's own (28 or 32)", Min = 0, Zero = "the model's own size")]
    public int Crop { get; init; } = 0;

    [Option("--patch", "Side of random patches of a folder's whole images, redrawn every epoch in any of 8 flips and rotations (photo models); 0 = fixed crops (--crop)", Min = 0, Zero = "fixed crops")]
    public int Patch { get; init; } = 0;

    [Option("--patches-per-epoch", "With --patch: patches per epoch; 0 = 16 per training image", Min = 0, Zero = "16 per training image")]
    public int PatchesPerEpoch { get; init; } = 0;

    [Option("--epochs", "Epochs to train (in total, when resuming)", Min = 1, Resumable = true)]
    public int Epochs { get; init; } = 20; // the seed's recipe; PSNR is still rising slowly at 20

    [Option("--batch-size", "Images per batch", Min = 1)]
    public int BatchSize { get; init; } = 20; // the seed's DataLoader batch size

    [Option("--lr", "Adam learning rate", Min = 0, AboveMin = true)]
    public double LearningRate { get; init; } = 1e-3; // Adam's usual default, as in the seed

    [Option("--lr-schedule", $"Learning rate over the run: {LrSchedule.Kinds}")]
    public LrSchedule LrSchedule { get; init; } = LrSchedule.Constant; // the seed's; cosine or step for photo models

    [Option("--loss", $"What training minimises: {Loss.Kinds} (validation is MSE / PSNR either way)")]
    public Loss Loss { get; init; } = Loss.Mse; // the seed's; l1 as DRUNet trains

    [Option("--target", $"What the model learns from: {TargetKind.Kinds} (clean images with --noise added; pairs of noisy shots, Noise2Noise; single noisy images, Noise2Void)")]
    public TargetKind Target { get; init; } = TargetKind.Clean;

    [Option("--clean-dir", "With --target noisy-pairs or blind-spot: clean versions of the folder's images (same names), for validation PSNR only")]
    public string? CleanDir { get; init; }

    [Option("--noise", $"Noise added to [0,1] images: {Data.Noise.Kinds}")]
    public Noise Noise { get; init; } = Data.Noise.Parse("gaussian:0.5,clip"); // x + 0.5*randn clipped to [0, 1], as in the seed

    [Option("--real-pairs", "Real noisy photographs with clean versions to train on beside --data-dir's clean images (" + Data.RealPairs.Rule + "); with --patch", Resumable = true)]
    public string? RealPairs { get; init; } // null = synthetic noise only

    [Option("--real-share", "With --real-pairs: the share of each epoch's patches cut from them", Min = 0)]
    public double RealShare { get; init; } = 0.25; // real pairs are few (PolyU's 11 frames): enough to learn a camera's noise, not to forget the synthetic range

    [Option("--seed", "Seed for initialisation, shuffling and noise")]
    public long Seed { get; init; } = 1;

    [Option("--device", Devices.DeviceHelp, Resumable = true)]
    public string Device { get; init; } = "auto"; // auto = CUDA when available, else CPU

    [Option("--threads", Devices.ThreadsHelp, Min = 0, Zero = "one per core", Resumable = true)]
    public int Threads { get; init; } = 0;

    [Option("--data-dir", "MNIST's IDX files (fetched when missing), CIFAR-10's binary files or .tar.gz, or a folder of images", Resumable = true)]
    public string DataDir { get; init; } = "data/mnist";

    [Option("--models-dir", "Folder where new run folders are made", Resumable = true)]
    public string ModelsDir { get; init; } = "models"; // each run gets a folder here unless RunDir is set

    [Option("--run-dir", "Run folder to write (or, with --resume, to continue) [default: a new folder under --models-dir]", Resumable = true)]
    public string? RunDir { get; init; }

    [Option("--train-size", "Use the first N training images; 0 = all", Min = 0, Zero = "all")]
    public int TrainSize { get; init; } = 0;

    [Option("--test-size", "Use the first N test images; 0 = all", Min = 0, Zero = "all")]
    public int TestSize { get; init; } = 0;

    [Option("--clip-grad", "Clip the gradient norm to this per step; 0 = off", Min = 0, Zero = "off")]
    public double ClipGrad { get; init; } = 0; // the seed clips none

    [Option("--tensorboard", "Also write TensorBoard event files (scalars, sample pictures) to RUN/tensorboard", Resumable = true)]
    public bool TensorBoard { get; init; } = false;

    [Option("--init-from", "Fine-tune: start from these weights (a run folder, a checkpoint, a .safetensors file or a shipped model's name) instead of random ones")]
    public string? InitFrom { get; init; } // resolved to a file when the run starts; null = random

    /// <summary>An epoch's patches are one byte array: bounded, so a mistyped count is a usage error, not an allocation failure.</summary>
    const long MaxEpochBytes = 1L << 30;

    /// <summary>The first broken rule between settings, as an option name and what it must be; null when all hold.</summary>
    /// <remarks>Each setting's own range is checked where it is parsed (<see cref="OptionAttribute"/>).</remarks>
    public string? Validate() =>
        Models.Registry.Find(Model) == null ? $"--model must be one of {Models.Registry.Names}, not '{Model}'" :
        DatasetProblem() is { } dataset ? "--dataset: " + dataset :
        Patch > 0 && Crop > 0 ? "--patch and --crop: give one (--patch redraws its patches every epoch, --crop draws its crops once)" :
        PatchesPerEpoch > 0 && Patch == 0 ? "--patches-per-epoch needs --patch" :
        (long)PatchesPerEpoch * Patch * Patch > MaxEpochBytes ? $"--patches-per-epoch {PatchesPerEpoch} of --patch {Patch} would hold more than 1 GB of pixels an epoch; use fewer patches and more epochs" :
        RealPairs != null && Patch == 0 ? "--real-pairs needs --patch (patches are cut from the full-size photographs)" :
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
