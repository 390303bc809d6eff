// `denoiser export`: a checkpoint's weights as safetensors or a PyTorch .pt state dict, keyed like PyTorch's
// state_dict(), for Python and back; or the model as an ONNX graph.
using System.CommandLine;
using Denoiser.Interchange;

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
        command.SetAction(p => ModelFiles.Export(output.Get(p), format.Get(p), overwrite.Get(p), () => source.Load(p)));
        return command;
    }
}
