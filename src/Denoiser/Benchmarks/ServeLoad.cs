// `serve` under load: a child server called over loopback by 1, 4 and 16 clients at once.
using System.Diagnostics;
using Denoiser.Data;

namespace Denoiser.Benchmarks;

public static class ServeLoad
{
    /// <summary>
    /// `serve` in a child process (its defaults: one image at a time, a queue of 16), called over loopback with 512x512
    /// colour pictures by 1, 4 and 16 clients at once, each sending its next request when the last is answered:
    /// requests a second and the latency of the answered ones (p50, p95), and how many were told 503.
    /// </summary>
    public static void Run(double seconds)
    {
        int side = seconds > 0 ? 512 : 64;
        using var server = Process.Start(SelfProcess.StartInfo(new[] { "serve", "--port", "0" }))!;
        try
        {
            string? url = null;
            while (url == null && server.StandardOutput.ReadLine() is { } line)
                if (System.Text.RegularExpressions.Regex.Match(line, @"listening on (http://\S+)") is { Success: true } m) url = m.Groups[1].Value;
            if (url == null) throw new UserException($"bench: `denoiser serve` did not start: {server.StandardError.ReadToEnd().Trim()}");
            _ = server.StandardOutput.ReadToEndAsync();
            byte[] body;
            using (var gen = new TorchSharp.torch.Generator(2))
            using (var clean = TorchSharp.torch.rand(new long[] { 1, 3, side, side }, generator: gen))
            using (var noisy = new CameraNoise(0).Apply(clean, gen))
            using (var png = new MemoryStream())
            {
                ImageFile.Write(png, Picture.FromTensor(noisy));
                body = png.ToArray();
            }
            using var http = new System.Net.Http.HttpClient { Timeout = TimeSpan.FromMinutes(10) };
            System.Net.HttpStatusCode Send()
            {
                using var content = new System.Net.Http.ByteArrayContent(body);
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("image/png");
                using var response = http.PostAsync(url + "/api/denoise", content).GetAwaiter().GetResult();
                response.Content.ReadAsByteArrayAsync().GetAwaiter().GetResult();
                return response.StatusCode;
            }
            Send(); // loads the model
            foreach (int clients in new[] { 1, 4, 16 })
            {
                var latencies = new System.Collections.Concurrent.ConcurrentBag<double>();
                int busy = 0;
                var clock = Stopwatch.StartNew();
                double window = Math.Max(seconds, 0.01);
                var workers = Enumerable.Range(0, clients).Select(_ => Task.Run(() =>
                {
                    do
                    {
                        var one = Stopwatch.StartNew();
                        if (Send() == System.Net.HttpStatusCode.OK) latencies.Add(one.Elapsed.TotalSeconds);
                        else Interlocked.Increment(ref busy);
                    } while (clock.Elapsed.TotalSeconds < window);
                })).ToArray();
                Task.WaitAll(workers);
                double elapsed = clock.Elapsed.TotalSeconds;
                var sorted = latencies.Order().ToArray();
                double P(double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))];
                Console.WriteLine($"serve {side}x{side} colour, {clients,2} client{(clients == 1 ? " " : "s")}: {sorted.Length / elapsed:F2} images/s answered, " +
                                  $"latency p50 {P(0.5):F2} s, p95 {P(0.95):F2} s; {busy} told 503 (busy)");
            }
        }
        finally
        {
            if (!server.HasExited) server.Kill(entireProcessTree: true);
            server.WaitForExit();
        }
    }
}
