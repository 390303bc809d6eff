// denoise as one task of a job array: shards that cover every input once, a killed task re-run with --skip-existing,
// and the JSON reports that the array's results are merged from.
using System.Text.Json;
using Xunit;

namespace Denoiser.Tests.EndToEnd;

public class ShardTests
{
    sealed record Report(string? Shard, List<string> Inputs, List<string> Outputs, List<string> Skipped, List<JsonElement> Failed, double Seconds, string? Error = null);

    static Report Read(string path) =>
        JsonSerializer.Deserialize<Report>(File.ReadAllText(path), new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase })!;

    [Fact]
    public void Four_shards_with_one_killed_and_rerun_denoise_every_image_once_as_one_process_does()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir["in"]);
        for (int i = 0; i < 50; i++) TestFiles.WriteRgbPng(dir[$"in/img{i:D2}.png"], 160, 120, seed: i);

        var single = Cli.Run(dir.Path, "denoise", "in", "-o", "single/");
        Assert.True(single.ExitCode == 0, single.Err);

        // Task 2 is killed once it has written its first image, then re-run as a requeued task would be.
        using (var killed = Cli.Start(dir.Path, "denoise", "in", "-o", "sharded/", "--shard", "2/4"))
        {
            while (!killed.HasExited && !(Directory.Exists(dir["sharded"]) && Directory.EnumerateFiles(dir["sharded"], "*.png").Any()))
                Thread.Sleep(10);
            if (!killed.HasExited) killed.Kill(entireProcessTree: true);
            killed.WaitForExit();
        }
        int before = Directory.EnumerateFiles(dir["sharded"], "*.png").Count();
        Assert.InRange(before, 1, 13);

        var runs = new (string Shard, Dictionary<string, string>? Env)[]
        {
            ("0/4", null),
            ("4", new() { ["JOB_COMPLETION_INDEX"] = "1" }),                                // Kubernetes Indexed Job
            ("2/4", null),                                                                  // the killed task, re-run
            ("4", new() { ["SLURM_ARRAY_TASK_ID"] = "4", ["SLURM_ARRAY_TASK_MIN"] = "1" }), // Slurm --array=1-4
        };
        var reports = new List<Report>();
        for (int k = 0; k < runs.Length; k++)
        {
            var r = Cli.Run(dir.Path, runs[k].Env, "denoise", "in", "-o", "sharded/", "--shard", runs[k].Shard, "--skip-existing", "--report", $"report{k}.json");
            Assert.True(r.ExitCode == 0, r.Err);
            reports.Add(Read(dir[$"report{k}.json"]));
            Assert.Equal($"{k}/4", reports[k].Shard);
            Assert.Empty(reports[k].Failed);
            Assert.Equal(reports[k].Inputs.Order(), reports[k].Outputs.Select(o => "in/" + Path.GetFileName(o)).Concat(reports[k].Skipped).Order());
        }
        Assert.Equal(before, reports[2].Skipped.Count); // what the killed task finished is not done again
        Assert.All(reports.Where((_, k) => k != 2), r => Assert.Empty(r.Skipped));
        Assert.Equal(new[] { 13, 13, 12, 12 }, reports.Select(r => r.Inputs.Count));

        var all = reports.SelectMany(r => r.Inputs).ToList();
        Assert.Equal(50, all.Distinct().Count());
        Assert.Equal(50, all.Count); // every input in exactly one shard
        var written = Directory.EnumerateFiles(dir["sharded"]).Select(Path.GetFileName).Order().ToList();
        Assert.Equal(Directory.EnumerateFiles(dir["single"]).Select(Path.GetFileName).Order(), written.Where(f => !f!.StartsWith('.')));
        foreach (var f in written.Where(f => !f!.StartsWith('.')))
            Assert.Equal(File.ReadAllBytes(dir[$"single/{f}"]), File.ReadAllBytes(dir[$"sharded/{f}"]));

        // A finished task re-run does nothing and loads no model.
        var again = Cli.Run(dir.Path, "denoise", "in", "-o", "sharded/", "--shard", "0/4", "--skip-existing", "--report", "again.json");
        Assert.True(again.ExitCode == 0, again.Err);
        Assert.Equal(13, Read(dir["again.json"]).Skipped.Count);
        Assert.DoesNotContain("pretrained", again.Out);
    }

    [Theory]
    [InlineData(new[] { "--shard", "4/4" }, null, "task 4 is not one of 0..3")]
    [InlineData(new[] { "--shard", "a/b" }, null, "--shard takes K/N")]
    [InlineData(new[] { "--shard", "4" }, null, "neither JOB_COMPLETION_INDEX nor SLURM_ARRAY_TASK_ID is set")]
    [InlineData(new[] { "--shard", "4" }, "x", "JOB_COMPLETION_INDEX is 'x'")]
    [InlineData(new[] { "--skip-existing", "--overwrite" }, null, "contradict")]
    [InlineData(new[] { "--report", "no/such/folder/r.json" }, null, "does not exist")]
    [InlineData(new[] { "-o", "a.png", "--skip-existing" }, null, "is the input itself")] // not skipped as "already denoised"
    public void Bad_job_array_options_are_one_line_usage_errors(string[] options, string? index, string expected)
    {
        using var dir = new TempDir();
        TestFiles.WritePng(dir["a.png"], 16, 16);
        var env = index == null ? null : new Dictionary<string, string> { ["JOB_COMPLETION_INDEX"] = index };
        var r = Cli.Run(dir.Path, env, ["denoise", "a.png", .. options]);
        Cli.AssertOneLineFailure(r, 2, expected);
        Assert.False(File.Exists(dir["a.denoised.png"]));
    }

    [Fact]
    public void A_failed_image_is_in_the_report_with_its_reason()
    {
        using var dir = new TempDir();
        TestFiles.WritePng(dir["good.png"], 32, 32);
        File.WriteAllText(dir["bad.png"], "not a png");
        var r = Cli.Run(dir.Path, "denoise", "good.png", "bad.png", "--report", "r.json");
        Assert.Equal(1, r.ExitCode);
        var report = Read(dir["r.json"]);
        Assert.Equal(["good.denoised.png"], report.Outputs);
        var failed = Assert.Single(report.Failed);
        Assert.Equal("bad.png", failed.GetProperty("input").GetString());
        Assert.Contains("bad.png", failed.GetProperty("reason").GetString());
    }

    /// <summary>A task that fails before its first image still leaves its report, with the reason, for the merge step.</summary>
    [Theory]
    [InlineData("model", "a.png --checkpoint missing.ckpt", "missing.ckpt")]
    [InlineData("options", "a.png --quality 0", "--quality must be between 1 and 100")]
    [InlineData("shard", "a.png --shard 4/4", "task 4 is not one of 0..3")]
    [InlineData("inputs", "empty/", "empty")]
    public void A_task_that_fails_before_its_images_still_writes_its_report(string _, string arguments, string expected)
    {
        using var dir = new TempDir();
        TestFiles.WritePng(dir["a.png"], 16, 16);
        Directory.CreateDirectory(dir["empty"]);
        var r = Cli.Run(dir.Path, ["denoise", .. arguments.Split(' '), "--report", "r.json"]);
        Assert.NotEqual(0, r.ExitCode);
        var line = Assert.Single(r.ErrLines);
        var report = Read(dir["r.json"]);
        Assert.Contains(expected, report.Error);
        Assert.Contains(report.Error!, line);
        Assert.Empty(report.Outputs);
        Assert.False(File.Exists(dir["a.denoised.png"]));
    }
}
