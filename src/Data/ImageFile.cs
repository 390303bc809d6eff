// Image files in and out as 8-bit pixel arrays (PNG, JPEG, BMP, GIF, TGA in; PNG and JPEG out).
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

/// <summary>An 8-bit image with 1 (gray), 2 (gray, alpha), 3 (RGB) or 4 (RGBA) interleaved channels.</summary>
public sealed record Picture(int Width, int Height, int Channels, byte[] Pixels)
{
    public bool HasAlpha => Channels is 2 or 4;
    public bool IsColor => Channels >= 3;

    /// <summary>Channel <paramref name="c"/> as its own plane.</summary>
    public GrayImage Plane(int c)
    {
        var plane = new byte[Width * Height];
        for (int i = 0; i < plane.Length; i++) plane[i] = Pixels[i * Channels + c];
        return new GrayImage(Width, Height, plane);
    }

    /// <summary><paramref name="left"/> and <paramref name="right"/> (same size and channels) side by side, a gap between.</summary>
    public static Picture SideBySide(Picture left, Picture right, int gap = 4)
    {
        int width = left.Width + gap + right.Width, c = left.Channels;
        var pixels = new byte[width * left.Height * c];
        for (int y = 0; y < left.Height; y++)
        {
            Array.Copy(left.Pixels, y * left.Width * c, pixels, y * width * c, left.Width * c);
            Array.Copy(right.Pixels, y * right.Width * c, pixels, (y * width + left.Width + gap) * c, right.Width * c);
        }
        return new Picture(width, left.Height, c, pixels);
    }

    /// <summary>A copy with channel <paramref name="c"/> replaced by <paramref name="plane"/>.</summary>
    public Picture WithPlane(int c, GrayImage plane)
    {
        var pixels = (byte[])Pixels.Clone();
        for (int i = 0; i < plane.Pixels.Length; i++) pixels[i * Channels + c] = plane.Pixels[i];
        return this with { Pixels = pixels };
    }
}

public static class ImageFile
{
    /// <summary>File name endings read as images when a folder or pattern is given.</summary>
    public static readonly string[] Extensions = { ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tga" };

    /// <summary>Images with more pixels than this are refused before decoding (a decompression bomb guard).</summary>
    public const long MaxPixels = 100_000_000;

    public static GrayImage ReadGray(string path)
    {
        var picture = Decode(path, grayOnly: true);
        return new GrayImage(picture.Width, picture.Height, picture.Pixels);
    }

    /// <summary>Reads an image keeping its channels (gray, gray+alpha, RGB or RGBA) as stored.</summary>
    public static Picture ReadPicture(string path) => Decode(path, grayOnly: false);

    static Picture Decode(string path, bool grayOnly)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found", path);
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length == 0) throw new InvalidDataException($"{path}: the file is empty (0 bytes), not an image.");

        // The header alone says the size: absurd dimensions are refused before anything is decoded.
        var info = ImageInfo.FromStream(new MemoryStream(bytes));
        if (info is not { } i)
            throw new InvalidDataException($"{path}: not a readable image; PNG, JPEG, BMP, GIF and TGA are supported.");
        if ((long)i.Width * i.Height > MaxPixels || i.Width <= 0 || i.Height <= 0)
            throw new InvalidDataException($"{path}: declares {i.Width}x{i.Height} pixels, more than the {MaxPixels:N0} allowed.");
        var components = grayOnly ? ReadComponents.Grey : i.ColorComponents;
        try
        {
            var image = ImageResult.FromMemory(bytes, components);
            return new Picture(image.Width, image.Height, (int)components, image.Data);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IndexOutOfRangeException or NotSupportedException)
        {
            throw new InvalidDataException($"{path}: the image data is damaged or truncated ({e.Message.ReplaceLineEndings(" ")}).");
        }
    }

    /// <summary>Writes a picture atomically as PNG (all channels kept) or JPEG (alpha dropped; quality 1-100).</summary>
    public static void Write(string path, Picture picture, string format = "png", int quality = 90)
    {
        if (format == "jpg")
        {
            var opaque = picture.HasAlpha ? DropAlpha(picture) : picture;
            AtomicFile.Write(path, s => new ImageWriter().WriteJpg(opaque.Pixels, opaque.Width, opaque.Height, (WriteComponents)opaque.Channels, s, quality));
        }
        else
            AtomicFile.Write(path, s => new ImageWriter().WritePng(picture.Pixels, picture.Width, picture.Height, (WriteComponents)picture.Channels, s));
    }

    static Picture DropAlpha(Picture p)
    {
        int channels = p.Channels - 1;
        var pixels = new byte[p.Width * p.Height * channels];
        for (int i = 0; i < p.Width * p.Height; i++)
            for (int c = 0; c < channels; c++) pixels[i * channels + c] = p.Pixels[i * p.Channels + c];
        return new Picture(p.Width, p.Height, channels, pixels);
    }

    /// <summary>Writes an 8-bit grayscale PNG atomically (temporary file, then rename).</summary>
    public static void WritePng(string path, GrayImage image) =>
        AtomicFile.Write(path, s => new ImageWriter().WritePng(image.Pixels, image.Width, image.Height, WriteComponents.Grey, s));
}
