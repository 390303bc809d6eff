// `denoiser export`: a checkpoint's weights as safetensors or a PyTorch .pt state dict, keyed like PyTorch's
// state_dict(), for Python and back; or the model as an ONNX graph.
using System.CommandLine;
using System.Text.Json;
using Denoiser.Interchange;
using Denoiser.Models;

namespace Denoiser.Commands;

public static class ExportCommand
{
    public static Command Create(AppConfig config)
    {
        var source = new ModelSource(config);
        var format = new Opt<string>("--format", "Output format") { Default = "safetensors", Choices = ["safetensors", "pt", "onnx"] };
        var output = new Opt<string>("--output", "File to write", "-o") { Required = true };
        var overwrite = new Opt<bool>("--overwrite", "Replace the output if it exists");
        var command = new Command("export", "Export a trained model: safetensors or pt (weights for PyTorch's load_state_dict) or onnx (a graph for ONNX Runtime).") { format, output, overwrite };
        foreach (var o in source.Options) command.Options.Add(o);
        command.SetAction(p =>
        {
            string path = output.Get(p);
            if (File.Exists(path) && !overwrite.Get(p))
                throw new UserException($"{path}: already exists; pass --overwrite to replace it.", ExitCodes.Usage);
            var (model, info, from, checkpoint, _) = source.Load(p);
            using var _ = model;
            var metadata = new Dictionary<string, string> { [WeightsFile.ModelKey] = info.Name };
            if (checkpoint != null)
            {
                metadata[WeightsFile.EpochKey] = checkpoint.Header.Epoch.ToString();
                metadata[WeightsFile.SettingsKey] = JsonSerializer.Serialize(checkpoint.Header.Settings);
            }
            switch (format.Get(p))
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
            Console.WriteLine($"{from} -> {path} ({format.Get(p)}, {model.parameters().Sum(t => t.numel()):N0} parameters, float32)");
            return ExitCodes.Ok;
        });
        return command;
    }
}
