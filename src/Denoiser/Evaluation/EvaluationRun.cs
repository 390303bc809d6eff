// `evaluate` from its options to its files: the model scored beside the noisy input and classic filters, on the test
// set it was trained for or on folders of whole images (--images), then the tables, files and pictures.
using Denoiser.Batch;
using Denoiser.Data;
using Denoiser.Models;
using Denoiser.Reporting;
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Evaluation;

/// <summary>What evaluate was asked, as its options give it.</summary>
/// <param name="Weights">--weights, beside which the results go by default when there is no checkpoint.</param>
/// <param name="WindowGiven">Whether --posterior-window was typed (it needs --posterior).</param>
public sealed record EvaluationRequest(
    string[] Noises, string? DataDir, string? Dataset, int TestSize, string[] Images, long Seed, string? OutputDir, bool Overwrite,
    ClassicalStrengths Strengths, bool Ensemble, bool Posterior, int PosteriorWindow, bool WindowGiven, string? Weights);

public static class EvaluationRun
{
    /// <param name="load">The model on its device, where it came from, and its checkpoint when it has one.</param>
    /// <param name="ensureMnist">Fetches MNIST into a folder when it is missing.</param>
    public static int Run(EvaluationRequest request, Func<(nn.Module<Tensor, Tensor> Model, ModelInfo Info, string From, Training.Checkpoint.Loaded? Checkpoint)> load,
                          AppConfig config, Action<string> ensureMnist)
    {
        var noises = request.Noises.Select(spec =>
        {
            try { return Noise.Parse(spec); }
            catch (FormatException e) { throw new UserException("--noise: " + e.Message + ".", ExitCodes.Usage); }
        }).ToList();
        if (noises.Any(n => n is NoNoise))
            throw new UserException("--noise none: evaluate adds the noise it scores to clean images; give one, for example gaussian:25/255.", ExitCodes.Usage);
        var sets = request.Images;
        if (sets.GroupBy(EvaluationFiles.SetName).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new UserException($"--images: {string.Join(" and ", twice)} are both named '{twice.Key}'; the results of a set are named after its folder.", ExitCodes.Usage);
        var (model, info, from, checkpoint) = load();
        using var _ = model;
        Console.WriteLine(from);
        string outDir = request.OutputDir
            ?? ((checkpoint?.Path ?? request.Weights) is { } file ? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file))!, "evaluation")
                : throw new UserException("a shipped model has no folder of its own to put the results beside; give --output-dir.", ExitCodes.Usage));
        var realSets = sets.ToDictionary(set => set, set =>
        {
            try { return RealPairs.Find(set); }
            catch (InvalidDataException e) { throw new UserException(e.Message); }
        });
        var outputs = EvaluationFiles.Outputs(outDir, sets.Length > 0 ? new List<Noise>() : noises)
            .Concat(sets.SelectMany(set => realSets[set] != null ? new[] { EvaluationFiles.ComparisonPath(outDir, EvaluationFiles.SetName(set), RealNoise.Spec) }
                                                                 : noises.Select(n => EvaluationFiles.ComparisonPath(outDir, EvaluationFiles.SetName(set), n)))).ToList();
        if (!request.Overwrite && outputs.FirstOrDefault(File.Exists) is { } existing)
            throw new UserException($"{existing}: already exists; pass --overwrite to replace the earlier results or choose another --output-dir.", ExitCodes.Usage);

        if ((request.Ensemble || request.Posterior) && sets.Length == 0)
            throw new UserException($"--{(request.Ensemble ? "ensemble" : "posterior")} scores whole photographs: give it with --images.", ExitCodes.Usage);
        if (!request.Posterior && request.WindowGiven)
            throw new UserException("--posterior-window sets the window of --posterior: give --posterior too.", ExitCodes.Usage);
        if (request.Posterior && info.TakesNoiseLevel)
            throw new UserException($"--posterior is for blind-spot (Noise2Void) models; {info.Name} is told the noise level and takes it as it is.", ExitCodes.Usage);
        if (request.Posterior && noises.FirstOrDefault(n => n.KnownSigma == null) is { } other)
            throw new UserException($"--posterior needs Gaussian noise of known sigma, not {other.Spec}.", ExitCodes.Usage);
        var extras = new Evaluator.ExtraMethods(request.Ensemble, request.Posterior ? request.PosteriorWindow : null);
        if (sets.Length > 0)
        {
            // Each folder scored as a set, then the tables and files, then the pictures: a run that fails part-way writes nothing.
            var pictures = new List<(string Path, List<(string, Picture)> Panels)>();
            var cameras = new List<(string Set, CameraScores Scores)>();
            var scores = sets.SelectMany(set => realSets[set] is { } pairs
                ? ScoreRealPairs(model, info, set, pairs, request.Strengths, outDir, pictures, cameras)
                : ScoreFolder(model, info, set, noises, request.Seed, request.Strengths, outDir, pictures, extras)).ToList();
            EvaluationFiles.Write(scores, outDir, null, null);
            EvaluationFiles.WriteSets(outDir, cameras, pictures);
        }
        else
        {
            var trained = checkpoint?.Header.Settings;
            string dir = request.DataDir ?? trained?.DataDir ?? config.Train.DataDir;
            // The data the model was trained on, unless told otherwise.
            string kind = request.Dataset ?? (request.DataDir == null ? trained?.Dataset : null) ?? "auto";
            using var test = LoadTestSet(info, trained, dir, kind, request.TestSize, config, ensureMnist);
            var scores = ConsoleProgress.WithStatus("evaluating", $"{test.Count:N0} images x {noises.Count} noise(s) x 4 methods",
                () => Evaluator.Run(model, test.Images, test.Labels, noises, request.Seed, takesLevel: info.TakesNoiseLevel));
            EvaluationFiles.Write(scores, outDir, (model, test, info.TakesNoiseLevel), (noises, request.Seed));
        }
        return ExitCodes.Ok;
    }

    static List<Score> ScoreFolder(nn.Module<Tensor, Tensor> model, ModelInfo info, string folder, List<Noise> noises, long seed,
                                   ClassicalStrengths strengths, string outDir, List<(string Path, List<(string, Picture)> Panels)> pictures, Evaluator.ExtraMethods extras)
    {
        var clean = new List<(string, Tensor)>();
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
            string set = EvaluationFiles.SetName(folder);
            // A picture of the set's first image per noise: clean, noisy, non-local means and the model (and its posterior), each with its PSNR.
            void Picture(Noise noise, IReadOnlyList<(string Method, Tensor Output, double Psnr)> shown) =>
                pictures.Add((EvaluationFiles.ComparisonPath(outDir, set, noise), shown
                    .Where(s => s.Method is "clean" or Evaluator.Noisy or Evaluator.Model or ClassicalDenoisers.NlMeans or Evaluator.ModelPosterior)
                    .Select(s => EvaluationFiles.Panel(s.Method, s.Output, s.Psnr)).ToList()));
            return ConsoleProgress.WithStatus("evaluating", $"{set}: {clean.Count:N0} images x {noises.Count} noise(s)",
                () => Evaluator.RunImages(imageModel, set, clean, noises, seed, strengths, Picture, extras));
        }
        finally
        {
            foreach (var (_, t) in clean) t.Dispose();
        }
    }

    /// <summary>Real noisy photographs with clean versions: nothing added; the noise column says "real".</summary>
    static List<Score> ScoreRealPairs(nn.Module<Tensor, Tensor> model, ModelInfo info, string folder, List<RealPair> pairs, ClassicalStrengths strengths,
                                      string outDir, List<(string Path, List<(string, Picture)> Panels)> pictures, List<(string Set, CameraScores Scores)> cameras)
    {
        if (pairs.Count == 0) throw new UserException($"{folder}: holds no pairs; {RealPairs.Rule}.");
        Console.WriteLine($"data: {pairs.Count:N0} real noisy photographs with clean versions from {folder} (no noise added; --noise does not apply)");
        var imageModel = new Inference.TorchImageModel(model, info, Devices.Of(model)); // not disposed: it would dispose the model
        string set = EvaluationFiles.SetName(folder);
        void Picture(IReadOnlyList<(string Method, Tensor Output, double Psnr)> shown) =>
            pictures.Add((EvaluationFiles.ComparisonPath(outDir, set, RealNoise.Spec), shown
                .Where(s => s.Method is "clean" or Evaluator.Noisy or Evaluator.Model or RealNoise.NlMeansRule)
                .Select(s => EvaluationFiles.Panel(s.Method, s.Output, s.Psnr)).ToList()));
        var photographs = new List<PhotographScores>();
        var scores = ConsoleProgress.WithStatus("evaluating", $"{set}: {pairs.Count:N0} real pairs", () => RealNoise.Run(imageModel, set, pairs, strengths, Picture, photographs));
        cameras.AddRange(RealNoise.ByCamera(photographs).Select(c => (set, c)));
        return scores;
    }

    static ImageSet LoadTestSet(ModelInfo info, Training.TrainSettings? trained, string dir, string kindName, int size, AppConfig config, Action<string> ensureMnist)
    {
        DatasetKind kind;
        try { kind = Datasets.Parse(kindName); }
        catch (FormatException e) { throw new UserException("--dataset: " + e.Message + ".", ExitCodes.Usage); }
        var request = new DatasetRequest(dir, kind, trained is { Crop: > 0 } ? trained.Crop : info.Side, info.Channels, trained?.Seed ?? config.Train.Seed);
        kind = Datasets.Resolve(request);
        if (kind == DatasetKind.Mnist) ensureMnist(dir);
        if (kind == DatasetKind.FashionMnist) request = request with { DataDir = dir = FashionMnist.Folder(dir, config.Data.FashionMnistDir) };
        var test = Datasets.Load(request with { Kind = kind }, train: false, size > 0 ? size : null);
        Console.WriteLine($"data: {test.Count:N0} test images of {test.Width}x{test.Height}x{test.Channels} from {dir} ({Datasets.Describe(kind)})");
        return test;
    }
}
