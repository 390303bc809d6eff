// TIFF images (McMaster's format, and most microscopy's): their declared size, read before OpenCV decodes them.
using System.Buffers.Binary;

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
}
