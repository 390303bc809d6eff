// Noise cloned from the user's own photographs, after GCBD (Chen et al., CVPR 2018): the base model's output on a
// crop stands for its clean version, and the crop minus it is a sample of the camera's noise, with every correlation
// between neighbouring pixels and channels that demosaicing, noise reduction and JPEG gave it. Samples from the flatter
// crops, where the residual holds little detail, are added to other crops' clean versions, and the model learns to take
// them off again: supervised training on this camera's noise, with no clean photograph.
using Denoiser.Data;
using Denoiser.Inference;
using Denoiser.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Adapting;

/// <param name="Photo">The photograph the crop came from.</param>
/// <param name="Clean">The base model's output on the crop's inner square (C x Inner x Inner): its clean version.</param>
/// <param name="Noise">The crop's inner square minus <paramref name="Clean"/>: its noise (and whatever detail the base removed).</param>
/// <param name="Detail">The mean local gradient of <paramref name="Clean"/>: low on flat crops, whose residual is nearly all noise.</param>
/// <param name="Brightness">The mean of <paramref name="Clean"/>: camera noise grows with brightness, so noise is moved between crops of like brightness.</param>
/// <param name="Noisy">The crop's inner square as the photograph holds it.</param>
/// <param name="Level">The photograph's noise level as `denoise` estimates it (0-1 scale).</param>
public sealed record CropSample(int Photo, float[] Noisy, float[] Clean, float[] Noise, float Level, float Detail, float Brightness);

/// <summary>What the model learns from in a step: its input and the loss's reference, and the loss.</summary>
public interface ILesson
{
    (Tensor Input, Tensor Target) Batch(int n, Random random, ModelInfo info, nn.Module<Tensor, Tensor> model, Device device);

    Tensor Loss(Tensor output, Tensor target, Training.Loss objective);
}

public sealed class ClonedNoise : ILesson
{
    /// <summary>
    /// Side of the crops cut from the photographs, and of the square inside them that is kept: the base model sees the
    /// 32-pixel frame around it, so its output there is what it gives inside a whole photograph (its reach is 56 pixels,
    /// beyond 32 a change of a small fraction of a grey level).
    /// </summary>
    public const int CropSide = 192, Inner = 128, Frame = (CropSide - Inner) / 2;

    /// <summary>Side of a training patch, cut anywhere in a sample's inner square: the base model's training patch.</summary>
    public const int Patch = 96;

    /// <summary>Noise comes from the flatter half of the samples.</summary>
    const double FlatShare = 0.5;

    /// <summary>Candidates drawn for each patch's noise; the one of nearest brightness is used.</summary>
    const int Candidates = 8;

    readonly List<CropSample> samples;
    readonly List<CropSample> flat;
    readonly int channels;

    public ClonedNoise(List<CropSample> samples, int channels)
    {
        if (samples.Count < 2) throw new ArgumentException("cloning noise needs two samples at least");
        this.samples = samples;
        this.channels = channels;
        int keep = Math.Max(1, (int)Math.Ceiling(samples.Count * FlatShare));
        flat = samples.OrderBy(s => s.Detail).Take(keep).ToList();
    }

    public int Count => samples.Count;

    public IReadOnlyList<CropSample> Samples => samples;

    /// <summary>
    /// The base model's clean versions and noise samples for crops of <paramref name="photo"/> (C x CropSide x
    /// CropSide each), whose noise level `denoise` estimates at <paramref name="level"/> (0-1 scale). The clean version is
    /// the model's output told that level, as `denoise` gives it. The noise is the crop minus the model's output told
    /// more (as the level estimate's smooth copy is: <see cref="NoiseLevel.SmoothingLevel"/>, or twice the level): told
    /// just the level, the model leaves the noise's low frequencies, and noise cloned without them is weaker than the
    /// camera's (measured: an adapted model then under-smooths, -0.3 dB on PolyU's Canon 600D).
    /// </summary>
    public static List<CropSample> Sample(nn.Module<Tensor, Tensor> model, ModelInfo info, Device device, IReadOnlyList<Picture> crops, int photo, double level)
    {
        var result = new List<CropSample>();
        int c = info.Channels, each = c * Inner * Inner;
        double smoothing = Math.Max(NoiseLevel.SmoothingLevel / 255, 2 * level);
        model.eval();
        foreach (var chunk in crops.Chunk(8))
        {
            using var _ = no_grad();
            using var scope = NewDisposeScope();
            var images = torch.cat(chunk.Select(p => p.ToTensor()).ToArray(), 0).to(device);
            float[] Inside(Tensor t) => t.narrow(2, Frame, Inner).narrow(3, Frame, Inner).contiguous().cpu().data<float>().ToArray();
            float[] Told(double told) => Inside(info.TakesNoiseLevel
                ? model.call(Cpu.CpuLayout.ForModel(NoiseMap.Append(images, Held.Full(new long[] { chunk.Length }, told, device: device))))
                : model.call(Cpu.CpuLayout.ForModel(images)));
            float[] noisy = Inside(images), clean = Told(level), smooth = info.TakesNoiseLevel ? Told(smoothing) : clean;
            for (int k = 0; k < chunk.Length; k++)
            {
                var cleanOne = clean[(k * each)..((k + 1) * each)];
                var noise = new float[each];
                for (int i = 0; i < each; i++) noise[i] = noisy[k * each + i] - smooth[k * each + i];
                ZeroMean(noise, c);
                result.Add(new CropSample(photo, noisy[(k * each)..((k + 1) * each)], cleanOne, noise, (float)level, Detail(cleanOne, c, Inner), cleanOne.Average()));
            }
        }
        return result;
    }

