// Scores a model and the classic baselines on clean test images under several noises: mean PSNR and SSIM, per class.
using Denoiser.Cpu;
using Denoiser.Data;
using Denoiser.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Evaluation;

/// <param name="Class">A label 0-9 (MNIST's digits, CIFAR-10's classes) for the per-class rows; null for all images.</param>
/// <param name="Set">The folder of images scored (`evaluate --images`); null for a dataset's test split.</param>
/// <param name="Seconds">Wall time the method took over the set (`evaluate --images`); null otherwise.</param>
public sealed record Score(string Noise, string Method, int? Class, int Count, double PsnrDb, double Ssim, string? Set = null, double? Seconds = null);

/// <summary>A test set's scores during training.</summary>
/// <param name="Mse">Mean per-pixel MSE of the denoised images.</param>
/// <param name="Psnr">Mean per-image PSNR of the denoised images, dB.</param>
/// <param name="NoisyPsnr">The same for the noisy inputs, dB.</param>
public sealed record TestScores(double Mse, double Psnr, double NoisyPsnr);

public static class Evaluator
{
    public const string Noisy = "noisy input", Model = "model", Median = "median 3x3", Blur = "gaussian blur s=1";

    /// <summary>
    /// Scores the model on fixed noisy inputs, under eval() and no_grad(); both (N, C, H, W) on the model's device.
    /// Batches of 100: the heap keeps its high-water mark (NativeRuntime), and 200 measured 120 MB more peak resident
    /// memory for a training run at the same speed.
    /// </summary>
    public static TestScores Score(nn.Module<Tensor, Tensor> model, Tensor clean, Tensor noisy, BatchParts parts, int batchSize = 100)
    {
        model.eval();
        using var _ = torch.no_grad();
        using var partThreads = parts.PartThreadsHere();
        using var scope = NewDisposeScope();
        var mseSum = torch.zeros(1, dtype: ScalarType.Float64, device: clean.device);
        var psnrSum = torch.zeros(1, dtype: ScalarType.Float64, device: clean.device);
        var noisyPsnrSum = torch.zeros(1, dtype: ScalarType.Float64, device: clean.device);
        long n = clean.shape[0];
        for (long start = 0; start < n; start += batchSize)
        {
            using var batchScope = NewDisposeScope();
            long len = Math.Min(batchSize, n - start);
            var x = noisy.narrow(0, start, len);
            var y = clean.narrow(0, start, len);
            var output = parts.Forward(model, Cpu.CpuLayout.ForModel(x));
            mseSum.Plus_(Metrics.SquaredError(output, y).mean(new long[] { 1, 2, 3 }).sum().to_type(ScalarType.Float64));
            psnrSum.Plus_(Metrics.Psnr(output, y).sum().to_type(ScalarType.Float64));
            noisyPsnrSum.Plus_(Metrics.Psnr(x.narrow(1, 0, y.shape[1]), y).sum().to_type(ScalarType.Float64)); // without any noise-level plane
        }
        model.train();
        // Host syncs: three scalars once per evaluation.
        return new TestScores(mseSum.item<double>() / n, psnrSum.item<double>() / n, noisyPsnrSum.item<double>() / n);
    }

