// The classical denoisers users reach for first, through OpenCV: non-local means and the bilateral filter.
using Denoiser.Data;
using OpenCvSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Evaluation;

/// <summary>
/// How strongly the classical denoisers smooth, from the noise's sigma: non-local means' h = NlMeans x sigma (both on
/// the 0-255 scale), the bilateral filter's range sigma = Bilateral x sigma. The defaults were tuned once on Train400
/// (docs/natural-images.md), never on a test set. On real photographs non-local means' h = RealNlMeans x the estimated
/// level (<see cref="Inference.NoiseLevel.OfPhotograph"/>), tuned on CBSD432 with synthetic camera noise (docs/real-photographs.md).
/// </summary>
public sealed record ClassicalStrengths(double NlMeans = 0.9, double Bilateral = 3.0, double RealNlMeans = 0.4)
{
    public static readonly ClassicalStrengths Tuned = new();
}

/// <summary>OpenCV's fastNlMeansDenoising (grey) / fastNlMeansDenoisingColored (colour) and bilateralFilter, on (1, C, H, W) images in [0, 1].</summary>
public static class ClassicalDenoisers
{
    public const string NlMeans = "non-local means (OpenCV)", Bilateral = "bilateral (OpenCV)";
    const double BilateralSigmaSpace = 1.5; // pixels; the window is computed from it (d = -1)
    /// <summary>
    /// Non-local means of a noisy image for noise of <paramref name="sigma"/> (0-1 scale). OpenCV's fast NL-means
    /// takes 8-bit images, so the input is clipped to [0, 1] and rounded to 8 bits first, as a user's saved image is.
    /// Search window 21, patch 7 (OpenCV's defaults, as in Buades et al.). Colour: h = hColor = the grey rule's h.
    /// <para>
    /// Tried and dropped: h and hColor from the noise's smaller spread in OpenCV's CIELAB (0.47 and 0.44 sigma,
    /// tools/nlmeans/lab_gain.py). It smooths less and scored lower on all three colour sets at sigma 25 and 50 (CBSD68
    /// 24.63 / 21.28 dB against 24.97 / 21.88); no colour training set exists here to tune on, and of two baselines
    /// the stronger one is kept, so that the model is not flattered (a choice made after seeing test figures: said so).
    /// </para>
    /// </summary>
    public static Tensor NonLocalMeans(Tensor noisy, double sigma, double factor)
    {
        int c = (int)noisy.shape[1], h = (int)noisy.shape[2], w = (int)noisy.shape[3];
        float strength = (float)(factor * sigma * 255);
        Data.OpenCv.Quiet();
        // OpenCV's colour images are B, G, R (its Lab conversion weights the channels in that order): reversed around the call.
        using var bgr = c == 3 ? noisy.flip(1) : noisy.alias();
        using var src = ToMat(bgr, MatType.CV_8UC(c), scale: 255);
        using var dst = new Mat();
        if (c == 1) Cv2.FastNlMeansDenoising(src, dst, strength, 7, 21);
        else Cv2.FastNlMeansDenoisingColored(src, dst, strength, strength, 7, 21);
        using var result = FromMat(dst, c, h, w, scale: 1 / 255f);
        return c == 3 ? result.flip(1) : result.alias();
    }

    /// <summary>The bilateral filter, on the float image (no 8-bit rounding), for noise of <paramref name="sigma"/> (0-1 scale).</summary>
    public static Tensor BilateralFilter(Tensor noisy, double sigma, double factor)
    {
        int c = (int)noisy.shape[1], h = (int)noisy.shape[2], w = (int)noisy.shape[3];
        Data.OpenCv.Quiet();
        using var src = ToMat(noisy, MatType.CV_32FC(c), scale: 1);
        using var dst = new Mat();
        Cv2.BilateralFilter(src, dst, -1, factor * sigma, BilateralSigmaSpace);
        return FromMat(dst, c, h, w, scale: 1);
    }

    /// <summary>(1, C, H, W) planes to an interleaved H x W x C Mat (8-bit values clipped and rounded).</summary>
    static Mat ToMat(Tensor image, MatType type, float scale)
    {
        using var scope = NewDisposeScope();
        int c = (int)image.shape[1], h = (int)image.shape[2], w = (int)image.shape[3];
        var hwc = image[0].permute(1, 2, 0).Times(scale);
        bool bytes = type.Depth == MatType.CV_8U;
        if (bytes) hwc = hwc.Clamp(0, 255).round().to_type(ScalarType.Byte);
        hwc = hwc.contiguous();
        // OpenCvSharp copies arrays into single-channel Mats only: one row of W x C values, then a header of C channels.
        using var flat = new Mat(h, w * c, bytes ? MatType.CV_8UC1 : MatType.CV_32FC1);
        if (bytes) flat.SetArray(hwc.data<byte>().ToArray());
        else flat.SetArray(hwc.data<float>().ToArray());
        return flat.Reshape(c, h).Clone();
    }

    static Tensor FromMat(Mat mat, int c, int h, int w, float scale)
    {
        using var flat = mat.Reshape(1, h);
        Tensor hwc;
        if (mat.Depth() == MatType.CV_8U)
        {
            flat.GetArray(out byte[] bytes);
            hwc = torch.tensor(bytes, new long[] { h, w, c }).to_type(ScalarType.Float32);
        }
        else
        {
            flat.GetArray(out float[] floats);
            hwc = torch.tensor(floats, new long[] { h, w, c });
        }
        using (hwc) return hwc.Times(scale).permute(2, 0, 1).unsqueeze(0).contiguous();
    }
}
