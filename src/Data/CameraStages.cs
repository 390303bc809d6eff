// The steps of a camera's pipeline that CameraNoise composes, each a few lines and each tested on its own: demosaicing
// (three methods), blurs with a width per image and plane, sharpening, low-frequency chroma blotches, downscaling.
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Data;

/// <summary>How a camera fills in the two colours each photosite of its RGGB mosaic did not see.</summary>
public enum DemosaicMethod { Bilinear, Malvar, EdgeDirected }

public static class CameraStages
{
    /// <summary>RGGB: red at even rows and columns, blue at odd ones, green elsewhere; (1, 1, H, W) masks.</summary>
    public static (Tensor R, Tensor G, Tensor B) Sites(Tensor like)
    {
        long h = like.shape[2], w = like.shape[3];
        var evenRow = Held.Range(0, h, device: like.device).IsEven().view(1, 1, h, 1);
        var evenCol = Held.Range(0, w, device: like.device).IsEven().view(1, 1, 1, w);
        var r = (evenRow & evenCol).to_type(like.dtype);
        var b = (~evenRow & ~evenCol).to_type(like.dtype);
        return (r, r.Plus(b).From(1), b);
    }

    /// <summary>(B, 3, H, W) to the (B, 1, H, W) RGGB mosaic a sensor records (even sides).</summary>
    public static Tensor Mosaic(Tensor rgb)
    {
        var (r, g, b) = Sites(rgb);
        return (rgb.narrow(1, 0, 1) * r).Plus_(rgb.narrow(1, 1, 1) * g).Plus_(rgb.narrow(1, 2, 1) * b);
    }

    /// <summary>A mosaic (B, 1, H, W) to RGB (B, 3, H, W), each image by its own method.</summary>
    public static Tensor Demosaic(Tensor bayer, IReadOnlyList<DemosaicMethod> methods)
    {
        if (methods.Distinct().Count() == 1) return Demosaic(bayer, methods[0]);
        using var scope = NewDisposeScope();
        var rgb = torch.empty(bayer.shape[0], 3, bayer.shape[2], bayer.shape[3], dtype: bayer.dtype, device: bayer.device);
        foreach (var method in methods.Distinct())
        {
            var index = torch.tensor(Enumerable.Range(0, methods.Count).Where(i => methods[i] == method).Select(i => (long)i).ToArray(), device: bayer.device);
            rgb.index_copy_(0, index, Demosaic(bayer.index_select(0, index), method));
        }
        return rgb.MoveToOuterDisposeScope();
    }

    public static Tensor Demosaic(Tensor bayer, DemosaicMethod method) => method switch
    {
        DemosaicMethod.Malvar => Malvar(bayer),
        DemosaicMethod.EdgeDirected => EdgeDirected(bayer),
        _ => Bilinear(bayer),
    };

    /// <summary>Each missing value the mean of its nearest samples of that colour.</summary>
    public static Tensor Bilinear(Tensor bayer)
    {
        var (r, g, b) = Sites(bayer);
        var cross = new float[] { 0, 1, 0, 1, 4, 1, 0, 1, 0 };
        var box = new float[] { 1, 2, 1, 2, 4, 2, 1, 2, 1 };
        return torch.cat(new[] { Interpolate(bayer, r, box), Interpolate(bayer, g, cross), Interpolate(bayer, b, box) }, 1);
    }

    /// <summary>A plane known at <paramref name="sites"/> filled in by a normalised 3x3 kernel.</summary>
    static Tensor Interpolate(Tensor plane, Tensor sites, float[] kernel)
    {
        using var k = torch.tensor(kernel, new long[] { 1, 1, 3, 3 }, dtype: plane.dtype, device: plane.device);
        var padded = nn.functional.pad(plane, new long[] { 1, 1, 1, 1 }, PaddingModes.Reflect);
        var maskPadded = nn.functional.pad(sites.expand(plane.shape[0], -1, -1, -1), new long[] { 1, 1, 1, 1 }, PaddingModes.Reflect);
        // Reflection keeps the 2x2 pattern's phase, so the normalising weight is right at the borders too.
        return nn.functional.conv2d(padded * maskPadded, k) / nn.functional.conv2d(maskPadded, k);
    }

