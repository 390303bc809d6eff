// `denoiser evaluate`: PSNR and SSIM of the model beside the noisy input and classic filters, as tables, CSV and JSON.
using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Denoiser.Data;
using Denoiser.Evaluation;
using Spectre.Console;
using TorchSharp;

namespace Denoiser.Commands;

public static class EvaluateCommand
{
    public static Command Create(AppConfig config)
    {
        var source = new ModelSource(config);
        var noise = new Option<string[]>("--noise")
        {
            Description = $"One or more noises to evaluate under: {Noise.Kinds}",
            DefaultValueFactory = _ => new[] { config.Train.Noise }, AllowMultipleArgumentsPerToken = true,
        };
        var dataDir = new Option<string>("--data-dir") { Description = "Folder with the MNIST IDX files (fetched when missing)", DefaultValueFactory = _ => config.Train.DataDir };
        var testSize = new Option<int>("--test-size") { Description = "Use the first N test images; 0 = all", DefaultValueFactory = _ => config.Train.TestSize };
        var seed = new Option<long>("--seed") { Description = "Seed for the noise", DefaultValueFactory = _ => config.Train.Seed };
        var outputDir = new Option<string?>("--output-dir") { Description = "Where evaluation.csv and evaluation.json go [default: an evaluation folder beside the checkpoint or weights]" };
        var images = new Option<string?>("--images") { Description = "Score on this folder of clean images (any size, searched recursively) instead of MNIST" };
        var threads = new Option<int>("--threads") { Description = "CPU threads for libtorch; 0 = one per core", DefaultValueFactory = _ => config.Train.Threads };

        var command = new Command("evaluate", "Score a model against the noisy input and classic filters (median, Gaussian blur) on the MNIST test set.")
        {
            noise, dataDir, testSize, images, seed, outputDir, threads,
        };
        foreach (var o in source.Options) command.Options.Add(o);
        command.SetAction(p =>
        {
            var noises = p.GetValue(noise)!.Select(spec =>
            {
                try { return Noise.Parse(spec); }
                catch (FormatException e) { throw new UserException("--noise: " + e.Message + ".", ExitCodes.Usage); }
            }).ToList();
            int size = p.GetValue(testSize);
            if (size < 0) throw new UserException("--test-size must be 0 (all) or more.", ExitCodes.Usage);

            Devices.SetThreads(p.GetValue(threads));
            var (model, from, checkpoint) = source.Load(p);
            using var _ = model;
            Console.WriteLine(from);
            string outDir = p.GetValue(outputDir)
                            ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(checkpoint?.Path ?? p.GetValue(source.Weights)!))!, "evaluation");

            List<Score> scores = null!;
            MnistDataset? test = null;
            try
            {
                if (p.GetValue(images) is { } folder)
                {
                    var clean = InputFiles.Expand(new[] { folder }, recursive: true).Select(f => (f.Path, ImageFile.ReadGray(f.Path))).ToList();
                    Console.WriteLine($"data: {clean.Count:N0} clean images from {folder}");
                    var imageModel = new Inference.TorchImageModel(model, torch.CPU); // not disposed: it would dispose the model
                    ConsoleProgress.WithStatus("evaluating", report =>
                    {
                        report($"{clean.Count:N0} images x {noises.Count} noise(s) x 4 methods");
                        scores = Evaluator.RunImages(imageModel, clean, noises, p.GetValue(seed));
                    });
                }
                else
                {
                    string dir = p.GetValue(dataDir)!;
                    DataCommand.EnsureMnist(dir, config.Data);
                    test = MnistDataset.Load(dir, train: false, size > 0 ? size : null);
                    Console.WriteLine($"data: {test.Count:N0} test images from {dir}");
                    ConsoleProgress.WithStatus("evaluating", report =>
                    {
                        report($"{test.Count:N0} images x {noises.Count} noise(s) x 4 methods");
                        scores = Evaluator.Run(model, test.Images, test.Labels, noises, p.GetValue(seed));
                    });
                }

                Print(scores);
                Write(outDir, scores);
                Console.WriteLine($"written: {Path.Combine(outDir, "evaluation.csv")}, {Path.Combine(outDir, "evaluation.json")}");
                string sweep = Path.Combine(outDir, "psnr-vs-sigma.png");
                if (Reporting.Plots.PsnrAgainstSigma(scores, sweep)) Console.WriteLine($"plot: {sweep}");
                foreach (var n in test == null ? new List<Noise>() : noises)
                {
                    string picture = Path.Combine(outDir, $"samples-{n.Spec.Replace(':', '-')}.png");
                    ImageFile.WritePng(picture, Evaluator.Samples(model, test!.Images, test.Labels, n, p.GetValue(seed)));
                    Console.WriteLine($"picture: {picture} (rows: clean, noisy, model, median 3x3, Gaussian blur)");
                }
            }
            finally { test?.Dispose(); }
            return ExitCodes.Ok;
        });
        return command;
    }

    static void Print(List<Score> scores)
    {
        var overall = new Table().AddColumns("noise", "method", "PSNR (dB)", "SSIM");
        foreach (var s in scores.Where(s => s.Class == null))
            overall.AddRow(s.Noise, s.Method, s.PsnrDb.ToString("F2", CultureInfo.InvariantCulture), s.Ssim.ToString("F4", CultureInfo.InvariantCulture));
        AnsiConsole.Write(overall);

        foreach (var byNoise in scores.Where(s => s.Class != null).GroupBy(s => s.Noise))
        {
            var methods = byNoise.Select(s => s.Method).Distinct().ToList();
            var table = new Table { Title = new TableTitle($"mean PSNR (dB) per digit, {byNoise.Key}") }.AddColumn("digit");
            foreach (var m in methods) table.AddColumn(m);
            foreach (var row in byNoise.GroupBy(s => s.Class!.Value).OrderBy(g => g.Key))
                table.AddRow(new[] { $"{row.Key} ({row.First().Count})" }
                    .Concat(methods.Select(m => row.Single(s => s.Method == m).PsnrDb.ToString("F2", CultureInfo.InvariantCulture))).ToArray());
            AnsiConsole.Write(table);
        }
    }

    static void Write(string dir, List<Score> scores)
    {
        var csv = new StringBuilder("noise,method,class,count,psnr_db,ssim\n");
        foreach (var s in scores)
            csv.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{s.Noise},{s.Method},{(s.Class?.ToString() ?? "all")},{s.Count},{s.PsnrDb:F4},{s.Ssim:F6}"));
        AtomicFile.WriteAllText(Path.Combine(dir, "evaluation.csv"), csv.ToString());
        AtomicFile.WriteAllText(Path.Combine(dir, "evaluation.json"), JsonSerializer.Serialize(scores, new JsonSerializerOptions { WriteIndented = true }));
    }
}
