// Any folder of pictures as a dataset: a seeded train/test split by file, and seeded random crops of one size.
using TorchSharp;

namespace Denoiser.Data;

public static class ImageFolder
{
    /// <summary>One file in TestEvery goes to the test split.</summary>
    public const int TestEvery = 10;
    /// <summary>Crops per image: one per crop-sized area of the image, at most this many.</summary>
    public const int MaxCropsPerImage = 64;

    /// <summary>The image files under <paramref name="dir"/> (recursively), in ordinal order.</summary>
    public static List<string> Files(string dir) =>
        Directory.Exists(dir)
            ? Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
                .Where(f => ImageFile.Extensions.Any(f.ToLowerInvariant().EndsWith)).OrderBy(f => f, StringComparer.Ordinal).ToList()
            : new List<string>();

    /// <summary>
    /// Crops of <paramref name="side"/> x <paramref name="side"/> with <paramref name="channels"/> channels (1: luma,
    /// 3: RGB; alpha dropped) from the files of one split. Which split a file is in depends only on its path below
    /// <paramref name="dir"/> and the seed, so adding files never moves the others between splits; the crops are
    /// drawn once, from the seed.
    /// </summary>
    /// <param name="layout">How files make examples (pairs, clean versions); stacked as channels. Default: each file alone.</param>
    public static ImageSet Load(string dir, bool train, int side, int channels, long seed, int? limit = null, FolderLayout? layout = null)
    {
        var chosen = Split(dir, (layout ?? FolderLayout.Single).Samples(dir), train, seed);

        // A seeded System.Random gives the same numbers on every run and platform (HashCode.Combine would not).
        var random = new Random(unchecked((int)(seed * 2 + (train ? 1 : 0))));
        var read = chosen.Select(sample =>
        {
            var picture = sample.Read(channels);
            if (picture.Width < side || picture.Height < side)
                throw new InvalidDataException($"{sample.Files[0]}: is {picture.Width}x{picture.Height}, smaller than the {side}x{side} crops; pass a smaller --crop or remove the file.");
            return picture;
        }).ToList();
        var crops = new List<float[]>();
        int stacked = channels * (layout ?? FolderLayout.Single).FilesPerSample, cropSize = stacked * side * side;
        foreach (var p in read)
        {
            int count = Math.Clamp(p.Width / side * (p.Height / side), 1, MaxCropsPerImage);
            for (int k = 0; k < count && crops.Count < (limit ?? int.MaxValue); k++)
            {
                int x0 = random.Next(p.Width - side + 1), y0 = random.Next(p.Height - side + 1);
                var crop = new float[cropSize];
                for (int c = 0; c < stacked; c++)
                    for (int y = 0; y < side; y++)
                        Array.Copy(p.Planes, (c * p.Height + y0 + y) * p.Width + x0, crop, (c * side + y) * side, side);
                crops.Add(crop);
            }
        }
        return new ImageSet(Stored(crops.SelectMany(c => c), read, new long[] { crops.Count, stacked, side, side }),
                            torch.full(crops.Count, -1L, dtype: torch.ScalarType.Int64));
    }

    /// <summary>
    /// Training samples as a tensor: bytes when every picture is 8-bit (a quarter of the memory; each value is on the
    /// 8-bit grid, so the bytes are exact), else float32 as read (16-bit and floating-point files).
    /// </summary>
    public static torch.Tensor Stored(IEnumerable<float> values, IReadOnlyList<Picture> from, long[] shape) =>
        from.All(p => p.Bits == 8)
            ? torch.tensor(values.Select(Picture.ToByte).ToArray(), shape)
            : torch.tensor(values.ToArray(), shape);

    /// <summary>
    /// The examples of one split (<see cref="FolderLayout.Samples"/>): one in <see cref="TestEvery"/> is held out for
    /// testing, by a hash of its path below <paramref name="dir"/> (for a pair, its _a file's) and the seed.
    /// </summary>
    public static List<FolderSample> Split(string dir, List<FolderSample> samples, bool train, long seed)
    {
        if (samples.Count < 2)
            throw new InvalidDataException($"{dir}: holds {samples.Count} image(s) ({string.Join(", ", ImageFile.Extensions)}); a training set needs at least 2 (1 in {TestEvery} is kept for testing).");
        var rank = samples.ToDictionary(s => s.Key, s => Hash(s.Key, seed));
        var test = samples.Where(s => rank[s.Key] % TestEvery == 0).ToList();
        if (test.Count == 0) test.Add(samples.MinBy(s => rank[s.Key])!); // too few files for the rule to pick one
        return train ? samples.Except(test).ToList() : test;
    }

    // The seed folded into FNV-1a's starting state: the split every earlier run used.
    static ulong Hash(string relative, long seed) => Seeds.PathHash(relative, 14695981039346656037UL ^ (ulong)seed);
}
