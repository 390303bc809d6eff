// Classic image filters on (B, C, H, W) tensors, each channel apart, with scipy.ndimage's 'reflect' edges: the baselines and SSIM's window.
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Evaluation;

public static class Filters
{
    /// <summary>scipy.ndimage.gaussian_filter(mode='reflect'): separable, normalised taps over [-radius, radius].</summary>
    public static Tensor Gaussian(Tensor t, double sigma, int radius)
    {
        using var scope = NewDisposeScope();
        var taps = Enumerable.Range(-radius, 2 * radius + 1).Select(i => Math.Exp(-0.5 * i * i / (sigma * sigma))).ToArray();
        double sum = taps.Sum();
        var kernel = torch.tensor(taps.Select(v => v / sum).ToArray(), device: t.device).to_type(t.dtype);
        int k = 2 * radius + 1;
        var planes = t.reshape(-1, 1, t.shape[2], t.shape[3]); // each channel on its own
        var rows = nn.functional.conv2d(planes.index_select(2, Mirror(t.shape[2], radius, t.device)), kernel.view(1, 1, k, 1));
        return nn.functional.conv2d(rows.index_select(3, Mirror(t.shape[3], radius, t.device)), kernel.view(1, 1, 1, k))
            .view(t.shape).MoveToOuterDisposeScope();
    }

    /// <summary>Gaussian blur with scipy's default truncation (4 sigma): the "Gaussian blur" baseline.</summary>
    public static Tensor GaussianBlur(Tensor t, double sigma) => Gaussian(t, sigma, (int)(4 * sigma + 0.5));

    /// <summary>3x3 median filter (scipy.ndimage.median_filter(size=3), mode 'reflect').</summary>
    public static Tensor Median3x3(Tensor t)
    {
        using var scope = NewDisposeScope();
        var padded = t.index_select(2, Mirror(t.shape[2], 1, t.device)).index_select(3, Mirror(t.shape[3], 1, t.device));
        var windows = padded.unfold(2, 3, 1).unfold(3, 3, 1); // (B, 1, H, W, 3, 3)
        var flat = windows.reshape(t.shape[0], t.shape[1], t.shape[2], t.shape[3], 9);
        return flat.sort(4).Values.select(4, 4).MoveToOuterDisposeScope(); // the 5th of 9 sorted values
    }

    /// <summary>Indices -r .. n+r-1 mapped half-sample symmetrically: -1 -> 0, n -> n-1 (scipy's 'reflect').</summary>
    static Tensor Mirror(long n, int r, Device device) =>
        torch.tensor(Enumerable.Range(-r, (int)n + 2 * r)
            .Select(i => (long)(i < 0 ? -i - 1 : i >= n ? 2 * n - i - 1 : i)).ToArray(), device: device);
}
