// evaluate's scores as tables: on the terminal, and as CSV, JSON and Markdown files.
using System.Globalization;
using System.Text;
using System.Text.Json;
using Denoiser.Data;
using Denoiser.Evaluation;
using Spectre.Console;

namespace Denoiser.Reporting;

public static class ScoreTables
{
    /// <summary>The tables on the terminal: overall and per class, or one per set of photographs.</summary>
    public static void Print(List<Score> scores)
    {
        if (scores.Any(s => s.Set != null)) { PrintSets(scores); return; }
        var overall = new Table().AddColumns("noise", "method", "PSNR (dB)", "SSIM");
        foreach (var s in scores.Where(s => s.Class == null))
            overall.AddRow(s.Noise, s.Method, s.PsnrDb.ToString("F2", CultureInfo.InvariantCulture), s.Ssim.ToString("F4", CultureInfo.InvariantCulture));
        AnsiConsole.Write(overall);

        foreach (var byNoise in scores.Where(s => s.Class != null).GroupBy(s => s.Noise))
        {
            var methods = byNoise.Select(s => s.Method).Distinct().ToList();
            var table = new Table { Title = new TableTitle($"mean PSNR (dB) per class, {byNoise.Key}") }.AddColumn("class");
            foreach (var m in methods) table.AddColumn(m);
            foreach (var row in byNoise.GroupBy(s => s.Class!.Value).OrderBy(g => g.Key))
                table.AddRow(new[] { $"{row.Key} ({row.First().Count})" }
                    .Concat(methods.Select(m => row.Single(s => s.Method == m).PsnrDb.ToString("F2", CultureInfo.InvariantCulture))).ToArray());
            AnsiConsole.Write(table);
        }
    }

    /// <summary>A table per set: a row per method, a column per noise, each cell PSNR / SSIM; the seconds each method took.</summary>
    static void PrintSets(List<Score> scores)
    {
        foreach (var set in scores.GroupBy(s => s.Set))
        {
            var noises = set.Select(s => s.Noise).Distinct().ToList();
            var table = new Table { Title = new TableTitle($"{set.Key} ({set.First().Count} images): PSNR (dB) / SSIM") }.AddColumn("method");
            foreach (var n in noises) table.AddColumn(n);
            table.AddColumn("seconds");
            foreach (var method in set.GroupBy(s => s.Method))
                table.AddRow(new[] { method.Key }
                    .Concat(noises.Select(n => method.SingleOrDefault(s => s.Noise == n) is { } c ? string.Create(CultureInfo.InvariantCulture, $"{c.PsnrDb:F2} / {c.Ssim:F4}") : "")) // a row some noises lack (the told level: Gaussian only)
                    .Append(method.All(s => s.Seconds == null) ? "" : string.Create(CultureInfo.InvariantCulture, $"{method.Sum(s => s.Seconds ?? 0):F1}")).ToArray());
            AnsiConsole.Write(table);
        }
    }

    /// <summary>The same tables as Markdown, for a README or a report.</summary>
    static string Markdown(List<Score> scores)
    {
        var md = new StringBuilder();
        foreach (var set in scores.GroupBy(s => s.Set ?? "test split"))
        {
            var noises = set.Where(s => s.Class == null).Select(s => s.Noise).Distinct().ToList();
            md.AppendLine($"**{set.Key}** ({set.First().Count} images), PSNR (dB) / SSIM").AppendLine();
            md.AppendLine("| method | " + string.Join(" | ", noises) + " |");
            md.AppendLine("|---|" + string.Concat(noises.Select(_ => "---|")));
            foreach (var method in set.Where(s => s.Class == null).GroupBy(s => s.Method))
                md.AppendLine($"| {method.Key} | " + string.Join(" | ", noises.Select(n => method.SingleOrDefault(s => s.Noise == n))
                    .Select(c => c is null ? "" : string.Create(CultureInfo.InvariantCulture, $"{c.PsnrDb:F2} / {c.Ssim:F4}"))) + " |");
            md.AppendLine();
        }
        return md.ToString();
    }

    /// <summary>A CSV field, quoted when it holds a comma or a quote (RFC 4180): "model, output rounded to 8 bits" is one.</summary>
    static string Field(string value) => value.IndexOfAny(new[] { ',', '"' }) < 0 ? value : "\"" + value.Replace("\"", "\"\"") + "\"";

    /// <summary>evaluation.csv, evaluation.json and evaluation.md in <paramref name="dir"/>, each written whole or not at all.</summary>
    public static void Write(string dir, List<Score> scores)
    {
        var csv = new StringBuilder("set,noise,method,class,count,psnr_db,ssim,seconds\n");
        foreach (var s in scores)
            csv.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{Field(s.Set ?? "test")},{Field(s.Noise)},{Field(s.Method)},{(s.Class?.ToString() ?? "all")},{s.Count},{s.PsnrDb:F4},{s.Ssim:F6},{s.Seconds:F2}"));
        AtomicFile.WriteAllText(Path.Combine(dir, "evaluation.csv"), csv.ToString());
        AtomicFile.WriteAllText(Path.Combine(dir, "evaluation.json"), JsonSerializer.Serialize(scores, new JsonSerializerOptions { WriteIndented = true }));
        AtomicFile.WriteAllText(Path.Combine(dir, "evaluation.md"), Markdown(scores));
    }
}
