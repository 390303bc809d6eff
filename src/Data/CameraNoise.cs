// The noise a camera leaves in an sRGB photograph, synthesised from a clean one: unprocess to raw, add shot and read
// noise, demosaic and process back, then clip, round to 8 bits and (for a share) JPEG, as the camera writes the file.
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Data;

/// <summary>
/// Brooks et al., "Unprocessing Images for Learned Raw Denoising" (CVPR 2019), with CBDNet's (Guo et al., CVPR 2019)
/// demosaicing and JPEG after it. Per image, drawn from the generator: a camera colour matrix (a random mix of four
/// real cameras'), white-balance and brightness gains, shot and read noise levels, and whether and how hard to JPEG.
/// <para>
/// The clean image goes to raw (inverse tone curve, inverse gamma, inverse colour matrix, inverse gains, RGGB mosaic);
/// Poisson-Gaussian noise of variance shot * signal + read is added there (Foi et al., TIP 2008: its Gaussian
/// approximation, as Brooks); both raws, clean and noisy, are demosaiced (bilinear) and processed forward, and their
/// difference is added to the clean image. So without noise the image comes back exactly, and the noise is what the
/// camera's pipeline makes of raw noise: brighter pixels noisier, neighbours correlated by demosaicing, channels by the
/// colour matrix, dark ones amplified by the gamma curve. Then clipped to [0, 1] and rounded to 8 bits, always.
/// </para>
/// <para>
/// Levels: log(shot) uniform in [log 1e-4, log 1.2e-2] and log(read) = 2.18 log(shot) + 1.2 + N(0, 0.26), Brooks'
/// fit to the Darmstadt cameras; this spans a bright daylight exposure to ISO 6400 on a phone (RMS after processing
/// about 1 to 25 on the 0-255 scale).
/// </para>
/// </summary>
public sealed record CameraNoise(double JpegShare = CameraNoise.DefaultJpegShare) : Noise(NoiseRange.EightBit)
{
    public const double DefaultJpegShare = 0.5;
    public const int MinQuality = 60, MaxQuality = 100;
    const double MinShot = 1e-4, MaxShot = 1.2e-2;
    /// <summary>The widest in-camera noise reduction drawn (Gaussian sigma, pixels).</summary>
    public const float MaxSmoothing = 2;
    /// <summary>The widest chroma noise reduction drawn, and the least of the chroma noise's RMS it keeps.</summary>
    public const float MaxChromaSmoothing = 4, MinChromaKept = 0.25f;

    protected override string Body => JpegShare == DefaultJpegShare ? "camera" : $"camera:{Format(JpegShare)}";

    /// <summary>The midpoint of the shot-noise range (log scale); the real size of a draw is its RMS, which varies.</summary>
    public override double Level => Math.Sqrt(MinShot * MaxShot);

    // Brooks et al.'s XYZ-to-camera matrices of four cameras, and sRGB (D65) to XYZ.
    static readonly float[][,] XyzToCams =
    {
        new[,] { { 1.0234f, -0.2969f, -0.2266f }, { -0.5625f, 1.6328f, -0.0469f }, { -0.0703f, 0.2188f, 0.6406f } },
        new[,] { { 0.4913f, -0.0541f, -0.0202f }, { -0.613f, 1.3513f, 0.2906f }, { -0.1564f, 0.2151f, 0.7183f } },
        new[,] { { 0.838f, -0.263f, -0.0639f }, { -0.2887f, 1.0725f, 0.2496f }, { -0.0627f, 0.1427f, 0.5438f } },
        new[,] { { 0.6596f, -0.2079f, -0.0562f }, { -0.4782f, 1.3016f, 0.1933f }, { -0.097f, 0.1581f, 0.5181f } },
    };
    static readonly float[,] RgbToXyz = { { 0.4124564f, 0.3575761f, 0.1804375f }, { 0.2126729f, 0.7151522f, 0.0721750f }, { 0.0193339f, 0.1191920f, 0.9503041f } };

    /// <summary>One image's camera, drawn: what turns its raw into sRGB and how noisy the raw is.</summary>
    sealed record Camera(Tensor CamToRgb, Tensor RgbToCam, Tensor Gains, Tensor Shot, Tensor Read, Tensor Widths, Tensor ChromaKept);

