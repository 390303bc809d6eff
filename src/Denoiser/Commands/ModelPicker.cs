// `denoise` with no model named: the model is chosen by the picture. The latest run when it was trained on pictures
// like it; else the shipped model for the picture's kind (colour or grey). Each is loaded once, when first needed.
using Denoiser.Batch;
using Denoiser.Data;
using Denoiser.Inference;
using TorchSharp;

namespace Denoiser.Commands;

/// <param name="device">libtorch's device, chosen (and printed) when a model first needs it: never, when ONNX Runtime runs them all.</param>
/// <param name="onnxThreads">Run a shipped model that has an ONNX graph on ONNX Runtime, with these threads (0: one per
/// core); null: every model on libtorch.</param>
public sealed class ModelPicker(ModelSource source, string modelsDir, Func<torch.Device> device, Func<IImageModel, IImageModel> wrap, int? onnxThreads = null)
    : IModelChoice
{
    /// <summary>The shipped models for colour and for grey pictures.</summary>
    public const string Colour = "photo-rgb", Grey = Pretrained.Default;

    readonly Dictionary<string, IImageModel> loaded = new();
    readonly Lazy<torch.Device> torchDevice = new(device);
    (IImageModel Model, string From)? latest;
    bool lookedForRun;

    public IImageModel? Named => null;

    /// <summary>The model for <paramref name="picture"/>, and which one it is and why, for the picture's line.</summary>
    public (IImageModel Model, string Why) For(Picture picture)
    {
        if (LatestRun() is { } run)
        {
            bool channels = run.Model.Info.Channels == (picture.IsColor ? 3 : 1);
            string? far = run.Model.Domain.Warning(picture.As(1));
            if (channels && far == null) return (run.Model, $"{run.From}: the latest run, trained on pictures like this");
        }
        string name = picture.IsColor && Pretrained.All().Any(m => m.Name == Colour) ? Colour : Grey;
        string why = LatestRun() is { } other
            ? $"the latest run ({other.Model.Domain.Name}, {(other.Model.Info.Channels == 3 ? "colour" : "grey")}) does not fit this {(picture.IsColor ? "colour" : "grey")} picture"
            : "no trained run";
        var model = Shipped(name);
        return (model, $"shipped model {name} ({why}; --checkpoint or --pretrained chooses), on {model.Runtime}");
    }

    (IImageModel Model, string From)? LatestRun()
    {
        if (lookedForRun) return latest;
        lookedForRun = true;
        if (source.LoadLatestRun(modelsDir) is { } run)
            latest = (wrap(new TorchImageModel(run.Model, run.Info, torchDevice.Value, run.Domain)), run.From);
        return latest;
    }

    public IImageModel Shipped(string name)
    {
        if (loaded.TryGetValue(name, out var model)) return model;
        if (onnxThreads is int threads && Pretrained.Graph(name) is { } graph)
            return loaded[name] = wrap(new OnnxImageModel(graph, null, threads));
        var (module, info, _, _, domain) = source.LoadShipped(name);
        return loaded[name] = wrap(new TorchImageModel(module, info, torchDevice.Value, domain));
    }

    public void Dispose()
    {
        foreach (var model in loaded.Values) model.Dispose();
        latest?.Model.Dispose();
    }
}
