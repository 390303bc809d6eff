// Fine-tuning: a new run that starts from trained weights (a run, a checkpoint, a safetensors or .pt file, or a shipped model)
// instead of a random initialisation. Only the weights come along; the optimizer, schedule and epochs start afresh.
using Denoiser.Interchange;
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Training;

public static class StartingWeights
{
    /// <summary>
    /// The file <paramref name="source"/> names: a shipped model's name, a run folder (its best.ckpt), a checkpoint or
    /// a .safetensors file; as an absolute path, so the run's settings say exactly where its start came from.
    /// </summary>
    public static string Resolve(string source, string option = "--init-from")
    {
        if (Inference.Pretrained.All().Any(m => m.Name == source)) return Inference.Pretrained.Get(source).Path;
        if (Directory.Exists(source))
        {
            var run = new RunFolder(source);
            return File.Exists(run.Best) ? Path.GetFullPath(run.Best)
                : throw new UserException($"{option} {source}: the folder holds no best.ckpt; name a run folder, a checkpoint, a .safetensors or .pt file, or a shipped model (`denoiser runs`).", ExitCodes.Usage);
        }
        if (!File.Exists(source))
            throw new UserException($"{option} {source}: no such file, run folder or shipped model; `denoiser runs` lists the runs and shipped models.", ExitCodes.Usage);
        return Path.GetFullPath(source);
    }

    /// <summary>
    /// Copies the weights in <paramref name="path"/> into <paramref name="model"/>, which must be the same model (strict
    /// names and shapes) or the told twin of the file's blind one (<see cref="Models.ModelInfo.BlindTwin"/>).
    /// </summary>
    public static void LoadInto(nn.Module model, string modelKind, string path)
    {
        if (Models.Registry.Get(modelKind).BlindTwin is { } blind && KindOf(path) == blind)
        {
            using var twin = Models.Registry.Get(blind).Create();
            LoadInto(twin, blind, path);
            Widen(model, twin);
            return;
        }

        if (!Checkpoint.Recognizes(path))
        {
            if (WeightsFile.ModelOf(path) is { } kind && kind != modelKind)
                throw new UserException($"--init-from {path}: holds weights of model '{kind}', and this run trains '{modelKind}'; pass --model {kind} or other weights.", ExitCodes.Usage);
            WeightsFile.LoadInto(model, modelKind, path);
            return;
        }
        var checkpoint = Checkpoint.Read(path);
        if (checkpoint.Header.Model != modelKind)
            throw new UserException($"--init-from {path}: is a checkpoint of model '{checkpoint.Header.Model}', and this run trains '{modelKind}'; pass --model {checkpoint.Header.Model} or another checkpoint.", ExitCodes.Usage);
        checkpoint.LoadWeights(model);
    }

    static string? KindOf(string path) => Checkpoint.Recognizes(path) ? Checkpoint.Read(path).Header.Model : WeightsFile.ModelOf(path);

    /// <summary>
    /// The blind twin's weights into the told model: the same names and shapes but for the first layer, which reads one
    /// plane more (the level); that plane's weights start at zero, so the told model starts computing what the blind one did.
    /// </summary>
    static void Widen(nn.Module told, nn.Module blind)
    {
        var source = blind.state_dict();
        using var _ = torch.no_grad();
        foreach (var (name, target) in told.state_dict())
        {
            var from = source[name];
            if (target.shape.SequenceEqual(from.shape)) { target.copy_(from); continue; }
            target.zero_();
            using var kept = target.narrow(1, 0, from.shape[1]);
            kept.copy_(from);
        }
    }
}
