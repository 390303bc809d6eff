// Shows training on the terminal: a live progress bar (loss, images/s, ETA) when interactive, plain lines otherwise.
using System.Diagnostics;
using System.Globalization;
using Denoiser.Training;
using Spectre.Console;

namespace Denoiser.Reporting;

public sealed class ConsoleTrainingObserver : ITrainingObserver
{
    ProgressContext? live;
    ProgressTask? task;
    readonly Stopwatch epochClock = new();
    readonly Stopwatch runClock = new();
    int epoch, epochs, firstEpoch;
    long images;
    int lastQuarter;

    /// <summary>Runs <paramref name="body"/> with this observer attached to a live display when there is a terminal.</summary>
    public void Run(Action<ITrainingObserver> body)
    {
        runClock.Start();
        if (!ConsoleProgress.Interactive) { body(this); return; }
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                     new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx => { live = ctx; body(this); });
    }

    public void EpochStarted(int epoch, int epochs, long images)
    {
        if (firstEpoch == 0) firstEpoch = epoch;
        (this.epoch, this.epochs, this.images, lastQuarter) = (epoch, epochs, images, 0);
        epochClock.Restart();
        task = live?.AddTask($"epoch {epoch}/{epochs}", maxValue: images);
    }

    public void Progress(long imagesDone, double runningLoss)
    {
        double rate = imagesDone / Math.Max(epochClock.Elapsed.TotalSeconds, 1e-9);
        string text = $"epoch {epoch}/{epochs}  loss {runningLoss:F5}  {rate:N0} img/s  run ETA {Eta(imagesDone)}";
        if (task != null)
        {
            task.Description = text;
            task.Value = imagesDone;
            return;
        }
        int quarter = (int)(4 * imagesDone / images);
        if (quarter > lastQuarter && imagesDone < images)
        {
            lastQuarter = quarter;
            Console.WriteLine($"  {100 * imagesDone / images,3}%  {text}");
        }
    }

    public void EpochFinished(EpochMetrics m, bool best)
    {
        if (task != null)
        {
            task.Description = $"epoch {m.Epoch}/{epochs}  done: test_psnr {Db(m.TestPsnr)}";
            task.Value = images;
            task.StopTask();
        }
        string line = string.Create(CultureInfo.InvariantCulture,
            $"epoch {m.Epoch}/{epochs}  train_loss {m.TrainLoss:F5}  test_loss {m.TestLoss:F5}  test_psnr {Db(m.TestPsnr)}  " +
            $"noisy_psnr {Db(m.NoisyPsnr)}  {m.Seconds:F1} s  {m.ImagesPerSecond:F0} img/s{(best ? "  (best)" : "")}");
        if (live != null) AnsiConsole.WriteLine(line); else Console.WriteLine(line);
    }

    /// <summary>"-" where there is no PSNR: a self-supervised run with no clean images to measure it against.</summary>
    static string Db(double psnr) => double.IsNaN(psnr) ? "-" : psnr.ToString("F2", CultureInfo.InvariantCulture) + " dB";

    string Eta(long imagesDone)
    {
        double done = (epoch - firstEpoch) + (double)imagesDone / images;
        if (done <= 0) return "?";
        double left = runClock.Elapsed.TotalSeconds / done * (epochs - firstEpoch + 1 - done);
        return TimeSpan.FromSeconds(Math.Round(left)).ToString(left >= 3600 ? @"h\:mm\:ss" : @"m\:ss");
    }
}
