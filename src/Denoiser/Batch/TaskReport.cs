// What a denoise task did, for --report: a job array's merge step reads one from every task, however it ended.
using System.Diagnostics;
using System.Text.Json;
using Denoiser.Data;

namespace Denoiser.Batch;

public sealed record TaskReport(string? Shard, List<string> Inputs, List<string> Skipped)
{
    public List<string> Outputs { get; } = [];
    public List<Failure> Failed { get; } = [];
    public double Seconds { get; set; }
    /// <summary>Why the whole task failed before denoising its images; null when it got to them.</summary>
    public string? Error { get; set; }
    [System.Text.Json.Serialization.JsonIgnore] public bool Written { get; set; }

    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>Stamps the task's time (model loading included) and writes the report to <paramref name="path"/>, if one was asked for.</summary>
    public void Finish(string? path, Stopwatch clock)
    {
        Seconds = Math.Round(clock.Elapsed.TotalSeconds, 3);
        Written = true;
        if (path != null) AtomicFile.WriteAllText(path, JsonSerializer.Serialize(this, Json));
    }
}

public sealed record Failure(string Input, string Reason);
