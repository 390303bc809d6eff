// The checkpoint file: a JSON header (model, epoch, settings, metrics, RNG state), weights, optimizer state, SHA-256.
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Denoiser.Data;
using Denoiser.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Training;

/// <summary>Everything about a run that is not a tensor.</summary>
/// <param name="NextEpoch">Epochs are seeded from (Seed, epoch), so (Seed, NextEpoch) is the whole RNG state needed to resume.</param>
/// <param name="Interrupted">Set when training was stopped inside NextEpoch: where and with what state to go on.</param>
public sealed record CheckpointHeader(
    string Model, int Epoch, int NextEpoch, TrainSettings Settings, IReadOnlyList<EpochMetrics> History,
    double BestTestLoss, DateTimeOffset Saved, Interruption? Interrupted = null);

/// <param name="Batch">Batches of the epoch already done.</param>
/// <param name="Generator">The epoch generator's state after them (libtorch's CPU generator state bytes).</param>
/// <param name="LossSum">Sum of batch loss x batch size so far, for the epoch's mean training loss.</param>
/// <param name="Seconds">Training seconds the epoch had taken so far.</param>
public sealed record Interruption(long Batch, byte[] Generator, double LossSum, double Seconds);

/// <summary>
/// Layout: "DNSRCKPT", u32 format version, u32 header length, header (UTF-8 JSON), u64 weights length, weights
/// (TorchSharp's Module.save format), u64 optimizer length, optimizer state (TorchSharp's Optimizer format),
/// then the SHA-256 of everything before it. All integers little-endian.
/// </summary>
public static class Checkpoint
{
    /// <summary>2: noise specs say ,clip when clipped (format 1 clipped gaussian:SIGMA, speckle and poisson unsaid).</summary>
    public const int FormatVersion = 2;
    static readonly byte[] Magic = "DNSRCKPT"u8.ToArray();
    const int MaxBytes = 1 << 30;
    // Named literals: a run that diverged still records its NaN losses instead of failing to save.
    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>Serialises the model and optimizer (from any device) with their header.</summary>
    public static byte[] Serialize(CheckpointHeader header, nn.Module model, TorchSharp.Modules.OptimizerHelper? optimizer)
    {
        using var body = new MemoryStream();
        using (var w = new BinaryWriter(body, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write((uint)FormatVersion);
            byte[] json = JsonSerializer.SerializeToUtf8Bytes(header, Json);
            w.Write((uint)json.Length);
            w.Write(json);
            WriteBlock(w, bw => model.save(bw));
            WriteBlock(w, bw => optimizer?.save_state_dict(bw));
        }
        body.Write(SHA256.HashData(body.GetBuffer().AsSpan(0, (int)body.Length)));
        return body.ToArray();
    }

    public static void Save(string path, byte[] bytes) => AtomicFile.Write(path, s => s.Write(bytes));

    /// <summary>A checkpoint read and verified (magic, version, checksum, lengths, model kind), not yet applied.</summary>
    public sealed class Loaded(string path, CheckpointHeader header, byte[] weights, byte[] optimizerState)
    {
        public string Path { get; } = path;
        public CheckpointHeader Header { get; } = header;
        byte[] Weights { get; } = weights;
        byte[] OptimizerState { get; } = optimizerState;

        /// <summary>Loads the weights into <paramref name="model"/> (on CPU; the caller moves it afterwards).</summary>
        public void LoadWeights(nn.Module model)
        {
            try
            {
                using var r = new BinaryReader(new MemoryStream(Weights));
                model.load(r, strict: true);
            }
            catch (Exception e) when (e is ArgumentException or EndOfStreamException or IOException)
            {
                throw new UserException($"{Path}: its weights do not fit {Header.Model} ({e.Message}); it belongs to another model or is damaged.");
            }
        }

        public void LoadOptimizer(TorchSharp.Modules.OptimizerHelper optimizer)
        {
            if (OptimizerState.Length == 0) throw new UserException($"{Path}: holds no optimizer state, so training cannot resume from it.");
            try
            {
                using var r = new BinaryReader(new MemoryStream(OptimizerState));
                optimizer.load_state_dict(r);
            }
            catch (Exception e) when (e is ArgumentException or InvalidDataException or EndOfStreamException or IOException)
            {
                throw new UserException($"{Path}: its optimizer state does not fit ({e.Message}); start a new run instead of --resume.");
            }
        }
    }

    /// <summary>True when the file starts with a Denoiser checkpoint's signature (a weights file does not).</summary>
    public static bool Recognizes(string path)
    {
        using var f = File.OpenRead(path);
        var head = new byte[Magic.Length];
        return f.Read(head) == head.Length && head.AsSpan().SequenceEqual(Magic);
    }

    /// <summary>
    /// The model a checkpoint holds, from its header alone: the weights are neither read nor checked (listing many
    /// runs, `serve`'s /api/models). A file that is not a checkpoint says so, as <see cref="Read"/> does.
    /// </summary>
    public static string ModelOf(string path)
    {
        string Bad(string what) => $"{path}: {what}; it is not a complete Denoiser checkpoint. Use another checkpoint (last.ckpt or best.ckpt of a run).";
        if (!File.Exists(path)) throw new UserException($"{path}: checkpoint not found.");
        using var f = File.OpenRead(path);
        var start = new byte[Magic.Length + 8];
        if (f.Read(start) != start.Length || !start.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new UserException(Bad(f.Length == 0 ? "the file is empty" : "it does not start with the checkpoint signature"));
        int headerLength = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(start.AsSpan(12)));
        if (headerLength > f.Length - start.Length || headerLength > 1 << 24) throw new UserException(Bad("the header length runs past the end"));
        var header = new byte[headerLength];
        f.ReadExactly(header);
        try { return JsonDocument.Parse(header).RootElement.GetProperty("Model").GetString() ?? throw new UserException(Bad("its header lacks the model")); }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException) { throw new UserException(Bad("its header is not valid JSON")); }
    }

