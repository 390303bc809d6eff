// What evaluate writes: the tables on the terminal, CSV, JSON and Markdown, the PSNR-against-sigma plot, the sample and
// comparison pictures and the table by camera; and their names, so that none replaces an earlier one unasked.
using System.Globalization;
using Denoiser.Data;
using Denoiser.Evaluation;
using TorchSharp;

namespace Denoiser.Reporting;

public static class EvaluationFiles
{
    /// <summary>Every file an evaluation of the test set writes (sample pictures for <paramref name="sampled"/>).</summary>
    public static List<string> Outputs(string dir, List<Noise> sampled) =>
        new[] { "evaluation.csv", "evaluation.json", "evaluation.md", "psnr-vs-sigma.png" }.Concat(sampled.Select(SampleName)).Select(f => Path.Combine(dir, f)).ToList();

    /// <summary>The comparison picture of a set (a folder of --images) under a noise.</summary>
    public static string ComparisonPath(string dir, string set, Noise n) => ComparisonPath(dir, set, FileName(n));

    public static string ComparisonPath(string dir, string set, string noise) => Path.Combine(dir, $"compare-{set}-{noise}.png");

    /// <summary>A set's name: its folder's.</summary>
    public static string SetName(string folder) => Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)));

    static string SampleName(Noise n) => $"samples-{FileName(n)}.png";

    /// <summary>A noise's spec as part of a file name: gaussian:25/255 -> gaussian-25_255.</summary>
    static string FileName(Noise n) => n.Spec.Replace(':', '-').Replace('/', '_').Replace(',', '-');

    /// <summary>A comparison picture's panel: the method's short name and PSNR over its output, an image (1, C, H, W) in [0, 1].</summary>
    public static (string Label, Picture Picture) Panel(string method, torch.Tensor output, double psnr) =>
        (method == "clean" ? "clean" : string.Create(CultureInfo.InvariantCulture, $"{Short(method)} {psnr:F2} dB"), Picture.FromTensor(output));

    static string Short(string method) => method switch
    {
        Evaluator.Noisy => "noisy", ClassicalDenoisers.NlMeans or RealNoise.NlMeansRule => "NL-means", Evaluator.ModelPosterior => "posterior", _ => method,
    };

    /// <summary>The tables on the terminal, then the files: CSV, JSON, the PSNR-against-sigma plot and a sample picture per noise.</summary>
    /// <param name="samples">The model and test set to draw samples from, under each of <paramref name="noises"/>; null for --images.</param>
    public static void Write(List<Score> scores, string outDir, (torch.nn.Module<torch.Tensor, torch.Tensor> Model, ImageSet Test, bool TakesLevel)? samples,
                             (List<Noise> Noises, long Seed)? noises)
    {
        ScoreTables.Print(scores);
        ScoreTables.Write(outDir, scores);
        Console.WriteLine($"written: {Path.Combine(outDir, "evaluation.csv")}, {Path.Combine(outDir, "evaluation.json")}, {Path.Combine(outDir, "evaluation.md")}");
        string sweep = Path.Combine(outDir, "psnr-vs-sigma.png");
        if (Plots.PsnrAgainstSigma(scores, sweep)) Console.WriteLine($"plot: {sweep}");
        if (samples is not { } s || noises is not { } n) return;
        foreach (var noise in n.Noises)
        {
            string picture = Path.Combine(outDir, SampleName(noise));
            ImageFile.Write(picture, Evaluator.Samples(s.Model, s.Test.Images, s.Test.Labels, noise, n.Seed, s.TakesLevel));
            Console.WriteLine($"picture: {picture} (rows: clean, noisy, model, median 3x3, Gaussian blur)");
        }
    }

    /// <summary>After <see cref="Write"/> for --images: the table by camera of real pairs, then the comparison pictures.</summary>
    public static void WriteSets(string outDir, List<(string Set, CameraScores Scores)> cameras, List<(string Path, List<(string, Picture)> Panels)> pictures)
    {
        if (cameras.Count > 0)
        {
            CameraTable.Print(cameras);
            CameraTable.Write(Path.Combine(outDir, "cameras.csv"), cameras);
            Console.WriteLine($"written: {Path.Combine(outDir, "cameras.csv")}");
        }
        foreach (var (path, panels) in pictures)
        {
            Comparison.Write(path, panels);
            Console.WriteLine($"picture: {path}");
        }
    }
}
