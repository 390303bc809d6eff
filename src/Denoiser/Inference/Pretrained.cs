// The models shipped in the repository (models/pretrained/), usable before any training: their catalogue.
using System.Text.Json;

namespace Denoiser.Inference;

/// <param name="Name">What --pretrained takes.</param>
/// <param name="File">The safetensors file, beside the catalogue.</param>
/// <param name="Summary">What it is for and how well it does, one line.</param>
/// <param name="Trained">How it was trained: data, command, time.</param>
/// <param name="Onnx">The same weights as an ONNX graph (`export --format onnx`), beside the catalogue, for a model that
/// ONNX Runtime runs faster than libtorch (measured: docs/performance.md); null when there is none.</param>
public sealed record PretrainedModel(string Name, string File, string Summary, string Trained, string? Onnx = null);

public static class Pretrained
{
    /// <summary>The catalogue's name; it and the weights are copied beside the program (pretrained/), so any working folder finds them.</summary>
    public const string Catalogue = "pretrained.json";

    /// <summary>The model `denoise` uses when there is no trained run and no --checkpoint, --weights or --pretrained.</summary>
    public const string Default = "photo";

    public static string Folder => Path.Combine(AppContext.BaseDirectory, "pretrained");

    public static IReadOnlyList<PretrainedModel> All()
    {
        string path = Path.Combine(Folder, Catalogue);
        if (!System.IO.File.Exists(path)) return Array.Empty<PretrainedModel>();
        return JsonSerializer.Deserialize<List<PretrainedModel>>(System.IO.File.ReadAllText(path), new JsonSerializerOptions { PropertyNameCaseInsensitive = true })
               ?? new List<PretrainedModel>();
    }

    /// <summary>The weights file of the model called <paramref name="name"/>, or a usage error naming the ones there are.</summary>
    public static (PretrainedModel Model, string Path) Get(string name)
    {
        var all = All();
        var model = all.FirstOrDefault(m => m.Name == name)
            ?? throw new UserException(all.Count == 0
                ? $"--pretrained {name}: this Denoiser ships no pretrained models ({Path.Combine(Folder, Catalogue)} is missing)."
                : $"--pretrained {name}: there is no shipped model of that name; `denoiser runs` lists them ({string.Join(", ", all.Select(m => m.Name))}).", ExitCodes.Usage);
        return (model, Path.Combine(Folder, model.File));
    }

    /// <summary>The ONNX graph shipped for the model called <paramref name="name"/>, or null when it has none.</summary>
    public static string? Graph(string name) =>
        All().FirstOrDefault(m => m.Name == name) is { Onnx: { } onnx } && System.IO.File.Exists(Path.Combine(Folder, onnx)) ? Path.Combine(Folder, onnx) : null;
}
