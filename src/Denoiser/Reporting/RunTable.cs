// `runs`' tables: the runs under a folder with their epochs, best test PSNR, date and size; then the shipped models.
using System.Globalization;
using Denoiser.Training;
using Spectre.Console;

namespace Denoiser.Reporting;

public static class RunTable
{
    /// <summary>The runs under <paramref name="dir"/> (a damaged one is shown as damaged), then the models shipped with Denoiser.</summary>
    public static int Print(string dir)
    {
        var runs = Directory.Exists(dir)
            ? Directory.GetDirectories(dir).Select(d => new RunFolder(d)).Where(r => File.Exists(r.Last) || File.Exists(r.Best)).ToList()
            : new List<RunFolder>();
        if (runs.Count == 0) Console.WriteLine($"no runs under {dir}; train one with `denoiser train`.");
        else ListRuns(runs);
        ListShipped();
        return ExitCodes.Ok;
    }

    static void ListShipped()
    {
        var shipped = Inference.Pretrained.All();
        if (shipped.Count == 0) return;
        var table = new Table().AddColumns("shipped model (--pretrained)", "what it is", "trained");
        foreach (var m in shipped) table.AddRow(Markup.Escape(m.Name), Markup.Escape(m.Summary), Markup.Escape(m.Trained));
        AnsiConsole.Write(table);
    }

    static void ListRuns(List<RunFolder> runs)
    {
        var table = new Table().AddColumns("run", "model", "epochs", "best test PSNR", "saved", "size");
        foreach (var run in runs.OrderBy(r => File.GetLastWriteTime(File.Exists(r.Last) ? r.Last : r.Best)))
        {
            string file = File.Exists(run.Last) ? run.Last : run.Best;
            long bytes = Directory.GetFiles(run.Root, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
            string size = $"{bytes / 1e6:F1} MB", saved = File.GetLastWriteTime(file).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
            try
            {
                var header = Checkpoint.Read(file).Header;
                string best = header.History.Count > 0 ? $"{header.History.Max(m => m.TestPsnr):F2} dB" : "-";
                string model = run.AdaptedFrom() is { } from ? $"{header.Model}, adapted from {from}" : header.Model;
                table.AddRow(Markup.Escape(run.Root), Markup.Escape(model), $"{header.Epoch}/{header.Settings.Epochs}", best, saved, size);
            }
            catch (UserException e)
            {
                table.AddRow(Markup.Escape(run.Root), "", "[red]damaged[/]", Markup.Escape(e.Message), saved, size);
            }
        }
        AnsiConsole.Write(table);
    }
}
