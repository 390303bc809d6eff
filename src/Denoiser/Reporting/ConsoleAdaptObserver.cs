// Shows `adapt` on the terminal: bars for reading the photographs and for the time-bounded training (steps, loss, time
// left) when interactive; plain lines at each quarter otherwise.
using System.Globalization;
using Denoiser.Adapting;
using Spectre.Console;

namespace Denoiser.Reporting;

public sealed class ConsoleAdaptObserver : IAdaptObserver
{
    ProgressContext? live;
    ProgressTask? reading, training;
    int lastQuarter = -1;

    /// <summary>Runs <paramref name="body"/> with a live display attached when there is a terminal.</summary>
    public int Run(Func<int> body)
    {
        if (!ConsoleProgress.Interactive) return body();
        int code = 0;
        AnsiConsole.Progress().AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                     new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx => { live = ctx; code = body(); });
        return code;
    }

    public void Reading(int done, int total, string file)
    {
        if (live != null)
        {
            reading ??= live.AddTask("reading", maxValue: total);
            reading.Value = done;
            reading.Description = done < total ? $"reading {done + 1}/{total}: {Markup.Escape(Path.GetFileName(file))}" : $"read {total} photographs";
        }
        else if (done == 0) Console.WriteLine($"reading {total} photographs: crops, the base model's clean versions and the camera's noise");
    }

    public void Training(double elapsed, double total, int steps, double loss)
    {
        string text = string.Create(CultureInfo.InvariantCulture, $"adapting: step {steps}  loss {loss:F6}  {Math.Max(total - elapsed, 0):F0} s left");
        if (live != null)
        {
            training ??= live.AddTask("adapting", maxValue: Math.Max(total, 1));
            training.Value = Math.Min(elapsed, total);
            training.Description = text;
            return;
        }
        int quarter = total > 0 ? (int)(4 * elapsed / total) : 4;
        if (quarter > lastQuarter && quarter < 4)
        {
            lastQuarter = quarter;
            Console.WriteLine($"  {quarter * 25}% {text}");
        }
    }
}
