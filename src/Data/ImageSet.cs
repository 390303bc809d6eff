// A dataset held in memory as tensors: pixels (N, C, H, W) as bytes (floats from float TIFFs), labels (N); loaded from MNIST, CIFAR-10 or a folder.
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Data;

public sealed class ImageSet : IDisposable, IEpochImages
{
    /// <summary>The images as stored, (N, C, H, W) bytes: a quarter of the float size (47 MB for MNIST's training set, not 188).</summary>
    public Tensor Pixels { get; }
    /// <summary>Class labels 0-9 (MNIST digits, CIFAR-10 classes), or -1 for images without one.</summary>
    public Tensor Labels { get; }
    public int Count => (int)Pixels.shape[0];
    public int Channels => (int)Pixels.shape[1];
    public int Height => (int)Pixels.shape[2];
    public int Width => (int)Pixels.shape[3];

    Tensor? images;
    /// <summary>The images as float32 in [0, 1], converted on first use and kept.</summary>
    public Tensor Images => images ??= ToImages(Pixels).DetachFromDisposeScope(); // owned by the set, whatever scope asks first

    /// <summary>Takes ownership of both tensors.</summary>
    public ImageSet(Tensor pixels, Tensor labels)
    {
        if (pixels.dim() != 4 || pixels.dtype is not (ScalarType.Byte or ScalarType.Float32) || labels.shape.Length != 1 || labels.shape[0] != pixels.shape[0])
            throw new ArgumentException("pixels must be (N, C, H, W) bytes or float32 and labels (N)");
        Pixels = pixels;
        Labels = labels;
    }

    /// <summary>The same images every epoch (a view of <see cref="Pixels"/>; disposing it leaves the set whole).</summary>
    public Tensor ForEpoch(int epoch) => Pixels.alias();

    /// <summary>
    /// Bytes to float32 in [0, 1]: per batch in training, so the whole set never exists as floats. Floats (from float
    /// TIFFs) are already in those units and are copied as they are, unclipped.
    /// </summary>
    public static Tensor ToImages(Tensor pixels) => pixels.dtype == ScalarType.Float32 ? pixels.clone() : pixels.to_type(ScalarType.Float32).Over_(255f);

    /// <summary>
    /// The same images with <paramref name="channels"/> channels: RGB to grayscale by ITU-R BT.601 luma (as
    /// JPEG and Pillow's convert("L")), grayscale to RGB by repeating the plane. Returns this set when it already
    /// fits, else a new one (this one stays the caller's to dispose).
    /// </summary>
    public ImageSet WithChannels(int channels)
    {
        if (channels == Channels) return this;
        using var scope = NewDisposeScope();
        Tensor converted;
        if (channels == 3 && Channels == 1) converted = Pixels.expand(-1, 3, -1, -1).contiguous();
        else if (channels == 1 && Channels == 3)
        {
            converted = Pixels.dtype == ScalarType.Float32 ? Colour.Luma(Pixels)
                : Colour.Luma(Pixels.to_type(ScalarType.Float32)).round_().Clamp_(0, 255).to_type(ScalarType.Byte);
        }
        else throw new ArgumentException($"cannot convert {Channels} channels to {channels}");
        return new ImageSet(converted.MoveToOuterDisposeScope(), Labels.clone().MoveToOuterDisposeScope());
    }

    /// <summary>MNIST's training split (train-*) or test split (t10k-*) from <paramref name="dataDir"/>.</summary>
    public static ImageSet LoadMnist(string dataDir, bool train, int? limit = null)
    {
        string prefix = train ? "train" : "t10k";
        return FromIdx(MnistFiles.Locate(dataDir, $"{prefix}-images-idx3-ubyte"),
                       MnistFiles.Locate(dataDir, $"{prefix}-labels-idx1-ubyte"), limit);
    }

    /// <summary>Any IDX image/label pair of files.</summary>
    public static ImageSet FromIdx(string imagesPath, string labelsPath, int? limit = null)
    {
        var images = IdxFile.ReadImages(imagesPath, limit);
        var labels = IdxFile.ReadLabels(labelsPath, limit);
        if (images.Count != labels.Count)
            throw new InvalidDataException($"{labelsPath}: holds {labels.Count} labels for {images.Count} images in {imagesPath}; the files do not belong together.");
        if (images.Count == 0) throw new InvalidDataException($"{imagesPath}: holds no images.");

        var x = torch.tensor(images.Data, new long[] { images.Count, 1, images.Dimensions[1], images.Dimensions[2] });
        var y = torch.tensor(labels.Data, ScalarType.Int64);
        return new ImageSet(x, y);
    }

    public void Dispose()
    {
        images?.Dispose();
        Pixels.Dispose();
        Labels.Dispose();
    }
}
