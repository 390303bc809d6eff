// `denoiser import FILE.safetensors|FILE.pt`: make a run folder with a checkpoint from weights trained elsewhere (PyTorch).
using System.CommandLine;
using System.Text.Json;
using Denoiser.Data;
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
        command.SetAction(p =>
        {
            string path = p.GetValue(file)!;
            var run = runDir.Get(p) is { } dir ? new RunFolder(dir) : RunFolder.New(modelsDir.Get(p));
            if (File.Exists(run.Best) || File.Exists(run.Last))
                throw new UserException($"{run.Root} already holds a run; choose another --run-dir.", ExitCodes.Usage);

            var info = Registry.ForWeights(path, WeightsFile.ModelOf(path), modelName.Get(p));
            using var model = info.Create();
            var metadata = WeightsFile.LoadInto(model, info.Name, path);
            var settings = config.Train with { RunDir = run.Root, Model = info.Name };
            if (metadata.TryGetValue(WeightsFile.SettingsKey, out var json))
            {
                try { settings = (JsonSerializer.Deserialize<TrainSettings>(json) ?? settings) with { RunDir = run.Root, Model = info.Name }; }
                catch (JsonException) { Console.WriteLine($"note: {path}'s settings metadata is unreadable; the run records the defaults instead."); }
            }
            int epoch = metadata.TryGetValue(WeightsFile.EpochKey, out var e) && int.TryParse(e, out int n) ? n : 0;

            // No optimizer state travels in a weights file, so the checkpoint is for use (denoise, export), not --resume.
            var header = new CheckpointHeader(info.Name, epoch, epoch + 1, settings, Array.Empty<EpochMetrics>(), double.NaN, DateTimeOffset.Now);
            Checkpoint.Save(run.Best, Checkpoint.Serialize(header, model, null));
            AtomicFile.WriteAllText(run.SettingsFile, JsonSerializer.Serialize(settings, new JsonSerializerOptions { WriteIndented = true }));
            Console.WriteLine($"{path} ({info.Name}) -> {run.Best}");
            Console.WriteLine($"use it with: denoiser denoise IMAGE.png --checkpoint {run.Best}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
