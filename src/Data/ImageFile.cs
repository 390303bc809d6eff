// Image files in and out (PNG, JPEG, BMP, GIF, TGA, WebP, TIFF in; PNG, JPEG, WebP, TIFF out), EXIF-oriented, 16-bit kept.
// stb and Skia decode the 8-bit formats (the bad-file corpus pins their refusals); OpenCV TIFF and 16-bit PNG.
using SkiaSharp;
using StbImageSharp;
using StbImageWriteSharp;
using ReadComponents = StbImageSharp.ColorComponents;
using WriteComponents = StbImageWriteSharp.ColorComponents;

namespace Denoiser.Data;

public static class ImageFile
{
    /// <summary>File name endings read as images when a folder or pattern is given.</summary>
    public static readonly string[] Extensions = { ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tga", ".webp", ".tif", ".tiff" };

    /// <summary>Images with more pixels than this are refused before decoding (a decompression bomb guard).</summary>
    public const long MaxPixels = 100_000_000;

    public static GrayImage ReadGray(string path)
    {
        var picture = Decode(path, grayOnly: true);
        return new GrayImage(picture.Width, picture.Height, picture.Bytes());
    }

    /// <summary>Reads an image keeping its channels (gray, gray+alpha, RGB or RGBA) as stored.</summary>
    public static Picture ReadPicture(string path) => Decode(path, grayOnly: false);

    /// <summary>
    /// A training example's (C, H, W) planes (1: luma, 3: RGB): bytes at 8 bits for integer images, as
    /// <see cref="Picture.Planes"/>; floats as stored, unclipped, for a 32-bit floating-point TIFF (`add-noise --float`).
    /// </summary>
    public static (int Height, int Width, Array Planes) ReadPlanes(string path, int channels)
    {
        if (ReadFloatTiff(path) is { } f)
        {
            if (Array.FindIndex(f.Samples, v => !float.IsFinite(v)) is var bad and >= 0)
                throw new InvalidDataException($"{path}: sample {bad / f.Channels:N0} is {f.Samples[bad]}; a training image needs finite values.");
            int n = f.Width * f.Height;
            var planes = new float[channels * n];
            for (int i = 0; i < n; i++)
            {
                int o = i * f.Channels;
                float r = f.Samples[o], g = f.Channels == 3 ? f.Samples[o + 1] : r, b = f.Channels == 3 ? f.Samples[o + 2] : r;
                if (channels == 1) planes[i] = f.Channels == 1 ? r : 0.299f * r + 0.587f * g + 0.114f * b; // grey is its own luma, exactly
                else (planes[i], planes[n + i], planes[2 * n + i]) = (r, g, b);
            }
            return (f.Height, f.Width, planes);
        }
        var picture = ReadPicture(path);
        return (picture.Height, picture.Width, picture.Planes(channels));
    }

    /// <summary>The samples of a float TIFF; null for any other file, which is then read once, by <see cref="ReadPicture"/>.</summary>
    static (int Width, int Height, int Channels, float[] Samples)? ReadFloatTiff(string path)
    {
        if (!File.Exists(path)) return null;
        var magic = new byte[4];
        using (var file = File.OpenRead(path))
            if (file.Read(magic) < 4 || !(magic is [(byte)'I', (byte)'I', 42, 0] or [(byte)'M', (byte)'M', 0, 42])) return null; // not a TIFF: no whole read
        byte[] bytes = File.ReadAllBytes(path);
        (int Width, int Height)? tiff;
        try { tiff = Tiff.Size(bytes); }
        catch (InvalidDataException) { return null; } // Decode says what is wrong
        if (tiff is not { } size) return null;
        CheckSize(size.Width, size.Height, path);
        return OpenCv.DecodeFloat(bytes, path);
    }

    static Picture Decode(string path, bool grayOnly)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found", path);
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length == 0) throw new InvalidDataException($"{path}: the file is empty (0 bytes), not an image.");

