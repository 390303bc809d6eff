// --device and --threads, declared once for every command that runs a model (train declares them in TrainSettings).
using System.CommandLine;
using TorchSharp;

namespace Denoiser.Commands;

public sealed class DeviceOptions(AppConfig config)
{
    public Option<string> Device { get; } = new("--device") { Description = Devices.DeviceHelp, DefaultValueFactory = _ => config.Train.Device };
    public Option<int> Threads { get; } = new("--threads") { Description = Devices.ThreadsHelp, DefaultValueFactory = _ => config.Train.Threads };

    public IEnumerable<Option> Options => new Option[] { Device, Threads };

    /// <summary>Sets libtorch's threads and chooses the device, as `train` does; prints the choice.</summary>
    public torch.Device Apply(ParseResult p)
    {
        if (p.GetValue(Threads) < 0) throw new UserException("--threads must be 0 (one per core) or more.", ExitCodes.Usage);
        int threads = Devices.SetThreads(p.GetValue(Threads));
        var device = Devices.Resolve(p.GetValue(Device)!);
        Console.WriteLine($"device: {device.type.ToString().ToLowerInvariant()}, {threads} threads");
        return device;
    }
}
