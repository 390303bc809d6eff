// Model weights to and from safetensors and PyTorch .pt files, keyed exactly like PyTorch's state_dict(), validated
// against the model.
using Denoiser.Data;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Denoiser.Interchange;

public static class WeightsFile
{
    /// <summary>Metadata keys Denoiser writes (PyTorch's loaders ignore metadata).</summary>
    public const string ModelKey = "denoiser.model", EpochKey = "denoiser.epoch", SettingsKey = "denoiser.settings";

    public static void Export(nn.Module model, string path, IReadOnlyDictionary<string, string> metadata)
    {
        var tensors = model.state_dict().Select(kv =>
        {
            using var cpu = kv.Value.detach().cpu().contiguous();
            Array values = cpu.dtype switch
            {
                ScalarType.Float32 => cpu.data<float>().ToArray(),
                ScalarType.Int64 => cpu.data<long>().ToArray(), // a BatchNorm's num_batches_tracked
                var other => throw new NotSupportedException($"{kv.Key} is {other}; safetensors export writes float32 and int64"),
            };
            return (kv.Key, new SafeTensor(cpu.shape, values));
        }).ToList();
        var meta = new Dictionary<string, string>(metadata) { ["format"] = "pt" }; // what safetensors' torch writer sets
        SafeTensorsFile.Write(path, tensors, meta);
    }

    /// <summary>
    /// A PyTorch state dict (the zip format torch.save writes, read by torch.load), written by TorchSharp.PyBridge.
    /// A .pt file has no metadata; the model is recognized by its names and shapes when it is read back.
    /// </summary>
    public static void ExportPyTorch(nn.Module model, string path)
    {
        var tensors = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu().contiguous());
        try { AtomicFile.Write(path, s => PyTorchPickler.PickleStateDict(s, tensors, leaveOpen: true)); }
        finally { foreach (var t in tensors.Values) t.Dispose(); }
    }

    /// <summary>
    /// The tensors and metadata of a weights file: safetensors, or a PyTorch torch.save file (.pt, .pth, .bin; the
    /// zip format or the legacy one, a state dict or a whole pickled module), which carries no metadata.
    /// </summary>
    public static (IReadOnlyDictionary<string, SafeTensor> Tensors, IReadOnlyDictionary<string, string> Metadata) Read(string path)
    {
        try
        {
            bool pytorch = !path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) && PyTorchFile.Recognizes(path);
            return pytorch ? (PyTorchFile.Read(path), new Dictionary<string, string>()) : SafeTensorsFile.Read(path);
        }
        catch (InvalidDataException e) { throw new UserException(e.Message); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new UserException($"{path}: cannot be read ({e.Message})."); }
    }

    /// <summary>
    /// The model the file holds: what Denoiser's metadata says, else the one model of the registry whose state-dict
    /// names and shapes the file's tensors fit exactly (a state dict saved by PyTorch says nothing); null when none does.
    /// </summary>
    public static string? ModelOf(string path)
    {
        var (tensors, metadata) = Read(path);
        if (metadata.GetValueOrDefault(ModelKey) is { } recorded) return recorded;
        var fitting = Models.Registry.All.Where(info =>
        {
            using var model = info.Create();
            var expected = model.state_dict();
            return expected.Count == tensors.Count
                   && expected.All(kv => tensors.TryGetValue(kv.Key, out var t) && t.Shape.SequenceEqual(kv.Value.shape));
        }).ToList();
        return fitting.Count == 1 ? fitting[0].Name : null;
    }

    /// <summary>
    /// Copies the file's tensors into <paramref name="model"/>'s parameters after checking that names and shapes
    /// match exactly (like PyTorch's strict load_state_dict) and that the file is not marked as another model's.
    /// </summary>
    public static IReadOnlyDictionary<string, string> LoadInto(nn.Module model, string modelKind, string path)
    {
        var (tensors, metadata) = Read(path);
        if (metadata.TryGetValue(ModelKey, out var kind) && kind != modelKind)
            throw new UserException($"{path}: holds weights of model '{kind}', not '{modelKind}'; use weights of {modelKind}.");

        var expected = model.state_dict();
        var problems = expected.Keys.Where(k => !tensors.ContainsKey(k)).Select(k => $"missing {k}")
            .Concat(tensors.Keys.Where(k => !expected.ContainsKey(k)).Select(k => $"unexpected {k}"))
            .Concat(expected.Where(kv => tensors.TryGetValue(kv.Key, out var t) && !t.Shape.SequenceEqual(kv.Value.shape))
                .Select(kv => $"{kv.Key} is [{string.Join(", ", tensors[kv.Key].Shape)}], expected [{string.Join(", ", kv.Value.shape)}]"))
            .Concat(expected.Where(kv => tensors.TryGetValue(kv.Key, out var t) && t.Dtype != (kv.Value.dtype == ScalarType.Int64 ? "I64" : "F32"))
                .Select(kv => $"{kv.Key} is {tensors[kv.Key].Dtype}, expected {(kv.Value.dtype == ScalarType.Int64 ? "I64" : "F32")}"))
            .ToList();
        if (problems.Count > 0)
            throw new UserException($"{path}: does not fit {modelKind} ({string.Join("; ", problems.Take(4))}{(problems.Count > 4 ? "; ..." : "")}); it holds another model's weights.");

        using (torch.no_grad())
            foreach (var (name, target) in expected)
            {
                var t = tensors[name];
                using var source = t.Values is long[] longs ? torch.tensor(longs, t.Shape) : torch.tensor(t.Data, t.Shape);
                target.copy_(source);
            }
        return metadata;
    }
}
