// Fine-tuning: a new run that starts from trained weights (a run, a checkpoint, a safetensors or .pt file, or a shipped model)
// instead of a random initialisation. Only the weights come along; the optimizer, schedule and epochs start afresh.
using Denoiser.Interchange;
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

    /// <summary>Copies the weights in <paramref name="path"/> into <paramref name="model"/>, which must be the same model (strict names and shapes).</summary>
    public static void LoadInto(nn.Module model, string modelKind, string path)
    {
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
}