    // Malvar, He and Cutler, "High-quality linear interpolation for demosaicing of Bayer-patterned color images"
    // (ICASSP 2004), their figure 2: bilinear corrected by the known colour's Laplacian; the kernels' weights x 8.
    static readonly float[] MalvarGreen = { 0, 0, -1, 0, 0, 0, 0, 2, 0, 0, -1, 2, 4, 2, -1, 0, 0, 2, 0, 0, 0, 0, -1, 0, 0 };
    static readonly float[] MalvarRow = { 0, 0, 0.5f, 0, 0, 0, -1, 0, -1, 0, -1, 4, 5, 4, -1, 0, -1, 0, -1, 0, 0, 0, 0.5f, 0, 0 }; // the colour left and right
    static readonly float[] MalvarDiagonal = { 0, 0, -1.5f, 0, 0, 0, 2, 0, 2, 0, -1.5f, 0, 6, 0, -1.5f, 0, 2, 0, 2, 0, 0, 0, -1.5f, 0, 0 };

    public static Tensor Malvar(Tensor bayer)
    {
        var (r, g, b) = Sites(bayer);
        var padded = nn.functional.pad(bayer, new long[] { 2, 2, 2, 2 }, PaddingModes.Reflect); // reflection keeps the phase
        Tensor Filter(float[] k, bool transpose = false)
        {
            using var kernel = torch.tensor(k.Select(v => v / 8).ToArray(), new long[] { 1, 1, 5, 5 }, dtype: bayer.dtype, device: bayer.device);
            return nn.functional.conv2d(padded, transpose ? kernel.transpose(2, 3) : kernel);
        }
        var green = Filter(MalvarGreen);
        var row = Filter(MalvarRow);       // at a green site: the colour of its row
        var column = Filter(MalvarRow, transpose: true);
        var diagonal = Filter(MalvarDiagonal);
        long h = bayer.shape[2], w = bayer.shape[3];
        var redRow = Held.Range(0, h, device: bayer.device).IsEven().view(1, 1, h, 1).to_type(bayer.dtype); // rows holding red (and green)
        var greenInRedRow = g * redRow;
        var greenInBlueRow = g - greenInRedRow;
        var red = (bayer * r).Plus_(row * greenInRedRow).Plus_(column * greenInBlueRow).Plus_(diagonal * b);
        var blue = (bayer * b).Plus_(row * greenInBlueRow).Plus_(column * greenInRedRow).Plus_(diagonal * r);
        return torch.cat(new[] { red, (bayer * g).Plus_(green * r.Plus(b)), blue }, 1);
    }

    /// <summary>
    /// Edge-directed (Hamilton and Adams, US patent 5,629,734, 1997): green at a red or blue site interpolated along the
    /// direction of the smaller gradient (both when equal), corrected by the site's own colour; red and blue then as
    /// green plus their bilinearly interpolated difference from it.
    /// </summary>
    public static Tensor EdgeDirected(Tensor bayer)
    {
        var (r, g, b) = Sites(bayer);
        long h = bayer.shape[2], w = bayer.shape[3];
        var p = nn.functional.pad(bayer, new long[] { 2, 2, 2, 2 }, PaddingModes.Reflect);
        Tensor At(int dy, int dx) => p.narrow(2, 2 + dy, h).narrow(3, 2 + dx, w);
        var laplaceH = bayer.Times(2) - At(0, -2) - At(0, 2);
        var laplaceV = bayer.Times(2) - At(-2, 0) - At(2, 0);
        var gradH = (At(0, -1) - At(0, 1)).abs_().Plus_(laplaceH.abs());
        var gradV = (At(-1, 0) - At(1, 0)).abs_().Plus_(laplaceV.abs());
        var alongH = At(0, -1).Plus(At(0, 1)).Over_(2).Plus_(laplaceH.Over(4));
        var alongV = At(-1, 0).Plus(At(1, 0)).Over_(2).Plus_(laplaceV.Over(4));
        var both = alongH.Plus(alongV).Over_(2);
        var estimate = torch.where(gradH < gradV, alongH, torch.where(gradV < gradH, alongV, both));
        var green = (bayer * g).Plus_(estimate * r.Plus(b));
        var box = new float[] { 1, 2, 1, 2, 4, 2, 1, 2, 1 };
        var red = Interpolate((bayer - green) * r, r, box).Plus_(green);
        var blue = Interpolate((bayer - green) * b, b, box).Plus_(green);
        return torch.cat(new[] { red, green, blue }, 1);
    }

