// Scores on real noisy photographs with clean versions (PolyU and the like): nothing is added; each method denoises the
// photograph as a user's file, and is scored against the clean version on RGB, 8-bit, per image.
using Denoiser.Data;
using Denoiser.Inference;
using Denoiser.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Evaluation;

public static class RealNoise
{
    /// <summary>What the noise column says for real noise.</summary>
    public const string Spec = "real";

    public const string ModelToldRms = "model, told the RMS of noisy - clean (oracle)";
    public const string NlMeansRule = "non-local means (OpenCV), h from the estimate";
    public const string BilateralRule = "bilateral (OpenCV), from the estimate";
    public static string NlMeansOracle(double h) => $"non-local means (OpenCV), h {h:0.#}: the set's best (oracle)";

    /// <summary>The h values (0-255 scale) the oracle row picks the set's best from.</summary>
    public static readonly double[] HGrid = { 2, 3, 4, 5, 6, 7, 8, 10, 12 };

    /// <summary>
    /// Each pair: the noisy photograph; the model as `denoise` runs it with no options (a model told the level gets its
    /// own estimate); a model told the level also given the true RMS of noisy minus clean, marked as an oracle; OpenCV's
    /// coloured non-local means with h = <see cref="ClassicalStrengths.RealNlMeans"/> x the estimated level, and at each h
    /// of <see cref="HGrid"/> (the set's best is the oracle row); the bilateral filter from the estimate. PSNR and SSIM on
    /// the 8-bit results, as saved files hold them.
    /// </summary>
    /// <param name="first">Called with the set's first pair: each method's output and PSNR (for a picture).</param>
    /// <param name="photographs">Filled with each pair's PSNRs, for the table by camera (<see cref="ByCamera"/>).</param>
    public static List<Score> Run(IImageModel model, string set, IReadOnlyList<RealPair> pairs, ClassicalStrengths strengths,
                                  Action<IReadOnlyList<(string Method, Tensor Output, double Psnr)>>? first = null, List<PhotographScores>? photographs = null)
    {
        var sums = new Dictionary<string, (double Psnr, double Ssim, double Seconds)>();
        var grid = HGrid.ToDictionary(h => h, _ => (Psnr: 0.0, Ssim: 0.0));
        foreach (var pair in pairs)
        {
            var nlMeans = new double[HGrid.Length];
            using var scope = NewDisposeScope();
            var noisy = ImageFile.Read(pair.Noisy).As(3);
            var clean = ImageFile.Read(pair.Clean).As(3);
            if (noisy.Width != clean.Width || noisy.Height != clean.Height)
                throw new UserException($"{pair.Noisy}: is {noisy.Width}x{noisy.Height} and its clean version {pair.Clean} {clean.Width}x{clean.Height}; a pair must be one size.");
            var truth = clean.ToTensor();
            var input = noisy.ToTensor();
            var shown = new List<(string, Tensor, double)> { ("clean", truth, double.PositiveInfinity) };
            double Add(string method, Tensor output, double seconds)
            {
                output = output.Clamp(0, 1).Times_(255).round_().Over_(255);
                var (p, q, t) = sums.GetValueOrDefault(method);
                double psnr = Metrics.Psnr(output, truth).item<float>();
                sums[method] = (p + psnr, q + Ssim.PerImage(output, truth).item<double>(), t + seconds);
                shown.Add((method, output, psnr));
                return psnr;
            }
            double noisyPsnr = Add(Evaluator.Noisy, input, 0);

            var clock = System.Diagnostics.Stopwatch.StartNew();
            double level = NoiseLevel.OfPhotograph(model, noisy); // what denoise estimates and prints
            var (result, _, _) = PictureDenoiser.Denoise(model, noisy, ColorMode.Luma, InvertMode.No, strength: model.Info.TakesNoiseLevel ? new Strength(level) : null);
            double modelPsnr = Add(Evaluator.Model, result.ToTensor(), clock.Elapsed.TotalSeconds);
            if (model.Info.TakesNoiseLevel)
            {
                double rms = Models.NoiseMap.Rms(input, truth).item<float>() * 255;
                Add(ModelToldRms, PictureDenoiser.Denoise(model, noisy, ColorMode.Luma, InvertMode.No, strength: new Strength(rms)).Result.ToTensor(), 0);
            }
            clock.Restart();
            Add(NlMeansRule, ClassicalDenoisers.NonLocalMeans(input, strengths.RealNlMeans * level / 255, 1), clock.Elapsed.TotalSeconds);
            clock.Restart();
            Add(BilateralRule, ClassicalDenoisers.BilateralFilter(input, level / 255, strengths.Bilateral), clock.Elapsed.TotalSeconds);
            for (int k = 0; k < HGrid.Length; k++)
                using (var output = ClassicalDenoisers.NonLocalMeans(input, HGrid[k] / 255, 1).Times_(255).round_().Over_(255))
                {
                    nlMeans[k] = Metrics.Psnr(output, truth).item<float>();
                    grid[HGrid[k]] = (grid[HGrid[k]].Psnr + nlMeans[k], grid[HGrid[k]].Ssim + Ssim.PerImage(output, truth).item<double>());
                }
            photographs?.Add(new PhotographScores(pair.Name, noisyPsnr, modelPsnr, nlMeans));
            if (pair == pairs[0]) first?.Invoke(shown);
        }
        var scores = sums.Select(s => new Score(Spec, s.Key, null, pairs.Count, s.Value.Psnr / pairs.Count, s.Value.Ssim / pairs.Count, set,
                                                s.Value.Seconds)).ToList();
        var best = grid.MaxBy(g => g.Value.Psnr);
        scores.Add(new Score(Spec, NlMeansOracle(best.Key), null, pairs.Count, best.Value.Psnr / pairs.Count, best.Value.Ssim / pairs.Count, set));
        return scores;
    }

    /// <summary>
    /// The scores by camera, the first field of each file name (PolyU's Canon5D2_..., Sony_...): its photographs' mean
    /// PSNR noisy and through the model, OpenCV's non-local means at the h of <see cref="HGrid"/> best for that camera,
    /// and how many of its photographs the model scores below that.
    /// </summary>
    public static List<CameraScores> ByCamera(IEnumerable<PhotographScores> photographs) =>
        photographs.GroupBy(p => Camera(p.Name)).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
        {
            int best = Enumerable.Range(0, HGrid.Length).MaxBy(k => g.Average(p => p.NlMeans[k]));
            return new CameraScores(g.Key, g.Count(), g.Average(p => p.Noisy), g.Average(p => p.Model), HGrid[best], g.Average(p => p.NlMeans[best]),
                                    g.Count(p => p.Model < p.NlMeans[best]));
        }).ToList();

    /// <summary>A photograph's camera: its file name up to the first underscore.</summary>
    public static string Camera(string name)
    {
        string file = Path.GetFileName(name);
        int cut = file.IndexOf('_');
        return cut > 0 ? file[..cut] : file;
    }
}

/// <summary>One real pair's PSNRs (dB): noisy, the model as `denoise` runs it, and non-local means at each h of <see cref="RealNoise.HGrid"/>.</summary>
public sealed record PhotographScores(string Name, double Noisy, double Model, double[] NlMeans);

/// <summary>A camera's photographs (<see cref="RealNoise.ByCamera"/>): mean PSNRs (dB), its best h, and the photographs the model loses.</summary>
public sealed record CameraScores(string Camera, int Photographs, double Noisy, double Model, double BestH, double NlMeans, int Losses)
{
    public double Margin => Model - NlMeans;
}
