// `denoiser serve`: its options, the models it serves, and one call into Serving/Server.
using System.CommandLine;
using System.Net;
using Denoiser.Inference;
using Denoiser.Serving;
using TorchSharp;

namespace Denoiser.Commands;

public static class ServeCommand
{
    public static Command Create(AppConfig config)
    {
        var port = new Opt<int>("--port", "TCP port to listen on (0: any free one, printed)") { Default = 5000, Rule = new(n => n is >= 0 and <= 65535, "0-65535", SaysValue: true) };
        var host = new Opt<string>("--host", "Address to listen on; anything but loopback is reachable from other machines") { Default = "127.0.0.1" };
        var apiKey = new Opt<string?>("--api-key", "Require this key in every API call's X-Api-Key header");
        var concurrent = new Opt<int>("--concurrent", "Images denoised at once (each uses every libtorch thread)") { Default = 1, Rule = Rule.Above(0) };
        var queue = new Opt<int>("--queue", "Requests that may wait for a slot; beyond them, 503 at once") { Default = 16, Rule = Rule.AtLeast(0, "none wait") };
        var maxBytes = new Opt<long>("--max-bytes", "Largest request body accepted (413 above)") { Default = 50_000_000, Rule = Rule.Above(0L) };
        var maxMegapixels = new Opt<double>("--max-megapixels", "Largest image accepted, from its header before decoding (413 above)") { Default = 50, Rule = Rule.Above(0.0) };
        var cachedModels = new Opt<int>("--cached-models", "Models named by requests kept loaded, the most recently used (the defaults for colour and grey are kept apart)")
            { Default = 2, Rule = Rule.Above(0) };
        var source = new ModelSource(config, byPicture: true);
        var devices = new DeviceOptions(config);
        var command = new Command("serve", "Serve the HTTP API: POST an image to /api/denoise, get it back denoised, as `denoise` writes it.")
        {
            port, host, apiKey, concurrent, queue, maxBytes, maxMegapixels, cachedModels,
        };
        foreach (var o in source.Options.Concat(devices.Options)) command.Options.Add(o);
        command.SetAction(p =>
        {
            int listenOn = port.Get(p);
            if (!IPAddress.TryParse(host.Get(p), out var address))
                throw new UserException($"--host {host.Get(p)}: not an IP address; use 127.0.0.1 (this machine only) or 0.0.0.0 (every interface).", ExitCodes.Usage);
            var limits = new ServeLimits(maxBytes.Get(p), (long)(maxMegapixels.Get(p) * 1e6), concurrent.Get(p), queue.Get(p), cachedModels.Get(p));

            var device = devices.Apply(p);
            // As `denoise`: a named model serves every request; else each picture gets the model that fits it.
            using var picker = new ModelPicker(source, source.ModelsDir.Get(p), () => device, m => m, onnxThreads: devices.Threads.Get(p)); // as `denoise`: shipped models on ONNX Runtime
            IImageModel? named = null;
            if (source.Named(p))
            {
                var (module, info, from, _, domain) = source.Load(p);
                Console.WriteLine(from);
                named = new TorchImageModel(module, info, device, domain);
            }
            using var _ = named;
            (IImageModel, string) Choose(Data.Picture picture) => named != null ? (named, "the model serve was started with") : picker.For(picture);
            IImageModel Load((TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> Model, Models.ModelInfo Info, string From,
                              Training.Checkpoint.Loaded? Checkpoint, TrainingDomain Domain) loaded) => new TorchImageModel(loaded.Model, loaded.Info, device, loaded.Domain);
            var models = Server.Catalogue(source.ModelsDir.Get(p), name => Load(source.LoadShipped(name)), best => Load(source.LoadCheckpoint(best)));
            return Server.Run(new ServeSetup(address, listenOn, apiKey.Get(p), limits, Choose, models));
        });
        return command;
    }
}
