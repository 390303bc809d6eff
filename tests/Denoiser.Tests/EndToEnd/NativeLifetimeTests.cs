// Native lifetimes (docs/native-lifetimes.md) held to account: the real program under a garbage collector that runs all
// the time gives exactly what it gives without one, denoising two requests at a time and training across the cores.
using System.Net;
using System.Net.Http.Headers;
using Denoiser.Data;
using Denoiser.Training;
using Xunit;
using static Denoiser.Tests.EndToEnd.Cli;

namespace Denoiser.Tests.EndToEnd;

public class NativeLifetimeTests
{
    /// <summary>
    /// A gen0 budget of 64 kB: a collection every few allocations, on whichever thread allocates, so one falls inside
    /// nearly every native call. Read when the runtime starts, so it goes into the child's environment.
    /// </summary>
    static readonly Dictionary<string, string> Collecting = new() { ["DOTNET_GCgen0size"] = "0x10000" };

    /// <summary>
    /// resunet-rgb (the noise-level plane) on 48x48 patches, 8 a batch (two parts, one per core), noise of a sigma drawn per
    /// image mixed with camera-wide (every stage of the camera pipeline): the per-step code of Noise, CameraNoise,
    /// CameraStages, Targets, BatchParts, the Adam step, and validation's metrics.
    /// </summary>
    static string[] Train(string run) => new[] { "train", "--run-dir", run, "--data-dir", "images", "--model", "resunet-rgb",
        "--noise", "gaussian:0-50/255+camera-wide", "--patch", "48", "--patches-per-epoch", "24", "--batch-size", "8", "--epochs", "1",
        "--threads", "2" };

    [Fact]
    public async Task Denoising_and_training_under_a_collector_that_never_stops_give_the_quiet_results_bit_for_bit()
    {
        // Given small colour and grey pictures: the shipped photo-rgb and photo models are the defaults for them
        using var dir = new TempDir();
        var names = new List<string>();
        for (int i = 0; i < 4; i++)
        {
            var scene = TestFiles.Scene(64, 48, seed: i);
            ImageFile.Write(dir[$"images/colour{i}.png"], scene);
            ImageFile.Write(dir[$"images/grey{i}.png"], scene.As(1));
            names.AddRange(new[] { $"colour{i}.png", $"grey{i}.png" });
        }

        // When the quiet runs and the collected ones run at once: `denoise` on the folder and a training run without the
        // collector; with it, `serve` answering every picture twice, two at a time, and the same training run
        var quietDenoise = Task.Run(() => Run(dir.Path, "denoise", "images", "-o", "quiet"));
        var quietTrain = Task.Run(() => Run(dir.Path, Train("runs/quiet")));
        var collectedTrain = Task.Run(() => Run(dir.Path, Collecting, Train("runs/collected")));
        Dictionary<string, byte[]> served;
        using (var server = new ServeProcess(dir.Path, Collecting, "--concurrent", "2"))
        using (var http = new HttpClient { Timeout = TimeSpan.FromMinutes(2) })
        {
            // 240 requests (issue 44's count), 8 clients at a time: each answered with the picture or told 503, never 500.
            using var clients = new SemaphoreSlim(8);
            var requests = Enumerable.Range(0, 30).SelectMany(_ => names).Select(async name =>
            {
                await clients.WaitAsync();
                try
                {
                    var content = new ByteArrayContent(File.ReadAllBytes(dir[$"images/{name}"]));
                    content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
                    using var response = await http.PostAsync(server.Url + "/api/denoise", content);
                    byte[] body = await response.Content.ReadAsByteArrayAsync();
                    Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable,
                                $"{name}: {(int)response.StatusCode} {System.Text.Encoding.UTF8.GetString(body)}");
                    return (name, body, ok: response.StatusCode == HttpStatusCode.OK);
                }
                finally { clients.Release(); }
            }).ToList();
            var answers = (await Task.WhenAll(requests)).Where(a => a.ok).Select(a => (a.name, a.body)).ToList();
            Assert.Equal(names.Count, answers.Select(a => a.name).Distinct().Count()); // every picture answered at least once
            Assert.Equal("ok", await http.GetStringAsync(server.Url + "/healthz")); // alive after them
            foreach (var group in answers.GroupBy(a => a.name))
                Assert.True(group.Select(a => Convert.ToHexString(a.body)).Distinct().Count() == 1, $"{group.Key}: two requests got different answers");
            served = answers.GroupBy(a => a.name).ToDictionary(g => g.Key, g => g.First().body);
            Assert.Equal(0, server.Stop());
        }

        // Then every answer is the quiet denoise's file, byte for byte, and the two runs trained the same weights
        var denoised = await quietDenoise;
        Assert.True(denoised.ExitCode == 0, denoised.Out + denoised.Err);
        foreach (var name in names)
            Assert.True(File.ReadAllBytes(dir[$"quiet/{name}"]).AsSpan().SequenceEqual(served[name]), $"{name}: the collected server's answer differs from the quiet denoise");
        foreach (var (run, result) in new[] { ("quiet", await quietTrain), ("collected", await collectedTrain) })
            Assert.True(result.ExitCode == 0, $"{run}: {result.Out}{result.Err}");
        using var quiet = new Denoiser.Models.ResUNetRgb();
        using var collected = new Denoiser.Models.ResUNetRgb();
        Checkpoint.Read(dir["runs/quiet/last.ckpt"]).LoadWeights(quiet);
        Checkpoint.Read(dir["runs/collected/last.ckpt"]).LoadWeights(collected);
        foreach (var ((name, p), q) in quiet.named_parameters().Zip(collected.parameters()))
            Assert.True(p.allclose(q, rtol: 0, atol: 0), $"{name}: trained differently under the collector");
        Assert.Equal(Loss(dir["runs/quiet/metrics.csv"]), Loss(dir["runs/collected/metrics.csv"]));
    }

    /// <summary>metrics.csv's train_loss and test_loss columns (the rest is time).</summary>
    static string[] Loss(string csv) => File.ReadLines(csv).Skip(1).Select(l => string.Join(',', l.Split(',')[1..3])).ToArray();
}
