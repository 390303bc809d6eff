// Folders of noisy pairs for Noise2Noise (Lehtinen et al., ICML 2018): two independent noisy shots of one scene,
// named NAME_a.EXT and NAME_b.EXT side by side; and the clean versions a self-supervised run may be validated against.
namespace Denoiser.Data;

/// <summary>
/// One training example's files, stacked as channels in this order: one image; or the two of a noisy pair; each
/// optionally followed by its clean version (for validation only). <see cref="Key"/> (a path relative to the folder)
/// decides the example's split.
/// </summary>
public sealed record FolderSample(string Key, IReadOnlyList<string> Files)
{
    /// <summary>The files as a model of <paramref name="channels"/> channels takes them (<see cref="Picture.As"/>), stacked (C x files planes); all must be one size.</summary>
    public Picture Read(int channels)
    {
        var read = Files.Select(f => ImageFile.Read(f).As(channels)).ToList();
        for (int i = 1; i < read.Count; i++)
            if (read[i].Width != read[0].Width || read[i].Height != read[0].Height)
                throw new InvalidDataException($"{Files[i]}: is {read[i].Width}x{read[i].Height} and {Files[0]} {read[0].Width}x{read[0].Height}; " +
                                               "the two of a pair, and an image and its clean version, must be the same size.");
        return Picture.Stack(read);
    }
}

/// <summary>How a folder's image files become examples.</summary>
/// <param name="Pairs">NAME_a / NAME_b pairs (<see cref="NoisyPairs"/>), not single images.</param>
/// <param name="CleanDir">Where each example's clean version is, by the same relative name (for a pair, NAME.EXT); null = none.</param>
public sealed record FolderLayout(bool Pairs = false, string? CleanDir = null)
{
    public static readonly FolderLayout Single = new();

    public int FilesPerSample => (Pairs ? 2 : 1) + (CleanDir != null ? 1 : 0);

    /// <summary>The examples of <paramref name="dir"/>, in ordinal order of their keys.</summary>
    public List<FolderSample> Samples(string dir)
    {
        if (!Directory.Exists(dir))
            throw new DirectoryNotFoundException($"{dir}: folder not found; point --data-dir at a folder of images.");
        var samples = Pairs
            ? NoisyPairs.Find(dir).Select(p => new FolderSample(Relative(dir, p.A), new[] { p.A, p.B })).ToList()
            : ImageFolder.Files(dir).Select(f => new FolderSample(Relative(dir, f), new[] { f })).ToList();
        return CleanDir == null ? samples : samples.Select(s => s with { Files = s.Files.Append(CleanVersion(dir, s)).ToList() }).ToList();
    }

    string CleanVersion(string dir, FolderSample sample)
    {
        string stem = Path.GetFileNameWithoutExtension(sample.Key);
        if (Pairs) stem = stem[..^NoisyPairs.SuffixA.Length];
        string folder = Path.Combine(CleanDir!, Path.GetDirectoryName(sample.Key) ?? "");
        var found = ImageFile.Extensions.Select(e => Path.Combine(folder, stem + e)).Where(File.Exists).ToList();
        return found switch
        {
            [var one] => one,
            [] => throw new FileNotFoundException($"{sample.Files[0]}: has no clean version {Path.Combine(folder, stem)}.* in --clean-dir {CleanDir}; " +
                                                  "it must hold the clean images under the same names (for a pair NAME_a / NAME_b, NAME)."),
            _ => throw new InvalidDataException($"{Path.Combine(folder, stem)}.*: {found.Count} clean versions ({string.Join(", ", found.Select(Path.GetFileName))}); keep one."),
        };
    }

    static string Relative(string dir, string file) => Path.GetRelativePath(dir, file).Replace('\\', '/');
}

public static class NoisyPairs
{
    public const string SuffixA = "_a", SuffixB = "_b";
    public const string Rule = "NAME_a.EXT and NAME_b.EXT side by side (two noisy shots of one scene)";

    /// <summary>Whether any image under <paramref name="dir"/> is named as one of a pair.</summary>
    public static bool Holds(string dir) => ImageFolder.Files(dir).Any(f => Side(f) != null);

    /// <summary>
    /// The pairs under <paramref name="dir"/>, in ordinal order; a file without its partner, a partner twice, or an
    /// image outside the rule is an error naming it, so a half-copied folder fails before training starts.
    /// </summary>
    public static List<(string A, string B)> Find(string dir)
    {
        var files = ImageFolder.Files(dir);
        var groups = new SortedDictionary<string, (List<string> A, List<string> B)>(StringComparer.Ordinal);
        foreach (string f in files)
        {
            char side = Side(f) ?? throw new InvalidDataException($"{f}: is not one of a pair; a folder of pairs holds only {Rule}.");
            string name = Path.Combine(Path.GetDirectoryName(f)!, Path.GetFileNameWithoutExtension(f)[..^SuffixA.Length]);
            if (!groups.TryGetValue(name, out var g)) groups[name] = g = (new(), new());
            (side == 'a' ? g.A : g.B).Add(f);
        }
        if (groups.Count == 0) throw new InvalidDataException($"{dir}: holds no pairs; name them {Rule}.");
        var pairs = new List<(string, string)>();
        foreach (var (name, (a, b)) in groups)
        {
            if (a.Count == 0 || b.Count == 0)
            {
                string have = (a.Count == 0 ? b : a)[0];
                throw new InvalidDataException($"{have}: has no partner {name}{(a.Count == 0 ? SuffixA : SuffixB)}.*; every noisy image needs its pair ({Rule}).");
            }
            if (a.Count > 1 || b.Count > 1)
                throw new InvalidDataException($"{name}: {a.Count} _a and {b.Count} _b images ({string.Join(", ", a.Concat(b).Select(Path.GetFileName))}); a pair is one of each.");
            pairs.Add((a[0], b[0]));
        }
        return pairs;
    }

    static char? Side(string file)
    {
        string stem = Path.GetFileNameWithoutExtension(file);
        return stem.Length > 2 && stem.EndsWith(SuffixA, StringComparison.Ordinal) ? 'a'
             : stem.Length > 2 && stem.EndsWith(SuffixB, StringComparison.Ordinal) ? 'b' : null;
    }
}
