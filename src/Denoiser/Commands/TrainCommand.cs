// `denoiser train`: every TrainSettings option over the configured settings, then one training run (started or resumed).
using System.CommandLine;
using Denoiser.Training;

namespace Denoiser.Commands;

public static class TrainCommand
{
    public static Command Create(AppConfig config)
    {
        var settings = TrainSettings.Options.Select(s => s.Bind(config.Train)).ToList();
        var resume = new Opt<bool>("--resume", "Continue the run in --run-dir (default: the latest run) from its last checkpoint; a run with none yet starts from its beginning");
        var overwrite = new Opt<bool>("--overwrite", "Start afresh in a --run-dir that holds an earlier run, deleting that run's files");

        var command = new Command("train", "Train a denoiser (the seed ConvDenoiser on noisy MNIST by default); writes checkpoints, metrics and sample pictures.");
        foreach (var setting in settings) command.Options.Add(setting.Option);
        command.Options.Add(resume);
        command.Options.Add(overwrite);
        // The configured settings, then each option typed on the command line; on --resume those may change how the run
        // continues, not its recipe.
        command.SetAction(p => TrainingRun.Start(
            settings.Where(s => s.Given(p)).Aggregate(config.Train, (resolved, s) => s.Apply(resolved, p)), config.Data,
            dir => DataCommand.EnsureMnist(dir, config.Data), resume.Get(p), overwrite.Get(p),
            settings.Where(s => s.Given(p)).Select(s => s.Name).ToHashSet()));
        return command;
    }
}
