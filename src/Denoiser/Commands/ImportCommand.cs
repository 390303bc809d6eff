// `denoiser import FILE.safetensors|FILE.pt`: make a run folder with a checkpoint from weights trained elsewhere (PyTorch).
using System.CommandLine;
using Denoiser.Interchange;
using Denoiser.Models;
using Denoiser.Training;

namespace Denoiser.Commands;

public static class ImportCommand
{
    public static Command Create(AppConfig config)
    {
        var file = new Argument<string>("weights") { Description = "A .safetensors or PyTorch .pt/.pth file with a model's state_dict (float32), or a whole pickled model" };
        var modelName = new Opt<string?>("--model", $"The model the file holds, when it does not say ({Registry.Names}) [default: {Registry.Default.Name}]");
        var modelsDir = new Opt<string>("--models-dir", "Where the new run folder is made") { Default = config.Train.ModelsDir };
        var runDir = new Opt<string?>("--run-dir", "Run folder to create [default: a new folder under --models-dir]");
        var command = new Command("import", "Turn a safetensors or PyTorch weights file into a checkpoint usable by denoise and export.") { file, modelName, modelsDir, runDir };
        command.SetAction(p => ModelFiles.Import(p.GetValue(file)!, modelName.Get(p),
            runDir.Get(p) is { } dir ? new RunFolder(dir) : RunFolder.New(modelsDir.Get(p)), config.Train));
        return command;
    }
}