    protected override Tensor Add(Tensor clean, Generator generator)
    {
        if (clean.shape[1] == 1) // a grey picture: the camera's colour noise, seen through luma
        {
            using var grey = NewDisposeScope();
            return Colour.Luma(Add(clean.expand(-1, 3, -1, -1), generator)).MoveToOuterDisposeScope();
        }
        if (clean.shape[1] != 3) throw new ArgumentException($"camera noise takes grey or RGB images, not {clean.shape[1]} channels");
        using var scope = NewDisposeScope();
        long h = clean.shape[2], w = clean.shape[3];
        // The 2x2 mosaic needs even sides: an odd one gets its edge repeated once, and the extra row or column is dropped after.
        var even = nn.functional.pad(clean, new long[] { 0, w % 2, 0, h % 2 }, PaddingModes.Replicate);
        var camera = Draw(clean.shape[0], clean.device, generator);
        var raw = Mosaic(Unprocess(even, camera));
        var variance = (raw * camera.Shot).Plus_(camera.Read);
        var noisyRaw = (torch.randn(raw.shape, device: raw.device, generator: generator) * variance.sqrt_()).Plus_(raw).Clamp_(0, 1);
        var noise = Smooth((Process(noisyRaw, camera) - Process(raw, camera)).narrow(2, 0, h).narrow(3, 0, w), camera.Widths, camera.ChromaKept);
        var noisy = noise.Plus_(clean).Clamp_(0, 1).Times_(255).round_().Over_(255);
        return Jpeg(noisy, generator).MoveToOuterDisposeScope();
    }

    Camera Draw(long n, Device device, Generator gen)
    {
        Tensor U(params long[] shape) => torch.rand(shape, generator: gen, device: device);
        var weights = U(n, 4).Plus_(1e-8);
        weights.div_(weights.sum(1, keepdim: true));
        var cams = torch.stack(XyzToCams.Select(m => Matrix(m, device)).ToArray()); // (4, 3, 3)
        var xyzToCam = torch.einsum("nk,kij->nij", weights, cams);
        var rgbToCam = xyzToCam.matmul(Matrix(RgbToXyz, device));
        rgbToCam = rgbToCam / rgbToCam.sum(2, keepdim: true); // rows sum to 1: white stays white
        var camToRgb = torch.linalg.inv(rgbToCam);

        // White balance and brightness as Brooks: red 1.9-2.4, blue 1.5-1.9, overall 1 / N(0.8, 0.1).
        var brightness = torch.randn(new long[] { n, 1 }, generator: gen, device: device).Times_(0.1).Plus_(0.8).Clamp_(0.5, 1.1).reciprocal_();
        var red = U(n, 1).Times_(0.5).Plus_(1.9);
        var blue = U(n, 1).Times_(0.4).Plus_(1.5);
        var gains = torch.cat(new[] { red, torch.ones_like(red), blue }, 1) * brightness; // (n, 3), raw to balanced

        var logShot = U(n, 1, 1, 1).Times_(Math.Log(MaxShot) - Math.Log(MinShot)).Plus_(Math.Log(MinShot));
        var logRead = logShot.Times(2.18).Plus_(1.2).Plus_(torch.randn(new long[] { n, 1, 1, 1 }, generator: gen, device: device).Times_(0.26));
        // Noise reduction: a luma width, a chroma width at least as wide, and the share of chroma noise left.
        var luma = U(n, 1).Times_(MaxSmoothing);
        var chroma = luma.Plus(U(n, 1) * luma.From(MaxChromaSmoothing));
        var widths = torch.cat(new[] { luma, chroma, chroma }, 1);
        var kept = U(n).Times_(1 - MinChromaKept).Plus_(MinChromaKept);
        return new Camera(camToRgb, rgbToCam, gains, logShot.exp(), logRead.exp(), widths, kept);
    }

    static Tensor Matrix(float[,] m, Device device) =>
        torch.tensor(Enumerable.Range(0, 9).Select(k => m[k / 3, k % 3]).ToArray(), new long[] { 3, 3 }, device: device);

