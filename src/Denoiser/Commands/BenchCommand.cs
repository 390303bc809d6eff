// `denoiser bench`: Denoiser's training loop and inference against a plain TorchSharp loop, in one run, as ratios.
using System.CommandLine;
using Denoiser.Benchmarks;
using Denoiser.Training;

namespace Denoiser.Commands;

public static class BenchCommand
{
    public static Command Create()
    {
        var seconds = new Opt<double>("--seconds", "Measuring time per figure and contender; 0 = one short turn each (a smoke run)") { Default = 4, Rule = Rule.Between(0.0, 3600.0) };
        var threads = Setting.Named<int>("--threads").Declare(new TrainSettings()); // train's, with its built-in default: bench reads no configuration
        var only = new Opt<string?>("--only", "Measure only the rows whose name contains this text (for example \"batch 20\")");
        var photos = new Opt<string?>("--photos", $"Real noisy photographs with clean versions ({Data.RealPairs.Rule}): the photo table scores each configuration on the first 20")
            { Default = "../shared/datasets/polyu" };
        var alone = new Opt<string?>("--alone", "Print only one contender's training img/s: plain or denoiser (used in a child process)") { Hidden = true };
        var command = new Command("bench", "Measure training and inference images/s against a plain TorchSharp loop, and what each CPU speed trick gains, on synthetic data.")
            { seconds, threads, only, photos, alone };
        command.SetAction(p => Bench.Run(seconds.Get(p), Devices.SetThreads(threads.Get(p)), only.Get(p), alone.Get(p), photos.Get(p)));
        return command;
    }
}
