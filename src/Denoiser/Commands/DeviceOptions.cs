// --device and --threads for every command that runs a model: train's own declarations, with its configured defaults.
using System.CommandLine;
using TorchSharp;

namespace Denoiser.Commands;

public sealed class DeviceOptions(AppConfig config)
{
    public Opt<string> Device { get; } = Setting.Named<string>("--device").Declare(config.Train);
    public Opt<int> Threads { get; } = Setting.Named<int>("--threads").Declare(config.Train);

    public IEnumerable<Option> Options => new Option[] { Device, Threads };

    /// <summary>Sets libtorch's threads and chooses the device, as `train` does; prints the choice.</summary>
    public torch.Device Apply(ParseResult p)
    {
        int threads = Devices.SetThreads(Threads.Get(p));
        var device = Devices.Resolve(Device.Get(p));
        Console.WriteLine($"device: {device.type.ToString().ToLowerInvariant()}, {threads} threads");
        return device;
    }
}
