// TIFF images (McMaster's format, and most microscopy's), read through OpenCV after their size is checked.
using System.Buffers.Binary;
using OpenCvSharp;

namespace Denoiser.Data;

static class Tiff
{
    /// <summary>
    /// The size the first image of a TIFF declares (tags 256 and 257 of its first directory), or null when the bytes
    /// are not a TIFF. Read by hand so that a file declaring billions of pixels is refused before OpenCV decodes it.
    /// </summary>
    public static (int Width, int Height)? Size(byte[] b)
    {
        if (b.Length < 8) return null;
        bool little = b[0] == 'I' && b[1] == 'I' && b[2] == 42 && b[3] == 0, big = b[0] == 'M' && b[1] == 'M' && b[2] == 0 && b[3] == 42;
        if (!little && !big) return null;
        uint U32(long at) => at + 4 <= b.Length ? (little ? BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan((int)at)) : BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan((int)at))) : throw Bad();
        ushort U16(long at) => at + 2 <= b.Length ? (little ? BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan((int)at)) : BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan((int)at))) : throw Bad();
        long ifd = U32(4);
        int entries = U16(ifd);
        long width = -1, height = -1;
        for (int i = 0; i < entries; i++)
        {
            long e = ifd + 2 + 12L * i;
            ushort tag = U16(e), type = U16(e + 2);
            long value = type == 3 ? U16(e + 8) : type == 4 ? U32(e + 8) : -1; // SHORT or LONG
            if (tag == 256) width = value;
            if (tag == 257) height = value;
        }
        if (width <= 0 || height <= 0) throw Bad();
        return ((int)Math.Min(width, int.MaxValue), (int)Math.Min(height, int.MaxValue));
    }

    static InvalidDataException Bad() => new("the TIFF header is damaged or truncated (no image width and height)");

    /// <summary>Decodes to 8-bit grey or RGB (a 16-bit TIFF is scaled to 8 bits: its low bits are lost).</summary>
    public static Picture Decode(byte[] bytes, (int Width, int Height) size, bool grayOnly, string path)
    {
        if ((long)size.Width * size.Height > ImageFile.MaxPixels)
            throw new InvalidDataException($"{path}: declares {size.Width}x{size.Height} pixels, more than the {ImageFile.MaxPixels:N0} allowed.");
        OpenCv.Quiet();
        using var mat = Cv2.ImDecode(bytes, grayOnly ? ImreadModes.Grayscale : ImreadModes.Color);
        if (mat.Empty()) throw new InvalidDataException($"{path}: the TIFF data is damaged or in a form OpenCV cannot read.");
        bool gray = grayOnly || IsGray(mat);
        using var converted = new Mat();
        if (grayOnly) mat.CopyTo(converted);
        else if (gray) Cv2.CvtColor(mat, converted, ColorConversionCodes.BGR2GRAY);
        else Cv2.CvtColor(mat, converted, ColorConversionCodes.BGR2RGB);
        using var flat = converted.Reshape(1, converted.Height); // OpenCvSharp reads arrays out of single-channel Mats only
        flat.GetArray(out byte[] pixels);
        return new Picture(converted.Width, converted.Height, gray ? 1 : 3, pixels);
    }

    /// <summary>OpenCV gives every colour-mode image three channels; a grey TIFF has them equal.</summary>
    static bool IsGray(Mat bgr)
    {
        var planes = Cv2.Split(bgr);
        using var bg = new Mat();
        using var gr = new Mat();
        try
        {
            Cv2.Absdiff(planes[0], planes[1], bg);
            Cv2.Absdiff(planes[1], planes[2], gr);
            return Cv2.CountNonZero(bg) == 0 && Cv2.CountNonZero(gr) == 0;
        }
        finally { foreach (var p in planes) p.Dispose(); }
    }
}
