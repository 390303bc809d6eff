// The HTTP API of `denoiser serve`: the same denoising as `denoise`, one image per request, with bounded work.
//
// Requests flow one way: bytes -> ImageFile.Read -> PictureDenoiser -> ImageFile.Write -> bytes, exactly as `denoise`
// runs a file, so the response is byte for byte what `denoise` writes for the same input and options.
using System.Diagnostics;
using System.Globalization;
using System.Threading.RateLimiting;
using Denoiser.Data;
using Denoiser.Inference;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Denoiser.Serving;

/// <summary>
/// A model a request can name (`model=NAME`): a shipped one, or a run's best checkpoint ("run:FOLDER").
/// <paramref name="ModelOf"/> reads which registered model it is from the file's header or metadata alone, so the list
/// loads no weights; <paramref name="Load"/> loads it when a request names it.
/// </summary>
public sealed record ServedModel(string Name, string Kind, string Summary, Func<string> ModelOf, Func<IImageModel> Load);

/// <summary>What a server takes: its limits, how many images it denoises at once, and how many named models it keeps loaded.</summary>
public sealed record ServeLimits(long MaxBytes = 50_000_000, long MaxPixels = 50_000_000, int Concurrent = 1, int Queue = 16, int CachedModels = 2);

/// <param name="choose">The model for a picture when the request names none, and why (as `denoise` says it).</param>
public sealed class DenoiseApi(Func<Picture, (IImageModel Model, string Why)> choose, IReadOnlyList<ServedModel> models, ServeLimits limits, string? apiKey,
                               ModelCache cache)
{
    public const string Limiter = "denoise";
    static readonly string Page = new StreamReader(typeof(DenoiseApi).Assembly.GetManifestResourceStream("page.html")!).ReadToEnd();
    /// <summary>Set (to anything) to make every denoise fail unexpectedly: how the tests see that such a failure is logged and answered.</summary>
    public const string InjectFailure = "DENOISER_INJECT_FAILURE";
    readonly bool injectFailure = Environment.GetEnvironmentVariable(InjectFailure) is { Length: > 0 };
    readonly object choosing = new(); // the picker loads the default models lazily, once

    /// <summary>The services the API relies on: RFC 7807 problems carrying the request's id, the failure handler, the limiter.</summary>
    public static void AddServices(IServiceCollection services, ServeLimits limits)
    {
        services.AddProblemDetails(o => o.CustomizeProblemDetails = c => c.ProblemDetails.Extensions["requestId"] = c.HttpContext.TraceIdentifier);
        services.AddExceptionHandler<Failures>();
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true); // a query that does not bind reaches Failures, which says which
        services.AddOpenApi();
        // Bounded: a few run, a few wait, the rest are told at once to come back.
        services.AddRateLimiter(o =>
        {
            o.AddConcurrencyLimiter(Limiter, l => (l.PermitLimit, l.QueueLimit, l.QueueProcessingOrder) = (limits.Concurrent, limits.Queue, QueueProcessingOrder.OldestFirst));
            o.OnRejected = async (c, token) =>
            {
                c.HttpContext.Response.Headers.RetryAfter = "1";
                await Problem(503, "busy: every slot and queue place is taken", "retry after the number of seconds in Retry-After").ExecuteAsync(c.HttpContext);
            };
        });
    }

    public void Map(WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages(); // a status with no body (a route not found, a method not allowed) as a problem too
        if (apiKey != null)
            app.Use(async (context, next) =>
            {
                if (context.Request.Path.StartsWithSegments("/api") && context.Request.Headers["X-Api-Key"] != apiKey)
                {
                    await Problem(401, "missing or wrong API key", "send the key given to `serve --api-key` in the X-Api-Key header").ExecuteAsync(context);
                    return;
                }
                await next();
            });
        app.UseRateLimiter();
        app.MapGet("/", () => TypedResults.Text(Page, "text/html; charset=utf-8"));
        app.MapGet("/healthz", () => TypedResults.Text("ok"));
        app.MapOpenApi(); // /openapi/v1.json
        app.MapGet("/api/models", () => TypedResults.Ok(models.Select(Describe).ToList()));
        // No Accepts(): routing would then answer a wrong content type with a bare 415 before the handler could say why.
        app.MapPost("/api/denoise", Denoise).RequireRateLimiting(Limiter)
           .Produces(200, contentType: "image/png", additionalContentTypes: ["image/jpeg", "image/webp", "image/tiff"])
           .ProducesProblem(400).ProducesProblem(413).ProducesProblem(415).ProducesProblem(422).ProducesProblem(500).ProducesProblem(503);
    }

    /// <param name="format">The output format: png (default), tiff, jpg or webp.</param>
    /// <param name="strength">Times the estimated noise level, above 0 and at most 20 (default 1).</param>
    /// <param name="model">A model of GET /api/models; default: the one `denoise` would choose for the picture.</param>
    async Task<IResult> Denoise(HttpContext context, string? format, double? strength, string? model)
    {
        format ??= "png";
        if (!ImageFile.OutputFormats.Contains(format)) return Problem(400, $"format={format}: not an output format", "use png, tiff, jpg or webp");
        if (strength is { } s && !(s > 0 && s <= 20)) return Problem(400, $"strength={s}: not a strength", "give a number above 0 and at most 20 (1: as estimated)");
        var named = model == null ? null : models.FirstOrDefault(m => m.Name == model);
        if (model != null && named == null) return Problem(400, $"model={model}: no such model here", $"use one of {string.Join(", ", models.Select(m => m.Name))} (GET /api/models)");
        if (context.Request.ContentType is { } type && !type.StartsWith("image/", StringComparison.OrdinalIgnoreCase) && type != "application/octet-stream")
            return Problem(415, $"Content-Type {type}: not an image", "send the image file's bytes as image/png, image/jpeg, ... or application/octet-stream");

        var aborted = context.RequestAborted;
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, aborted); // Kestrel's MaxRequestBodySize stops a larger one (413, through Failures)
        Picture picture;
        try { picture = ImageFile.Read(body.ToArray(), "the image", limits.MaxPixels); }
        catch (InvalidDataException e) when (ImageFile.IsTooLarge(e)) { return Problem(413, e.Message, "send a smaller image"); }
        catch (InvalidDataException e) when (body.Length > 0 && !LooksLikeAnImage(body.GetBuffer())) { return Problem(415, e.Message, "send a PNG, JPEG, BMP, GIF, TGA, WebP or TIFF file"); }
        catch (InvalidDataException e) { return Problem(422, e.Message, "send an image that is whole and readable"); }
        if (injectFailure) throw new InvalidOperationException($"an injected failure ({InjectFailure} is set)");

        var clock = Stopwatch.StartNew();
        ModelCache.Lease? lease = null;
        try
        {
            (IImageModel Model, string Why) choice;
            if (named != null)
            {
                lease = cache.Get(named.Name, named.Load);
                choice = (lease.Model, $"{named.Kind} {named.Name} (model={named.Name})");
            }
            else lock (choosing) choice = choose(picture);
            var strengthOf = new Strength(null, strength ?? 1);
            if (strengthOf.RefusedBy(choice.Model.Info) is { } refused) return Problem(400, refused, "see GET /api/models");
            var (result, note, level) = await Task.Run(() => PictureDenoiser.Denoise(choice.Model, picture, ColorMode.Luma, InvertMode.Auto, choice.Model.Domain,
                tileDone: aborted.ThrowIfCancellationRequested, strength: strengthOf, consume: true), aborted);
            using var output = new MemoryStream();
            ImageFile.Write(output, result, format);
            var headers = context.Response.Headers;
            headers["X-Denoiser-Model"] = Ascii(choice.Why);
            headers["X-Denoiser-Note"] = Ascii(note);
            if (level is double l) headers["X-Denoiser-Noise-Level"] = l.ToString("F1", CultureInfo.InvariantCulture);
            headers["X-Denoiser-Seconds"] = clock.Elapsed.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture);
            return TypedResults.File(output.ToArray(), format switch { "jpg" => "image/jpeg", "tiff" => "image/tiff", "webp" => "image/webp", _ => "image/png" });
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            Console.WriteLine("a client left before its answer: its work was stopped"); // at the next tile; nobody to answer
            return TypedResults.Empty;
        }
        catch (Exception e) when (e is UserException or InvalidDataException or IOException) // a model that does not load, or cannot take this picture
        {
            return Problem(422, e.Message.ReplaceLineEndings(" "), "see GET /api/models for what each model takes");
        }
        finally { lease?.Dispose(); }
    }

    /// <summary>A model as /api/models lists it, from its metadata (no weights loaded); one whose file does not say says why instead.</summary>
    static object Describe(ServedModel m)
    {
        try
        {
            string name = m.ModelOf();
            var info = Models.Registry.Find(name) ?? throw new UserException($"{m.Name}: holds a model '{name}' this Denoiser does not know");
            return new { name = m.Name, kind = m.Kind, channels = info.Channels, toldNoiseLevel = info.TakesNoiseLevel, summary = m.Summary };
        }
        catch (Exception e) when (e is UserException or InvalidDataException or IOException)
        {
            return new { name = m.Name, kind = m.Kind, error = e.Message.ReplaceLineEndings(" ") };
        }
    }

    // The magic numbers of the formats read: anything else is not an image at all (415), not a damaged one (422).
    static bool LooksLikeAnImage(byte[] b) =>
        b.Length >= 4 && ((b[0] == 0x89 && b[1] == 'P') || (b[0] == 0xFF && b[1] == 0xD8) || (b[0] == 'B' && b[1] == 'M') || (b[0] == 'G' && b[1] == 'I')
                          || (b[0] == 'R' && b[1] == 'I') || (b[0] == 'I' && b[1] == 'I') || (b[0] == 'M' && b[1] == 'M') || b[1] == 0 && b[2] is 2 or 3 or 10 or 11);

    static string Ascii(string s) => new(s.Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray());

    /// <summary>An RFC 7807 problem: the status, what is wrong and what to do; never a stack trace (the request's id is added to every problem).</summary>
    static IResult Problem(int status, string title, string detail) => TypedResults.Problem(detail, statusCode: status, title: title);

    /// <summary>
    /// Every exception a request's handler did not expect, as one logged line with the request's id (the stack too
    /// when DENOISER_DEBUG is set) and a 500 problem carrying that id; a request that did not bind (a query value of
    /// the wrong type, a body over the limit) as the 400 or 413 it is, saying which.
    /// </summary>
    sealed class Failures(IProblemDetailsService problems, ILogger<DenoiseApi> log) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken token)
        {
            var (status, title, detail) = exception is BadHttpRequestException bad
                ? (bad.StatusCode, bad.Message, "strength is a number above 0 and at most 20; format is png, tiff, jpg or webp; the body at most the server's --max-bytes")
                : (500, "an unexpected error", $"the server's log has it under request id {context.TraceIdentifier}");
            if (status == 500)
                log.LogError("request {Id}: {Type}: {Message}{Stack}", context.TraceIdentifier, exception.GetType().Name, exception.Message.ReplaceLineEndings(" "),
                             Environment.GetEnvironmentVariable("DENOISER_DEBUG") is { Length: > 0 } ? Environment.NewLine + exception.StackTrace : "");
            context.Response.StatusCode = status;
            return await problems.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = context, Exception = exception, ProblemDetails = { Status = status, Title = title, Detail = detail },
            });
        }
    }
}
