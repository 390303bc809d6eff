// MNIST (or any IDX image/label pair) held in memory as tensors: pixels (N, 1, H, W) as bytes, labels (N).
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Data;

public sealed class MnistDataset : IDisposable
{
    /// <summary>The images as stored, (N, 1, H, W) bytes: a quarter of the float size (47 MB for MNIST's training set, not 188).</summary>
    public Tensor Pixels { get; }
    public Tensor Labels { get; }
    public int Count => (int)Pixels.shape[0];

    Tensor? images;
    /// <summary>The images as float32 in [0, 1], converted on first use and kept.</summary>
    public Tensor Images => images ??= ToImages(Pixels);

    MnistDataset(Tensor pixels, Tensor labels) { Pixels = pixels; Labels = labels; }

    /// <summary>Bytes to float32 in [0, 1]: per batch in training, so the whole set never exists as floats.</summary>
    public static Tensor ToImages(Tensor pixels) => pixels.to_type(ScalarType.Float32).div_(255f);

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

        var x = torch.tensor(images.Data, new long[] { images.Count, 1, images.Dimensions[1], images.Dimensions[2] });
        var y = torch.tensor(labels.Data, ScalarType.Int64);
        return new MnistDataset(x, y);
    }

    public void Dispose()
    {
        images?.Dispose();
        Pixels.Dispose();
        Labels.Dispose();
    }
}
