// The safetensors format (huggingface/safetensors): u64 header length, a JSON header, raw little-endian tensor bytes.
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Denoiser.Data;

/// <summary>
/// A tensor as stored in a safetensors file: shape and row-major values, float32 (F32) or int64 (I64, as a BatchNorm's
/// num_batches_tracked is).
/// </summary>
public sealed record SafeTensor
{
    public long[] Shape { get; }
    /// <summary>float[] for F32, long[] for I64.</summary>
    public Array Values { get; }

    public SafeTensor(long[] shape, Array values)
    {
        if (values is not (float[] or long[])) throw new ArgumentException("a safetensors tensor holds float[] (F32) or long[] (I64)");
        (Shape, Values) = (shape, values);
    }

    public string Dtype => Values is long[] ? "I64" : "F32";
    public int ElementSize => Values is long[] ? 8 : 4;
    /// <summary>The values of an F32 tensor.</summary>
    public float[] Data => Values as float[] ?? throw new InvalidOperationException($"an {Dtype} tensor has no float values");
}

/// <summary>
/// Reads and writes safetensors files of float32 and int64 tensors. Nothing in such a file is ever executed (unlike pickle),
/// and every field is validated before anything is allocated: header length and JSON, dtypes, shapes, and that the
/// byte ranges lie inside the file, match their shapes, and cover the data without holes or overlaps.
/// </summary>
public static class SafeTensorsFile
{
    const long MaxHeaderBytes = 100_000_000; // the reference implementation's limit
    const string MetadataKey = "__metadata__";