    /// <summary>sRGB (B, 3, H, W) to the camera's white-balanced-back raw RGB, before the mosaic.</summary>
    static Tensor Unprocess(Tensor srgb, Camera camera)
    {
        var linear = InverseSmoothstep(srgb.Clamp(0, 1)).AtLeast_(1e-8).Power_(2.2);
        var cam = ApplyMatrix(linear, camera.RgbToCam);
        // Brooks' highlight-preserving inverse gains: near white the gain fades to 1, so highlights are not pushed to clip.
        var grey = cam.mean(new long[] { 1 }, keepdim: true);
        var mask = grey.Plus(-0.9).AtLeast_(0).Over_(0.1).Power_(2);
        var inverse = camera.Gains.reciprocal().unsqueeze(-1).unsqueeze(-1);
        var safe = torch.maximum(mask.Plus(mask.From(1) * inverse), inverse);
        // Saturated colours come out of the colour matrix slightly negative; light cannot be, and the shot noise's variance must not be.
        return (cam * safe).AtLeast_(0);
    }

    /// <summary>Raw (B, 1, H, W) mosaic to sRGB: gains, bilinear demosaicing, colour matrix, gamma, tone curve.</summary>
    static Tensor Process(Tensor bayer, Camera camera)
    {
        var (r, g, b) = Sites(bayer);
        var gains = camera.Gains.unsqueeze(-1).unsqueeze(-1); // (n, 3, 1, 1)
        var balanced = (bayer * (r * gains.narrow(1, 0, 1)).Plus_(g * gains.narrow(1, 1, 1)).Plus_(b * gains.narrow(1, 2, 1))).Clamp_(0, 1);
        var rgb = Demosaic(balanced);
        var srgb = ApplyMatrix(rgb, camera.CamToRgb).Clamp_(1e-8, 1).Power_(1 / 2.2);
        return srgb * srgb * srgb.Times(-2).Plus_(3); // smoothstep, 3s^2 - 2s^3: the tone curve Brooks fit
    }

    /// <summary>
    /// The camera's own noise reduction, as it leaves the noise. In YCbCr, each image's luma noise is blurred by a Gaussian
    /// of a drawn width (0 to <see cref="MaxSmoothing"/> pixels) and scaled back to its RMS; its chroma noise, which
    /// cameras reduce harder, by a wider one (up to <see cref="MaxChromaSmoothing"/>) and scaled to a drawn share (a quarter
    /// to all) of its RMS. What remains of camera noise in its JPEGs is such blotches, mostly grey: on PolyU, the
    /// real-minus-mean difference averaged over 8x8 blocks keeps 60-80% of its RMS, bilinear demosaicing alone 30-40%
    /// (docs/real-photographs.md).
    /// </summary>
    static Tensor Smooth(Tensor noise, Tensor widths, Tensor chromaKept)
    {
        long n = noise.shape[0], h = noise.shape[2], w = noise.shape[3];
        int radius = (int)Math.Ceiling(3 * MaxChromaSmoothing), side = 2 * radius + 1;
        using var scope = NewDisposeScope();
        // Gaussian taps per image and plane, (n * 3, 1, 1, side), normalised: a width near 0 leaves the plane as it is.
        using Scalar from = -radius, to = radius + 1; // held: see Held
        var x = torch.arange(from, to, dtype: noise.dtype, device: noise.device).view(1, side);
        var sigma = widths.reshape(n * 3, 1).AtLeast(1e-3);
        var taps = (-(x * x) / (sigma * sigma).Times_(2)).exp_();
        var kernel = (taps / taps.sum(1, keepdim: true)).view(n * 3, 1, 1, side);
        var ycc = Colour.ToYCbCr(noise);
        // Each image's planes as groups of one convolution: rows, then columns.
        var planes = nn.functional.pad(ycc.reshape(1, n * 3, h, w), new long[] { radius, radius, radius, radius }, PaddingModes.Replicate);
        var smooth = nn.functional.conv2d(nn.functional.conv2d(planes, kernel, groups: n * 3), kernel.transpose(2, 3), groups: n * 3).view(n, 3, h, w);
        var rms = (ycc * ycc).mean(new long[] { 2, 3 }, keepdim: true).sqrt_();
        var smoothRms = (smooth * smooth).mean(new long[] { 2, 3 }, keepdim: true).sqrt_().AtLeast_(1e-12);
        var kept = torch.cat(new[] { torch.ones(n, 1, device: noise.device), chromaKept.view(n, 1).expand(n, 2) }, 1).view(n, 3, 1, 1);
        return Colour.FromYCbCr(smooth * (rms / smoothRms) * kept).MoveToOuterDisposeScope();
    }

