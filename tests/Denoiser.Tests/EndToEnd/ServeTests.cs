// `denoiser serve` as a user starts it: the real program in its own process, on a free loopback port, called over HTTP.
using System.Net;
using System.Net.Http.Headers;
using Denoiser.Data;
using Xunit;

namespace Denoiser.Tests.EndToEnd;

public sealed class ServeTests : IClassFixture<ServeTests.Server>
{
    /// <summary>One server for the class, with a queue of one place; stopped with SIGTERM.</summary>
    public sealed class Server : IDisposable
    {
        public readonly TempDir Dir = new();
        public readonly HttpClient Http = new() { Timeout = TimeSpan.FromMinutes(2) };
        public readonly ServeProcess Process;
        public string Url => Process.Url;
        public Server() => Process = new ServeProcess(Dir.Path, "--queue", "1");
        public long ResidentKb() => Process.ResidentKb();

        public void Dispose()
        {
            Assert.Equal(0, Process.Stop());
            Process.Dispose();
            Http.Dispose();
            Dir.Dispose();
        }
    }

    readonly Server server;
    public ServeTests(Server server) => this.server = server;

    Task<HttpResponseMessage> Post(byte[] body, string query = "", string type = "image/png")
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(type);
        return server.Http.PostAsync(server.Url + "/api/denoise" + query, content);
    }

    [Fact]
    public async Task The_response_is_what_denoise_writes_for_the_same_image_byte_for_byte()
    {
        string input = Path.Combine(server.Dir.Path, "colour.png");
        TestFiles.WriteRgbPng(input, 96, 80, seed: 3);
        foreach (var (query, options) in new[] { ("", Array.Empty<string>()), ("?strength=2", new[] { "--strength", "2" }),
                                                  ("?model=photo&format=jpg", new[] { "--pretrained", "photo", "--format", "jpg" }) })
        {
            using var response = await Post(File.ReadAllBytes(input), query);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            string written = Path.Combine(server.Dir.Path, $"cli{query.Length}.{(query.Contains("jpg") ? "jpg" : "png")}");
            var r = Cli.Run(server.Dir.Path, new[] { "denoise", input, "-o", written }.Concat(options).ToArray());
            Assert.True(r.ExitCode == 0, r.Out + r.Err);
            Assert.Equal(File.ReadAllBytes(written), await response.Content.ReadAsByteArrayAsync());
            Assert.Equal(query.Contains("jpg") ? "image/jpeg" : "image/png", response.Content.Headers.ContentType!.MediaType);
        }
    }

    [Fact]
    public async Task Bad_input_gets_its_status_as_a_problem_and_the_server_keeps_serving()
    {
        string png = Path.Combine(server.Dir.Path, "grey.png");
        TestFiles.WritePng(png, 40, 30);
        byte[] good = File.ReadAllBytes(png);
        using var jpegStream = new MemoryStream();
        ImageFile.Write(jpegStream, ImageFile.Read(png), "jpg");
        byte[] jpeg = jpegStream.ToArray();
        // A BMP header declaring 100000 x 100000 pixels and no pixels after it: refused from the header, before decoding.
        byte[] huge = new byte[54];
        "BM"u8.CopyTo(huge);
        BitConverter.GetBytes(54).CopyTo(huge, 10);      // where the pixels would start
        BitConverter.GetBytes(40).CopyTo(huge, 14);      // BITMAPINFOHEADER
        BitConverter.GetBytes(100_000).CopyTo(huge, 18); // width
        BitConverter.GetBytes(100_000).CopyTo(huge, 22); // height
        BitConverter.GetBytes((short)1).CopyTo(huge, 26);
        BitConverter.GetBytes((short)24).CopyTo(huge, 28);
        var cases = new (string Name, byte[] Body, string Query, string Type, HttpStatusCode Status)[]
        {
            ("garbage", "not an image at all"u8.ToArray(), "", "image/png", HttpStatusCode.UnsupportedMediaType),
            ("wrong content type", good, "", "text/plain", HttpStatusCode.UnsupportedMediaType),
            ("truncated PNG", good[..(good.Length / 2)], "", "image/png", HttpStatusCode.UnprocessableEntity),
            ("truncated JPEG", jpeg[..(jpeg.Length / 2)], "", "image/jpeg", HttpStatusCode.UnprocessableEntity),
            ("huge declared size", huge, "", "image/png", HttpStatusCode.RequestEntityTooLarge),
            ("bad strength", good, "?strength=abc", "image/png", HttpStatusCode.BadRequest),
            ("strength out of range", good, "?strength=0", "image/png", HttpStatusCode.BadRequest),
            ("unknown model", good, "?model=nope", "image/png", HttpStatusCode.BadRequest),
            ("unknown format", good, "?format=gif", "image/png", HttpStatusCode.BadRequest),
            ("a blind model made stronger", good, "?model=photo-s25&strength=2", "image/png", HttpStatusCode.BadRequest),
            ("empty", Array.Empty<byte>(), "", "image/png", HttpStatusCode.UnprocessableEntity),
            ("decompression bomb", Bomb(), "", "image/png", HttpStatusCode.RequestEntityTooLarge),
        };
        foreach (var c in cases)
        {
            using var response = await Post(c.Body, c.Query, c.Type);
            string body = await response.Content.ReadAsStringAsync();
            Assert.True(c.Status == response.StatusCode, $"{c.Name}: {(int)response.StatusCode} {body}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
            Assert.Contains($"\"status\":{(int)c.Status}", body);
            Assert.DoesNotContain("   at ", body); // never a stack trace
        }
        using var after = await Post(good);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    /// <summary>A real PNG of 8000x8000 black pixels: a few hundred kB that would decode to 64 MP (256 MB as floats).</summary>
    static byte[] Bomb()
    {
        using var png = new MemoryStream();
        ImageFile.Write(png, Picture.FromBytes(8000, 8000, 1, new byte[8000 * 8000]));
        return png.ToArray();
    }

    [Fact]
    public async Task Health_models_and_the_OpenAPI_document_answer()
    {
        Assert.Equal("ok", await server.Http.GetStringAsync(server.Url + "/healthz"));
        string models = await server.Http.GetStringAsync(server.Url + "/api/models");
        Assert.Contains("\"name\":\"photo-rgb\"", models);
        Assert.Contains("\"name\":\"photo\"", models);
        string openApi = await server.Http.GetStringAsync(server.Url + "/openapi/v1.json");
        Assert.Contains("\"/api/denoise\"", openApi);
        Assert.Contains("\"/api/models\"", openApi);
    }

    [Fact]
    public async Task Beyond_its_slot_and_queue_it_answers_503_at_once_with_retry_after()
    {
        // --queue 1 and one slot: of eight requests at once, at most two are taken; the others get 503 and Retry-After.
        // (It relies on eight requests arriving while the first is denoised, about 0.3 s here.)
        string input = Path.Combine(server.Dir.Path, "busy.png");
        TestFiles.WriteRgbPng(input, 320, 240, seed: 5);
        byte[] body = File.ReadAllBytes(input);
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Post(body)));
        var statuses = responses.Select(r => r.StatusCode).ToList();
        Assert.All(statuses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, s.ToString()));
        Assert.Contains(HttpStatusCode.OK, statuses);
        var busy = responses.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.NotEmpty(busy);
        Assert.All(busy, r => Assert.Equal("1", r.Headers.RetryAfter!.ToString()));
        foreach (var r in responses) r.Dispose();
    }

    /// <summary>
    /// 200 requests from 16 clients at once: each answer is the right image or a 503, nothing else, and the server's
    /// resident memory after them is within 20% of before (measured after a first request has loaded the model).
    /// </summary>
    [Fact]
    public async Task Under_load_every_answer_is_the_image_or_503_and_memory_comes_back()
    {
        string input = Path.Combine(server.Dir.Path, "load.png");
        TestFiles.WriteRgbPng(input, 64, 64, seed: 11);
        byte[] body = File.ReadAllBytes(input);
        byte[] expected;
        using (var first = await Post(body)) expected = await first.Content.ReadAsByteArrayAsync();
        long before = server.ResidentKb();
        int next = 0, ok = 0, busy = 0;
        async Task Client()
        {
            while (Interlocked.Increment(ref next) <= 200)
            {
                using var response = await Post(body);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    Assert.Equal(expected, await response.Content.ReadAsByteArrayAsync());
                    Interlocked.Increment(ref ok);
                }
                else
                {
                    Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                    Interlocked.Increment(ref busy);
                }
            }
        }
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(Client)));
        Assert.Equal(200, ok + busy);
        Assert.True(ok > 0, "no request was served");
        long after = server.ResidentKb();
        Assert.True(after <= before * 1.2, $"resident memory went from {before:N0} kB to {after:N0} kB");
    }
}