    /// <summary>
    /// A batch of <paramref name="n"/> patches: the model's input (a clean patch with a noise sample added, clipped and
    /// rounded to 8 bits as a camera's file is; then, for a model told the level, the level `denoise` estimates for the
    /// photograph the noise came from) and the clean patch. Told the estimate rather than the sample's own RMS, the
    /// model learns what to take off when `denoise` tells it that estimate, so --strength keeps its meaning: the RMS of a
    /// sample (noise and the detail the smooth copy lost) is larger than the estimate, and a model taught with it
    /// under-smoothed.
    /// </summary>
    public (Tensor Input, Tensor Target) Batch(int n, Random random, ModelInfo info, nn.Module<Tensor, Tensor> model, Device device)
    {
        var (input, target) = Batch(n, random, info);
        return (input.to(device), target.to(device));
    }

    public Tensor Loss(Tensor output, Tensor target, Training.Loss objective) => objective.Of(output, target);

    public (Tensor Input, Tensor Target) Batch(int n, Random random, ModelInfo info)
    {
        int c = channels, plane = Patch * Patch, stored = info.InputChannels;
        var input = new float[n * stored * plane];
        var target = new float[n * c * plane];
        for (int k = 0; k < n; k++)
        {
            var content = samples[random.Next(samples.Count)];
            var noise = NearestInBrightness(content.Brightness, random);
            int orientation = random.Next(8);
            int cy = random.Next(Inner - Patch + 1), cx = random.Next(Inner - Patch + 1);
            int ny = random.Next(Inner - Patch + 1), nx = random.Next(Inner - Patch + 1);
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < Patch; y++)
                    for (int x = 0; x < Patch; x++)
                    {
                        // The content is turned and flipped (any orientation of a scene is a scene); the noise is kept as
                        // the camera made it, JPEG's 8x8 grid and the demosaicing's direction with it.
                        var (sy, sx) = Patches.Orient(orientation, y, x, Patch);
                        float clean = content.Clean[(ch * Inner + cy + sy) * Inner + cx + sx];
                        float noisy = MathF.Round(Math.Clamp(clean + noise.Noise[(ch * Inner + ny + y) * Inner + nx + x], 0f, 1f) * 255f) / 255f;
                        target[(k * c + ch) * plane + y * Patch + x] = clean;
                        input[(k * stored + ch) * plane + y * Patch + x] = noisy;
                    }
            if (info.TakesNoiseLevel) Array.Fill(input, noise.Level, (k * stored + c) * plane, plane);
        }
        return (torch.tensor(input, new long[] { n, stored, Patch, Patch }), torch.tensor(target, new long[] { n, c, Patch, Patch }));
    }

    CropSample NearestInBrightness(float brightness, Random random)
    {
        CropSample best = flat[random.Next(flat.Count)];
        for (int k = 1; k < Candidates; k++)
        {
            var other = flat[random.Next(flat.Count)];
            if (Math.Abs(other.Brightness - brightness) < Math.Abs(best.Brightness - brightness)) best = other;
        }
        return best;
    }

    /// <summary>
    /// Takes each plane's mean out of a noise sample: the model told more than the noise shifts a picture's colour a
    /// little, and that shift, cloned, taught the adapted model to shift every colour (+2 to +5 grey levels on PolyU).
    /// </summary>
    static void ZeroMean(float[] noise, int c)
    {
        int n = noise.Length / c;
        for (int k = 0; k < c; k++)
        {
            var plane = noise.AsSpan(k * n, n);
            double sum = 0;
            foreach (float v in plane) sum += v;
            float mean = (float)(sum / n);
            for (int i = 0; i < n; i++) plane[i] -= mean;
        }
    }

    /// <summary>The mean of |Sobel x| + |Sobel y| over the channels' mean: how much edge and texture a clean square holds.</summary>
    static float Detail(float[] planes, int c, int side)
    {
        int n = side * side;
        var mean = new float[n];
        for (int k = 0; k < c; k++)
            for (int i = 0; i < n; i++) mean[i] += planes[k * n + i] / c;
        double sum = 0;
        for (int y = 1; y < side - 1; y++)
            for (int x = 1; x < side - 1; x++)
            {
                int i = y * side + x;
                float gx = mean[i - side + 1] + 2 * mean[i + 1] + mean[i + side + 1] - mean[i - side - 1] - 2 * mean[i - 1] - mean[i + side - 1];
                float gy = mean[i + side - 1] + 2 * mean[i + side] + mean[i + side + 1] - mean[i - side - 1] - 2 * mean[i - side] - mean[i - side + 1];
                sum += Math.Abs(gx) + Math.Abs(gy);
            }
        return (float)(sum / ((side - 2) * (side - 2)));
    }
}
