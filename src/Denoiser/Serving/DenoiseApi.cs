// The HTTP API of `denoiser serve`: the same denoising as `denoise`, one image per request, with bounded work.
//
// Requests flow one way: bytes -> ImageFile.Read -> PictureDenoiser -> ImageFile.Write -> bytes, exactly as `denoise`
// runs a file, so the response is byte for byte what `denoise` writes for the same input and options.
using System.Diagnostics;
using Denoiser.Data;
using Denoiser.Inference;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Denoiser.Serving;

/// <summary>A model a request can name (`model=NAME`): a shipped one, or a run's best checkpoint ("run:FOLDER").</summary>
public sealed record ServedModel(string Name, string Kind, string Summary, Func<IImageModel> Load);

/// <summary>What a server takes: its limits and how many images it denoises at once.</summary>
public sealed record ServeLimits(long MaxBytes = 50_000_000, long MaxPixels = 50_000_000, int Concurrent = 1, int Queue = 16);

/// <param name="choose">The model for a picture when the request names none, and why (as `denoise` says it).</param>
public sealed class DenoiseApi(Func<Picture, (IImageModel Model, string Why)> choose, IReadOnlyList<ServedModel> models, ServeLimits limits, string? apiKey)
{
    readonly SemaphoreSlim running = new(limits.Concurrent);
    static readonly string Page = new StreamReader(typeof(DenoiseApi).Assembly.GetManifestResourceStream("page.html")!).ReadToEnd();
    readonly object choosing = new(); // the picker loads models lazily, once
    int waiting;

    public void Map(WebApplication app)
    {
        if (apiKey != null)
            app.Use(async (context, next) =>
            {
                if (context.Request.Path.StartsWithSegments("/api") && context.Request.Headers["X-Api-Key"] != apiKey)
                {
                    await Problem(context, 401, "missing or wrong API key", "send the key given to `serve --api-key` in the X-Api-Key header");
                    return;
                }
                await next();
            });
        app.MapGet("/", () => Results.Text(Page, "text/html; charset=utf-8"));
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapOpenApi(); // /openapi/v1.json
        app.MapGet("/api/models", () =>
        {
            lock (choosing) // loads each once: its channels and whether it is told the noise level are the model's own
                return models.Select(Describe).ToList();
        });
        // A route handler, not a bare RequestDelegate, so that the OpenAPI document describes it. No Accepts(): routing
        // would then answer a wrong content type with a bare 415 before the handler could say why.
        app.MapPost("/api/denoise", (Delegate)(Func<HttpContext, Task>)Denoise)
           .Produces(200, contentType: "image/png", additionalContentTypes: ["image/jpeg", "image/webp", "image/tiff"])
           .ProducesProblem(400).ProducesProblem(413).ProducesProblem(415).ProducesProblem(422).ProducesProblem(503);
    }

    async Task Denoise(HttpContext context)
    {
        var query = context.Request.Query;
        string format = query["format"].FirstOrDefault() ?? "png";
        if (!ImageFile.OutputFormats.Contains(format)) { await Problem(context, 400, $"format={format}: not an output format", "use png, tiff, jpg or webp"); return; }
        double strength = 1;
        if (query["strength"].FirstOrDefault() is { } s && !(double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out strength) && strength > 0 && strength <= 20))
        { await Problem(context, 400, $"strength={s}: not a strength", "give a number above 0 and at most 20 (1: as estimated)"); return; }
        string? model = query["model"].FirstOrDefault();
        var named = model == null ? null : models.FirstOrDefault(m => m.Name == model);
        if (model != null && named == null)
        { await Problem(context, 400, $"model={model}: no such model here", $"use one of {string.Join(", ", models.Select(m => m.Name))} (GET /api/models)"); return; }
        if (context.Request.ContentLength > limits.MaxBytes)
        { await Problem(context, 413, $"the body is {context.Request.ContentLength:N0} bytes", $"send at most {limits.MaxBytes:N0}"); return; }
        if (context.Request.ContentType is { } type && !type.StartsWith("image/", StringComparison.OrdinalIgnoreCase) && type != "application/octet-stream")
        { await Problem(context, 415, $"Content-Type {type}: not an image", "send the image file's bytes as image/png, image/jpeg, ... or application/octet-stream"); return; }

