// Real noisy photographs with clean versions, for scoring: PolyU's NAME_real / NAME_mean files side by side, or a
// noisy/ and a clean/ folder holding the same file names (as SIDD and most real-noise sets can be laid out).
using OpenCvSharp;

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

    /// <summary>
    /// <paramref name="pair"/> (the noisy planes, then the clean ones) with the clean planes moved to the noisy
    /// photograph's slow brightness: clean + G(noisy - clean), G a Gaussian blur of <paramref name="sigma"/> pixels.
    /// </summary>
    /// <remarks>
    /// A mean of many shots and one shot differ by more than noise: exposure and light drift between the shots, so
    /// PolyU's training pairs differ by 0.4 to 3.3 (0-255 scale) in their blurred difference and by up to 2.5 in a
    /// channel's mean. No denoiser can read that from the noisy photograph; trained on it, a model learns a brightness
    /// shift of the cameras in its pairs (one trained on Canon and Sony pairs darkened PolyU by 0.4). DND (Plötz and
    /// Roth, CVPR 2017) corrects its pairs' low-frequency residual for the same reason. Noise of a few pixels' reach
    /// barely survives a blur this wide, so the target keeps its detail and gains almost no noise. 8-bit pairs stay
    /// 8-bit in training (an epoch of floats would be four times the bytes), so the moved target is rounded to the
    /// 8-bit grid again: a drift below half a grey level is lost, as the mean's own JPEG rounding already was.
    /// </remarks>
    public static Picture FollowDrift(Picture pair, double sigma)
    {
        int c = pair.Channels / 2, n = pair.Pixels;
        var planes = (float[])pair.Planes.Clone();
        OpenCv.Quiet();
        using var difference = new Mat(pair.Height, pair.Width, MatType.CV_32FC1);
        using var drift = new Mat();
        var values = new float[n];
        bool clamp = pair.Bits != 32; // integer samples stop at 0 and 1; a float TIFF's are kept as stored
        for (int k = 0; k < c; k++)
        {
            for (int i = 0; i < n; i++) values[i] = planes[k * n + i] - planes[(c + k) * n + i];
            difference.SetArray(values);
            Cv2.GaussianBlur(difference, drift, new Size(0, 0), sigma, sigma, BorderTypes.Reflect101);
            drift.GetArray(out float[] slow);
            for (int i = 0; i < n; i++) planes[(c + k) * n + i] = clamp ? Math.Clamp(planes[(c + k) * n + i] + slow[i], 0f, 1f) : planes[(c + k) * n + i] + slow[i];
        }
        return pair with { Planes = planes };
    }

    static Dictionary<string, string> Names(string dir) =>
        ImageFolder.Files(dir).ToDictionary(f => Path.GetRelativePath(dir, f), f => f);
}
