// Nothing a user saved is lost or raced: one trainer per run folder, no silent overwrite, kills at any moment survived.
using System.Diagnostics;
using Denoiser.Training;
using Xunit;

using static Denoiser.Tests.EndToEnd.Cli;

namespace Denoiser.Tests.EndToEnd;

public class RunSafetyTests
{
    [Fact]
    public void Twenty_trainers_started_at_once_on_one_run_folder_train_exactly_once()
    {
        using var dir = new TempDir();
        TestFiles.WriteMnist(dir["data"], train: 100, test: 20);
        var started = Enumerable.Range(0, 20)
            .Select(_ => Start(dir.Path, "train", "--epochs", "1", "--data-dir", "data", "--run-dir", "models/race", "--threads", "1"))
            .ToList();
        var results = started.Select(p =>
        {
            using (p)
            {
                var err = p.StandardError.ReadToEndAsync();
                string output = p.StandardOutput.ReadToEnd();
                Assert.True(p.WaitForExit(TimeSpan.FromMinutes(5)));
                return new Result(p.ExitCode, output, err.Result);
            }
        }).ToList();

        var trained = Assert.Single(results, r => r.ExitCode == 0);
        Assert.Contains("epoch 1/1", trained.Out);
        foreach (var refused in results.Where(r => r.ExitCode != 0))
        {
            var line = Assert.Single(refused.ErrLines);
            Assert.Equal(2, refused.ExitCode);
            Assert.True(line.Contains("in use by another trainer") || line.Contains("already holds a run"), line);
        }
        Assert.Equal(2, File.ReadAllLines(dir["models/race/metrics.csv"]).Length); // one epoch, written once
        Assert.False(File.Exists(dir["models/race/.trainer"])); // the holder's note is gone with it
    }

    [Fact]
    public void A_lock_held_by_a_live_process_is_refused_naming_it_and_dies_with_that_process()
    {
        using var dir = new TempDir();
        TestFiles.WriteMnist(dir["data"], train: 100, test: 20);
        using (RunLock.Acquire(dir["models/held"])) // this test process holds it, as a running trainer would
            AssertOneLineFailure(Run(dir.Path, "train", "--epochs", "1", "--data-dir", "data", "--run-dir", "models/held"), 2,
                                 $"in use by another trainer (process {Environment.ProcessId})");
        var after = Run(dir.Path, "train", "--epochs", "1", "--data-dir", "data", "--run-dir", "models/held");
        Assert.True(after.ExitCode == 0, after.Err);
    }

    [Fact]
    public void Nothing_is_overwritten_without_overwrite()
    {
        using var dir = new TempDir();
        TestFiles.WriteMnist(dir["data"], train: 100, test: 20);
        string[] train = { "train", "--epochs", "1", "--data-dir", "data", "--run-dir", "models/r" };
        Assert.Equal(0, Run(dir.Path, train).ExitCode);

        // train into a folder that holds a run, even one whose checkpoints are gone
        AssertOneLineFailure(Run(dir.Path, train), 2, "already holds a run (last.ckpt); pass --resume to continue it, --overwrite");
        File.Delete(dir["models/r/last.ckpt"]);
        File.Delete(dir["models/r/best.ckpt"]);
        AssertOneLineFailure(Run(dir.Path, train), 2, "already holds a run (metrics.csv)");
        File.WriteAllText(dir["models/r/notes.txt"], "mine");
        Assert.Equal(0, Run(dir.Path, train.Append("--overwrite").ToArray()).ExitCode);
        Assert.Equal("mine", File.ReadAllText(dir["models/r/notes.txt"])); // only the run's own files are replaced

        // evaluate's results
        string[] evaluate = { "evaluate", "--checkpoint", "models/r/best.ckpt", "--output-dir", "eval" };
        Assert.Equal(0, Run(dir.Path, evaluate).ExitCode);
        byte[] csv = File.ReadAllBytes(dir["eval/evaluation.csv"]);
        AssertOneLineFailure(Run(dir.Path, evaluate), 2, "evaluation.csv: already exists; pass --overwrite");
        Assert.Equal(csv, File.ReadAllBytes(dir["eval/evaluation.csv"]));
        Assert.Equal(0, Run(dir.Path, evaluate.Append("--overwrite").ToArray()).ExitCode);

        // denoise --compare's side-by-side picture
        TestFiles.WritePng(dir["a.png"], 28, 28);
        File.WriteAllText(dir["a.denoised.compare.png"], "mine");
        AssertOneLineFailure(Run(dir.Path, "denoise", "a.png", "--checkpoint", "models/r/best.ckpt", "--compare"), 2, "a.denoised.compare.png: already exists");
        Assert.False(File.Exists(dir["a.denoised.png"]));
        Assert.Equal("mine", File.ReadAllText(dir["a.denoised.compare.png"]));
        Assert.Equal(0, Run(dir.Path, "denoise", "a.png", "--checkpoint", "models/r/best.ckpt", "--compare", "--overwrite").ExitCode);
    }

