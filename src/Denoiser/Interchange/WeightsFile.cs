// Model weights to and from safetensors, keyed exactly like PyTorch's state_dict(), validated against the model.
using Denoiser.Data;
using TorchSharp;
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
    /// The model the file holds: what Denoiser's metadata says, else the one model of the registry whose state-dict
    /// names and shapes the file's tensors fit exactly (a state dict saved by PyTorch says nothing); null when none does.
    /// </summary>
    public static string? ModelOf(string path)
    {
        IReadOnlyDictionary<string, SafeTensor> tensors;
        IReadOnlyDictionary<string, string> metadata;
        try { (tensors, metadata) = SafeTensorsFile.Read(path); }
        catch (InvalidDataException e) { throw new UserException(e.Message); }
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
        IReadOnlyDictionary<string, SafeTensor> tensors;
        IReadOnlyDictionary<string, string> metadata;
        try { (tensors, metadata) = SafeTensorsFile.Read(path); }
        catch (InvalidDataException e) { throw new UserException(e.Message); }
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