public sealed class ServeOptionTests
{
    [Fact]
    public void Bad_options_get_one_line()
    {
        using var dir = new TempDir();
        Cli.AssertOneLineFailure(Cli.Run(dir.Path, "serve", "--port", "70000"), 2, "--port must be 0-65535");
        Cli.AssertOneLineFailure(Cli.Run(dir.Path, "serve", "--host", "localhost.example"), 2, "not an IP address");
        Cli.AssertOneLineFailure(Cli.Run(dir.Path, "serve", "--concurrent", "0"), 2, "must be above 0");
    }

    [Fact]
    public async Task A_run_under_models_is_listed_and_a_request_can_name_it()
    {
        using var dir = new TempDir();
        string weights = Path.Combine(dir.Path, "photo.safetensors");
        Assert.Equal(0, Cli.Run(dir.Path, "export", "--pretrained", "photo", "-o", weights).ExitCode);
        Assert.Equal(0, Cli.Run(dir.Path, "import", weights, "--model", "resunet-told", "--run-dir", Path.Combine(dir.Path, "models", "imported")).ExitCode);
        Directory.CreateDirectory(Path.Combine(dir.Path, "models", "broken"));
        File.WriteAllText(Path.Combine(dir.Path, "models", "broken", "best.ckpt"), "not a checkpoint"); // listed with why, not a failed list
        string input = Path.Combine(dir.Path, "grey.png");
        TestFiles.WritePng(input, 48, 40);
        using var server = new ServeProcess(dir.Path);
        using var http = new HttpClient();
        string models = await http.GetStringAsync(server.Url + "/api/models");
        Assert.Contains("\"name\":\"run:imported\",\"kind\":\"run\",\"channels\":1", models);
        Assert.Contains("\"name\":\"photo-rgb\",\"kind\":\"shipped model\",\"channels\":3", models);
        Assert.Matches("\"name\":\"run:broken\",\"kind\":\"run\",\"error\":\"[^\"]*checkpoint", models);
        using (var broken = await http.PostAsync(server.Url + "/api/denoise?model=run:broken", Png(input)))
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, broken.StatusCode);
            Assert.Contains("checkpoint signature", await broken.Content.ReadAsStringAsync());
        }
        using var response = await http.PostAsync(server.Url + "/api/denoise?model=run:imported", Png(input));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        string written = Path.Combine(dir.Path, "cli.png");
        Assert.Equal(0, Cli.Run(dir.Path, "denoise", input, "-o", written, "--checkpoint", Path.Combine(dir.Path, "models", "imported", "best.ckpt")).ExitCode);
        Assert.Equal(File.ReadAllBytes(written), await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_client_that_leaves_stops_its_work_and_the_next_is_served()
    {
        using var dir = new TempDir();
        string large = Path.Combine(dir.Path, "large.png"), small = Path.Combine(dir.Path, "small.png");
        TestFiles.WriteRgbPng(large, 3000, 2000, seed: 4); // six tiles: many seconds
        TestFiles.WriteRgbPng(small, 64, 48, seed: 5);
        using var server = new ServeProcess(dir.Path);
        using var http = new HttpClient();
        using (var leaving = new CancellationTokenSource(TimeSpan.FromSeconds(3)))
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => http.PostAsync(server.Url + "/api/denoise", Png(large), leaving.Token));
        await server.Said("a client left"); // at the next tile
        using var response = await http.PostAsync(server.Url + "/api/denoise", Png(small));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task SIGTERM_lets_the_request_in_flight_finish_then_exits_0()
    {
        using var dir = new TempDir();
        string input = Path.Combine(dir.Path, "large.png");
        TestFiles.WriteRgbPng(input, 1400, 1100, seed: 2); // four tiles: a second or more
        using var server = new ServeProcess(dir.Path);
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
        var inFlight = http.PostAsync(server.Url + "/api/denoise", Png(input));
        await Task.Delay(700); // received, and denoising
        server.Terminate();
        using var response = await inFlight;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1400, ImageFile.Read(await response.Content.ReadAsByteArrayAsync(), "the response").Width);
        Assert.Equal(0, server.Stop());
    }

    [Fact]
    public async Task Beyond_loopback_it_warns_and_an_api_key_is_required_once_given()
    {
        using var dir = new TempDir();
        using var server = new ServeProcess(dir.Path, "--host", "0.0.0.0", "--api-key", "sesame");
        await server.Said("warning: listening beyond this machine");
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync(server.Url + "/api/models")).StatusCode);
        http.DefaultRequestHeaders.Add("X-Api-Key", "sesame");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(server.Url + "/api/models")).StatusCode);
        using var anonymous = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(server.Url + "/healthz")).StatusCode); // health needs no key
        Assert.Equal(0, server.Stop());
    }

    [Fact]
    public async Task An_unexpected_failure_is_logged_with_its_request_id_and_answered_as_a_problem_carrying_it()
    {
        using var dir = new TempDir();
        string input = Path.Combine(dir.Path, "grey.png");
        TestFiles.WritePng(input, 48, 40);
        using var server = new ServeProcess(dir.Path, new Dictionary<string, string> { [Denoiser.Serving.DenoiseApi.InjectFailure] = "1" });
        using var http = new HttpClient();
        using var response = await http.PostAsync(server.Url + "/api/denoise", Png(input));
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        using var problem = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        string id = problem.RootElement.GetProperty("requestId").GetString()!;
        Assert.Contains(id, problem.RootElement.GetProperty("detail").GetString());
        Assert.DoesNotContain("   at ", problem.RootElement.ToString());
        // One line in the server's output names the request and what went wrong; the server goes on serving.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!server.Lines.Any(l => l.Contains(id)) && clock.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(50);
        var logged = Assert.Single(server.Lines, l => l.Contains(id));
        Assert.Contains("injected failure", logged);
        Assert.Equal("ok", await http.GetStringAsync(server.Url + "/healthz"));
        // A query that does not bind is a 400 problem naming the parameter, not an unexpected failure.
        using var bad = await http.PostAsync(server.Url + "/api/denoise?strength=abc", Png(input));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("strength", await bad.Content.ReadAsStringAsync());
        Assert.Equal(0, server.Stop());
    }

    [Fact]
    public async Task The_model_list_reads_metadata_only_and_named_models_are_kept_within_the_cache()
    {
        using var dir = new TempDir();
        string weights = Path.Combine(dir.Path, "photo.safetensors");
        Assert.Equal(0, Cli.Run(dir.Path, "export", "--pretrained", "photo", "-o", weights).ExitCode);
        for (int k = 0; k < 3; k++)
            Assert.Equal(0, Cli.Run(dir.Path, "import", weights, "--model", "resunet-told", "--run-dir", Path.Combine(dir.Path, "models", $"run{k}")).ExitCode);
        // Damaged weights behind an intact header: the list describes the run without reading them; naming it finds the damage.
        string damaged = Path.Combine(dir.Path, "models", "run2", "best.ckpt");
        var bytes = File.ReadAllBytes(damaged);
        bytes[^100] ^= 0xFF;
        File.WriteAllBytes(damaged, bytes);
        string input = Path.Combine(dir.Path, "grey.png");
        TestFiles.WritePng(input, 48, 40);
        using var server = new ServeProcess(dir.Path, "--cached-models", "1");
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
        string models = await http.GetStringAsync(server.Url + "/api/models");
        Assert.Contains("\"name\":\"run:run2\",\"kind\":\"run\",\"channels\":1", models);
        using (var broken = await http.PostAsync(server.Url + "/api/denoise?model=run:run2", Png(input)))
            Assert.Equal(HttpStatusCode.UnprocessableEntity, broken.StatusCode);
        // A client walking through the models, twice: each answers, with one kept loaded at a time.
        foreach (string name in new[] { "run:run0", "run:run1", "photo", "run:run0", "run:run1", "photo" })
            using (var response = await http.PostAsync(server.Url + "/api/denoise?model=" + name, Png(input)))
                Assert.True(response.StatusCode == HttpStatusCode.OK, name + ": " + await response.Content.ReadAsStringAsync());
        Assert.Equal(0, server.Stop());
    }

    static ByteArrayContent Png(string path)
    {
        var content = new ByteArrayContent(File.ReadAllBytes(path));
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        return content;
    }
}