    /// <summary>
    /// For each noise: corrupts <paramref name="clean"/> (N, C, H, W) once from the seed, then scores the noisy
    /// input, the model and the baselines against the clean images. Rows for all images, then per label.
    /// </summary>
    /// <param name="takesLevel">The model is told the noise level (<see cref="Models.ModelInfo.TakesNoiseLevel"/>).</param>
    public static List<Score> Run(nn.Module<Tensor, Tensor> model, Tensor clean, Tensor labels, IReadOnlyList<Noise> noises, long seed,
                                  int batchSize = 200, bool takesLevel = false)
    {
        var device = Devices.Of(model); // the images stay on the CPU, where the baselines run
        Noise? current = null;
        Tensor? truth = null; // the batch's clean images, for a model told the level of the noise drawn on them
        var methods = new (string Name, Func<Tensor, Tensor> Apply)[]
        {
            (Noisy, x => x.alias()), (Model, x => model.call(Cpu.CpuLayout.ForModel(Told(x, truth!, current!, takesLevel).to(device))).cpu()),
            (Median, Filters.Median3x3), (Blur, x => Filters.GaussianBlur(x, 1.0)),
        };
        model.eval();
        using var _ = torch.no_grad();
        var scores = new List<Score>();
        long[] label = labels.data<long>().ToArray();
        for (int n = 0; n < noises.Count; n++)
        {
            using var gen = new Generator(Seeds.ForTestNoise(seed + n), clean.device);
            var psnr = methods.Select(_ => new double[clean.shape[0]]).ToArray();
            var ssim = methods.Select(_ => new double[clean.shape[0]]).ToArray();
            for (long start = 0; start < clean.shape[0]; start += batchSize)
            {
                using var scope = NewDisposeScope();
                long len = Math.Min(batchSize, clean.shape[0] - start);
                var y = clean.narrow(0, start, len);
                var noisy = noises[n].Apply(y, gen);
                (current, truth) = (noises[n], y);
                for (int m = 0; m < methods.Length; m++)
                {
                    var output = methods[m].Apply(noisy).Clamp(0, 1);
                    Metrics.Psnr(output, y).to_type(ScalarType.Float64).cpu().data<double>().CopyTo(psnr[m], (int)start);
                    Ssim.PerImage(output, y).cpu().data<double>().CopyTo(ssim[m], (int)start);
                }
            }
            for (int m = 0; m < methods.Length; m++)
            {
                scores.Add(new Score(noises[n].Spec, methods[m].Name, null, psnr[m].Length, psnr[m].Average(), ssim[m].Average()));
                foreach (var group in Enumerable.Range(0, label.Length).Where(i => label[i] >= 0).GroupBy(i => (int)label[i]).OrderBy(g => g.Key))
                    scores.Add(new Score(noises[n].Spec, methods[m].Name, group.Key, group.Count(),
                                         group.Average(i => psnr[m][i]), group.Average(i => ssim[m][i])));
            }
        }
        return scores;
    }

    public const string ModelRounded = "model, output rounded to 8 bits";
    /// <summary>A grey model on a colour image as `denoise` runs it by default: the luma denoised, the noisy chroma kept.</summary>
    public const string ModelLuma = "model on luma, chroma kept";
    /// <summary>The model averaged over the image's 8 flips and rotations (Inference.SelfEnsemble).</summary>
    public const string ModelEnsemble = "model, x8 self-ensemble";
    /// <summary>A model told the noise level, given the noise's own: its sigma, or the RMS of the noise drawn on each image.</summary>
    public const string ModelTold = "model, told the noise level";
    /// <summary>A blind-spot model's prediction combined with the noisy pixel, sigma known (Inference.BlindSpotPosterior).</summary>
    public const string ModelPosterior = "model, blind-spot posterior (sigma known)";

    /// <summary>Methods scored on request beside the standing ones: see <see cref="ModelEnsemble"/> and <see cref="ModelPosterior"/>.</summary>
    public sealed record ExtraMethods(bool Ensemble = false, int? PosteriorWindow = null);

