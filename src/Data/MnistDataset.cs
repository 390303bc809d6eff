// MNIST (or any IDX image/label pair) held in memory as tensors: images (N, 1, H, W) in [0, 1], labels (N).
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Data;

public sealed class MnistDataset : IDisposable
{
    public Tensor Images { get; }
    public Tensor Labels { get; }
    public int Count => (int)Images.shape[0];

    MnistDataset(Tensor images, Tensor labels) { Images = images; Labels = labels; }

    /// <summary>The training split (train-*) or test split (t10k-*) from <paramref name="dataDir"/>.</summary>
    public static MnistDataset Load(string dataDir, bool train, int? limit = null)
    {
        string prefix = train ? "train" : "t10k";
        return FromFiles(MnistFiles.Locate(dataDir, $"{prefix}-images-idx3-ubyte"),
                         MnistFiles.Locate(dataDir, $"{prefix}-labels-idx1-ubyte"), limit);
    }

    public static MnistDataset FromFiles(string imagesPath, string labelsPath, int? limit = null)
    {
        var images = IdxFile.ReadImages(imagesPath, limit);
        var labels = IdxFile.ReadLabels(labelsPath, limit);
        if (images.Count != labels.Count)
            throw new InvalidDataException($"{labelsPath}: holds {labels.Count} labels for {images.Count} images in {imagesPath}; the files do not belong together.");
        if (images.Count == 0) throw new InvalidDataException($"{imagesPath}: holds no images.");

        // One conversion for the whole set: bytes -> float32 / 255, so batches are views and index_select.
        using var bytes = torch.tensor(images.Data, new long[] { images.Count, 1, images.Dimensions[1], images.Dimensions[2] });
        var x = bytes.to_type(ScalarType.Float32).div_(255f);
        var y = torch.tensor(labels.Data, ScalarType.Int64);
        return new MnistDataset(x, y);
    }

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
