// `denoiser serve`: the HTTP API on Kestrel (ASP.NET Core, part of the .NET SDK), models loaded once and shared.
using System.CommandLine;
using System.Net;
using Denoiser.Inference;
using Denoiser.Serving;
using TorchSharp;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Denoiser.Commands;

public static class ServeCommand
{
    public static Command Create(AppConfig config)
    {
        var port = new Option<int>("--port") { Description = "TCP port to listen on (0: any free one, printed)", DefaultValueFactory = _ => 5000 };
        var host = new Option<string>("--host") { Description = "Address to listen on; anything but loopback is reachable from other machines", DefaultValueFactory = _ => "127.0.0.1" };
        var apiKey = new Option<string?>("--api-key") { Description = "Require this key in every API call's X-Api-Key header" };
        var concurrent = new Option<int>("--concurrent") { Description = "Images denoised at once (each uses every libtorch thread)", DefaultValueFactory = _ => 1 };
        var queue = new Option<int>("--queue") { Description = "Requests that may wait for a slot; beyond them, 503 at once", DefaultValueFactory = _ => 16 };
        var maxBytes = new Option<long>("--max-bytes") { Description = "Largest request body accepted (413 above)", DefaultValueFactory = _ => 50_000_000 };
        var maxMegapixels = new Option<double>("--max-megapixels") { Description = "Largest image accepted, from its header before decoding (413 above)", DefaultValueFactory = _ => 50 };
        var cachedModels = new Option<int>("--cached-models") { Description = "Models named by requests kept loaded, the most recently used (the defaults for colour and grey are kept apart)", DefaultValueFactory = _ => 2 };
        var source = new ModelSource(config);
        var devices = new DeviceOptions(config);
        var command = new Command("serve", "Serve the HTTP API: POST an image to /api/denoise, get it back denoised, as `denoise` writes it.")
        {
            port, host, apiKey, concurrent, queue, maxBytes, maxMegapixels, cachedModels,
        };
        foreach (var o in source.Options.Concat(devices.Options)) command.Options.Add(o);
        command.SetAction(p =>
        {
            if (p.GetValue(port) is < 0 or > 65535) throw new UserException($"--port must be 0-65535, not {p.GetValue(port)}.", ExitCodes.Usage);
            if (!IPAddress.TryParse(p.GetValue(host), out var address))
                throw new UserException($"--host {p.GetValue(host)}: not an IP address; use 127.0.0.1 (this machine only) or 0.0.0.0 (every interface).", ExitCodes.Usage);
            if (p.GetValue(concurrent) < 1 || p.GetValue(queue) < 0 || p.GetValue(maxBytes) < 1 || !(p.GetValue(maxMegapixels) > 0) || p.GetValue(cachedModels) < 1)
                throw new UserException("--concurrent, --max-bytes, --max-megapixels and --cached-models must be above 0, --queue 0 or more.", ExitCodes.Usage);
            var limits = new ServeLimits(p.GetValue(maxBytes), (long)(p.GetValue(maxMegapixels) * 1e6), p.GetValue(concurrent), p.GetValue(queue), p.GetValue(cachedModels));

            var device = devices.Apply(p);
            // As `denoise`: a named model serves every request; else each picture gets the model that fits it.
            using var picker = new ModelPicker(source, p.GetValue(source.ModelsDir)!, device, m => m);
            IImageModel? named = null;
            if (source.Named(p))
            {
                var (module, info, from, _, domain) = source.Load(p);
                Console.WriteLine(from);
                named = new TorchImageModel(module, info, device, domain);
            }
            using var _ = named;
            (IImageModel, string) Choose(Data.Picture picture) => named != null ? (named, "the model serve was started with") : picker.For(picture);
            // Requests may name a shipped model or a run found under --models-dir: listed from their metadata, loaded
            // when named, and only the last few named kept (--cached-models).
            string modelsDir = p.GetValue(source.ModelsDir)!;
            var models = Pretrained.All().Select(m => new ServedModel(m.Name, "shipped model", m.Summary,
                    () => Data.SafeTensorsFile.ReadMetadata(Pretrained.Get(m.Name).Path).GetValueOrDefault(Interchange.WeightsFile.ModelKey) ?? Models.Registry.Default.Name,
                    () => Load(source.LoadShipped(m.Name))))
                .Concat(Training.RunFolder.All(modelsDir).Where(r => File.Exists(r.Best))
                    .Select(r => new ServedModel("run:" + Path.GetFileName(r.Root), r.AdaptedFrom() is { } from ? $"run adapted from {from}" : "run", $"best.ckpt of {r.Root}",
                                                 () => Training.Checkpoint.ModelOf(r.Best), () => Load(source.LoadCheckpoint(r.Best)))))
                .ToList();
            IImageModel Load((TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> Model, Models.ModelInfo Info, string From,
                              Training.Checkpoint.Loaded? Checkpoint, TrainingDomain Domain) loaded) => new TorchImageModel(loaded.Model, loaded.Info, device, loaded.Domain);
            using var cache = new ModelCache(limits.CachedModels);

            var builder = WebApplication.CreateSlimBuilder();
            // One line per event; the framework's own chatter only when something is wrong. Failures are logged by DenoiseApi.
            builder.Logging.ClearProviders().AddSimpleConsole(o => (o.SingleLine, o.IncludeScopes) = (true, false))
                   .AddFilter("Microsoft", LogLevel.Warning).AddFilter("Microsoft.AspNetCore.Diagnostics", LogLevel.None);
            builder.WebHost.ConfigureKestrel(k =>
            {
                k.Listen(address, p.GetValue(port));
                k.Limits.MaxRequestBodySize = limits.MaxBytes;
            });
            DenoiseApi.AddServices(builder.Services, limits);
            builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(60)); // requests in flight finish
            var app = builder.Build();
            new DenoiseApi(Choose, models, limits, p.GetValue(apiKey), cache).Map(app);
            app.Start();
            string url = app.Urls.First();
            bool loopback = IPAddress.IsLoopback(address);
            Console.WriteLine($"listening on {url} ({(loopback ? "this machine only" : "reachable from other machines")}); POST an image to {url}/api/denoise; Ctrl-C stops");
            if (!loopback)
                Console.WriteLine(p.GetValue(apiKey) == null
                    ? "warning: listening beyond this machine with no --api-key: anyone who can reach it can use it"
                    : "warning: listening beyond this machine; API calls need the X-Api-Key header");
            app.WaitForShutdown();
            Console.WriteLine("stopped");
            return ExitCodes.Ok;
        });
        return command;
    }
}
