// The second method adapt was measured with (docs/adapt.md), Neighbor2Neighbor (Huang et al., CVPR 2021): two
// sub-images of one noisy crop, each taking one of two neighbouring pixels of every 2x2 cell; the model denoises one and
// is compared with the other, whose noise is independent of the first's when the camera's noise is independent from
// pixel to pixel, plus a term that keeps it consistent with its output on the whole crop. It needs no clean version and
// no noise model; where neighbouring pixels' noise is correlated (demosaicing, noise reduction, JPEG) it learns to keep
// part of the noise, which is what the measurement found.
using Denoiser.Data;
using Denoiser.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Adapting;

public sealed class NeighbourPairs(IReadOnlyList<CropSample> samples, int channels) : ILesson
{
    /// <summary>The weight of the consistency term (the paper's gamma).</summary>
    const double Gamma = 1;

    const int Side = ClonedNoise.Inner, Half = Side / 2;

    public (Tensor Input, Tensor Target) Batch(int n, Random random, ModelInfo info, nn.Module<Tensor, Tensor> model, Device device)
    {
        using var scope = NewDisposeScope();
        int c = channels, plane = Side * Side, half = Half * Half;
        var noisy = new float[n * c * plane];
        var levels = new float[n];
        var first = new int[n * half];
        var second = new int[n * half];
        for (int k = 0; k < n; k++)
        {
            var s = samples[random.Next(samples.Count)];
            Array.Copy(s.Noisy, 0, noisy, k * c * plane, c * plane);
            levels[k] = s.Level;
            for (int i = 0; i < half; i++)
            {
                // One of the cell's 4 pixels, then one of its 2 neighbours in the cell (across or down, never diagonal).
                int a = random.Next(4), b = random.Next(2) == 0 ? a ^ 1 : a ^ 2;
                int y = i / Half * 2, x = i % Half * 2;
                first[k * half + i] = (y + a / 2) * Side + x + a % 2;
                second[k * half + i] = (y + b / 2) * Side + x + b % 2;
            }
        }
        var whole = torch.tensor(noisy, new long[] { n, c, Side, Side }).to(device);
        Tensor Told(Tensor images) => info.TakesNoiseLevel ? NoiseMap.Append(images, torch.tensor(levels).to(device)) : images;
        Tensor Pick(Tensor images, int[] at) =>
            images.flatten(2).gather(2, torch.tensor(at, new long[] { n, 1, half }).to(device).expand(-1, c, -1)).view(n, c, Half, Half);
        Tensor wholeOut;
        model.eval();
        using (no_grad()) wholeOut = model.call(Cpu.CpuLayout.ForModel(Told(whole))).contiguous();
        model.train();
        var g2 = Pick(whole, second);
        var target = torch.cat(new[] { g2, Pick(wholeOut, first) - Pick(wholeOut, second) }, 1);
        return (Told(Pick(whole, first)).MoveToOuterDisposeScope(), target.MoveToOuterDisposeScope());
    }

    /// <summary>||f(g1 y) - g2 y||^2 + gamma ||f(g1 y) - g2 y - (g1 f(y) - g2 f(y))||^2, means over the pixels.</summary>
    public Tensor Loss(Tensor output, Tensor target, Training.Loss objective)
    {
        using var scope = NewDisposeScope();
        var difference = output - target.narrow(1, 0, channels);
        var consistency = difference - target.narrow(1, channels, channels);
        var loss = Training.Metrics.SquaredError(difference, torch.zeros_like(difference)).mean()
            .Plus(Training.Metrics.SquaredError(consistency, torch.zeros_like(consistency)).mean().Times(Gamma));
        return loss.MoveToOuterDisposeScope();
    }
}
