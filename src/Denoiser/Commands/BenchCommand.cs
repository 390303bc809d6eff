// `denoiser bench`: training and inference throughput of the ConvDenoiser on synthetic 28x28 data.
using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Denoiser.Data;
using Denoiser.Models;
using Denoiser.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Commands;

public static class BenchCommand
{
    public static Command Create()
    {
        var seconds = new Option<double>("--seconds") { Description = "Measuring time per figure", DefaultValueFactory = _ => 10 };
        var threads = new Option<int>("--threads") { Description = "CPU threads for libtorch; 0 = one per core", DefaultValueFactory = _ => 0 };
        var command = new Command("bench", "Measure training (batch 20) and inference (batch 256) images/s on synthetic data.") { seconds, threads };
        command.SetAction(p =>
        {
            double s = p.GetValue(seconds);
            if (!(s > 0) || s > 3600) throw new UserException("--seconds must be between 0 and 3600.", ExitCodes.Usage);
            int n = Devices.SetThreads(p.GetValue(threads));
            Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, {RuntimeInformation.ProcessArchitecture}; " +
                              $"libtorch threads: {n}; TorchSharp {typeof(torch).Assembly.GetName().Version}");
            Console.WriteLine($"training  batch 20:  {Train(20, s):N0} img/s");
            Console.WriteLine($"inference batch 256: {Infer(256, s):N0} img/s");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Images per second through Trainer.Step, the training loop's own step, after a warm-up.</summary>
    public static double Train(int batch, double seconds)
    {
        torch.manual_seed(0);
        using var model = new ConvDenoiser();
        using var optimizer = torch.optim.Adam(model.parameters(), lr: 1e-3);
        using var gen = new Generator(0);
        using var data = torch.rand(new long[] { 2000, 1, 28, 28 }, generator: gen);
        var noise = new GaussianNoise(0.5);
        model.train();
        return Measure(batch, seconds, i =>
        {
            using var scope = NewDisposeScope();
            Trainer.Step(model, optimizer, data.narrow(0, (i * batch) % (2000 - batch), batch), noise, gen);
        });
    }

    /// <summary>Images per second of forward passes under eval() and no_grad().</summary>
    public static double Infer(int batch, double seconds)
    {
        torch.manual_seed(0);
        using var model = new ConvDenoiser();
        using var data = torch.rand(new long[] { batch, 1, 28, 28 });
        model.eval();
        using var _ = torch.no_grad();
        return Measure(batch, seconds, i =>
        {
            using var scope = NewDisposeScope();
            model.forward(data);
        });
    }

    static double Measure(int batch, double seconds, Action<long> step)
    {
        var warm = Stopwatch.StartNew();
        long i = 0;
        while (warm.Elapsed.TotalSeconds < Math.Min(2, seconds / 4)) step(i++);
        var clock = Stopwatch.StartNew();
        long steps = 0;
        while (clock.Elapsed.TotalSeconds < seconds) step(steps++);
        return steps * batch / clock.Elapsed.TotalSeconds;
    }
}
