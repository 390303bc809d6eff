// Where a command's trained model comes from: --weights (safetensors), --checkpoint, or the latest run's best.ckpt.
using System.CommandLine;
using Denoiser.Interchange;
using Denoiser.Models;
using Denoiser.Training;

namespace Denoiser.Commands;

public sealed class ModelSource
{
    public Option<string?> Checkpoint { get; } = new("--checkpoint") { Description = "Checkpoint to use [default: best.ckpt of the latest run under --models-dir]" };
    public Option<string?> Weights { get; } = new("--weights") { Description = "A .safetensors file of ConvDenoiser weights (PyTorch state_dict keys), instead of a checkpoint" };
    public Option<string> ModelsDir { get; }

    public ModelSource(AppConfig config) =>
        ModelsDir = new Option<string>("--models-dir") { Description = "Where runs are looked for", DefaultValueFactory = _ => config.Train.ModelsDir };

    public IEnumerable<Option> Options => new Option[] { Checkpoint, Weights, ModelsDir };

    /// <summary>A ConvDenoiser on the CPU with the chosen weights, and a line saying where they came from.</summary>
    public (ConvDenoiser Model, string From, Checkpoint.Loaded? Checkpoint) Load(ParseResult p)
    {
        string? checkpoint = p.GetValue(Checkpoint), weights = p.GetValue(Weights);
        if (checkpoint != null && weights != null)
            throw new UserException("--checkpoint and --weights both name weights; give one of them.", ExitCodes.Usage);
        var model = new ConvDenoiser();
        try
        {
            if (weights != null)
            {
                WeightsFile.LoadInto(model, ConvDenoiser.Kind, weights);
                return (model, $"weights: {weights}", null);
            }
            if (checkpoint == null)
            {
                string dir = p.GetValue(ModelsDir)!;
                checkpoint = (RunFolder.Latest(dir, r => r.Best)
                              ?? throw new UserException($"no trained run under {dir}; train one with `denoiser train`, or pass --checkpoint or --weights.")).Best;
            }
            var loaded = Training.Checkpoint.Read(checkpoint);
            loaded.LoadWeights(model);
            return (model, $"checkpoint: {checkpoint} (epoch {loaded.Header.Epoch})", loaded);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
