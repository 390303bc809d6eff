// Training data as (C, H, W) planes: bytes for integer images (a quarter of the size), or floats, as stored, for
// 32-bit floating-point TIFFs, whose noisy values below 0 and above 1 a model must see as a camera gives them.
using static TorchSharp.torch;

namespace Denoiser.Data;

public static class Planes
{
    /// <summary>Float planes in [0, 1] units: bytes b become b / 255 (exactly as <see cref="ImageSet.ToImages"/> computes it).</summary>
    public static float[] AsFloats(Array planes) => planes as float[] ?? Array.ConvertAll((byte[])planes, b => b / 255f);

    /// <summary>The parts one after another: bytes when all are bytes, else floats.</summary>
    public static Array Concat(IReadOnlyList<Array> parts) =>
        parts.All(p => p is byte[]) ? parts.SelectMany(p => (byte[])p).ToArray() : parts.SelectMany(AsFloats).ToArray();

    /// <summary>The images with one element type: floats for all when any is float, so a set's patches stack.</summary>
    public static List<(int Height, int Width, Array Planes)> Uniform(List<(int Height, int Width, Array Planes)> images) =>
        images.All(i => i.Planes is byte[]) ? images : images.Select(i => (i.Height, i.Width, (Array)AsFloats(i.Planes))).ToList();

    /// <summary>A tensor of bytes or float32 over <paramref name="data"/>.</summary>
    public static Tensor ToTensor(Array data, long[] shape) =>
        data is float[] floats ? tensor(floats, shape) : tensor((byte[])data, shape);

    /// <summary>A new array of <paramref name="length"/> elements of <paramref name="like"/>'s type.</summary>
    public static Array Like(Array like, long length) => like is float[] ? new float[length] : new byte[length];
}
