// `denoiser serve` as a user starts it: the real program in its own process, on a free loopback port, called over HTTP.
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Denoiser.Data;
using Xunit;

namespace Denoiser.Tests.EndToEnd;

public sealed class ServeTests : IClassFixture<ServeTests.Server>
{
    /// <summary>One server for the class (port 0: the OS chooses; the program prints it), stopped with SIGTERM.</summary>
    public sealed class Server : IDisposable
    {
        public readonly TempDir Dir = new();
        public readonly HttpClient Http = new() { Timeout = TimeSpan.FromMinutes(2) };
        readonly Process process;
        public readonly List<string> Output = new();
        public string Url { get; }

        public Server()
        {
            process = Cli.Start(Dir.Path, "serve", "--port", "0", "--queue", "1");
            var ready = new TaskCompletionSource<string>();
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data == null) return;
                lock (Output) Output.Add(e.Data);
                if (Regex.Match(e.Data, @"listening on (http://127\.0\.0\.1:\d+)") is { Success: true } m) ready.TrySetResult(m.Groups[1].Value);
            };
            process.BeginOutputReadLine();
            Assert.True(ready.Task.Wait(TimeSpan.FromMinutes(1)), "serve did not say where it listens");
            Url = ready.Task.Result;
        }

        /// <summary>SIGTERM, as a service manager stops it; the exit code says whether it stopped cleanly.</summary>
        /// <summary>The server process's resident memory now, in kB (VmRSS).</summary>
        public long ResidentKb()
        {
            var line = File.ReadLines($"/proc/{process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        }

        public int Stop()
        {
            if (!process.HasExited) Process.Start("kill", ["-TERM", process.Id.ToString()])!.WaitForExit();
            Assert.True(process.WaitForExit(TimeSpan.FromMinutes(1)), "serve did not stop on SIGTERM");
            return process.ExitCode;
        }

        public void Dispose()
        {
            if (!process.HasExited) { Stop(); }
            process.Dispose();
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
            ("a blind model made stronger", good, "?model=photo&strength=2", "image/png", HttpStatusCode.BadRequest),
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
        Assert.Equal(0, Cli.Run(dir.Path, "import", weights, "--model", "resunet", "--run-dir", Path.Combine(dir.Path, "models", "imported")).ExitCode);
        string input = Path.Combine(dir.Path, "grey.png");
        TestFiles.WritePng(input, 48, 40);
        using var process = Cli.Start(dir.Path, "serve", "--port", "0");
        var ready = new TaskCompletionSource<string>();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data != null && Regex.Match(e.Data, @"listening on (http://\S+)") is { Success: true } m) ready.TrySetResult(m.Groups[1].Value);
        };
        process.BeginOutputReadLine();
        try
        {
            string url = await ready.Task.WaitAsync(TimeSpan.FromMinutes(1));
            using var http = new HttpClient();
            string models = await http.GetStringAsync(url + "/api/models");
            Assert.Contains("\"name\":\"run:imported\",\"kind\":\"run\",\"channels\":1", models);
            Assert.Contains("\"name\":\"photo-rgb\",\"kind\":\"shipped model\",\"channels\":3", models);
            var content = new ByteArrayContent(File.ReadAllBytes(input));
            content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            using var response = await http.PostAsync(url + "/api/denoise?model=run:imported", content);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            string written = Path.Combine(dir.Path, "cli.png");
            Assert.Equal(0, Cli.Run(dir.Path, "denoise", input, "-o", written, "--checkpoint", Path.Combine(dir.Path, "models", "imported", "best.ckpt")).ExitCode);
            Assert.Equal(File.ReadAllBytes(written), await response.Content.ReadAsByteArrayAsync());
        }
        finally
        {
            Process.Start("kill", ["-TERM", process.Id.ToString()])!.WaitForExit();
            process.WaitForExit(TimeSpan.FromMinutes(1));
        }
    }

    [Fact]
    public async Task A_client_that_leaves_stops_its_work_and_the_next_is_served()
    {
        using var dir = new TempDir();
        string large = Path.Combine(dir.Path, "large.png"), small = Path.Combine(dir.Path, "small.png");
        TestFiles.WriteRgbPng(large, 3000, 2000, seed: 4); // six tiles: many seconds
        TestFiles.WriteRgbPng(small, 64, 48, seed: 5);
        using var process = Cli.Start(dir.Path, "serve", "--port", "0");
        var lines = new List<string>();
        var ready = new TaskCompletionSource<string>();
        var left = new TaskCompletionSource();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data == null) return;
            lock (lines) lines.Add(e.Data);
            if (Regex.Match(e.Data, @"listening on (http://\S+)") is { Success: true } m) ready.TrySetResult(m.Groups[1].Value);
            if (e.Data.StartsWith("a client left", StringComparison.Ordinal)) left.TrySetResult();
        };
        process.BeginOutputReadLine();
        try
        {
            string url = await ready.Task.WaitAsync(TimeSpan.FromMinutes(1));
            using var http = new HttpClient();
            using (var leaving = new CancellationTokenSource(TimeSpan.FromSeconds(3)))
            {
                var content = new ByteArrayContent(File.ReadAllBytes(large));
                content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => http.PostAsync(url + "/api/denoise", content, leaving.Token));
            }
            await left.Task.WaitAsync(TimeSpan.FromMinutes(1)); // said so, at the next tile
            var next = new ByteArrayContent(File.ReadAllBytes(small));
            next.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            using var response = await http.PostAsync(url + "/api/denoise", next);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        finally
        {
            Process.Start("kill", ["-TERM", process.Id.ToString()])!.WaitForExit();
            process.WaitForExit(TimeSpan.FromMinutes(1));
        }
    }

    [Fact]
    public async Task SIGTERM_lets_the_request_in_flight_finish_then_exits_0()
    {
        using var dir = new TempDir();
        string input = Path.Combine(dir.Path, "large.png");
        TestFiles.WriteRgbPng(input, 1400, 1100, seed: 2); // four tiles: a second or more
        using var process = Cli.Start(dir.Path, "serve", "--port", "0");
        var ready = new TaskCompletionSource<string>();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data != null && Regex.Match(e.Data, @"listening on (http://\S+)") is { Success: true } m) ready.TrySetResult(m.Groups[1].Value);
        };
        process.BeginOutputReadLine();
        string url = await ready.Task.WaitAsync(TimeSpan.FromMinutes(1));
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
        var content = new ByteArrayContent(File.ReadAllBytes(input));
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        var inFlight = http.PostAsync(url + "/api/denoise", content);
        await Task.Delay(700); // received, and denoising
        Process.Start("kill", ["-TERM", process.Id.ToString()])!.WaitForExit();
        using var response = await inFlight;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1400, ImageFile.Read(await response.Content.ReadAsByteArrayAsync(), "the response").Width);
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(1)), "serve did not stop");
        Assert.Equal(0, process.ExitCode);
    }

    [Fact]
    public async Task Beyond_loopback_it_warns_and_an_api_key_is_required_once_given()
    {
        using var dir = new TempDir();
        using var process = Cli.Start(dir.Path, "serve", "--port", "0", "--host", "0.0.0.0", "--api-key", "sesame");
        var lines = new List<string>();
        var ready = new TaskCompletionSource<string>();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data == null) return;
            lock (lines) lines.Add(e.Data);
            if (Regex.Match(e.Data, @"listening on http://0\.0\.0\.0:(\d+)") is { Success: true } m) ready.TrySetResult(m.Groups[1].Value);
        };
        process.BeginOutputReadLine();
        try
        {
            string url = "http://127.0.0.1:" + await ready.Task.WaitAsync(TimeSpan.FromMinutes(1));
            await Task.Delay(200); // the warning is the next line
            lock (lines) Assert.Contains(lines, l => l.StartsWith("warning: listening beyond this machine", StringComparison.Ordinal));
            using var http = new HttpClient();
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync(url + "/api/models")).StatusCode);
            http.DefaultRequestHeaders.Add("X-Api-Key", "sesame");
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(url + "/api/models")).StatusCode);
            using var anonymous = new HttpClient();
            Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(url + "/healthz")).StatusCode); // health needs no key
        }
        finally
        {
            Process.Start("kill", ["-TERM", process.Id.ToString()])!.WaitForExit();
            Assert.True(process.WaitForExit(TimeSpan.FromMinutes(1)));
            Assert.Equal(0, process.ExitCode);
        }
    }
}