    /// <summary>
    /// Each plane of (B, C, H, W) blurred by a Gaussian of its own width (<paramref name="widths"/>, (B, C), pixels; a
    /// width near 0 leaves the plane as it is), edges replicated.
    /// </summary>
    public static Tensor GaussianBlur(Tensor planes, Tensor widths, float maxWidth)
    {
        long n = planes.shape[0], c = planes.shape[1], h = planes.shape[2], w = planes.shape[3];
        int radius = (int)Math.Ceiling(3 * maxWidth), side = 2 * radius + 1;
        using var scope = NewDisposeScope();
        var x = Held.Range(-radius, radius + 1, planes.dtype, planes.device).view(1, side);
        var sigma = widths.reshape(n * c, 1).AtLeast(1e-3);
        var taps = (-(x * x) / (sigma * sigma).Times_(2)).exp_();
        var kernel = (taps / taps.sum(1, keepdim: true)).view(n * c, 1, 1, side);
        // Each image's planes as groups of one convolution: rows, then columns. Replication beyond a small plane's edge
        // needs the pad no wider than the plane, so a wide blur of a small patch pads in steps.
        var padded = planes.reshape(1, n * c, h, w);
        for (int left = radius; left > 0;)
        {
            int step = (int)Math.Min(left, Math.Min(padded.shape[2], padded.shape[3]) - 1);
            padded = nn.functional.pad(padded, new long[] { step, step, step, step }, PaddingModes.Replicate);
            left -= step;
        }
        var blurred = nn.functional.conv2d(nn.functional.conv2d(padded, kernel, groups: n * c), kernel.transpose(2, 3), groups: n * c);
        return blurred.view(n, c, h, w).MoveToOuterDisposeScope();
    }

    /// <summary>The RMS of each image's planes, (B, C, 1, 1).</summary>
    public static Tensor Rms(Tensor planes) => (planes * planes).mean(new long[] { 2, 3 }, keepdim: true).sqrt_();

    /// <summary>
    /// Unsharp masking, as cameras sharpen: x + amount (x - blur(x)), per image an amount (B) and a width (B) in pixels.
    /// On noise, it lifts the fine grain that noise reduction spared.
    /// </summary>
    public static Tensor Sharpen(Tensor image, Tensor amount, Tensor width, float maxWidth)
    {
        long n = image.shape[0], c = image.shape[1];
        using var scope = NewDisposeScope();
        var blurred = GaussianBlur(image, width.view(n, 1).expand(n, c), maxWidth);
        return (image - blurred).mul_(amount.view(n, 1, 1, 1)).Plus_(image).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Low-frequency chroma noise: white noise in Cb and Cr blurred to blotches <paramref name="width"/> pixels wide (B)
    /// and scaled to <paramref name="rms"/> (B) per plane; in RGB, (B, 3, H, W), with no luma.
    /// </summary>
    public static Tensor ChromaBlotches(long n, long h, long w, Tensor width, Tensor rms, float maxWidth, Generator gen, Device device, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var chroma = GaussianBlur(torch.randn(new long[] { n, 2, h, w }, generator: gen, device: device, dtype: dtype), width.view(n, 1).expand(n, 2), maxWidth);
        chroma = chroma / Rms(chroma).AtLeast_(1e-12) * rms.view(n, 1, 1, 1);
        var ycc = torch.cat(new[] { torch.zeros(n, 1, h, w, device: device, dtype: dtype), chroma }, 1);
        return Colour.FromYCbCr(ycc).MoveToOuterDisposeScope();
    }

    /// <summary>(B, C, H', W') to (B, C, H, W) by area averaging: how a camera or phone downscales its picture.</summary>
    public static Tensor Downscale(Tensor image, long h, long w) =>
        nn.functional.adaptive_avg_pool2d(image, new long[] { h, w });
}
