// CIFAR-10's binary version: data_batch_1..5.bin and test_batch.bin, in a folder or in cifar-10-binary.tar.gz.
using System.Formats.Tar;
using System.IO.Compression;
using TorchSharp;

namespace Denoiser.Data;

/// <summary>
/// Each file is a run of 3,073-byte records: one label byte (0-9), then 32x32 red, 32x32 green, 32x32 blue bytes,
/// rows top to bottom (https://www.cs.toronto.edu/~kriz/cifar.html). That is already (C, H, W) order, so the bytes
/// go into the tensor as they are.
/// </summary>
public static class Cifar10
{
    public const int Side = 32, Channels = 3, RecordBytes = 1 + Channels * Side * Side;
    public const string Archive = "cifar-10-binary.tar.gz", Folder = "cifar-10-batches-bin";
    static readonly string[] TrainFiles = Enumerable.Range(1, 5).Select(i => $"data_batch_{i}.bin").ToArray();
    const string TestFile = "test_batch.bin";

    /// <summary>Whether <paramref name="path"/> (a folder or an archive) looks like it holds CIFAR-10's binary files.</summary>
    public static bool IsThere(string path) =>
        IsArchive(path) || FindArchive(path) != null || FindFolder(path) != null;

    /// <summary>The training split (all data_batch_N.bin present) or the test split (test_batch.bin).</summary>
    public static ImageSet Load(string path, bool train, int? limit = null)
    {
        string[] wanted = train ? TrainFiles : new[] { TestFile };
        var files = new List<(string Name, byte[] Bytes)>();
        string? archive = IsArchive(path) ? path : FindArchive(path);
        if (archive != null) files = ReadFromArchive(archive, wanted);
        else if (FindFolder(path) is { } folder)
            files = wanted.Select(n => Path.Combine(folder, n)).Where(File.Exists).Select(f => (f, File.ReadAllBytes(f))).ToList();
        string where = archive ?? path;
        if (files.Count == 0)
            throw new InvalidDataException($"{where}: holds no {(train ? "data_batch_N.bin" : TestFile)}; point --data-dir at the CIFAR-10 binary version (the folder {Folder} or {Archive}).");

        long total = 0;
        foreach (var (name, bytes) in files)
        {
            if (bytes.Length == 0 || bytes.Length % RecordBytes != 0)
                throw new InvalidDataException($"{name}: {bytes.Length:N0} bytes is not a whole number of {RecordBytes:N0}-byte CIFAR-10 records; the file is truncated or not CIFAR-10's binary version.");
            total += bytes.Length / RecordBytes;
        }
        long count = Math.Min(total, limit ?? long.MaxValue);
        var pixels = new byte[count * (RecordBytes - 1)];
        var labels = new long[count];
        long n = 0;
        foreach (var (name, bytes) in files)
            for (int r = 0; r < bytes.Length / RecordBytes && n < count; r++, n++)
            {
                byte label = bytes[r * RecordBytes];
                if (label > 9)
                    throw new InvalidDataException($"{name}: record {r + 1:N0} has label {label}, not 0-9; this is not CIFAR-10's binary version (the Python pickle version is not read: use {Archive}).");
                labels[n] = label;
                Buffer.BlockCopy(bytes, r * RecordBytes + 1, pixels, (int)(n * (RecordBytes - 1)), RecordBytes - 1);
            }
        return new ImageSet(torch.tensor(pixels, new[] { count, Channels, Side, Side }), torch.tensor(labels));
    }

    static bool IsArchive(string path) => File.Exists(path) && (path.EndsWith(".tar.gz") || path.EndsWith(".tgz"));

    static string? FindArchive(string dir) =>
        Directory.Exists(dir) && File.Exists(Path.Combine(dir, Archive)) ? Path.Combine(dir, Archive) : null;

    static string? FindFolder(string dir) =>
        new[] { dir, Path.Combine(dir, Folder) }.FirstOrDefault(d =>
            Directory.Exists(d) && (File.Exists(Path.Combine(d, TestFile)) || TrainFiles.Any(f => File.Exists(Path.Combine(d, f)))));

    /// <summary>The wanted files from the archive, in the order asked for, wherever they sit inside it.</summary>
    static List<(string Name, byte[] Bytes)> ReadFromArchive(string archive, string[] wanted)
    {
        var found = new Dictionary<string, byte[]>();
        try
        {
            using var file = File.OpenRead(archive);
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            using var tar = new TarReader(gzip);
            while (tar.GetNextEntry() is { } entry)
            {
                string name = Path.GetFileName(entry.Name);
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || !wanted.Contains(name) || entry.DataStream == null) continue;
                if (entry.Length > 200_000_000) throw new InvalidDataException($"{archive}: {entry.Name} claims {entry.Length:N0} bytes; not a CIFAR-10 file.");
                using var bytes = new MemoryStream((int)entry.Length);
                entry.DataStream.CopyTo(bytes);
                found[name] = bytes.ToArray();
            }
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException)
        {
            throw new InvalidDataException($"{archive}: is not a readable .tar.gz ({e.Message.TrimEnd('.')}); download {Archive} again.");
        }
        return wanted.Where(found.ContainsKey).Select(n => ($"{archive}:{n}", found[n])).ToList();
    }
}