    static Tensor InverseSmoothstep(Tensor y) => y.Times(-2).Plus_(1).asin_().Over_(3).sin_().From(0.5); // 0.5 - sin(asin(1 - 2y) / 3)

    static Tensor ApplyMatrix(Tensor image, Tensor m) => torch.einsum("nij,njhw->nihw", m, image);

    /// <summary>RGGB: red at even rows and columns, blue at odd ones, green elsewhere; (1, 1, H, W) masks.</summary>
    static (Tensor R, Tensor G, Tensor B) Sites(Tensor like)
    {
        long h = like.shape[2], w = like.shape[3];
        using Scalar rows = h, cols = w; // held: see Held
        var evenRow = torch.arange(rows, device: like.device).IsEven().view(1, 1, h, 1);
        var evenCol = torch.arange(cols, device: like.device).IsEven().view(1, 1, 1, w);
        var r = (evenRow & evenCol).to_type(like.dtype);
        var b = (~evenRow & ~evenCol).to_type(like.dtype);
        return (r, (r + b).From(1), b);
    }

    static Tensor Mosaic(Tensor rgb)
    {
        var (r, g, b) = Sites(rgb);
        return (rgb.narrow(1, 0, 1) * r).Plus_(rgb.narrow(1, 1, 1) * g).Plus_(rgb.narrow(1, 2, 1) * b);
    }

    /// <summary>Bilinear demosaicing: each missing value the mean of its nearest samples of that colour.</summary>
    static Tensor Demosaic(Tensor bayer)
    {
        var (r, g, b) = Sites(bayer);
        var padded = nn.functional.pad(bayer, new long[] { 1, 1, 1, 1 }, PaddingModes.Reflect);
        Tensor Interpolate(Tensor sites, float[] kernel)
        {
            using var k = torch.tensor(kernel, new long[] { 1, 1, 3, 3 }, device: bayer.device);
            var maskPadded = nn.functional.pad(sites.expand(bayer.shape[0], -1, -1, -1), new long[] { 1, 1, 1, 1 }, PaddingModes.Reflect);
            // Reflection keeps the 2x2 pattern's phase, so the normalising weight is right at the borders too.
            return nn.functional.conv2d(padded * maskPadded, k) / nn.functional.conv2d(maskPadded, k);
        }
        var cross = new float[] { 0, 1, 0, 1, 4, 1, 0, 1, 0 };
        var box = new float[] { 1, 2, 1, 2, 4, 2, 1, 2, 1 };
        return torch.cat(new[] { Interpolate(r, box), Interpolate(g, cross), Interpolate(b, box) }, 1);
    }

    /// <summary>For a share of the images, a JPEG round trip at a quality drawn in [60, 100] (the 4:2:0 of cameras' files).</summary>
    Tensor Jpeg(Tensor images, Generator gen)
    {
        long n = images.shape[0];
        var draws = torch.rand(new long[] { n, 2 }, generator: gen, device: images.device).cpu().data<float>().ToArray();
        if (!Enumerable.Range(0, (int)n).Any(i => draws[2 * i] < JpegShare)) return images;
        var cpu = images.cpu();
        var result = new List<Tensor>();
        for (int i = 0; i < n; i++)
        {
            var image = cpu[i];
            if (draws[2 * i] >= JpegShare) { result.Add(image); continue; }
            int quality = MinQuality + (int)(draws[2 * i + 1] * (MaxQuality - MinQuality + 1));
            var picture = Picture.FromTensor(image.unsqueeze(0), 8);
            result.Add(OpenCv.JpegRoundTrip(picture, Math.Min(quality, MaxQuality)).ToTensor().squeeze(0));
        }
        return torch.stack(result).to(images.device);
    }
}
