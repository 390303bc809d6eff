// Image files in and out as 8-bit grayscale pixel arrays (PNG, JPEG, BMP, GIF, TGA in; PNG out).
using StbImageSharp;
using StbImageWriteSharp;
using ReadComponents = StbImageSharp.ColorComponents;
using WriteComponents = StbImageWriteSharp.ColorComponents;

namespace Denoiser.Data;

/// <summary>A grayscale image, row-major, one byte per pixel.</summary>
public sealed record GrayImage(int Width, int Height, byte[] Pixels)
{
    /// <summary>Pixels as floats in [0, 1]: p / 255.</summary>
    public float[] ToUnit() => Array.ConvertAll(Pixels, p => p / 255f);

    /// <summary>Rounds floats in [0, 1] to bytes (half to even, clamped), as torch's round() then clamp.</summary>
    public static GrayImage FromUnit(int width, int height, float[] values) =>
        new(width, height, Array.ConvertAll(values, v => (byte)Math.Clamp(Math.Round(v * 255f, MidpointRounding.ToEven), 0, 255)));
}

public static class ImageFile
{
    /// <summary>Images with more pixels than this are refused before decoding (a decompression bomb guard).</summary>
    public const long MaxPixels = 100_000_000;

    public static GrayImage ReadGray(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found", path);
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length == 0) throw new InvalidDataException($"{path}: the file is empty (0 bytes), not an image.");

        var info = ImageInfo.FromStream(new MemoryStream(bytes));
        if (info is not { } i)
            throw new InvalidDataException($"{path}: not a readable image; PNG, JPEG, BMP, GIF and TGA are supported.");
        if ((long)i.Width * i.Height > MaxPixels || i.Width <= 0 || i.Height <= 0)
            throw new InvalidDataException($"{path}: declares {i.Width}x{i.Height} pixels, more than the {MaxPixels:N0} allowed.");
        try
        {
            var image = ImageResult.FromMemory(bytes, ReadComponents.Grey);
            return new GrayImage(image.Width, image.Height, image.Data);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IndexOutOfRangeException or NotSupportedException)
        {
            throw new InvalidDataException($"{path}: the image data is damaged or truncated ({e.Message.ReplaceLineEndings(" ")}).");
        }
    }

    /// <summary>Writes an 8-bit grayscale PNG atomically (temporary file, then rename).</summary>
    public static void WritePng(string path, GrayImage image) =>
        AtomicFile.Write(path, s => new ImageWriter().WritePng(image.Pixels, image.Width, image.Height, WriteComponents.Grey, s));
}
