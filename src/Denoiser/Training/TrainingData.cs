// What a run trains on: its data folder's splits, as the run's target lays them out (single images, stored or drawn
// pairs), checked against the model before anything is written.
using Denoiser.Data;

namespace Denoiser.Training;

/// <summary>The two splits, what "auto" found, the settings as resolved, and the target that makes examples.</summary>
public sealed record TrainingData(IEpochImages Train, ImageSet Test, DatasetKind Kind, TrainSettings Settings, Target Target) : IDisposable
{
    public void Dispose()
    {
        (Train as IDisposable)?.Dispose();
        Test.Dispose();
    }

    static int? Limit(int size) => size > 0 ? size : null;

    /// <summary>What the run learns from, in a line; null for the supervised target.</summary>
    public static string? DescribeTarget(TrainSettings s)
    {
        string validation = s.CleanDir is { } clean ? $"validated by PSNR against the clean versions in {clean}"
                                                    : "validated by the same loss on the held-out noisy images (no clean images seen)";
        return s.Target == TargetKind.NoisyPairs && s.Noise is NoNoise
                ? $"noisy pairs (Noise2Noise): one of each pair in, the other as the target, nothing added; {validation}"
            : s.Target == TargetKind.NoisyPairs
                ? $"Noise2Noise pairs drawn from clean images: two independent draws of {s.Noise}, one in and one as the target; the clean images only in validation"
            : s.Target == TargetKind.BlindSpot
                ? $"blind spots (Noise2Void): 1 pixel in {BlindSpot.Box * BlindSpot.Box} of each patch replaced by a neighbour, the loss at those alone, nothing added; {validation}"
            : null;
    }

    /// <summary>How the folder's files make training examples for the run's target (the test split adds --clean-dir's).</summary>
    static FolderLayout Layout(TrainSettings settings, DatasetKind kind)
    {
        if (settings.Target == TargetKind.Clean) return FolderLayout.Single;
        if (kind != DatasetKind.Images)
            throw new UserException($"--target {settings.Target} trains on a folder of noisy images, and {settings.DataDir} holds {Datasets.Describe(kind)}; point --data-dir at a folder of images.", ExitCodes.Usage);
        if (settings.CleanDir is { } clean && !Directory.Exists(clean))
            throw new UserException($"--clean-dir {clean}: folder not found; give the folder of the clean versions, or drop --clean-dir to validate on the self-supervised loss.", ExitCodes.Usage);
        if (settings.Target == TargetKind.BlindSpot) return FolderLayout.Single;
        bool pairs = NoisyPairs.Holds(settings.DataDir), drawn = settings.Noise is not NoNoise;
        if (pairs && drawn)
            throw new UserException($"{settings.DataDir}: holds noisy pairs, and --noise {settings.Noise} would add noise to them; drop --noise (nothing is added to images that are noisy already).", ExitCodes.Usage);
        if (!pairs && !drawn)
            throw new UserException($"{settings.DataDir}: holds no noisy pairs ({NoisyPairs.Rule}); give a folder of pairs, or --noise SPEC to draw two noisy versions of each clean image.", ExitCodes.Usage);
        if (drawn && settings.CleanDir != null)
            throw new UserException($"--clean-dir: with --noise the pairs are drawn from {settings.DataDir}'s clean images, which validation uses already; drop --clean-dir.", ExitCodes.Usage);
        return pairs ? new FolderLayout(Pairs: true) : FolderLayout.Single;
    }

    /// <summary>
    /// Both splits, converted to the model's channels, after checking the model maps their size to itself, and the
    /// target that makes examples of them (pairs stored or drawn). <paramref name="fetchMnist"/> gets MNIST into a
    /// folder that lacks it. The settings come back with DataDir where Fashion-MNIST was found (Debian's folder unless
    /// --data-dir holds it) and Dataset as found, for the run's record.
    /// </summary>
    public static TrainingData Load(TrainSettings settings, Models.ModelInfo info, Action<string> fetchMnist, string fashionMnistDir)
    {
        int side = settings.Patch > 0 ? settings.Patch : settings.Crop > 0 ? settings.Crop : info.Side;
        var request = new DatasetRequest(settings.DataDir, Datasets.Parse(settings.Dataset), side, info.Channels, settings.Seed);
        var kind = Datasets.Resolve(request);
        if (kind == DatasetKind.Mnist) fetchMnist(settings.DataDir);
        if (kind == DatasetKind.FashionMnist)
        {
            settings = settings with { DataDir = FashionMnist.Folder(settings.DataDir, fashionMnistDir) };
            request = request with { DataDir = settings.DataDir };
        }
        string sideOption = settings.Patch > 0 ? "--patch" : "--crop";
        if (settings.Patch > 0 && kind != DatasetKind.Images)
            throw new UserException($"--patch draws patches from a folder of images, and {settings.DataDir} holds {Datasets.Describe(kind)}; drop --patch or point --data-dir at a folder of images.", ExitCodes.Usage);
        if (kind == DatasetKind.Images && info.PaddedSide(side) != side)
            throw new UserException($"{sideOption} {side}: {info.Name} maps only sides of {info.KeptSides} to themselves; try {sideOption} {info.PaddedSide(side)}.", ExitCodes.Usage);
        var layout = Layout(settings, kind);
        if (settings.RealPairs is { } realDir && !Directory.Exists(realDir))
            throw new UserException($"--real-pairs {realDir}: folder not found; give a folder of {Data.RealPairs.Rule}.", ExitCodes.Usage);
        IEpochImages train = settings.RealPairs is { } real
            ? MixedPatches.Load(settings.DataDir, real, settings.RealShare, settings.RealDrift, side, info.Channels, settings.PatchesPerEpoch, settings.Seed, Limit(settings.TrainSize))
            : settings.Patch > 0
            ? Patches.FromFolder(settings.DataDir, side, info.Channels, settings.PatchesPerEpoch, settings.Seed, Limit(settings.TrainSize), layout)
            : layout == FolderLayout.Single ? Datasets.Load(request with { Kind = kind }, train: true, Limit(settings.TrainSize))
            : ImageFolder.Load(settings.DataDir, train: true, side, info.Channels, settings.Seed, Limit(settings.TrainSize), layout);
        ImageSet? test = null;
        try
        {
            test = layout == FolderLayout.Single && settings.CleanDir == null
                ? Datasets.Load(request with { Kind = kind }, train: false, Limit(settings.TestSize))
                : ImageFolder.Load(settings.DataDir, train: false, side, info.Channels, settings.Seed, Limit(settings.TestSize), layout with { CleanDir = settings.CleanDir });
            foreach (int trainSide in new[] { train.Height, train.Width })
                if (info.PaddedSide(trainSide) != trainSide)
                    throw new UserException($"{settings.DataDir}: its {train.Width}x{train.Height} images do not come out of {info.Name} at the same size " +
                                            $"(it keeps sides of {info.KeptSides}); choose another --model (see `denoiser shapes --model {info.Name} --input {train.Channels}x{train.Height}x{train.Width}`).", ExitCodes.Usage);
        }
        catch
        {
            (train as IDisposable)?.Dispose();
            test?.Dispose();
            throw;
        }
        // The files' bytes (55 MB for MNIST) are garbage once they are tensors, and a training run allocates too
        // little managed memory for the GC to come by on its own: measured, 80 MB less peak resident memory.
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var target = Target.Create(settings.Target, settings.Noise, info.Channels, onDisk: layout.Pairs, info.TakesNoiseLevel, realPairs: settings.RealPairs != null);
        return new TrainingData(train, test!, kind, settings with { Dataset = Datasets.Name(kind) }, target);
    }
}
