// Real noisy photographs with clean versions, for scoring: PolyU's NAME_real / NAME_mean files side by side, or a
// noisy/ and a clean/ folder holding the same file names (as SIDD and most real-noise sets can be laid out).
namespace Denoiser.Data;

/// <summary>One scene: the noisy photograph and its clean version (a mean of many shots, or a low-ISO shot).</summary>
public sealed record RealPair(string Name, string Noisy, string Clean);

public static class RealPairs
{
    public const string RealSuffix = "_real", MeanSuffix = "_mean", NoisyFolder = "noisy", CleanFolder = "clean";

    public const string Rule = "NAME_real.EXT beside NAME_mean.EXT (PolyU), or noisy/ and clean/ folders holding the same file names";

    /// <summary>The pairs of <paramref name="dir"/> in ordinal order of their names; null when it is not laid out as pairs.</summary>
    /// <exception cref="InvalidDataException">A noisy photograph without its clean version, or the other way round.</exception>
    public static List<RealPair>? Find(string dir)
    {
        string noisyDir = Path.Combine(dir, NoisyFolder), cleanDir = Path.Combine(dir, CleanFolder);
        if (Directory.Exists(noisyDir) && Directory.Exists(cleanDir))
        {
            var noisy = Names(noisyDir);
            var clean = Names(cleanDir);
            if (noisy.Keys.Except(clean.Keys).FirstOrDefault() is { } lone)
                throw new InvalidDataException($"{noisy[lone]}: has no clean version {Path.Combine(cleanDir, lone)}; {Rule}.");
            if (clean.Keys.Except(noisy.Keys).FirstOrDefault() is { } orphan)
                throw new InvalidDataException($"{clean[orphan]}: has no noisy version {Path.Combine(noisyDir, orphan)}; {Rule}.");
            return noisy.Keys.Order(StringComparer.Ordinal).Select(k => new RealPair(k, noisy[k], clean[k])).ToList();
        }
        var files = ImageFolder.Files(dir);
        var real = files.Where(f => Path.GetFileNameWithoutExtension(f).EndsWith(RealSuffix, StringComparison.Ordinal)).ToList();
        if (real.Count == 0) return null;
        var pairs = new List<RealPair>();
        foreach (string f in real)
        {
            string stem = Path.GetFileNameWithoutExtension(f)[..^RealSuffix.Length];
            string mean = Path.Combine(Path.GetDirectoryName(f)!, stem + MeanSuffix + Path.GetExtension(f));
            if (!File.Exists(mean)) throw new InvalidDataException($"{f}: has no clean version {mean}; {Rule}.");
            pairs.Add(new RealPair(Path.GetRelativePath(dir, Path.Combine(Path.GetDirectoryName(f)!, stem)), f, mean));
        }
        return pairs.OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
    }

    static Dictionary<string, string> Names(string dir) =>
        ImageFolder.Files(dir).ToDictionary(f => Path.GetRelativePath(dir, f), f => f);
}
