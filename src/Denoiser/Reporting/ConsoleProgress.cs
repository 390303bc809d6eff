// Progress on the terminal for long work: Spectre.Console bars and spinners when interactive, plain lines otherwise.
using Spectre.Console;

namespace Denoiser.Reporting;

public static class ConsoleProgress
{
    /// <summary>Live displays only on a terminal; redirected output (CI, logs) gets plain lines.</summary>
    public static bool Interactive => AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;

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

    /// <summary>Runs <paramref name="work"/> under a spinner that says what it does (a plain line when not interactive); returns its result.</summary>
    public static T WithStatus<T>(string title, string what, Func<T> work)
    {
        T result = default!;
        WithStatus(title, report => { report(what); result = work(); });
        return result;
    }
}
