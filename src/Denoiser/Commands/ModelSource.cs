// Where a command's trained model comes from: --weights (safetensors or PyTorch .pt), --checkpoint, --pretrained, the latest run's
// best.ckpt, or, before any training, a shipped model.
using System.CommandLine;
using Denoiser.Batch;
using Denoiser.Interchange;
using Denoiser.Models;
using Denoiser.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Commands;

/// <param name="byPicture">
/// Whether the command gives each picture the model that fits it when none is named (denoise and serve, through
/// <see cref="ModelPicker"/>); else the latest run, or before any training the shipped grey photo model.
/// </param>
public sealed class ModelSource(AppConfig config, bool byPicture = false)
{
    public Opt<string?> Checkpoint { get; } = new("--checkpoint", byPicture
        ? "Checkpoint to use [default: best.ckpt of the latest run under --models-dir, for pictures like those it was trained on]"
        : "Checkpoint to use [default: best.ckpt of the latest run under --models-dir]");
    public Opt<string?> Weights { get; } = new("--weights", "A .safetensors or PyTorch .pt/.pth file of weights (state_dict keys), instead of a checkpoint");
    public Opt<string?> Pretrained { get; } = new("--pretrained", "A model shipped with Denoiser, by name (`denoiser runs` lists them) " + (byPicture
        ? $"[default, for a picture the latest run does not fit: {ModelPicker.Colour} for colour, {ModelPicker.Grey} for grey]"
        : $"[default, when no run exists: {Inference.Pretrained.Default}]"));
    public Opt<string?> Model { get; } = new("--model", $"The model --weights holds, when the file does not say ({Registry.Names}) [default: {Registry.Default.Name}]");
    public Opt<string> ModelsDir { get; } = new("--models-dir", "Where runs are looked for") { Default = config.Train.ModelsDir };

    public IEnumerable<Option> Options => new Option[] { Checkpoint, Weights, Pretrained, Model, ModelsDir };

    /// <summary>The model its checkpoint or weights file names, on the CPU with those weights, and a line saying where they came from.</summary>
    /// <remarks>Domain: what the model was trained on, from the checkpoint's settings or those the weights file carries.</remarks>
    public (nn.Module<Tensor, Tensor> Model, ModelInfo Info, string From, Checkpoint.Loaded? Checkpoint, Inference.TrainingDomain Domain) Load(ParseResult p)
    {
        OneSource(p);
        string? checkpoint = Checkpoint.Get(p), weights = Weights.Get(p), named = Model.Get(p), pretrained = Pretrained.Get(p);
        if (named != null) Registry.Get(named); // an unknown --model is a usage error before any file is read
        string dir = ModelsDir.Get(p);
        // Before any training, the shipped photo model: a new user can denoise a photo at once.
        if (checkpoint == null && weights == null && pretrained == null && RunFolder.Latest(dir, r => r.Best) == null &&
            Inference.Pretrained.All().Any(m => m.Name == Inference.Pretrained.Default))
            pretrained = Inference.Pretrained.Default;
        return Load(checkpoint, weights, pretrained, named, dir);
    }

    /// <summary>As <see cref="Load(ParseResult)"/>, the model moved to the device <paramref name="devices"/> choose (and print).</summary>
    public (nn.Module<Tensor, Tensor> Model, ModelInfo Info, string From, Checkpoint.Loaded? Checkpoint) LoadOn(ParseResult p, DeviceOptions devices)
    {
        var device = devices.Apply(p);
        var (model, info, from, checkpoint, _) = Load(p);
        model.to(device);
        return (model, info, from, checkpoint);
    }

    /// <summary>--checkpoint, --weights and --pretrained each name weights: at most one may be given.</summary>
    void OneSource(ParseResult p)
    {
        if (new[] { Checkpoint.Get(p), Weights.Get(p), Pretrained.Get(p) }.Count(o => o != null) > 1)
            throw new UserException("--checkpoint, --weights and --pretrained each name weights; give one of them.", ExitCodes.Usage);
    }

    /// <summary>Whether the command was told which weights to use (--checkpoint, --weights or --pretrained).</summary>
    public bool Named(ParseResult p) => Checkpoint.Get(p) != null || Weights.Get(p) != null || Pretrained.Get(p) != null;

