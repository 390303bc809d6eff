// Where a run keeps its files, and how to find the latest run.
namespace Denoiser.Training;

public sealed record RunFolder(string Root)
{
    public string Last => Path.Combine(Root, "last.ckpt");
    public string Best => Path.Combine(Root, "best.ckpt");
    public string SettingsFile => Path.Combine(Root, "settings.json");
    public string MetricsFile => Path.Combine(Root, "metrics.csv");
    public string Sample(int epoch) => Path.Combine(Root, "samples", $"epoch-{epoch:D3}.png");
    /// <summary>Written by `adapt` (Adapting.AdaptedRecord): what the run was adapted from and how it went.</summary>
    public string AdaptedFile => Path.Combine(Root, "adapted.json");

    /// <summary>The model an `adapt` run started from, or null for a run that was trained.</summary>
    public string? AdaptedFrom()
    {
        if (!File.Exists(AdaptedFile)) return null;
        try { return System.Text.Json.JsonDocument.Parse(File.ReadAllText(AdaptedFile)).RootElement.GetProperty("From").GetString(); }
        catch (Exception e) when (e is System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException or IOException) { return null; }
    }

    /// <summary>
    /// A run's results in its folder: what a new run must not silently replace. settings.json alone is not one: a run
    /// stopped before its first epoch ended leaves only that, and its recipe is rewritten by the next start.
    /// </summary>
    IEnumerable<string> Results => new[] { Last, Best, MetricsFile, Path.Combine(Root, "loss.png"), Path.Combine(Root, "psnr.png"),
                                           Path.Combine(Root, "samples"), Path.Combine(Root, "tensorboard") };

    /// <summary>The results of an earlier run already in the folder.</summary>
    public List<string> ExistingOutputs() => Results.Where(p => File.Exists(p) || Directory.Exists(p)).ToList();

    /// <summary>Deletes an earlier run's results and settings (for --overwrite); other files in the folder are left alone.</summary>
    public void DeleteOutputs()
    {
        foreach (var p in ExistingOutputs().Append(SettingsFile))
            if (Directory.Exists(p)) Directory.Delete(p, recursive: true);
            else if (File.Exists(p)) File.Delete(p);
    }

    /// <summary>A new folder name under <paramref name="modelsDir"/>, from the start time (sortable).</summary>
    public static RunFolder New(string modelsDir)
    {
        string stamp = DateTime.Now.ToString("yyyyMMdd-HHmmss");
        string root = Path.Combine(modelsDir, $"run-{stamp}");
        for (int i = 2; Directory.Exists(root); i++) root = Path.Combine(modelsDir, $"run-{stamp}-{i}");
        return new RunFolder(root);
    }

    /// <summary>The run folders under <paramref name="modelsDir"/> (none when it does not exist), in ordinal order.</summary>
    public static IEnumerable<RunFolder> All(string modelsDir) =>
        Directory.Exists(modelsDir) ? Directory.GetDirectories(modelsDir).Order(StringComparer.Ordinal).Select(d => new RunFolder(d)) : [];

    /// <summary>The run under <paramref name="modelsDir"/> whose <paramref name="file"/> was written last.</summary>
    public static RunFolder? Latest(string modelsDir, Func<RunFolder, string> file)
    {
        if (!Directory.Exists(modelsDir)) return null;
        return Directory.GetDirectories(modelsDir)
            .Select(d => new RunFolder(d))
            .Where(r => File.Exists(file(r)))
            .OrderByDescending(r => File.GetLastWriteTimeUtc(file(r)))
            .FirstOrDefault();
    }
}