    /// <summary>
    /// SIGKILL at DENOISER_KILLS moments (3 in CI) chosen by training's own progress, never by the clock: each kill comes
    /// the moment the trainer prints a line (a progress line mid-epoch, or an epoch's result line, after which it writes
    /// the picture, metrics and checkpoints), picked by a seeded draw, so it lands while training runs on any machine.
    /// After every kill each checkpoint on disk loads and metrics.csv parses; at the end the resumed run has exactly the
    /// weights of an uninterrupted one.
    /// </summary>
    [Fact]
    public void Killed_at_progress_lines_a_run_still_ends_with_the_uninterrupted_weights()
    {
        int kills = int.TryParse(Environment.GetEnvironmentVariable("DENOISER_KILLS"), out int k) ? k : 3;
        using var dir = new TempDir();
        TestFiles.WriteMnist(dir["data"], train: 6000, test: 20); // 300 batches an epoch: progress lines at 33% and 66%
        string epochs = Math.Max(3, kills).ToString();
        string[] common = { "--epochs", epochs, "--data-dir", "data", "--threads", "2" };
        // One command for the first start and every restart, as a job script has it.
        string[] Args(string run) => new[] { "train", "--run-dir", run, "--resume" }.Concat(common).ToArray();
        Assert.Equal(0, Run(dir.Path, Args("models/straight")).ExitCode);

        var random = new Random(kills);
        int killed = 0;
        for (int attempt = 0; killed < kills && attempt < kills * 3; attempt++)
        {
            int killAt = random.Next(1, 4); // the 1st, 2nd or 3rd line this process prints after its header
            using var p = Start(dir.Path, Args("models/killed"));
            _ = p.StandardError.ReadToEndAsync();
            int seen = 0;
            string? line;
            while ((line = p.StandardOutput.ReadLine()) != null)
                if ((line.Contains("%  epoch") || line.Contains("train_loss")) && ++seen == killAt)
                {
                    p.Kill(); // SIGKILL: no handler runs
                    killed++;
                    break;
                }
            p.WaitForExit();
            if (line == null && p.ExitCode == 0) break; // finished before its line came

            foreach (var f in new[] { "last.ckpt", "best.ckpt" }.Select(f => dir[$"models/killed/{f}"]).Where(File.Exists))
                Checkpoint.Read(f); // throws if damaged
            if (File.Exists(dir["models/killed/metrics.csv"]))
                foreach (var row in File.ReadAllLines(dir["models/killed/metrics.csv"]).Skip(1))
                    Assert.All(row.Split(','), v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture));
        }
        Assert.Equal(kills, killed);

