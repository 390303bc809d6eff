// `export` and `import`: a trained model written for PyTorch or ONNX Runtime, and weights trained elsewhere made a run.
using System.Text.Json;
using Denoiser.Data;
using Denoiser.Models;
using Denoiser.Training;
using static TorchSharp.torch;

namespace Denoiser.Interchange;

public static class ModelFiles
{
    /// <summary>
    /// Writes a model as safetensors or pt (weights keyed like PyTorch's state_dict()) or onnx (a graph for ONNX Runtime);
    /// the checkpoint's epoch and settings travel in the metadata.
    /// </summary>
    /// <param name="load">The model, its kind, where it came from and its checkpoint, loaded once the output is known to be free.</param>
    public static int Export(string path, string format, bool overwrite,
                             Func<(nn.Module<Tensor, Tensor> Model, ModelInfo Info, string From, Checkpoint.Loaded? Checkpoint, Inference.TrainingDomain Domain)> load)
    {
        if (File.Exists(path) && !overwrite)
            throw new UserException($"{path}: already exists; pass --overwrite to replace it.", ExitCodes.Usage);
        var (model, info, from, checkpoint, _) = load();
        using var _ = model;
        var metadata = new Dictionary<string, string> { [WeightsFile.ModelKey] = info.Name };
        if (checkpoint != null)
        {
            metadata[WeightsFile.EpochKey] = checkpoint.Header.Epoch.ToString();
            metadata[WeightsFile.SettingsKey] = JsonSerializer.Serialize(checkpoint.Header.Settings);
        }
        switch (format)
        {
            case "onnx":
                Onnx.ModelProto onnx;
                // The exporter maps layers and a few functions one by one; a model built from others is refused before anything is written.
                try { onnx = OnnxExport.Build(model, info, metadata); }
                catch (NotSupportedException e) { throw new UserException($"{info.Name} cannot be exported to ONNX yet ({e.Message}); export --format safetensors, which `denoise --weights` runs."); }
                OnnxExport.Write(onnx, path);
                break;
            case "pt": WeightsFile.ExportPyTorch(model, path); break;
            default: WeightsFile.Export(model, path, metadata); break;
        }
        Console.WriteLine($"{from} -> {path} ({format}, {model.parameters().Sum(t => t.numel()):N0} parameters, float32)");
        return ExitCodes.Ok;
    }

    /// <summary>
    /// A run folder with a checkpoint from a weights file: its settings those the file carries, else <paramref name="defaults"/>.
    /// No optimizer state travels in a weights file, so the checkpoint is for use (denoise, export), not --resume.
    /// </summary>
    /// <param name="named">The model the file holds, when it does not say.</param>
    public static int Import(string path, string? named, RunFolder run, TrainSettings defaults)
    {
        if (File.Exists(run.Best) || File.Exists(run.Last))
            throw new UserException($"{run.Root} already holds a run; choose another --run-dir.", ExitCodes.Usage);

        var info = Registry.ForWeights(path, WeightsFile.ModelOf(path), named);
        using var model = info.Create();
        var metadata = WeightsFile.LoadInto(model, info.Name, path);
        var settings = defaults with { RunDir = run.Root, Model = info.Name };
        if (metadata.TryGetValue(WeightsFile.SettingsKey, out var json))
        {
            try { settings = (JsonSerializer.Deserialize<TrainSettings>(json) ?? settings) with { RunDir = run.Root, Model = info.Name }; }
            catch (JsonException) { Console.WriteLine($"note: {path}'s settings metadata is unreadable; the run records the defaults instead."); }
        }
        int epoch = metadata.TryGetValue(WeightsFile.EpochKey, out var e) && int.TryParse(e, out int n) ? n : 0;

        var header = new CheckpointHeader(info.Name, epoch, epoch + 1, settings, Array.Empty<EpochMetrics>(), double.NaN, DateTimeOffset.Now);
        Checkpoint.Save(run.Best, Checkpoint.Serialize(header, model, null));
        AtomicFile.WriteAllText(run.SettingsFile, JsonSerializer.Serialize(settings, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"{path} ({info.Name}) -> {run.Best}");
        Console.WriteLine($"use it with: denoiser denoise IMAGE.png --checkpoint {run.Best}");
        return ExitCodes.Ok;
    }
}
