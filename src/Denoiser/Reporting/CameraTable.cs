// Scores on real photographs by camera, beside OpenCV at each camera's best h: where the model wins and where it loses.
using System.Globalization;
using System.Text;
using Denoiser.Data;
using Denoiser.Evaluation;
using Spectre.Console;

namespace Denoiser.Reporting;

public static class CameraTable
{
    static string F(double v) => v.ToString("F2", CultureInfo.InvariantCulture);

    public static void Print(List<(string Set, CameraScores Scores)> cameras)
    {
        foreach (var set in cameras.GroupBy(c => c.Set))
        {
            var table = new Table { Title = new TableTitle($"{set.Key} by camera: PSNR (dB)") }
                .AddColumns("camera", "photographs", "noisy", "model", "NL-means (OpenCV), the camera's best h", "model - NL-means", "photographs lost");
            foreach (var (_, c) in set)
                table.AddRow(c.Camera, c.Photographs.ToString(CultureInfo.InvariantCulture), F(c.Noisy), F(c.Model),
                             $"{F(c.NlMeans)} (h {c.BestH.ToString(CultureInfo.InvariantCulture)})", (c.Margin >= 0 ? "+" : "") + F(c.Margin),
                             c.Losses.ToString(CultureInfo.InvariantCulture));
            AnsiConsole.Write(table);
        }
    }

    public static void Write(string path, List<(string Set, CameraScores Scores)> cameras)
    {
        var csv = new StringBuilder("set,camera,photographs,noisy_db,model_db,nlmeans_best_h,nlmeans_db,losses\n");
        foreach (var (set, c) in cameras)
            csv.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{set},{c.Camera},{c.Photographs},{c.Noisy:F4},{c.Model:F4},{c.BestH},{c.NlMeans:F4},{c.Losses}"));
        AtomicFile.WriteAllText(path, csv.ToString());
    }
}