        var finish = Run(dir.Path, Args("models/killed"));
        Assert.True(finish.ExitCode == 0, finish.Err); // a finished run resumes as a no-op
        using var a = new Denoiser.Models.ConvDenoiser();
        using var b = new Denoiser.Models.ConvDenoiser();
        Checkpoint.Read(dir["models/straight/last.ckpt"]).LoadWeights(a);
        Checkpoint.Read(dir["models/killed/last.ckpt"]).LoadWeights(b);
        foreach (var (x, y) in a.parameters().Zip(b.parameters())) Assert.True(x.allclose(y, rtol: 0, atol: 0), $"weights differ after {killed} kills");
    }

    /// <summary>
    /// Killed in its first seconds (at its "run:" line, before any checkpoint), a run restarts with the very command that
    /// started it, from its beginning and with its recorded settings; a recipe option that contradicts them is refused.
    /// </summary>
    [Fact]
    public void Killed_before_its_first_checkpoint_a_run_restarts_with_the_same_resume_command()
    {
        using var dir = new TempDir();
        TestFiles.WriteMnist(dir["data"], train: 200, test: 20);
        string[] command = { "train", "--resume", "--run-dir", "models/early", "--epochs", "1", "--data-dir", "data", "--seed", "5" };
        using (var p = Start(dir.Path, command))
        {
            _ = p.StandardError.ReadToEndAsync();
            string? line;
            while ((line = p.StandardOutput.ReadLine()) != null && !line.StartsWith("run: ")) { }
            Assert.NotNull(line);
            p.Kill();
            p.WaitForExit();
        }
        Assert.True(File.Exists(dir["models/early/settings.json"]));
        Assert.False(File.Exists(dir["models/early/last.ckpt"]));

        AssertOneLineFailure(Run(dir.Path, "train", "--resume", "--run-dir", "models/early", "--seed", "6"), 2, "--seed cannot change");
        var again = Run(dir.Path, "train", "--resume", "--run-dir", "models/early"); // the recorded settings: seed 5, 1 epoch, data
        Assert.True(again.ExitCode == 0, again.Err);
        Assert.Contains("--resume: models/early has no checkpoint yet; starting it from the beginning with its recorded settings", again.Out);
        Assert.Contains("epoch 1/1", again.Out);
        Assert.Equal(5, Checkpoint.Read(dir["models/early/last.ckpt"]).Header.Settings.Seed);
    }

    [Fact]
    public void Resume_on_an_empty_or_missing_folder_starts_the_run()
    {
        using var dir = new TempDir();
        TestFiles.WriteMnist(dir["data"], train: 100, test: 20);
        Directory.CreateDirectory(dir["models/empty"]);
        foreach (var run in new[] { "models/empty", "models/missing" })
        {
            var first = Run(dir.Path, "train", "--resume", "--run-dir", run, "--epochs", "1", "--data-dir", "data");
            Assert.True(first.ExitCode == 0, first.Err);
            Assert.Contains($"--resume: {run} has no checkpoint yet; starting it from the beginning", first.Out);
            var requeued = Run(dir.Path, "train", "--resume", "--run-dir", run, "--epochs", "1", "--data-dir", "data");
            Assert.True(requeued.ExitCode == 0, requeued.Err);
            Assert.Contains("nothing to do", requeued.Out);
        }
    }

    [Fact]
    public void A_damaged_settings_file_of_a_run_without_a_checkpoint_is_one_line_and_stays()
    {
        using var dir = new TempDir();
        TestFiles.WriteMnist(dir["data"], train: 100, test: 20);
        Directory.CreateDirectory(dir["models/bad"]);
        File.WriteAllText(dir["models/bad/settings.json"], "{ \"Epochs\": ");
        AssertOneLineFailure(Run(dir.Path, "train", "--resume", "--run-dir", "models/bad", "--data-dir", "data"), 1,
                             "settings.json: not a run's settings");
        Assert.Equal("{ \"Epochs\": ", File.ReadAllText(dir["models/bad/settings.json"])); // nothing saved is lost
        Assert.False(File.Exists(dir["models/bad/last.ckpt"]));
    }
}
