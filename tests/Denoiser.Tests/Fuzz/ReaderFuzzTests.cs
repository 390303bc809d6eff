// Random and mutated bytes fed to every reader of untrusted files: they refuse cleanly and allocate little.
using Denoiser.Data;
using Denoiser.Models;
using Denoiser.Training;
using FsCheck.Xunit;
using TorchSharp;
using Xunit;

namespace Denoiser.Tests.Fuzz;

public class ReaderFuzzTests
{
    const long AllocationBudget = 32 << 20; // far below what a lying header could ask for

    /// <summary>Runs <paramref name="read"/> on <paramref name="bytes"/> as a file; only <typeparamref name="TRefusal"/> may escape.</summary>
    static void ReadsOrRefuses<TRefusal>(byte[] bytes, Action<string> read) where TRefusal : Exception
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir["f"], bytes);
        long before = GC.GetAllocatedBytesForCurrentThread();
        try { read(dir["f"]); }
        catch (TRefusal) { }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < AllocationBudget + 4L * bytes.Length, $"{allocated:N0} bytes allocated for a {bytes.Length}-byte file");
    }

    static readonly byte[] ValidIdx = TestFiles.Idx3(new[] { TestFiles.Digit(1, 1), TestFiles.Digit(2, 2) });
    static readonly byte[] ValidCheckpoint = MakeCheckpoint();

    static byte[] MakeCheckpoint()
    {
        using var model = new ConvDenoiser();
        var header = new CheckpointHeader(ConvDenoiser.Kind, 1, 2, new TrainSettings(), Array.Empty<EpochMetrics>(), 0.1, DateTimeOffset.UnixEpoch);
        return Checkpoint.Serialize(header, model, null);
    }

    /// <summary>A valid file with some bytes overwritten: headers that lie, lengths that do not add up.</summary>
    static byte[] Mutate(byte[] valid, byte[] noise, int seed)
    {
        var copy = (byte[])valid.Clone();
        var random = new Random(seed);
        // Half the changes land in bytes 4-15 (IDX dimensions, checkpoint version and header length), the rest anywhere early.
        foreach (byte b in noise) copy[random.Next(2) == 0 ? 4 + random.Next(12) : random.Next(Math.Min(copy.Length, 64))] = b;
        return copy;
    }

    [Property(MaxTest = 300)]
    public void Idx_reader_refuses_random_bytes(byte[] bytes) => ReadsOrRefuses<InvalidDataException>(bytes ?? Array.Empty<byte>(), f => IdxFile.ReadImages(f));

    [Property(MaxTest = 300)]
    public void Idx_reader_refuses_mutated_files_raw_and_gzipped(byte[] noise, int seed, bool gzip)
    {
        var bytes = Mutate(ValidIdx, noise ?? Array.Empty<byte>(), seed);
        ReadsOrRefuses<InvalidDataException>(gzip ? TestFiles.Gzip(bytes) : bytes, f => IdxFile.ReadImages(f));
    }

    [Property(MaxTest = 200)]
    public void Checkpoint_reader_refuses_random_and_mutated_bytes(byte[] noise, int seed)
    {
        ReadsOrRefuses<UserException>(noise ?? Array.Empty<byte>(), f => Checkpoint.Read(f));
        ReadsOrRefuses<UserException>(Mutate(ValidCheckpoint, noise ?? Array.Empty<byte>(), seed), f => Checkpoint.Read(f));
    }

    [Property(MaxTest = 300)]
    public void Safetensors_reader_refuses_random_bytes(byte[] bytes) =>
        ReadsOrRefuses<InvalidDataException>(bytes ?? Array.Empty<byte>(), f => SafeTensorsFile.Read(f));
}