        (int Width, int Height)? tiff;
        try { tiff = Tiff.Size(bytes); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: {e.Message}."); }
        if (tiff is { } size)
        {
            CheckSize(size.Width, size.Height, path);
            return Grey(OpenCv.Decode(bytes, path, "TIFF"), grayOnly);
        }
        // The header alone says the size: absurd dimensions are refused before anything is decoded.
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data); // Skia reads WebP and the EXIF orientation; stb reads the rest
        var info = ImageInfo.FromStream(new MemoryStream(bytes));
        (int width, int height) = info is { } i ? (i.Width, i.Height) : codec != null ? (codec.Info.Width, codec.Info.Height)
            : throw new InvalidDataException($"{path}: not a readable image; PNG, JPEG, BMP, GIF, TGA, WebP and TIFF are supported.");
        CheckSize(width, height, path);
        if (info is { BitsPerChannel: 16 }) return Grey(OpenCv.Decode(bytes, path, "PNG"), grayOnly); // stb would keep 8 of the 16 bits
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

    static void CheckSize(int width, int height, string path)
    {
        if ((long)width * height > MaxPixels || width <= 0 || height <= 0)
            throw new InvalidDataException($"{path}: declares {width}x{height} pixels, more than the {MaxPixels:N0} allowed.");
    }

    static Picture Grey(Picture p, bool grayOnly) => grayOnly ? new Picture(p.Width, p.Height, 1, p.Planes(1)) : p;

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
        var samples = new ushort[p.Samples.Length];
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
                Array.Copy(p.Samples, (sy * w + sx) * c, samples, (y * ow + x) * c, c);
            }
        return new Picture(ow, oh, c, samples, p.Bits);
    }

    /// <summary>
    /// Writes a picture atomically as PNG or TIFF (all channels kept, 8 or 16 bits as the picture has them), WebP
    /// (channels kept, 8 bits) or JPEG (alpha dropped, 8 bits); quality 1-100 for WebP and JPEG.
    /// </summary>
    public static void Write(string path, Picture picture, string format = "png", int quality = 90)
    {
        if (format == "tiff" || (format == "png" && picture.Bits == 16))
        {
            byte[] encoded = OpenCv.Encode(picture, "." + format); // stb writes 8-bit PNG only
            AtomicFile.Write(path, s => s.Write(encoded));
        }
        else if (format == "webp")
        {
            var rgba = ToRgba(picture.To8Bit());
            using var image = SKImage.FromPixelCopy(new SKImageInfo(picture.Width, picture.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul), rgba);
            using var encoded = image.Encode(SKEncodedImageFormat.Webp, quality);
            AtomicFile.Write(path, s => encoded.SaveTo(s));
        }
        else if (format == "jpg")
        {
            var opaque = picture.HasAlpha ? DropAlpha(picture.To8Bit()) : picture.To8Bit();
            AtomicFile.Write(path, s => new ImageWriter().WriteJpg(opaque.Bytes(), opaque.Width, opaque.Height, (WriteComponents)opaque.Channels, s, quality));
        }
        else
            AtomicFile.Write(path, s => new ImageWriter().WritePng(picture.Bytes(), picture.Width, picture.Height, (WriteComponents)picture.Channels, s));
    }

    static byte[] ToRgba(Picture picture)
    {
        byte[] bytes = picture.Bytes();
        var p = picture;
        var rgba = new byte[p.Width * p.Height * 4];
        for (int i = 0; i < p.Width * p.Height; i++)
        {
            int o = i * p.Channels;
            byte r = bytes[o], g = p.IsColor ? bytes[o + 1] : r, b = p.IsColor ? bytes[o + 2] : r;
            byte a = p.HasAlpha ? bytes[o + p.Channels - 1] : (byte)255;
            (rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2], rgba[4 * i + 3]) = (r, g, b, a);
        }
        return rgba;
    }

    static Picture DropAlpha(Picture p)
    {
        int channels = p.Channels - 1;
        var samples = new ushort[p.Width * p.Height * channels];
        for (int i = 0; i < p.Width * p.Height; i++)
            for (int c = 0; c < channels; c++) samples[i * channels + c] = p.Samples[i * p.Channels + c];
        return new Picture(p.Width, p.Height, channels, samples, p.Bits);
    }

    /// <summary>Writes an 8-bit grayscale PNG atomically (temporary file, then rename).</summary>
    public static void WritePng(string path, GrayImage image) =>
        AtomicFile.Write(path, s => new ImageWriter().WritePng(image.Pixels, image.Width, image.Height, WriteComponents.Grey, s));
}
