// Image files in and out as 8-bit pixel arrays (PNG, JPEG, BMP, GIF, TGA, WebP in; PNG, JPEG, WebP out), EXIF-oriented.
using SkiaSharp;
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

    /// <summary>
    /// (C, H, W) bytes, alpha dropped: for 1 channel the luma (ITU-R BT.601, as JPEG and Pillow's convert("L")), for 3
    /// R, G and B (a gray picture's plane three times).
    /// </summary>
    public byte[] Planes(int channels)
    {
        if (channels is not (1 or 3)) throw new ArgumentException($"planes are 1 (luma) or 3 (RGB), not {channels}");
        int n = Width * Height;
        var planes = new byte[channels * n];
        for (int i = 0; i < n; i++)
        {
            int o = i * Channels;
            byte r = Pixels[o], g = IsColor ? Pixels[o + 1] : r, b = IsColor ? Pixels[o + 2] : r;
            if (channels == 1) planes[i] = (byte)Math.Clamp(Math.Round(0.299 * r + 0.587 * g + 0.114 * b), 0, 255);
            else (planes[i], planes[n + i], planes[2 * n + i]) = (r, g, b);
        }
        return planes;
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
    public static readonly string[] Extensions = { ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tga", ".webp", ".tif", ".tiff" };

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

        (int, int)? tiff;
        try { tiff = Tiff.Size(bytes); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: {e.Message}."); }
        if (tiff is { } size) return Tiff.Decode(bytes, size, grayOnly, path);
        // The header alone says the size: absurd dimensions are refused before anything is decoded.
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data); // Skia reads WebP and the EXIF orientation; stb reads the rest
        var info = ImageInfo.FromStream(new MemoryStream(bytes));
        (int width, int height) = info is { } i ? (i.Width, i.Height) : codec != null ? (codec.Info.Width, codec.Info.Height)
            : throw new InvalidDataException($"{path}: not a readable image; PNG, JPEG, BMP, GIF, TGA, WebP and TIFF are supported.");
        if ((long)width * height > MaxPixels || width <= 0 || height <= 0)
            throw new InvalidDataException($"{path}: declares {width}x{height} pixels, more than the {MaxPixels:N0} allowed.");
        try
        {
            Picture picture;
            if (info is { } stb)
            {
                var components = grayOnly ? ReadComponents.Grey : stb.ColorComponents;
                // stb decodes a cut-off JPEG without complaint, filling the rest; its end-of-image marker tells.
                if (bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes.AsSpan(Math.Max(0, bytes.Length - 1024)).IndexOf(new byte[] { 0xFF, 0xD9 }) < 0)
                    throw new InvalidDataException($"{path}: the JPEG data is truncated (no end-of-image marker).");
                var image = ImageResult.FromMemory(bytes, components);
                picture = new Picture(image.Width, image.Height, (int)components, image.Data);
            }
            else picture = DecodeWithSkia(codec!, grayOnly, path);
            return Orient(picture, codec?.EncodedOrigin ?? SKEncodedOrigin.TopLeft);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IndexOutOfRangeException or NotSupportedException)
        {
            throw new InvalidDataException($"{path}: the image data is damaged or truncated ({e.Message.ReplaceLineEndings(" ")}).");
        }
    }

    static Picture DecodeWithSkia(SKCodec codec, bool grayOnly, string path)
    {
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[info.BytesSize];
        var handle = System.Runtime.InteropServices.GCHandle.Alloc(rgba, System.Runtime.InteropServices.GCHandleType.Pinned);
        try
        {
            var result = codec.GetPixels(info, handle.AddrOfPinnedObject());
            if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
                throw new InvalidDataException($"{path}: the image data is damaged or truncated ({result}).");
        }
        finally { handle.Free(); }
        var picture = new Picture(info.Width, info.Height, 4, rgba);
        if (!grayOnly) return picture;
        var gray = new byte[info.Width * info.Height];
        for (int p = 0; p < gray.Length; p++)
            gray[p] = (byte)Math.Clamp(Math.Round(0.299 * rgba[4 * p] + 0.587 * rgba[4 * p + 1] + 0.114 * rgba[4 * p + 2]), 0, 255);
        return new Picture(info.Width, info.Height, 1, gray);
    }

    /// <summary>Applies an EXIF orientation, so the pixels stand as a viewer shows them (TIFF/EXIF tag 0x0112).</summary>
    static Picture Orient(Picture p, SKEncodedOrigin origin)
    {
        if (origin == SKEncodedOrigin.TopLeft) return p;
        bool swap = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        int w = p.Width, h = p.Height, ow = swap ? h : w, oh = swap ? w : h, c = p.Channels;
        var pixels = new byte[p.Pixels.Length];
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++)
            {
                (int sx, int sy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (w - 1 - x, y),
                    SKEncodedOrigin.BottomRight => (w - 1 - x, h - 1 - y),
                    SKEncodedOrigin.BottomLeft => (x, h - 1 - y),
                    SKEncodedOrigin.LeftTop => (y, x),
                    SKEncodedOrigin.RightTop => (y, h - 1 - x),
                    SKEncodedOrigin.RightBottom => (w - 1 - y, h - 1 - x),
                    _ => (w - 1 - y, x), // LeftBottom
                };
                Array.Copy(p.Pixels, (sy * w + sx) * c, pixels, (y * ow + x) * c, c);
            }
        return new Picture(ow, oh, c, pixels);
    }

    /// <summary>Writes a picture atomically as PNG (all channels kept), WebP (kept) or JPEG (alpha dropped); quality 1-100.</summary>
    public static void Write(string path, Picture picture, string format = "png", int quality = 90)
    {
        if (format == "webp")
        {
            var rgba = ToRgba(picture);
            using var image = SKImage.FromPixelCopy(new SKImageInfo(picture.Width, picture.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul), rgba);
            using var encoded = image.Encode(SKEncodedImageFormat.Webp, quality);
            AtomicFile.Write(path, s => encoded.SaveTo(s));
        }
        else if (format == "jpg")
        {
            var opaque = picture.HasAlpha ? DropAlpha(picture) : picture;
            AtomicFile.Write(path, s => new ImageWriter().WriteJpg(opaque.Pixels, opaque.Width, opaque.Height, (WriteComponents)opaque.Channels, s, quality));
        }
        else
            AtomicFile.Write(path, s => new ImageWriter().WritePng(picture.Pixels, picture.Width, picture.Height, (WriteComponents)picture.Channels, s));
    }

    static byte[] ToRgba(Picture p)
    {
        var rgba = new byte[p.Width * p.Height * 4];
        for (int i = 0; i < p.Width * p.Height; i++)
        {
            int o = i * p.Channels;
            byte r = p.Pixels[o], g = p.IsColor ? p.Pixels[o + 1] : r, b = p.IsColor ? p.Pixels[o + 2] : r;
            byte a = p.HasAlpha ? p.Pixels[o + p.Channels - 1] : (byte)255;
            (rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2], rgba[4 * i + 3]) = (r, g, b, a);
        }
        return rgba;
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