        // Bounded: a few run, a few wait, the rest are told at once to come back.
        if (Interlocked.Increment(ref waiting) > limits.Concurrent + limits.Queue)
        {
            Interlocked.Decrement(ref waiting);
            context.Response.Headers.RetryAfter = "1";
            await Problem(context, 503, "busy: every slot and queue place is taken", "retry after the number of seconds in Retry-After");
            return;
        }
        try
        {
            byte[] body;
            using (var buffer = new MemoryStream())
            {
                var read = new byte[81920];
                int n;
                while ((n = await context.Request.Body.ReadAsync(read, context.RequestAborted)) > 0)
                {
                    if (buffer.Length + n > limits.MaxBytes) { await Problem(context, 413, "the body is too large", $"send at most {limits.MaxBytes:N0} bytes"); return; }
                    buffer.Write(read, 0, n);
                }
                body = buffer.ToArray();
            }
            Picture picture;
            try { picture = ImageFile.Read(body, "the image", limits.MaxPixels); }
            catch (InvalidDataException e) when (ImageFile.IsTooLarge(e)) { await Problem(context, 413, e.Message, "send a smaller image"); return; }
            catch (InvalidDataException e) when (body.Length > 0 && !LooksLikeAnImage(body)) { await Problem(context, 415, e.Message, "send a PNG, JPEG, BMP, GIF, TGA, WebP or TIFF file"); return; }
            catch (InvalidDataException e) { await Problem(context, 422, e.Message, "send an image that is whole and readable"); return; }
            await running.WaitAsync(context.RequestAborted);
            try
            {
                var clock = Stopwatch.StartNew();
                (IImageModel chosen, string why) choice;
                lock (choosing) choice = named != null ? (named.Load(), $"{named.Kind} {named.Name} (model={named.Name})") : choose(picture);
                var strengthOf = new Strength(null, strength);
                if (strengthOf.RefusedBy(choice.chosen.Info) is { } refused) { await Problem(context, 400, refused, "see GET /api/models"); return; }
                var (result, note, level) = await Task.Run(() => PictureDenoiser.Denoise(choice.chosen, picture, ColorMode.Luma, InvertMode.Auto, choice.chosen.Domain,
                    tileDone: context.RequestAborted.ThrowIfCancellationRequested, strength: strengthOf), context.RequestAborted);
                using var output = new MemoryStream();
                ImageFile.Write(output, result, format);
                context.Response.ContentType = format switch { "jpg" => "image/jpeg", "tiff" => "image/tiff", "webp" => "image/webp", _ => "image/png" };
                context.Response.Headers["X-Denoiser-Model"] = Ascii(choice.why);
                context.Response.Headers["X-Denoiser-Note"] = Ascii(note);
                if (level is double l) context.Response.Headers["X-Denoiser-Noise-Level"] = l.ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
                context.Response.Headers["X-Denoiser-Seconds"] = clock.Elapsed.TotalSeconds.ToString("F2", System.Globalization.CultureInfo.InvariantCulture);
                await context.Response.Body.WriteAsync(output.ToArray(), context.RequestAborted);
            }
            finally { running.Release(); }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            Console.WriteLine("a client left before its answer: its work was stopped"); // at the next tile; nobody to answer
        }
        catch (Exception e) when (e is UserException or InvalidDataException or IOException) // a model that does not load, or cannot take this picture
        { await Problem(context, 422, e.Message.ReplaceLineEndings(" "), "see GET /api/models for what each model takes"); }
        finally { Interlocked.Decrement(ref waiting); }
    }

    /// <summary>A model as /api/models lists it; one that does not load (a damaged run's checkpoint) says why instead.</summary>
    static object Describe(ServedModel m)
    {
        try
        {
            var info = m.Load().Info;
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

    /// <summary>An RFC 7807 problem: the status, what is wrong and what to do; never a stack trace.</summary>
    static Task Problem(HttpContext context, int status, string title, string detail)
    {
        if (context.Response.HasStarted) return Task.CompletedTask;
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/problem+json";
        return context.Response.WriteAsJsonAsync(new { type = "about:blank", title, status, detail }, options: null, contentType: "application/problem+json");
    }
}