    /// <param name="expectedModel">The model it must hold; null accepts any model this Denoiser knows.</param>
    public static Loaded Read(string path, string? expectedModel = null)
    {
        if (!File.Exists(path)) throw new UserException($"{path}: checkpoint not found. Train one with `denoiser train` or pass --checkpoint.");
        long length = new FileInfo(path).Length;
        if (length > MaxBytes) throw new UserException($"{path}: {length:N0} bytes is far too large for a checkpoint; is it the right file?");
        byte[] bytes = File.ReadAllBytes(path);
        string Bad(string what) => $"{path}: {what}; it is not a complete Denoiser checkpoint. Use another checkpoint (last.ckpt or best.ckpt of a run).";

        if (bytes.Length < Magic.Length + 8 + 32 || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new UserException(Bad(bytes.Length == 0 ? "the file is empty" : "it does not start with the checkpoint signature"));
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
        if (version > FormatVersion)
            throw new UserException($"{path}: checkpoint format {version} was written by a newer Denoiser (this one reads up to {FormatVersion}); upgrade Denoiser.");
        if (version < 1) throw new UserException(Bad($"format version {version} is invalid"));
        var payload = bytes.AsSpan(0, bytes.Length - 32);
        if (!SHA256.HashData(payload).AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - 32)))
            throw new UserException(Bad("its checksum does not match (truncated or damaged)"));

        int at = 12;
        int headerLength = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at))); at += 4;
        if (headerLength > payload.Length - at) throw new UserException(Bad("the header length runs past the end"));
        CheckpointHeader? header;
        try { header = JsonSerializer.Deserialize<CheckpointHeader>(bytes.AsSpan(at, headerLength), Json); }
        catch (JsonException e) { throw new UserException(Bad($"its header is not valid JSON ({e.Message})")); }
        if (header?.Settings == null || header.Model == null) throw new UserException(Bad("its header lacks the model or settings"));
        if (version == 1)
        {
            try { header = header with { Settings = header.Settings with { Noise = Data.Noise.Parse(Data.Noise.FromFormat1(header.Settings.Noise.Spec)) } }; }
            catch (FormatException e) { throw new UserException(Bad($"its noise does not parse ({e.Message})")); }
        }
        at += headerLength;
        if (expectedModel != null && header.Model != expectedModel)
            throw new UserException($"{path}: is a checkpoint of model '{header.Model}', not '{expectedModel}'; use a checkpoint of {expectedModel}.");
        if (Registry.Find(header.Model) == null)
            throw new UserException($"{path}: is a checkpoint of model '{header.Model}', which this Denoiser does not know (it knows {Registry.Names}); upgrade Denoiser.");

        byte[] weights = ReadBlock(bytes, payload.Length, ref at) ?? throw new UserException(Bad("the weights run past the end"));
        byte[] optimizer = ReadBlock(bytes, payload.Length, ref at) ?? throw new UserException(Bad("the optimizer state runs past the end"));
        return new Loaded(path, header, weights, optimizer);
    }

    static void WriteBlock(BinaryWriter w, Action<BinaryWriter> write)
    {
        using var block = new MemoryStream();
        using (var bw = new BinaryWriter(block, Encoding.UTF8, leaveOpen: true)) write(bw);
        w.Write((ulong)block.Length);
        w.Write(block.GetBuffer(), 0, (int)block.Length);
    }

    static byte[]? ReadBlock(byte[] bytes, int end, ref int at)
    {
        if (end - at < 8) return null;
        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at));
        at += 8;
        if (length > (ulong)(end - at)) return null;
        byte[] block = bytes.AsSpan(at, (int)length).ToArray();
        at += (int)length;
        return block;
    }
}
