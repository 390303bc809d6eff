// Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017): MNIST's format, names and sizes, with clothing instead of digits.
// Debian packages it (dataset-fashion-mnist), so it is read from there rather than fetched.
namespace Denoiser.Data;

public static class FashionMnist
{
    public const string DebianFolder = "/usr/share/datasets/fashion-mnist";
    public const string Install = "sudo apt-get install dataset-fashion-mnist";

    /// <summary>Digests of the raw files (decompressed, like MNIST's), taken from Debian's dataset-fashion-mnist
    /// 0.0~git20200523.55506a9-1, whose .gz files hash to cc1d090a..., 8d3605d1..., b0564c3e... and 0ae29f65....</summary>
    public static readonly IReadOnlyList<MnistFile> Files = new MnistFile[]
    {
        new("train-images-idx3-ubyte", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", 47_040_016),
        new("train-labels-idx1-ubyte", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", 60_008),
        new("t10k-images-idx3-ubyte", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", 7_840_016),
        new("t10k-labels-idx1-ubyte", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", 10_008),
    };

    /// <summary>
    /// The folder to read Fashion-MNIST from: <paramref name="dataDir"/> when it holds the four IDX files and they are
    /// not MNIST itself (Fashion-MNIST, or small files of the same format); else the Debian package's folder
    /// (<paramref name="packageFolder"/>), verified by SHA-256 once; else a line saying how to install it.
    /// </summary>
    public static string Folder(string dataDir, string packageFolder = DebianFolder)
    {
        if (Complete(dataDir) && !HoldsLabelsOf(dataDir, MnistFiles.Official)) return dataDir;
        if (!Complete(packageFolder))
            throw new FileNotFoundException($"Fashion-MNIST is neither in {dataDir} nor in {packageFolder}; install it with `{Install}` (or point --data-dir at its four IDX files).");
        if (Path.GetFullPath(packageFolder) != Path.GetFullPath(dataDir))
            foreach (var f in Files)
            {
                string path = MnistFiles.Locate(packageFolder, f.Name);
                if (MnistFiles.RawSha256(path) != f.Sha256)
                    throw new InvalidDataException($"{path}: is not Fashion-MNIST as Debian ships it (its SHA-256 differs); reinstall it with `sudo apt-get install --reinstall dataset-fashion-mnist`.");
            }
        return packageFolder;
    }

    static bool Complete(string dir) => Files.All(f => MnistFiles.TryLocate(dir, f.Name) != null);

    /// <summary>Whether the test labels in <paramref name="dir"/> are those of <paramref name="manifest"/>: 10 kB to hash,
    /// enough to tell MNIST from Fashion-MNIST, whose files share their names.</summary>
    public static bool HoldsLabelsOf(string dir, IReadOnlyList<MnistFile> manifest) =>
        MnistFiles.TryLocate(dir, "t10k-labels-idx1-ubyte") is { } path
        && MnistFiles.RawSha256(path) == manifest.Single(f => f.Name == "t10k-labels-idx1-ubyte").Sha256;
}