    public static void Write(string path, IEnumerable<(string Name, SafeTensor Tensor)> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        var header = new JsonObject { [MetadataKey] = new JsonObject(metadata.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))) };
        var list = tensors.ToList();
        long offset = 0;
        foreach (var (name, t) in list)
        {
            long bytes = (long)t.ElementSize * t.Values.Length;
            header[name] = new JsonObject
            {
                ["dtype"] = t.Dtype,
                ["shape"] = new JsonArray(t.Shape.Select(d => (JsonNode?)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes),
            };
            offset += bytes;
        }
        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int pad = (8 - json.Length % 8) % 8; // the format pads the header with spaces to align the data
        AtomicFile.Write(path, s =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)(json.Length + pad));
            s.Write(length);
            s.Write(json);
            for (int i = 0; i < pad; i++) s.WriteByte((byte)' ');
            foreach (var (_, t) in list)
            {
                var bytes = new byte[t.ElementSize * t.Values.Length];
                if (t.Values is long[] longs)
                    for (int i = 0; i < longs.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8 * i), longs[i]);
                else
                    for (int i = 0; i < t.Data.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), t.Data[i]);
                s.Write(bytes);
            }
        });
    }

    /// <summary>The file's metadata alone, its tensors not read (what a catalogue needs to describe it).</summary>
    public static IReadOnlyDictionary<string, string> ReadMetadata(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found", path);
        using var file = File.OpenRead(path);
        Span<byte> prefix = stackalloc byte[8];
        if (file.Read(prefix) != 8) throw new InvalidDataException($"{path}: fewer than 8 bytes; it is not a valid safetensors file.");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes || (long)headerLength > file.Length - 8)
            throw new InvalidDataException($"{path}: the header claims {headerLength} bytes but the file has {file.Length - 8} after the length; it is not a valid safetensors file.");
        var headerBytes = new byte[headerLength];
        file.ReadExactly(headerBytes);
        var metadata = new Dictionary<string, string>();
        try
        {
            if ((JsonNode.Parse(headerBytes) as JsonObject)?[MetadataKey] is JsonObject meta)
                foreach (var (k, v) in meta)
                    if (v is JsonValue jv && jv.TryGetValue(out string? text)) metadata[k] = text;
        }
        catch (JsonException e) { throw new InvalidDataException($"{path}: the header is not valid JSON ({e.Message}); it is not a valid safetensors file."); }
        return metadata;
    }

    public static (IReadOnlyDictionary<string, SafeTensor> Tensors, IReadOnlyDictionary<string, string> Metadata) Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found", path);
        using var file = File.OpenRead(path);
        long length = file.Length;
        InvalidDataException Bad(string what) => new($"{path}: {what}; it is not a valid safetensors file.");

        Span<byte> prefix = stackalloc byte[8];
        if (file.Read(prefix) != 8) throw Bad($"the file has {length} bytes, fewer than the 8-byte header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes || (long)headerLength > length - 8)
            throw Bad($"the header claims {headerLength} bytes but the file has {length - 8} after the length");
        var headerBytes = new byte[headerLength];
        file.ReadExactly(headerBytes);

        JsonObject header;
        try { header = JsonNode.Parse(headerBytes) as JsonObject ?? throw Bad("the header is not a JSON object"); }
        catch (JsonException e) { throw Bad($"the header is not valid JSON ({e.Message})"); }

        var metadata = new Dictionary<string, string>();
        if (header[MetadataKey] is JsonObject meta)
            foreach (var (k, v) in meta) metadata[k] = v is JsonValue jv && jv.TryGetValue(out string? s) ? s : throw Bad($"metadata '{k}' is not a string");

        long dataStart = 8 + (long)headerLength, dataLength = length - dataStart;
        var ranges = new List<(long Begin, long End, string Name, long[] Shape, bool Int64)>();
        foreach (var (name, node) in header)
        {
            if (name == MetadataKey) continue;
            if (node is not JsonObject entry) throw Bad($"entry '{name}' is not an object");
            string dtype = entry["dtype"]?.GetValueKind() == JsonValueKind.String ? entry["dtype"]!.GetValue<string>() : throw Bad($"'{name}' has no dtype");
            if (dtype is not ("F32" or "I64"))
                throw new InvalidDataException($"{path}: tensor '{name}' is {dtype}; only F32 (float32) and I64 (int64) are supported. Convert the weights with .float() before saving.");
            int size = dtype == "I64" ? 8 : 4;
            long[] shape = ReadLongs(entry["shape"], $"'{name}' shape", Bad);
            long[] offsets = ReadLongs(entry["data_offsets"], $"'{name}' data_offsets", Bad);
            if (offsets.Length != 2 || offsets[0] > offsets[1] || offsets[1] > dataLength)
                throw Bad($"'{name}' data_offsets [{string.Join(", ", offsets)}] lie outside the {dataLength} data bytes");
            long elements = 1;
            foreach (long d in shape) elements = d >= 0 && d <= int.MaxValue ? checked(elements * d) : throw Bad($"'{name}' has a bad dimension {d}");
            if (elements * size != offsets[1] - offsets[0])
                throw Bad($"'{name}' has shape [{string.Join(", ", shape)}] ({elements * size} bytes) but {offsets[1] - offsets[0]} bytes of data");
            ranges.Add((offsets[0], offsets[1], name, shape, dtype == "I64"));
        }
        ranges.Sort((a, b) => a.Begin.CompareTo(b.Begin));
        long covered = 0;
        foreach (var r in ranges)
        {
            if (r.Begin != covered) throw Bad($"'{r.Name}' starts at {r.Begin}, but the data so far ends at {covered} (overlap or hole)");
            covered = r.End;
        }
        if (covered != dataLength) throw Bad($"the tensors cover {covered} of {dataLength} data bytes");

        if (dataLength > Array.MaxLength) throw Bad($"{dataLength} data bytes are more than this reader holds in memory");
        var buffer = new byte[dataLength];
        file.ReadExactly(buffer);
        var tensors = ranges.ToDictionary(r => r.Name, r => Decode(buffer.AsSpan((int)r.Begin, (int)(r.End - r.Begin)), r.Shape, r.Int64));
        return (tensors, metadata);
    }

    /// <summary>Little-endian values, already checked to fill exactly <paramref name="bytes"/>.</summary>
    static SafeTensor Decode(ReadOnlySpan<byte> bytes, long[] shape, bool int64)
    {
        if (int64)
        {
            var longs = new long[bytes.Length / 8];
            for (int i = 0; i < longs.Length; i++) longs[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes[(8 * i)..]);
            return new SafeTensor(shape, longs);
        }
        var data = new float[bytes.Length / 4];
        for (int i = 0; i < data.Length; i++) data[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]);
        return new SafeTensor(shape, data);
    }

    static long[] ReadLongs(JsonNode? node, string what, Func<string, InvalidDataException> bad)
    {
        if (node is not JsonArray array) throw bad($"{what} is not an array");
        return array.Select(n => n is JsonValue v && v.TryGetValue(out long x) ? x : throw bad($"{what} holds a non-integer")).ToArray();
    }
}
