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

    /// <summary>What <see cref="Write(string, Picture, string, int)"/> writes: the names `--format` and `format=` take.</summary>
    public static readonly string[] OutputFormats = { "png", "tiff", "jpg", "webp" };

    /// <summary>Images with more pixels than this are refused before decoding (a decompression bomb guard).</summary>
    public const long MaxPixels = 100_000_000;

    /// <summary>
    /// Reads an image as it is stored: its channels (grey, grey and alpha, RGB or RGBA), its depth (8 or 16 bits), or a
    /// 32-bit floating-point TIFF's samples unclipped (`add-noise --float`, noisy data as measured).
    /// </summary>
    public static Picture Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found", path);
        return Read(File.ReadAllBytes(path), path);
    }

    /// <summary>The same from an image file's bytes (an upload); <paramref name="path"/> names it in messages.</summary>
    /// <param name="maxPixels">Refused, from the header alone, above this many pixels.</param>
    public static Picture Read(byte[] bytes, string path, long maxPixels = MaxPixels)
    {
        var picture = Decode(bytes, path, maxPixels);
        if (picture.Bits == 32 && Array.FindIndex(picture.Planes, v => !float.IsFinite(v)) is var bad and >= 0)
            throw new InvalidDataException($"{path}: sample {bad % picture.Pixels:N0} is {picture.Planes[bad]}; an image needs finite values.");
        return picture;
    }

    static Picture Decode(byte[] bytes, string path, long maxPixels)
    {
        if (bytes.Length == 0) throw new InvalidDataException($"{path}: the file is empty (0 bytes), not an image.");

        (int Width, int Height)? tiff;
        try { tiff = Tiff.Size(bytes); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: {e.Message}."); }
        if (tiff is { } size)
        {
            CheckSize(size.Width, size.Height, path, maxPixels);
            return OpenCv.Decode(bytes, path, "TIFF");
        }
        // The header alone says the size: absurd dimensions are refused before anything is decoded.
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data); // Skia reads WebP and the EXIF orientation; stb reads the rest
        var info = ImageInfo.FromStream(new MemoryStream(bytes));
        (int width, int height) = info is { } i ? (i.Width, i.Height) : codec != null ? (codec.Info.Width, codec.Info.Height)
            : throw new InvalidDataException($"{path}: not a readable image; PNG, JPEG, BMP, GIF, TGA, WebP and TIFF are supported.");
        CheckSize(width, height, path, maxPixels);
        // PNG through libpng: stb would keep 8 of 16 bits, and its managed inflate held 1.4 GB for a 50-MP picture
        // (libpng's rows go straight into the planes). Grey and alpha stays with stb: OpenCV would make it RGBA.
        bool png = bytes.Length > 8 && bytes[0] == 0x89 && bytes[1] == (byte)'P' && bytes[2] == (byte)'N' && bytes[3] == (byte)'G';
        if (info is { BitsPerChannel: 16 } || png && info is { ColorComponents: not ReadComponents.GreyAlpha })
            return Orient(OpenCv.Decode(bytes, path, "PNG"), codec?.EncodedOrigin ?? SKEncodedOrigin.TopLeft);
        try
        {
            Picture picture;
            if (info is { } stb)
            {
                var components = stb.ColorComponents;
                // stb decodes a cut-off JPEG without complaint, filling the rest; its end-of-image marker tells. Zeros
                // after it are padding some cameras write (PolyU's Sony A7 II files: up to 32 KB), not more data.
                var end = bytes.AsSpan().TrimEnd((byte)0);
                if (bytes[0] == 0xFF && bytes[1] == 0xD8 && end[Math.Max(0, end.Length - 1024)..].IndexOf(new byte[] { 0xFF, 0xD9 }) < 0)
                    throw new InvalidDataException($"{path}: the JPEG data is truncated (no end-of-image marker).");
                var image = ImageResult.FromMemory(bytes, components);
                picture = Picture.FromBytes(image.Width, image.Height, (int)components, image.Data);
            }
            else picture = DecodeWithSkia(codec!, path);
            return Orient(picture, codec?.EncodedOrigin ?? SKEncodedOrigin.TopLeft);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IndexOutOfRangeException or NotSupportedException)
        {
            throw new InvalidDataException($"{path}: the image data is damaged or truncated ({e.Message.ReplaceLineEndings(" ")}).");
        }
    }

    const string TooLargeKey = "declares too many pixels";

    /// <summary>Whether <paramref name="e"/> refused an image for its declared size (not for damaged data).</summary>
    public static bool IsTooLarge(Exception e) => e.Data.Contains(TooLargeKey);

    static void CheckSize(int width, int height, string path, long maxPixels)
    {
        if ((long)width * height > maxPixels || width <= 0 || height <= 0)
        {
            var e = new InvalidDataException($"{path}: declares {width}x{height} pixels, more than the {maxPixels:N0} allowed.");
            e.Data[TooLargeKey] = true;
            throw e;
        }
    }

    static Picture DecodeWithSkia(SKCodec codec, string path)
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
        return Picture.FromBytes(info.Width, info.Height, 4, rgba);
    }

    /// <summary>Applies an EXIF orientation, so the pixels stand as a viewer shows them (TIFF/EXIF tag 0x0112).</summary>
    static Picture Orient(Picture p, SKEncodedOrigin origin)
    {
        if (origin == SKEncodedOrigin.TopLeft) return p;
        bool swap = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        int w = p.Width, h = p.Height, ow = swap ? h : w, oh = swap ? w : h, n = w * h;
        var planes = new float[p.Planes.Length];
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
                for (int c = 0; c < p.Channels; c++) planes[c * n + y * ow + x] = p.Planes[c * n + sy * w + sx];
            }
        return p with { Width = ow, Height = oh, Planes = planes };
    }

    /// <summary>
    /// Writes a picture atomically as PNG (8 or 16 bits, as the picture has them; alpha kept), TIFF (8, 16 or 32-bit
    /// float samples, as the picture has them), WebP (8 bits, alpha kept) or JPEG (8 bits, alpha dropped); quality
    /// 1-100 for WebP and JPEG. Samples are rounded to the file's grid here and nowhere before.
    /// </summary>
    public static void Write(string path, Picture picture, string format = "png", int quality = 90) =>
        AtomicFile.Write(path, s => Write(s, picture, format, quality));

    /// <summary>The same encoding into a stream: the bytes <see cref="Write(string, Picture, string, int)"/> puts in a file.</summary>
    public static void Write(Stream s, Picture picture, string format = "png", int quality = 90)
    {
        if (format == "webp")
        {
            var rgba = ToRgba(picture);
            using var image = SKImage.FromPixelCopy(new SKImageInfo(picture.Width, picture.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul), rgba);
            using var encoded = image.Encode(SKEncodedImageFormat.Webp, quality);
            encoded.SaveTo(s);
        }
        else if (format == "jpg")
        {
            var opaque = picture.Alpha ? picture with { Channels = picture.ColourPlanes, Planes = picture.Planes[..(picture.ColourPlanes * picture.Pixels)], Alpha = false } : picture;
            s.Write(OpenCv.Encode(opaque with { Bits = 8 }, ".jpg", quality));
        }
        else if (format == "png" && picture.Channels == 2 && picture.Bits == 8) // OpenCV writes no grey-and-alpha PNG; stb does
            new ImageWriter().WritePng(picture.Bytes(), picture.Width, picture.Height, (WriteComponents)picture.Channels, s);
        else // libpng and libtiff through OpenCV: a 12-MP colour PNG in 0.8 s where stb's managed deflate took 3.5 s
            s.Write(OpenCv.Encode(format == "png" && picture.Bits == 32 ? picture with { Bits = 16 } : picture, "." + format));
    }

    static byte[] ToRgba(Picture p)
    {
        byte[] bytes = p.Bytes();
        var rgba = new byte[p.Pixels * 4];
        for (int i = 0; i < p.Pixels; i++)
        {
            int o = i * p.Channels;
            byte r = bytes[o], g = p.IsColor ? bytes[o + 1] : r, b = p.IsColor ? bytes[o + 2] : r;
            byte a = p.Alpha ? bytes[o + p.Channels - 1] : (byte)255;
            (rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2], rgba[4 * i + 3]) = (r, g, b, a);
        }
        return rgba;
    }
}
