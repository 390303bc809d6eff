// `denoiser evaluate`: PSNR and SSIM of the model beside the noisy input and classic filters, as tables, CSV and JSON.
using System.CommandLine;
using System.Globalization;
using Denoiser.Batch;
using Denoiser.Data;
using Denoiser.Evaluation;
using Denoiser.Reporting;
using TorchSharp;

namespace Denoiser.Commands;

public static class EvaluateCommand
{
    public static Command Create(AppConfig config)
    {
        var source = new ModelSource(config);
        var noise = new Opt<string[]>("--noise", $"One or more noises to evaluate under: {Noise.Kinds}") { Default = [config.Train.Noise.Spec], Many = true };
        var dataDir = new Opt<string?>("--data-dir", "Test data: MNIST (fetched when missing), CIFAR-10 or a folder of images [default: the checkpoint's own]");
        var dataset = new Opt<string?>("--dataset", $"What --data-dir holds: {Datasets.Names} [default: the checkpoint's own, else auto]");
        var testSize = Setting.Named<int>("--test-size").Declare(config.Train);
        var images = new Opt<string[]?>("--images",
            "Score on these folders of clean images (a set each: any size, searched recursively), whole, as the papers score, instead of test crops") { Many = true };
        var seed = new Opt<long>("--seed", "Seed for the noise") { Default = config.Train.Seed };
        var outputDir = new Opt<string?>("--output-dir", "Where evaluation.csv and evaluation.json go [default: an evaluation folder beside the checkpoint or weights]");
        var overwrite = new Opt<bool>("--overwrite", "Replace the results of an earlier evaluation in --output-dir");
        var nlm = new Opt<double>("--nlm-h-factor", "Non-local means' h = this x sigma (0-255 scale); tuned on Train400") { Default = ClassicalStrengths.Tuned.NlMeans, Rule = Rule.Positive<double>() };
        var bilateral = new Opt<double>("--bilateral-factor", "The bilateral filter's range sigma = this x the noise's sigma; tuned on Train400")
            { Default = ClassicalStrengths.Tuned.Bilateral, Rule = Rule.Positive<double>() };
        var ensemble = new Opt<bool>("--ensemble", $"With --images: also score the model averaged over each image's 8 flips and rotations (\"{Evaluator.ModelEnsemble}\"; 8 times the model's time)");
        var posterior = new Opt<bool>("--posterior",
            $"With --images and Gaussian noise: also score a blind-spot (Noise2Void) model's prediction combined with each noisy pixel, sigma known (\"{Evaluator.ModelPosterior}\"; 64 times the model's time)");
        var posteriorWindow = new Opt<int>("--posterior-window", "Side of the window --posterior measures the prediction's error over (odd; 0 = the whole image)")
            { Default = Inference.BlindSpotPosterior.DefaultWindow, Rule = new(w => w == 0 || w > 0 && w % 2 == 1, "an odd side or 0 (the whole image)", SaysValue: true) };
        var devices = new DeviceOptions(config);

        var command = new Command("evaluate", "Score a model against the noisy input and classic filters (median, Gaussian blur) on the test set it was trained for.")
        {
            noise, dataDir, dataset, testSize, images, seed, outputDir, overwrite, nlm, bilateral, ensemble, posterior, posteriorWindow,
        };
        foreach (var o in source.Options.Concat(devices.Options)) command.Options.Add(o);
        command.SetAction(p =>
        {
            var noises = noise.Get(p).Select(spec =>
            {
                try { return Noise.Parse(spec); }
                catch (FormatException e) { throw new UserException("--noise: " + e.Message + ".", ExitCodes.Usage); }
            }).ToList();
            if (noises.Any(n => n is NoNoise))
                throw new UserException("--noise none: evaluate adds the noise it scores to clean images; give one, for example gaussian:25/255.", ExitCodes.Usage);
            // Each option held to its rule before any work.
            int size = testSize.Get(p), window = posteriorWindow.Get(p);
            var strengths = ClassicalStrengths.Tuned with { NlMeans = nlm.Get(p), Bilateral = bilateral.Get(p) };
            var sets = images.Get(p) ?? Array.Empty<string>();
            if (sets.GroupBy(SetName).FirstOrDefault(g => g.Count() > 1) is { } twice)
                throw new UserException($"--images: {string.Join(" and ", twice)} are both named '{twice.Key}'; the results of a set are named after its folder.", ExitCodes.Usage);
            var device = devices.Apply(p);
            var (model, info, from, checkpoint, _) = source.Load(p);
            using var _ = model;
            model.to(device);
            Console.WriteLine(from);
            string outDir = outputDir.Get(p)
                            ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(checkpoint?.Path ?? source.Weights.Get(p)!))!, "evaluation");
            var realSets = sets.ToDictionary(set => set, set =>
            {
                try { return RealPairs.Find(set); }
                catch (InvalidDataException e) { throw new UserException(e.Message); }
            });
            var outputs = Outputs(outDir, sets.Length > 0 ? new List<Noise>() : noises)
                .Concat(sets.SelectMany(set => realSets[set] != null ? new[] { Path.Combine(outDir, ComparisonName(SetName(set), RealNoise.Spec)) }
                                                                     : noises.Select(n => Path.Combine(outDir, ComparisonName(SetName(set), n))))).ToList();
            if (!overwrite.Get(p) && outputs.FirstOrDefault(File.Exists) is { } existing)
                throw new UserException($"{existing}: already exists; pass --overwrite to replace the earlier results or choose another --output-dir.", ExitCodes.Usage);

            if ((ensemble.Get(p) || posterior.Get(p)) && sets.Length == 0)
                throw new UserException($"--{(ensemble.Get(p) ? "ensemble" : "posterior")} scores whole photographs: give it with --images.", ExitCodes.Usage);
            if (!posterior.Get(p) && posteriorWindow.Given(p))
                throw new UserException("--posterior-window sets the window of --posterior: give --posterior too.", ExitCodes.Usage);
            if (posterior.Get(p) && info.TakesNoiseLevel)
                throw new UserException($"--posterior is for blind-spot (Noise2Void) models; {info.Name} is told the noise level and takes it as it is.", ExitCodes.Usage);
            if (posterior.Get(p) && noises.FirstOrDefault(n => n.KnownSigma == null) is { } other)
                throw new UserException($"--posterior needs Gaussian noise of known sigma, not {other.Spec}.", ExitCodes.Usage);
            var extras = new Evaluator.ExtraMethods(ensemble.Get(p), posterior.Get(p) ? window : null);
            if (sets.Length > 0)
                EvaluateSets(model, info, sets, realSets, noises, seed.Get(p), strengths, outDir, extras);
            else
            {
                var trained = checkpoint?.Header.Settings;
                string dir = dataDir.Get(p) ?? trained?.DataDir ?? config.Train.DataDir;
                // The data the model was trained on, unless told otherwise.
                string kind = dataset.Get(p) ?? (dataDir.Get(p) == null ? trained?.Dataset : null) ?? "auto";
                using var test = LoadTestSet(info, trained, dir, kind, size, config);
                var scores = ConsoleProgress.WithStatus("evaluating", $"{test.Count:N0} images x {noises.Count} noise(s) x 4 methods",
                    () => Evaluator.Run(model, test.Images, test.Labels, noises, seed.Get(p), takesLevel: info.TakesNoiseLevel));
                Report(scores, outDir, (model, test, info.TakesNoiseLevel), (noises, seed.Get(p)));
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Each folder scored as a set, then the tables and files, then the pictures: a run that fails part-way writes nothing.</summary>
    /// <param name="realSets">Each set's real noisy/clean pairs (<see cref="RealPairs"/>), or null for a folder of clean images to add the noises to.</param>
    static void EvaluateSets(torch.nn.Module<torch.Tensor, torch.Tensor> model, Models.ModelInfo info, string[] sets, Dictionary<string, List<RealPair>?> realSets,
                             List<Noise> noises, long seed, ClassicalStrengths strengths, string outDir, Evaluator.ExtraMethods extras)
    {
        var pictures = new List<(string Path, List<(string, Picture)> Panels)>();
        var cameras = new List<(string Set, CameraScores Scores)>();
        var scores = sets.SelectMany(set => realSets[set] is { } pairs
            ? ScoreRealPairs(model, info, set, pairs, strengths, outDir, pictures, cameras)
            : ScoreFolder(model, info, set, noises, seed, strengths, outDir, pictures, extras)).ToList();
        Report(scores, outDir, null, null);
        if (cameras.Count > 0)
        {
            Reporting.CameraTable.Print(cameras);
            Reporting.CameraTable.Write(Path.Combine(outDir, "cameras.csv"), cameras);
            Console.WriteLine($"written: {Path.Combine(outDir, "cameras.csv")}");
        }
        foreach (var (path, panels) in pictures)
        {
            Reporting.Comparison.Write(path, panels);
            Console.WriteLine($"picture: {path}");
        }
    }

    /// <summary>Every file an evaluation writes, so that none replaces an earlier one unasked.</summary>
    static List<string> Outputs(string dir, List<Noise> sampled) =>
        new[] { "evaluation.csv", "evaluation.json", "evaluation.md", "psnr-vs-sigma.png" }.Concat(sampled.Select(SampleName)).Select(f => Path.Combine(dir, f)).ToList();

    static string SampleName(Noise n) => $"samples-{FileName(n)}.png";

    static string ComparisonName(string set, Noise n) => ComparisonName(set, FileName(n));

    static string ComparisonName(string set, string noise) => $"compare-{set}-{noise}.png";

    /// <summary>A noise's spec as part of a file name: gaussian:25/255 -> gaussian-25_255.</summary>
    static string FileName(Noise n) => n.Spec.Replace(':', '-').Replace('/', '_').Replace(',', '-');

    static string SetName(string folder) => Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)));

    static List<Score> ScoreFolder(torch.nn.Module<torch.Tensor, torch.Tensor> model, Models.ModelInfo info, string folder, List<Noise> noises, long seed,
                                   ClassicalStrengths strengths, string outDir, List<(string Path, List<(string, Picture)> Panels)> pictures, Evaluator.ExtraMethods extras)
    {
        var clean = new List<(string, torch.Tensor)>();
        try
        {
            foreach (var f in InputFiles.Expand(new[] { folder }, recursive: true))
            {
                var picture = ImageFile.Read(f.Path);
                if (picture.Width < Ssim.Window || picture.Height < Ssim.Window) // before any work, so that nothing is half done
                    throw new UserException($"{f.Path}: is {picture.Width}x{picture.Height}; SSIM needs at least {Ssim.Window}x{Ssim.Window} pixels.");
                int channels = picture.IsColor || info.Channels == 3 ? 3 : 1; // a grey model takes colour channel by channel
                // samples / 65535 for a 16-bit image: noise levels are of the data's full range at any depth
                clean.Add((f.Path, picture.As(channels).ToTensor()));
            }
            Console.WriteLine($"data: {clean.Count:N0} clean images from {folder}");
            var imageModel = new Inference.TorchImageModel(model, info, Devices.Of(model)); // not disposed: it would dispose the model
            string set = SetName(folder);
            // A picture of the set's first image per noise: clean, noisy, non-local means and the model (and its posterior), each with its PSNR.
            void Picture(Noise noise, IReadOnlyList<(string Method, torch.Tensor Output, double Psnr)> shown)
            {
                string path = Path.Combine(outDir, ComparisonName(set, noise));
                var panels = shown.Where(s => s.Method is "clean" or Evaluator.Noisy or Evaluator.Model or ClassicalDenoisers.NlMeans or Evaluator.ModelPosterior)
                    .Select(s => (s.Method == "clean" ? "clean" : string.Create(CultureInfo.InvariantCulture, $"{Short(s.Method)} {s.Psnr:F2} dB"), ToPicture(s.Output)))
                    .ToList();
                pictures.Add((path, panels));
            }
            return ConsoleProgress.WithStatus("evaluating", $"{set}: {clean.Count:N0} images x {noises.Count} noise(s)",
                () => Evaluator.RunImages(imageModel, set, clean, noises, seed, strengths, Picture, extras));
        }
        finally
        {
            foreach (var (_, t) in clean) t.Dispose();
        }
    }

    /// <summary>Real noisy photographs with clean versions: nothing added; the noise column says "real".</summary>
    static List<Score> ScoreRealPairs(torch.nn.Module<torch.Tensor, torch.Tensor> model, Models.ModelInfo info, string folder, List<RealPair> pairs,
                                      ClassicalStrengths strengths, string outDir, List<(string Path, List<(string, Picture)> Panels)> pictures,
                                      List<(string Set, CameraScores Scores)> cameras)
    {
        if (pairs.Count == 0) throw new UserException($"{folder}: holds no pairs; {RealPairs.Rule}.");
        Console.WriteLine($"data: {pairs.Count:N0} real noisy photographs with clean versions from {folder} (no noise added; --noise does not apply)");
        var imageModel = new Inference.TorchImageModel(model, info, Devices.Of(model)); // not disposed: it would dispose the model
        string set = SetName(folder);
        void Picture(IReadOnlyList<(string Method, torch.Tensor Output, double Psnr)> shown) =>
            pictures.Add((Path.Combine(outDir, ComparisonName(set, RealNoise.Spec)), shown
                .Where(s => s.Method is "clean" or Evaluator.Noisy or Evaluator.Model or RealNoise.NlMeansRule)
                .Select(s => (s.Method == "clean" ? "clean" : string.Create(CultureInfo.InvariantCulture, $"{Short(s.Method)} {s.Psnr:F2} dB"), ToPicture(s.Output)))
                .ToList()));
        var photographs = new List<PhotographScores>();
        var scores = ConsoleProgress.WithStatus("evaluating", $"{set}: {pairs.Count:N0} real pairs", () => RealNoise.Run(imageModel, set, pairs, strengths, Picture, photographs));
        cameras.AddRange(RealNoise.ByCamera(photographs).Select(c => (set, c)));
        return scores;
    }

    static string Short(string method) => method switch
    {
        Evaluator.Noisy => "noisy", ClassicalDenoisers.NlMeans or RealNoise.NlMeansRule => "NL-means", Evaluator.ModelPosterior => "posterior", _ => method,
    };

    /// <summary>A (1, C, H, W) image in [0, 1] as an 8-bit picture.</summary>
    static Picture ToPicture(torch.Tensor image) => Picture.FromTensor(image);

    static ImageSet LoadTestSet(Models.ModelInfo info, Training.TrainSettings? trained, string dir, string kindName, int size, AppConfig config)
    {
        DatasetKind kind;
        try { kind = Datasets.Parse(kindName); }
        catch (FormatException e) { throw new UserException("--dataset: " + e.Message + ".", ExitCodes.Usage); }
        var request = new DatasetRequest(dir, kind, trained is { Crop: > 0 } ? trained.Crop : info.Side, info.Channels, trained?.Seed ?? config.Train.Seed);
        kind = Datasets.Resolve(request);
        if (kind == DatasetKind.Mnist) DataCommand.EnsureMnist(dir, config.Data);
        if (kind == DatasetKind.FashionMnist) request = request with { DataDir = dir = FashionMnist.Folder(dir, config.Data.FashionMnistDir) };
        var test = Datasets.Load(request with { Kind = kind }, train: false, size > 0 ? size : null);
        Console.WriteLine($"data: {test.Count:N0} test images of {test.Width}x{test.Height}x{test.Channels} from {dir} ({Datasets.Describe(kind)})");
        return test;
    }

    /// <summary>The tables on the terminal, then the files: CSV, JSON, the PSNR-against-sigma plot and a sample picture per noise.</summary>
    static void Report(List<Score> scores, string outDir, (torch.nn.Module<torch.Tensor, torch.Tensor> Model, ImageSet Test, bool TakesLevel)? samples,
                       (List<Noise> Noises, long Seed)? noises)
    {
        Reporting.ScoreTables.Print(scores);
        Reporting.ScoreTables.Write(outDir, scores);
        Console.WriteLine($"written: {Path.Combine(outDir, "evaluation.csv")}, {Path.Combine(outDir, "evaluation.json")}, {Path.Combine(outDir, "evaluation.md")}");
        string sweep = Path.Combine(outDir, "psnr-vs-sigma.png");
        if (Reporting.Plots.PsnrAgainstSigma(scores, sweep)) Console.WriteLine($"plot: {sweep}");
        if (samples is not { } s || noises is not { } n) return;
        foreach (var noise in n.Noises)
        {
            string picture = Path.Combine(outDir, SampleName(noise));
            ImageFile.Write(picture, Evaluator.Samples(s.Model, s.Test.Images, s.Test.Labels, noise, n.Seed, s.TakesLevel));
            Console.WriteLine($"picture: {picture} (rows: clean, noisy, model, median 3x3, Gaussian blur)");
        }
    }
}
