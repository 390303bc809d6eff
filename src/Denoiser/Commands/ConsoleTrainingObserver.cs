// Shows training on the terminal: a live progress bar (loss, images/s, ETA) when interactive, plain lines otherwise.
using System.Diagnostics;
using System.Globalization;
using Denoiser.Training;
using Spectre.Console;

namespace Denoiser.Commands;

public sealed class ConsoleTrainingObserver : ITrainingObserver
{
    static bool Interactive => AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;

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
        if (!Interactive) { body(this); return; }
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
            task.Description = $"epoch {m.Epoch}/{epochs}  done: test_psnr {m.TestPsnr:F2} dB";
            task.Value = images;
            task.StopTask();
        }
        string line = string.Create(CultureInfo.InvariantCulture,
            $"epoch {m.Epoch}/{epochs}  train_loss {m.TrainLoss:F5}  test_loss {m.TestLoss:F5}  test_psnr {m.TestPsnr:F2} dB  " +
            $"noisy_psnr {m.NoisyPsnr:F2} dB  {m.Seconds:F1} s  {m.ImagesPerSecond:F0} img/s{(best ? "  (best)" : "")}");
        if (live != null) AnsiConsole.WriteLine(line); else Console.WriteLine(line);
    }

    string Eta(long imagesDone)
    {
        double done = (epoch - firstEpoch) + (double)imagesDone / images;
        if (done <= 0) return "?";
        double left = runClock.Elapsed.TotalSeconds / done * (epochs - firstEpoch + 1 - done);
        return TimeSpan.FromSeconds(Math.Round(left)).ToString(left >= 3600 ? @"h\:mm\:ss" : @"m\:ss");
    }

    /// <summary>
    /// Runs <paramref name="work"/> with a progress bar over <paramref name="total"/> items when interactive. Work
    /// reports a passing status (shown on the bar only) and each finished item with its line (printed; may be null).
    /// </summary>
    public static void WithProgress(string title, int total, Action<Action<string>, Action<string?>> work)
    {
        if (!Interactive)
        {
            work(_ => { }, line => { if (line != null) Console.WriteLine(line); });
            return;
        }
        AnsiConsole.Progress().AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                     new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(title, maxValue: total);
                work(status => task.Description = Markup.Escape(status), line =>
                {
                    if (line != null) AnsiConsole.WriteLine(line);
                    task.Increment(1);
                });
                task.Description = title;
            });
    }

    /// <summary>Runs <paramref name="work"/> with a spinner (or plain lines) showing its latest report.</summary>
    public static void WithStatus(string title, Action<Action<string>> work)
    {
        if (!Interactive)
        {
            work(message => Console.WriteLine("  " + message));
            return;
        }
        AnsiConsole.Status().Start(title, ctx => work(message => ctx.Status(Markup.Escape(message))));
    }
}