    /// <summary>
    /// The papers' protocol on a set of clean images of any size (at least 11 x 11 for SSIM), one at a time: each
    /// image corrupted once per noise from the seed (so every method sees the same noisy images), the model run on the
    /// whole image (no tiles: a tile's borders would change the result), its output clipped to [0, 1], PSNR per whole
    /// image at native size, the mean over the set. Also the model's output rounded to 8 bits, as a saved PNG would be.
    /// A grey model denoises a colour image channel by channel.
    /// </summary>
    /// <param name="images">Each (1, C, H, W) in [0, 1]: C is 1, or 3 for colour.</param>
    /// <param name="first">Called with the set's first image under each noise: each method's output and its PSNR (for a picture).</param>
    public static List<Score> RunImages(Inference.IImageModel model, string set, IReadOnlyList<(string Name, Tensor Image)> images,
                                        IReadOnlyList<Noise> noises, long seed, ClassicalStrengths? strengths = null,
                                        Action<Noise, IReadOnlyList<(string Method, Tensor Output, double Psnr)>>? first = null, ExtraMethods? extras = null)
    {
        strengths ??= ClassicalStrengths.Tuned;
        var scores = new List<Score>();
        var methods = new (string Name, Func<Tensor, Tensor> Apply)[]
        {
            (Noisy, x => x.alias()), (Model, x => RunWhole(model, x).Clamp_(0, 1)), (Median, x => Filters.Median3x3(x).Clamp_(0, 1)),
            (Blur, x => Filters.GaussianBlur(x, 1.0).Clamp_(0, 1)),
        };
        // A model told the noise level: "model" is blind (its own estimate, as denoise runs it); the told row is added per noise below.
        double? told = null;
        if (model.Info.TakesNoiseLevel)
            methods[1] = (Model, x => RunWhole(model, x, Inference.NoiseLevel.ForModel(model, Picture.FromTensor(x, 32))).Clamp_(0, 1));
        if (model.Info.Channels == 1 && images.Any(i => i.Image.shape[1] == 3))
            methods = methods.Append((ModelLuma, x => x.shape[1] == 3 ? RunLuma(model, x).Clamp_(0, 1) : RunWhole(model, x).Clamp_(0, 1))).ToArray();
        extras ??= new ExtraMethods();
        if (extras.Ensemble)
        {
            var averaged = new Inference.SelfEnsemble(model); // not disposed: it would dispose the model
            methods = methods.Append((ModelEnsemble, model.Info.TakesNoiseLevel // its own estimate, as the model row
                ? x => RunWhole(averaged, x, Inference.NoiseLevel.ForModel(model, Picture.FromTensor(x, 32))).Clamp_(0, 1)
                : x => RunWhole(averaged, x).Clamp_(0, 1))).ToArray();
        }
        for (int n = 0; n < noises.Count; n++)
        {
            // Non-local means and the bilateral filter are set from the noise's sigma, so they score Gaussian noise only.
            double? sigma = noises[n].IsGaussian ? noises[n].Level : null; // a sigma range: its midpoint
            var all = sigma is double s ? methods.Concat(new (string, Func<Tensor, Tensor>)[]
            {
                (ClassicalDenoisers.NlMeans, x => ClassicalDenoisers.NonLocalMeans(x, s, strengths.NlMeans)),
                (ClassicalDenoisers.Bilateral, x => ClassicalDenoisers.BilateralFilter(x, s, strengths.Bilateral).Clamp_(0, 1)),
            }).ToArray() : methods;
            if (noises[n].KnownSigma is double known && extras.PosteriorWindow is int window)
                all = all.Append((ModelPosterior, x => RunPlanes(model, x,
                    plane => Inference.BlindSpotPosterior.Denoise(model, plane, known, window, tileSize: int.MaxValue)).Clamp_(0, 1))).ToArray();
            if (model.Info.TakesNoiseLevel)
                all = all.Append((ModelTold, x => RunWhole(model, x, told!.Value).Clamp_(0, 1))).ToArray();
            using var gen = new Generator(Seeds.ForTestNoise(seed + n));
            var sums = new Dictionary<string, (double Psnr, double Ssim, double Seconds)>();
            double Add(string method, Tensor output, Tensor clean, double seconds)
            {
                var (p, q, t) = sums.GetValueOrDefault(method);
                double psnr = Metrics.Psnr(output, clean).item<float>();
                sums[method] = (p + psnr, q + Ssim.PerImage(output, clean).item<double>(), t + seconds);
                return psnr;
            }
            foreach (var (name, clean) in images)
            {
                int h = (int)clean.shape[2], w = (int)clean.shape[3];
                if (w < Ssim.Window || h < Ssim.Window)
                    throw new UserException($"{name}: is {w}x{h}; SSIM needs at least {Ssim.Window}x{Ssim.Window} pixels.");
                using var scope = NewDisposeScope();
                var noisy = noises[n].Apply(clean, gen);
                // The papers tell a non-blind model the sigma they drew with; for other noise, the RMS of what was drawn.
                told = (noises[n].KnownSigma ?? Models.NoiseMap.Rms(noisy, clean).item<float>()) * 255;
                var shown = new List<(string, Tensor, double)> { ("clean", clean, double.PositiveInfinity) };
                foreach (var (method, apply) in all)
                {
                    var clock = System.Diagnostics.Stopwatch.StartNew();
                    var output = apply(noisy);
                    double psnr = Add(method, output, clean, clock.Elapsed.TotalSeconds);
                    if (method == Model) Add(ModelRounded, output.Times(255).round_().Over_(255), clean, 0);
                    shown.Add((method, output, psnr));
                }
                if (ReferenceEquals(clean, images[0].Image)) first?.Invoke(noises[n], shown);
            }
            foreach (var (method, (psnr, ssim, seconds)) in sums)
                scores.Add(new Score(noises[n].Spec, method, null, images.Count, psnr / images.Count, ssim / images.Count, set,
                                     method == ModelRounded ? null : seconds));
        }
        return scores;
    }