    /// <summary>
    /// denoise's models: the one named (TorchSharp, or ONNX Runtime for an exported file), each picture's own otherwise
    /// (<see cref="ModelPicker"/>); with <paramref name="ensemble"/>, each averaged over the picture's 8 flips and rotations.
    /// </summary>
    public IModelChoice ForPictures(ParseResult p, DeviceOptions devices, string runtime, bool ensemble)
    {
        Func<Inference.IImageModel, Inference.IImageModel> wrap = m => ensemble ? new Inference.SelfEnsemble(m) : m;
        OneSource(p); // before the runtime is chosen, so the conflict gets its own line on either runtime
        int threads = devices.Threads.Get(p);
        if (!Named(p) && runtime != "onnx")
            return new ModelPicker(this, ModelsDir.Get(p), () => devices.Apply(p), wrap, onnxThreads: runtime == "auto" ? threads : null);
        // --runtime onnx takes --weights as a graph whatever its name (a file that is not one gets its own line).
        string? graph = Weights.Get(p) is { } w && (runtime == "onnx" || w.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)) ? w
                        : Pretrained.Get(p) is { } name ? Inference.Pretrained.Graph(name) : null;
        if (runtime == "torch" || graph == null)
        {
            if (runtime == "onnx")
                throw new UserException("--runtime onnx runs an ONNX graph: pass --weights MODEL.onnx (made by `denoiser export --format onnx`) or --pretrained " +
                                        $"with a shipped model that has one ({string.Join(", ", Inference.Pretrained.All().Where(m => m.Onnx != null).Select(m => m.Name))}).", ExitCodes.Usage);
            return new NamedModel(wrap(LoadTorch(p, devices)));
        }
        return new NamedModel(wrap(LoadOnnx(graph, p, threads)));
    }

    Inference.IImageModel LoadTorch(ParseResult p, DeviceOptions devices)
    {
        if (Weights.Get(p) is { } w && w.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
            throw new UserException($"{w}: is an ONNX model, which ONNX Runtime runs: leave out --runtime torch.", ExitCodes.Usage);
        var device = devices.Apply(p);
        var (model, info, from, _, domain) = Load(p);
        Console.WriteLine(from);
        return new Inference.TorchImageModel(model, info, device, domain);
    }

    // Touches nothing of TorchSharp, so libtorch is never loaded on this path. ForPictures has refused --checkpoint beside it.
    Inference.IImageModel LoadOnnx(string path, ParseResult p, int threads)
    {
        var model = new Inference.OnnxImageModel(path, Model.Get(p), threads);
        Console.WriteLine(Pretrained.Get(p) is { } name
            ? $"pretrained: {name} ({Inference.Pretrained.Get(name).Model.Summary}) on ONNX Runtime ({path})"
            : $"onnx: {path} ({model.Info.Name}, ONNX Runtime)");
        return model;
    }

    /// <summary>The shipped model <paramref name="name"/>.</summary>
    public (nn.Module<Tensor, Tensor> Model, ModelInfo Info, string From, Checkpoint.Loaded? Checkpoint, Inference.TrainingDomain Domain) LoadShipped(string name) =>
        Load(null, null, name, null, "");

    /// <summary>A checkpoint by path (a run's best.ckpt, for `serve`'s list of runs).</summary>
    public (nn.Module<Tensor, Tensor> Model, ModelInfo Info, string From, Checkpoint.Loaded? Checkpoint, Inference.TrainingDomain Domain) LoadCheckpoint(string path) =>
        Load(path, null, null, null, "");

    /// <summary>The best checkpoint of the latest run under <paramref name="dir"/>, or null when there is none.</summary>
    public (nn.Module<Tensor, Tensor> Model, ModelInfo Info, string From, Checkpoint.Loaded? Checkpoint, Inference.TrainingDomain Domain)? LoadLatestRun(string dir) =>
        RunFolder.Latest(dir, r => r.Best) is { } run ? Load(run.Best, null, null, null, dir) : null;

    (nn.Module<Tensor, Tensor> Model, ModelInfo Info, string From, Checkpoint.Loaded? Checkpoint, Inference.TrainingDomain Domain) Load(
        string? checkpoint, string? weights, string? pretrained, string? named, string dir)
    {
        string? shipped = null;
        if (pretrained != null)
        {
            var (entry, path) = Inference.Pretrained.Get(pretrained);
            (weights, shipped) = (path, $"pretrained: {entry.Name} ({entry.Summary})");
        }
        if (weights != null)
        {
            var info = Registry.ForWeights(weights, WeightsFile.ModelOf(weights), named);
            var model = info.Create();
            IReadOnlyDictionary<string, string> metadata;
            try { metadata = WeightsFile.LoadInto(model, info.Name, weights); }
            catch { model.Dispose(); throw; }
            return (model, info, shipped ?? $"weights: {weights} ({info.Name})", null, Inference.TrainingDomain.Of(info, metadata));
        }
        if (checkpoint == null)
        {
            checkpoint = (RunFolder.Latest(dir, r => r.Best)
                          ?? throw new UserException($"no trained run under {dir}; train one with `denoiser train`, or pass --checkpoint or --weights.")).Best;
        }
        var loaded = Training.Checkpoint.Read(checkpoint, named);
        var kind = Registry.Get(loaded.Header.Model);
        var trained = kind.Create();
        try { loaded.LoadWeights(trained); }
        catch { trained.Dispose(); throw; }
        return (trained, kind, $"checkpoint: {checkpoint} ({kind.Name}, epoch {loaded.Header.Epoch})", loaded,
                Inference.TrainingDomain.Of(kind, loaded.Header.Settings));
    }
}
