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
        var dataDir = new Option<string>("--data-dir") { Description = "Test data: MNIST (fetched when missing), CIFAR-10 or a folder of images [default: the checkpoint's own]" };
        var dataset = new Option<string?>("--dataset") { Description = $"What --data-dir holds: {Datasets.Names} [default: the checkpoint's own, else auto]" };
        var testSize = new Option<int>("--test-size") { Description = "Use the first N test images; 0 = all", DefaultValueFactory = _ => config.Train.TestSize };
        var seed = new Option<long>("--seed") { Description = "Seed for the noise", DefaultValueFactory = _ => config.Train.Seed };
        var outputDir = new Option<string?>("--output-dir") { Description = "Where evaluation.csv and evaluation.json go [default: an evaluation folder beside the checkpoint or weights]" };
        var images = new Option<string?>("--images") { Description = "Score on this folder of clean images, each whole (any size, searched recursively), instead of test crops" };
        var threads = new Option<int>("--threads") { Description = "CPU threads for libtorch; 0 = one per core, and never more than the cores", DefaultValueFactory = _ => config.Train.Threads };

        var overwrite = new Option<bool>("--overwrite") { Description = "Replace the results of an earlier evaluation in --output-dir" };

        var command = new Command("evaluate", "Score a model against the noisy input and classic filters (median, Gaussian blur) on the test set it was trained for.")
        {
            noise, dataDir, dataset, testSize, images, seed, outputDir, overwrite, threads,
        };
        foreach (var o in source.Options) command.Options.Add(o);
        command.SetAction(p =>
        {
            var noises = p.GetValue(noise)!.Select(spec =>
            {
                try { return Noise.Parse(spec); }
                catch (FormatException e) { throw new UserException("--noise: " + e.Message + ".", ExitCodes.Usage); }
            }).ToList();
            if (p.GetValue(testSize) < 0) throw new UserException("--test-size must be 0 (all) or more.", ExitCodes.Usage);
            Devices.SetThreads(p.GetValue(threads));
            var (model, info, from, checkpoint, _) = source.Load(p);
            using var _ = model;
            Cpu.CpuModel.Prepare(model, torch.CPU);
            Console.WriteLine(from);
            string outDir = p.GetValue(outputDir)
                            ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(checkpoint?.Path ?? p.GetValue(source.Weights)!))!, "evaluation");
            bool folder = p.GetValue(images) != null;
            var outputs = Outputs(outDir, folder ? new List<Noise>() : noises);
            if (!p.GetValue(overwrite) && outputs.FirstOrDefault(File.Exists) is { } existing)
                throw new UserException($"{existing}: already exists; pass --overwrite to replace the earlier results or choose another --output-dir.", ExitCodes.Usage);

            if (folder) Report(ScoreFolder(model, info, p.GetValue(images)!, noises, p.GetValue(seed)), outDir, null, null);
            else
            {
                var trained = checkpoint?.Header.Settings;
                string dir = p.GetValue(dataDir) ?? trained?.DataDir ?? config.Train.DataDir;
                // The data the model was trained on, unless told otherwise.
                string kind = p.GetValue(dataset) ?? (p.GetValue(dataDir) == null ? trained?.Dataset : null) ?? "auto";
                using var test = LoadTestSet(info, trained, dir, kind, p.GetValue(testSize), config);
                var scores = ConsoleProgress.WithStatus("evaluating", $"{test.Count:N0} images x {noises.Count} noise(s) x 4 methods",
                    () => Evaluator.Run(model, test.Images, test.Labels, noises, p.GetValue(seed)));
                Report(scores, outDir, (model, test), (noises, p.GetValue(seed)));
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Every file an evaluation writes, so that none replaces an earlier one unasked.</summary>
    static List<string> Outputs(string dir, List<Noise> sampled) =>
        new[] { "evaluation.csv", "evaluation.json", "psnr-vs-sigma.png" }.Concat(sampled.Select(SampleName)).Select(f => Path.Combine(dir, f)).ToList();

    static string SampleName(Noise n) => $"samples-{n.Spec.Replace(':', '-')}.png";

    static List<Score> ScoreFolder(torch.nn.Module<torch.Tensor, torch.Tensor> model, Models.ModelInfo info, string folder, List<Noise> noises, long seed)
    {
        var clean = new List<(string, torch.Tensor)>();
        try
        {
            foreach (var f in InputFiles.Expand(new[] { folder }, recursive: true))
            {
                var picture = ImageFile.ReadPicture(f.Path);
                using var bytes = torch.tensor(picture.Planes(info.Channels), new long[] { 1, info.Channels, picture.Height, picture.Width });
                clean.Add((f.Path, ImageSet.ToImages(bytes)));
            }
            Console.WriteLine($"data: {clean.Count:N0} clean images from {folder}");
            var imageModel = new Inference.TorchImageModel(model, info, torch.CPU); // not disposed: it would dispose the model
            return ConsoleProgress.WithStatus("evaluating", $"{clean.Count:N0} images x {noises.Count} noise(s) x 4 methods",
                () => Evaluator.RunImages(imageModel, clean, noises, seed));
        }
        finally
        {
            foreach (var (_, t) in clean) t.Dispose();
        }
    }

    static ImageSet LoadTestSet(Models.ModelInfo info, Training.TrainSettings? trained, string dir, string kindName, int size, AppConfig config)
    {
        DatasetKind kind;
        try { kind = Datasets.Parse(kindName); }
        catch (FormatException e) { throw new UserException("--dataset: " + e.Message + ".", ExitCodes.Usage); }
        var request = new DatasetRequest(dir, kind, trained is { Crop: > 0 } ? trained.Crop : info.Side, info.Channels, trained?.Seed ?? config.Train.Seed);
        kind = Datasets.Resolve(request);
        if (kind == DatasetKind.Mnist) DataCommand.EnsureMnist(dir, config.Data);
        var test = Datasets.Load(request with { Kind = kind }, train: false, size > 0 ? size : null);
        Console.WriteLine($"data: {test.Count:N0} test images of {test.Width}x{test.Height}x{test.Channels} from {dir} ({Datasets.Describe(kind)})");
        return test;
    }

    /// <summary>The tables on the terminal, then the files: CSV, JSON, the PSNR-against-sigma plot and a sample picture per noise.</summary>
    static void Report(List<Score> scores, string outDir, (torch.nn.Module<torch.Tensor, torch.Tensor> Model, ImageSet Test)? samples,
                       (List<Noise> Noises, long Seed)? noises)
    {
        Print(scores);
        Write(outDir, scores);
        Console.WriteLine($"written: {Path.Combine(outDir, "evaluation.csv")}, {Path.Combine(outDir, "evaluation.json")}");
        string sweep = Path.Combine(outDir, "psnr-vs-sigma.png");
        if (Reporting.Plots.PsnrAgainstSigma(scores, sweep)) Console.WriteLine($"plot: {sweep}");
        if (samples is not { } s || noises is not { } n) return;
        foreach (var noise in n.Noises)
        {
            string picture = Path.Combine(outDir, SampleName(noise));
            ImageFile.Write(picture, Evaluator.Samples(s.Model, s.Test.Images, s.Test.Labels, noise, n.Seed));
            Console.WriteLine($"picture: {picture} (rows: clean, noisy, model, median 3x3, Gaussian blur)");
        }
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
            var table = new Table { Title = new TableTitle($"mean PSNR (dB) per class, {byNoise.Key}") }.AddColumn("class");
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
