// `serve`'s web host: Kestrel with the API mapped, one line per event on the console, stopped by SIGTERM or Ctrl-C
// after the requests in flight.
using System.Net;
using Denoiser.Data;
using Denoiser.Inference;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Denoiser.Serving;

/// <summary>What a server runs: where it listens, its key and limits, the model for a picture, and the models a request can name.</summary>
public sealed record ServeSetup(IPAddress Address, int Port, string? ApiKey, ServeLimits Limits,
                                Func<Picture, (IImageModel Model, string Why)> Choose, IReadOnlyList<ServedModel> Models);

public static class Server
{
    /// <summary>
    /// The shipped models and the runs under <paramref name="modelsDir"/> as requests name them, described from their
    /// metadata; <paramref name="loadShipped"/> and <paramref name="loadCheckpoint"/> load one when it is named.
    /// </summary>
    public static List<ServedModel> Catalogue(string modelsDir, Func<string, IImageModel> loadShipped, Func<string, IImageModel> loadCheckpoint) =>
        Pretrained.All().Select(m => new ServedModel(m.Name, "shipped model", m.Summary,
                () => SafeTensorsFile.ReadMetadata(Pretrained.Get(m.Name).Path).GetValueOrDefault(Interchange.WeightsFile.ModelKey) ?? Models.Registry.Default.Name,
                () => loadShipped(m.Name)))
            .Concat(Training.RunFolder.All(modelsDir).Where(r => File.Exists(r.Best))
                .Select(r => new ServedModel("run:" + Path.GetFileName(r.Root), r.AdaptedFrom() is { } from ? $"run adapted from {from}" : "run", $"best.ckpt of {r.Root}",
                                             () => Training.Checkpoint.ModelOf(r.Best), () => loadCheckpoint(r.Best))))
            .ToList();

    /// <summary>Serves until SIGTERM or Ctrl-C; says where it listens, and warns beyond loopback.</summary>
    public static int Run(ServeSetup setup)
    {
        using var cache = new ModelCache(setup.Limits.CachedModels);
        var builder = WebApplication.CreateSlimBuilder();
        // One line per event; the framework's own chatter only when something is wrong. Failures are logged by DenoiseApi.
        builder.Logging.ClearProviders().AddSimpleConsole(o => (o.SingleLine, o.IncludeScopes) = (true, false))
               .AddFilter("Microsoft", LogLevel.Warning).AddFilter("Microsoft.AspNetCore.Diagnostics", LogLevel.None);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(setup.Address, setup.Port);
            k.Limits.MaxRequestBodySize = setup.Limits.MaxBytes;
        });
        DenoiseApi.AddServices(builder.Services, setup.Limits);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(60)); // requests in flight finish
        var app = builder.Build();
        new DenoiseApi(setup.Choose, setup.Models, setup.Limits, setup.ApiKey, cache).Map(app);
        app.Start();
        string url = app.Urls.First();
        bool loopback = IPAddress.IsLoopback(setup.Address);
        Console.WriteLine($"listening on {url} ({(loopback ? "this machine only" : "reachable from other machines")}); POST an image to {url}/api/denoise; Ctrl-C stops");
        if (!loopback)
            Console.WriteLine(setup.ApiKey == null
                ? "warning: listening beyond this machine with no --api-key: anyone who can reach it can use it"
                : "warning: listening beyond this machine; API calls need the X-Api-Key header");
        app.WaitForShutdown();
        Console.WriteLine("stopped");
        return ExitCodes.Ok;
    }
}
