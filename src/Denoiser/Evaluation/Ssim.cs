// SSIM exactly as scikit-image's structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
// data_range=1), which follows Wang et al. 2004; per image, batched, in float64.
using Denoiser.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Evaluation;

public static class Ssim
{
    const double Sigma = 1.5, K1 = 0.01, K2 = 0.03, DataRange = 1;
    // scikit-image truncates its Gaussian at 3.5 sigma: radius int(3.5 * 1.5 + 0.5) = 5, an 11-tap window.
    public static readonly int Radius = (int)(3.5 * Sigma + 0.5);
    public static int Window => 2 * Radius + 1;
    static readonly double C1 = Math.Pow(K1 * DataRange, 2), C2 = Math.Pow(K2 * DataRange, 2);

    /// <summary>Mean SSIM of each image pair; (B, C, H, W) in [0, 1], H and W at least 11. Returns (B), float64.</summary>
    /// <remarks>Colour: the mean over channels of each channel's SSIM, as scikit-image's channel_axis.</remarks>
    public static Tensor PerImage(Tensor x, Tensor y)
    {
        long h = x.shape[2], w = x.shape[3];
        if (h < Window || w < Window)
            throw new ArgumentException($"SSIM needs images of at least {Window}x{Window}; got {h}x{w}.");
        using var scope = NewDisposeScope();
        x = x.to_type(ScalarType.Float64);
        y = y.to_type(ScalarType.Float64);
        long b = x.shape[0];
        // The five local statistics in one batch: E[x], E[y], E[x^2], E[y^2], E[xy] under the Gaussian window.
        var stats = Filters.Gaussian(torch.cat(new[] { x, y, x * x, y * y, x * y }, 0), Sigma, Radius);
        var (ux, uy, uxx, uyy, uxy) = (stats[..(int)b], stats[(int)b..(int)(2 * b)], stats[(int)(2 * b)..(int)(3 * b)],
                                      stats[(int)(3 * b)..(int)(4 * b)], stats[(int)(4 * b)..]);
        var vx = uxx - ux * ux;   // population (co)variances: use_sample_covariance=False
        var vy = uyy - uy * uy;
        var vxy = uxy - ux * uy;
        // (2 ux uy + C1)(2 vxy + C2) / ((ux^2 + uy^2 + C1)(vx + vy + C2)), its numbers held (Data/Held)
        var s = (ux * uy).Times_(2).Plus_(C1) * vxy.Times(2).Plus_(C2) / ((ux * ux).Plus_(uy * uy).Plus_(C1) * vx.Plus(vy).Plus_(C2));
        // Like scikit-image, average only where the window lies inside the image.
        var inner = s.narrow(2, Radius, h - 2 * Radius).narrow(3, Radius, w - 2 * Radius);
        return inner.mean(new long[] { 1, 2, 3 }).MoveToOuterDisposeScope();
    }
}
