// Reads the IDX format of MNIST (idx1 labels, idx3 images), raw or gzip-compressed, validating every header field.
using System.Buffers.Binary;
using System.IO.Compression;

namespace Denoiser.Data;

/// <summary>An IDX array of unsigned bytes: <c>Dimensions[0]</c> items of <c>Dimensions[1..]</c> each.</summary>
public sealed record IdxArray(int[] Dimensions, byte[] Data)
{
    public int Count => Dimensions[0];
    public int ItemSize => Dimensions.Skip(1).Aggregate(1, (a, b) => a * b);
}

public static class IdxFile
{
    // http://yann.lecun.com/exdb/mnist/: magic = 0x00 0x00 <type> <ndims>; type 0x08 = unsigned byte; then one
    // big-endian int32 per dimension; then the data, row-major.
    const byte UnsignedByte = 0x08;
    const int MaxItemBytes = 1 << 24;

    /// <summary>Reads an idx3 file of images (N, rows, cols); <paramref name="limit"/> keeps only the first N.</summary>
    public static IdxArray ReadImages(string path, int? limit = null) => Read(path, expectedDims: 3, limit);

    /// <summary>Reads an idx1 file of labels (N); <paramref name="limit"/> keeps only the first N.</summary>
    public static IdxArray ReadLabels(string path, int? limit = null) => Read(path, expectedDims: 1, limit);

    public static IdxArray Read(string path, int expectedDims, int? limit = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found", path);
        using var file = File.OpenRead(path);
        bool gzip = IsGzip(file);
        using Stream stream = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;

        Span<byte> magic = stackalloc byte[4];
        ReadExactly(stream, magic, path, "the 4-byte magic number", offset: 0);
        if (magic[0] != 0 || magic[1] != 0 || magic[2] != UnsignedByte || magic[3] != expectedDims)
            throw Invalid(path, 0, $"magic number is {Convert.ToHexString(magic)}, expected 000008{expectedDims:X2} " +
                                   $"(unsigned bytes, {expectedDims} dimension{(expectedDims == 1 ? "" : "s")})");

        var dims = new int[expectedDims];
        Span<byte> word = stackalloc byte[4];
        for (int i = 0; i < expectedDims; i++)
        {
            ReadExactly(stream, word, path, $"dimension {i}", offset: 4 + 4 * i);
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(word);
            if (dims[i] <= 0 || (i > 0 && dims[i] > 4096))
                throw Invalid(path, 4 + 4 * i, $"dimension {i} is {dims[i]}, expected {(i == 0 ? "a positive count" : "1 to 4096")}");
        }
        long headerBytes = 4 + 4L * expectedDims;
        long itemBytes = 1;
        for (int i = 1; i < expectedDims; i++) itemBytes *= dims[i];
        if (itemBytes > MaxItemBytes) throw Invalid(path, 8, $"items of {itemBytes} bytes are implausibly large");
        long declared = dims[0] * itemBytes;

        // For raw files the length is known before reading anything: a truncated or padded file fails here.
        if (!gzip && file.Length != headerBytes + declared)
            throw Invalid(path, file.Length, $"file is {file.Length} bytes, but its header declares {dims[0]} items " +
                                             $"({headerBytes + declared} bytes); the file is truncated or not IDX");

        int keep = limit is int n ? Math.Min(n, dims[0]) : dims[0];
        long keepBytes = keep * itemBytes;
        if (keepBytes > Array.MaxLength)
            throw Invalid(path, 4, $"{keep} items of {itemBytes} bytes do not fit in memory; use a smaller limit");
        // A raw file's length was checked above, so its buffer can be allocated at once. A gzip stream's length is
        // unknown until read: grow the buffer as data arrives, so a lying header cannot make us allocate gigabytes.
        byte[] data = gzip ? ReadGrowing(stream, keepBytes, path, headerBytes) : new byte[keepBytes];
        if (!gzip) ReadExactly(stream, data, path, $"{keep} items of {itemBytes} bytes", offset: headerBytes);
        if (gzip && keep == dims[0] && stream.ReadByte() != -1)
            throw Invalid(path, headerBytes + declared, "the decompressed data is longer than its header declares");

        dims[0] = keep;
        return new IdxArray(dims, data);
    }

    static byte[] ReadGrowing(Stream stream, long length, string path, long offset)
    {
        using var buffer = new MemoryStream((int)Math.Min(length, 1 << 20));
        var chunk = new byte[1 << 16];
        while (buffer.Length < length)
        {
            int want = (int)Math.Min(chunk.Length, length - buffer.Length);
            int read;
            try { read = stream.Read(chunk, 0, want); }
            catch (InvalidDataException e) { throw Invalid(path, offset + buffer.Length, $"corrupt gzip data ({e.Message})"); }
            if (read == 0)
                throw Invalid(path, offset + buffer.Length, $"file ends after {buffer.Length} of the {length} data bytes its header declares; the file is truncated");
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    static bool IsGzip(FileStream file)
    {
        Span<byte> head = stackalloc byte[2];
        int read = file.Read(head);
        file.Position = 0;
        return read == 2 && head[0] == 0x1f && head[1] == 0x8b;
    }

    static void ReadExactly(Stream stream, Span<byte> buffer, string path, string what, long offset)
    {
        int total = 0;
        try
        {
            while (total < buffer.Length)
            {
                int read = stream.Read(buffer[total..]);
                if (read == 0) break;
                total += read;
            }
        }
        catch (InvalidDataException e)
        {
            throw Invalid(path, offset + total, $"corrupt gzip data ({e.Message})");
        }
        if (total < buffer.Length)
            throw Invalid(path, offset + total, $"file ends while reading {what}: got {total} of {buffer.Length} bytes; the file is truncated");
    }

    static InvalidDataException Invalid(string path, long offset, string what) =>
        new($"{path}: {what} (at byte {offset}).");
}
