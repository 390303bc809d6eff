// Training patches from two sources at once: clean pictures that get synthetic noise, and real noisy photographs with
// their clean versions (a camera's own noise, which no synthesis quite makes).
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Data;

/// <summary>
/// An epoch of <see cref="Count"/> patches, (N, 2C + 1, S, S) bytes: the input planes, the clean planes, and a flag
/// plane that is 255 where the input is a real noisy photograph and 0 where it is the clean patch itself (noise is
/// drawn on it at training time). A share <paramref name="realShare"/> of the patches comes from the real pairs, cut at
/// one place and orientation in both; the rest from the clean pictures. Both draw from the run's seed and the epoch.
/// </summary>
public sealed class MixedPatches : IEpochImages, IDisposable
{
    readonly Patches clean, real;

    public int Count { get; }
    public int Channels { get; }
    public int Height => clean.Side;
    public int Width => clean.Side;
    /// <summary>Patches an epoch takes from the real pairs.</summary>
    public int RealCount => real.Count;
    /// <summary>The real pairs, and the clean pictures, patches are cut from.</summary>
    public int PairCount => real.ImageCount;

    MixedPatches(Patches clean, Patches real, int imageChannels)
    {
        (this.clean, this.real) = (clean, real);
        Count = clean.Count + real.Count;
        Channels = 2 * imageChannels + 1;
    }

    /// <summary>
    /// The training split of <paramref name="cleanDir"/>'s pictures, and every pair of <paramref name="realDir"/>
    /// (<see cref="RealPairs"/>), its clean version moved to the noisy one's slow brightness when <paramref name="drift"/>
    /// (pixels) is above 0 (<see cref="RealPairs.FollowDrift"/>).
    /// </summary>
    public static MixedPatches Load(string cleanDir, string realDir, double realShare, double drift, int side, int channels, int perEpoch, long seed, int? limit = null)
    {
        var pairs = RealPairs.Find(realDir);
        if (pairs is null || pairs.Count == 0)
            throw new InvalidDataException($"{realDir}: holds no real pairs; lay them out as {RealPairs.Rule}.");
        var cleanPatches = Patches.FromFolder(cleanDir, side, channels, perEpoch, seed, limit);
        int total = cleanPatches.Count, realCount = (int)Math.Round(total * realShare);
        var pictures = pairs.Select(p => new FolderSample(p.Name, new[] { p.Noisy, p.Clean }))
                            .Select(s => s.Read(channels))
                            .Select(p => drift > 0 ? RealPairs.FollowDrift(p, drift) : p).ToList();
        foreach (var (picture, pair) in pictures.Zip(pairs))
            if (picture.Width < side || picture.Height < side)
                throw new InvalidDataException($"{pair.Noisy}: is {picture.Width}x{picture.Height}, smaller than the {side}x{side} patches; pass a smaller --patch or remove the pair.");
        // Another stream of the seed than the clean patches', so the two never cut the same places in step.
        var realPatches = new Patches(pictures, 2 * channels, side, realCount, seed ^ 0x5EA1_DA7A);
        return new MixedPatches(cleanPatches.WithCount(total - realCount), realPatches, channels);
    }

    public Tensor ForEpoch(int epoch)
    {
        using var scope = NewDisposeScope();
        int c = (Channels - 1) / 2;
        var fromClean = clean.ForEpoch(epoch); // (Nc, C, S, S)
        var fromReal = real.ForEpoch(epoch);   // (Nr, 2C, S, S): noisy, clean
        if (fromClean.dtype != fromReal.dtype) // one source 16-bit or float: both as floats on [0, 1]
            (fromClean, fromReal) = (ImageSet.ToImages(fromClean), ImageSet.ToImages(fromReal));
        using Scalar on = fromReal.dtype == ScalarType.Byte ? 255 : 1; // held until full_like returns (docs/native-lifetimes.md)
        var synthetic = torch.cat(new[] { fromClean, fromClean, torch.zeros_like(fromClean.narrow(1, 0, 1)) }, 1);
        var measured = torch.cat(new[] { fromReal, torch.full_like(fromReal.narrow(1, 0, 1), on) }, 1);
        return torch.cat(new[] { synthetic, measured }, 0).MoveToOuterDisposeScope(); // the trainer shuffles
    }

    public void Dispose() { }
}