    /// <summary>The model on a whole (1, C, H, W) image: padded to a size it keeps and cropped back; a grey model takes colour channel by channel.</summary>
    /// <param name="level">For a model told the noise level: the level (0-255 scale).</param>
    static Tensor RunWhole(Inference.IImageModel model, Tensor image, double? level = null) =>
        RunPlanes(model, image, planes => Inference.ImageDenoiser.Denoise(model, level is double l ? Models.NoiseMap.Append(planes, l / 255) : planes, tileSize: int.MaxValue));

    /// <summary>A denoiser of the model's C planes on a (1, C, H, W) image; a grey model takes colour channel by channel.</summary>
    static Tensor RunPlanes(Inference.IImageModel model, Tensor image, Func<Picture, Picture> denoise)
    {
        int c = (int)image.shape[1];
        var planes = model.Info.Channels == c ? new[] { image } : Enumerable.Range(0, c).Select(i => image.narrow(1, i, 1)).ToArray();
        var outputs = planes.Select(p => denoise(Picture.FromTensor(p)).ToTensor()).ToArray();
        return outputs.Length == 1 ? outputs[0] : torch.cat(outputs, 1);
    }

    /// <summary>A grey model on the luma of a (1, 3, H, W) RGB image, the chroma kept, as PictureDenoiser.WithLuma.</summary>
    static Tensor RunLuma(Inference.IImageModel model, Tensor rgb)
    {
        using var scope = NewDisposeScope();
        var ycc = Colour.ToYCbCr(rgb);
        var y = RunWhole(model, ycc.narrow(1, 0, 1));
        return Colour.FromYCbCr(torch.cat(new[] { y, ycc.narrow(1, 1, 2) }, 1)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Noisy images as a model takes them: as they are, or, for a model told the level, with each one's level after them,
    /// as the papers tell a non-blind model the sigma they drew with (for other noise, the RMS of the noise drawn, as in training).
    /// </summary>
    static Tensor Told(Tensor noisy, Tensor clean, Noise noise, bool takesLevel)
    {
        if (!takesLevel) return noisy;
        using var level = noise.KnownSigma is double sigma ? Held.Full(new[] { noisy.shape[0] }, sigma, device: noisy.device) : Models.NoiseMap.Rms(noisy, clean);
        return Models.NoiseMap.Append(noisy, level);
    }

    /// <summary>A picture per noise: rows of clean, noisy, model, median and blur for one test image of each digit.</summary>
    public static Picture Samples(nn.Module<Tensor, Tensor> model, Tensor clean, Tensor labels, Noise noise, long seed, bool takesLevel = false)
    {
        model.eval();
        using var _ = torch.no_grad();
        using var scope = NewDisposeScope();
        using var gen = new Generator(Seeds.ForTestNoise(seed), clean.device);
        var picked = clean.index_select(0, torch.tensor(SampleGrid.PickIndices(labels), device: clean.device));
        var noisy = noise.Apply(picked, gen);
        var denoised = model.call(Cpu.CpuLayout.ForModel(Told(noisy, picked, noise, takesLevel).to(Devices.Of(model)))).to(noisy.device);
        return SampleGrid.Compose(picked, noisy, denoised, Filters.Median3x3(noisy), Filters.GaussianBlur(noisy, 1.0).Clamp(0, 1));
    }
}
