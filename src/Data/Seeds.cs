// Seeds derived from a run's one seed, each a different stream, so that any part can be replayed on its own.
namespace Denoiser.Data;

/// <summary>Seeds derived from the run's seed, so any epoch can be replayed without replaying the ones before it.</summary>
public static class Seeds
{
    public static ulong ForEpoch(long seed, int epoch) => Mix((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)epoch);
    public static ulong ForTestNoise(long seed) => Mix((ulong)seed ^ 0xD1B54A32D192ED03UL);
    /// <summary>The patches an epoch draws: apart from ForEpoch, which drives shuffling and noise.</summary>
    public static ulong ForPatches(long seed, int epoch) => Mix(ForEpoch(seed, epoch) ^ 0x8CB92BA72F3D8DD7UL);

    /// <summary>A file's own stream, by its path relative to its folder: the same noise whichever files are made with it.</summary>
    public static ulong ForName(long seed, string relative) => Mix(PathHash(relative) ^ (ulong)seed * 0x9E3779B97F4A7C15UL);

    /// <summary>
    /// FNV-1a over a relative path's UTF-8 bytes, '/' as the separator on every platform (string.GetHashCode differs
    /// from run to run); <paramref name="basis"/> other than FNV's offset folds a seed in (ImageFolder's split).
    /// </summary>
    public static ulong PathHash(string relative, ulong basis = 14695981039346656037UL)
    {
        ulong h = basis;
        foreach (byte b in System.Text.Encoding.UTF8.GetBytes(relative.Replace('\\', '/'))) h = (h ^ b) * 1099511628211UL;
        return h;
    }

    // SplitMix64's finaliser (Steele, Lea & Flood 2014): nearby inputs give unrelated seeds.
    static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
