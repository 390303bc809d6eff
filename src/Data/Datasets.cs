// Which kind of data a --data-dir holds, and loading either split of it as an ImageSet.
namespace Denoiser.Data;

public enum DatasetKind { Auto, Mnist, FashionMnist, Cifar10, Images }

/// <param name="Crop">Side of the crops taken from a folder of images.</param>
/// <param name="Channels">Channels the model takes: 1 (colour becomes luma) or 3 (gray is repeated).</param>
public sealed record DatasetRequest(string DataDir, DatasetKind Kind, int Crop, int Channels, long Seed);

public static class Datasets
{
    public const string Names = "auto, mnist, fashion-mnist, cifar10 or images";

    public static DatasetKind Parse(string name) => name.ToLowerInvariant() switch
    {
        "auto" => DatasetKind.Auto, "mnist" => DatasetKind.Mnist, "fashion-mnist" or "fashionmnist" => DatasetKind.FashionMnist, "cifar10" or "cifar-10" => DatasetKind.Cifar10,
        "images" => DatasetKind.Images,
        _ => throw new FormatException($"'{name}' is not a dataset; use {Names}"),
    };

    /// <summary>The one spelling a run records: "fashionmnist" for fashion-mnist, "auto" until it is resolved.</summary>
    public static string Name(DatasetKind kind) => kind.ToString().ToLowerInvariant();

    /// <summary>
    /// What <paramref name="dataDir"/> holds: MNIST's IDX files (Fashion-MNIST's when its test labels are those),
    /// CIFAR-10's binary files or archive, or pictures. A folder that is missing or empty counts as MNIST, which is then
    /// fetched into it.
    /// </summary>
    public static DatasetKind Detect(string dataDir)
    {
        if (MnistFiles.TryLocate(dataDir, "t10k-images-idx3-ubyte") != null || MnistFiles.TryLocate(dataDir, "train-images-idx3-ubyte") != null)
            return FashionMnist.HoldsLabelsOf(dataDir, FashionMnist.Files) ? DatasetKind.FashionMnist : DatasetKind.Mnist;
        if (Cifar10.IsThere(dataDir)) return DatasetKind.Cifar10;
        if (File.Exists(dataDir))
            throw new InvalidDataException($"{dataDir}: is a file, not a data folder or CIFAR-10's {Cifar10.Archive}; pass --dataset to say what it is.");
        if (ImageFolder.Files(dataDir).Count > 0) return DatasetKind.Images;
        return DatasetKind.Mnist;
    }

    public static DatasetKind Resolve(DatasetRequest r) => r.Kind == DatasetKind.Auto ? Detect(r.DataDir) : r.Kind;

    /// <summary>One split, with the model's channel count.</summary>
    public static ImageSet Load(DatasetRequest r, bool train, int? limit)
    {
        var set = Resolve(r) switch
        {
            DatasetKind.Mnist or DatasetKind.FashionMnist => ImageSet.LoadMnist(r.DataDir, train, limit), // the same IDX files
            DatasetKind.Cifar10 => Cifar10.Load(r.DataDir, train, limit),
            _ => ImageFolder.Load(r.DataDir, train, r.Crop, r.Channels, r.Seed, limit),
        };
        var converted = set.WithChannels(r.Channels);
        if (!ReferenceEquals(converted, set)) set.Dispose();
        return converted;
    }

    public static string Describe(DatasetKind kind) => kind switch
    {
        DatasetKind.Mnist => "MNIST", DatasetKind.FashionMnist => "Fashion-MNIST", DatasetKind.Cifar10 => "CIFAR-10", DatasetKind.Images => "image folder", _ => "auto",
    };
}
