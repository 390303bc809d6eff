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
/// approximation, as Brooks); both raws, clean and noisy, are demosaiced and processed forward, and their
/// difference is added to the clean image. So without noise the image comes back exactly, and the noise is what the
/// camera's pipeline makes of raw noise: brighter pixels noisier, neighbours correlated by demosaicing, channels by the
/// colour matrix, dark ones amplified by the gamma curve. Then clipped to [0, 1] and rounded to 8 bits, always.
/// </para>
/// <para>
/// Levels: log(shot) uniform in [log 1e-4, log 1.2e-2] and log(read) = 2.18 log(shot) + 1.2 + N(0, 0.26), Brooks'
/// fit to the Darmstadt cameras; this spans a bright daylight exposure to ISO 6400 (RMS after processing about 1 to
/// 25 on the 0-255 scale).
/// </para>
/// <para>
/// <see cref="Wide"/> (<c>camera-wide</c>) draws every stage per image, so that one model meets the range of real
/// pipelines, DSLRs' and phones': shot noise up to <see cref="MaxShotWide"/> (phones at high ISO); gamma 1.8-2.6 and
/// Brooks' tone curve or none; bilinear, Malvar-He-Cutler or edge-directed demosaicing; luma noise reduction that
/// may also lower the luma noise (none to strong); sharpening; low-frequency chroma blotches; downscaling by 1.5 or 2
/// (phones bin and resize); JPEG with 4:2:0 chroma. Its ranges come from the literature (Brooks; CBDNet; Noise Flow,
/// Abdelhamed et al., ICCV 2019) and from `polyu-train`'s full-frame pairs, never from PolyU's 100 test crops
/// (docs/real-photographs.md).
/// </para>
/// </summary>
public sealed record CameraNoise(double JpegShare = CameraNoise.DefaultJpegShare, bool Wide = false) : Noise(NoiseRange.EightBit)
{
    public const double DefaultJpegShare = 0.5;
    public const int MinQuality = 60, MaxQuality = 100;
    const double MinShot = 1e-4, MaxShot = 1.2e-2;
    /// <summary>The strongest shot noise <c>camera-wide</c> draws: a small phone sensor at high ISO (Noise Flow's SIDD phones reach ISO 3200 at pixel pitches a quarter of a DSLR's).</summary>
    public const double MaxShotWide = 4e-2;
    /// <summary>The widest in-camera noise reduction drawn (Gaussian sigma, pixels).</summary>
    public const float MaxSmoothing = 2;
    /// <summary>The widest chroma noise reduction drawn, and the least of the chroma noise's RMS it keeps.</summary>
    public const float MaxChromaSmoothing = 4, MinChromaKept = 0.25f;
    /// <summary>camera-wide: the least of the luma noise's RMS its noise reduction keeps (phones' strong NR).</summary>
    public const float MinLumaKept = 0.35f;
    /// <summary>camera-wide: unsharp masking's largest amount and width, and the chroma blotches' widest width and largest RMS (times the luma noise's).</summary>
    public const float MaxSharpen = 1.5f, MaxSharpenWidth = 2, MaxBlotchWidth = 8, MaxBlotchRms = 0.6f;

    protected override string Body => (Wide ? "camera-wide" : "camera") + (JpegShare == DefaultJpegShare ? "" : $":{Format(JpegShare)}");

    /// <summary>The midpoint of the shot-noise range (log scale); the real size of a draw is its RMS, which varies.</summary>
    public override double Level => Math.Sqrt(MinShot * (Wide ? MaxShotWide : MaxShot));

    // Brooks et al.'s XYZ-to-camera matrices of four cameras, and sRGB (D65) to XYZ.
    static readonly float[][,] XyzToCams =
    {
        new[,] { { 1.0234f, -0.2969f, -0.2266f }, { -0.5625f, 1.6328f, -0.0469f }, { -0.0703f, 0.2188f, 0.6406f } },
        new[,] { { 0.4913f, -0.0541f, -0.0202f }, { -0.613f, 1.3513f, 0.2906f }, { -0.1564f, 0.2151f, 0.7183f } },
        new[,] { { 0.838f, -0.263f, -0.0639f }, { -0.2887f, 1.0725f, 0.2496f }, { -0.0627f, 0.1427f, 0.5438f } },
        new[,] { { 0.6596f, -0.2079f, -0.0562f }, { -0.4782f, 1.3016f, 0.1933f }, { -0.097f, 0.1581f, 0.5181f } },
    };
    static readonly float[,] RgbToXyz = { { 0.4124564f, 0.3575761f, 0.1804375f }, { 0.2126729f, 0.7151522f, 0.0721750f }, { 0.0193339f, 0.1191920f, 0.9503041f } };

    /// <summary>
    /// One image's camera, drawn: what turns its raw into sRGB, how noisy the raw is, and (camera-wide) how its
    /// pipeline treats the noise. Gamma and Tone are (n, 1, 1, 1); Tone is 1 for Brooks' curve, 0 for none.
    /// </summary>
    sealed record Camera(Tensor CamToRgb, Tensor RgbToCam, Tensor Gains, Tensor Shot, Tensor Read, Tensor Widths, Tensor ChromaKept,
                         Tensor Gamma, Tensor Tone, DemosaicMethod[] Demosaic, Tensor? LumaKept = null, Tensor? SharpenAmount = null,
                         Tensor? SharpenWidth = null, Tensor? BlotchWidth = null, Tensor? BlotchRms = null);

    /// <summary>camera-wide's downscaling factors and their chances: most pictures at the sensor's size.</summary>
    static readonly (double Factor, double Chance)[] Scales = { (1, 0.6), (1.5, 0.2), (2, 0.2) };

    protected override Tensor Add(Tensor clean, Generator generator)
    {
        if (clean.shape[1] == 1) // a grey picture: the camera's colour noise, seen through luma
        {
            using var grey = NewDisposeScope();
            return Colour.Luma(Add(clean.expand(-1, 3, -1, -1), generator)).MoveToOuterDisposeScope();
        }
        if (clean.shape[1] != 3) throw new ArgumentException($"camera noise takes grey or RGB images, not {clean.shape[1]} channels");
        using var scope = NewDisposeScope();
        var noise = Wide ? WideNoise(clean, generator) : PipelineNoise(clean, Draw(clean.shape[0], clean.device, generator), generator);
        var noisy = noise.Plus_(clean).Clamp_(0, 1).Times_(255).round_().Over_(255);
        return Jpeg(noisy, generator).MoveToOuterDisposeScope();
    }

    /// <summary>camera-wide: each image's noise made at its drawn scale (the clean picture enlarged by it), then scaled down to the picture.</summary>
    Tensor WideNoise(Tensor clean, Generator generator)
    {
        long n = clean.shape[0], h = clean.shape[2], w = clean.shape[3];
        var camera = DrawWide(n, clean.device, generator);
        var draws = torch.rand(new long[] { n }, generator: generator, device: clean.device).cpu().data<float>().ToArray();
        int[] scale = draws.Select(u => { double c = 0; for (int k = 0; k < Scales.Length; k++) if (u < (c += Scales[k].Chance)) return k; return Scales.Length - 1; }).ToArray();
        var noise = torch.empty_like(clean);
        for (int k = 0; k < Scales.Length; k++)
        {
            long[] index = Enumerable.Range(0, (int)n).Where(i => scale[i] == k).Select(i => (long)i).ToArray();
            if (index.Length == 0) continue;
            using var at = torch.tensor(index, device: clean.device);
            var part = clean.index_select(0, at);
            var cam = Select(camera, at, index);
            double f = Scales[k].Factor;
            var made = f == 1 ? PipelineNoise(part, cam, generator)
                : CameraStages.Downscale(PipelineNoise(nn.functional.interpolate(part, new long[] { (long)Math.Round(h * f), (long)Math.Round(w * f) },
                                                                                   mode: InterpolationMode.Bilinear, align_corners: false).Clamp_(0, 1), cam, generator), h, w);
            noise.index_copy_(0, at, made);
        }
        return noise;
    }

    /// <summary>The noise the camera leaves on <paramref name="clean"/> (B, 3, H, W), before clipping and 8 bits.</summary>
    static Tensor PipelineNoise(Tensor clean, Camera camera, Generator generator)
    {
        long h = clean.shape[2], w = clean.shape[3];
        // The 2x2 mosaic needs even sides: an odd one gets its edge repeated once, and the extra row or column is dropped after.
        var even = nn.functional.pad(clean, new long[] { 0, w % 2, 0, h % 2 }, PaddingModes.Replicate);
        var raw = CameraStages.Mosaic(Unprocess(even, camera));
        var variance = (raw * camera.Shot).Plus_(camera.Read);
        var noisyRaw = (torch.randn(raw.shape, device: raw.device, generator: generator) * variance.sqrt_()).Plus_(raw).Clamp_(0, 1);
        var noise = Smooth((Process(noisyRaw, camera) - Process(raw, camera)).narrow(2, 0, h).narrow(3, 0, w), camera);
        if (camera.SharpenAmount is { } amount) noise = CameraStages.Sharpen(noise, amount, camera.SharpenWidth!, MaxSharpenWidth);
        if (camera.BlotchRms is { } blotchRms)
        {
            var lumaRms = CameraStages.Rms(Colour.Luma(noise)).view(-1);
            noise = noise.Plus_(CameraStages.ChromaBlotches(clean.shape[0], h, w, camera.BlotchWidth!, blotchRms * lumaRms, MaxBlotchWidth, generator, clean.device, clean.dtype));
        }
        return noise;
    }

    Camera Draw(long n, Device device, Generator gen)
    {
        var (camToRgb, rgbToCam, gains) = DrawColour(n, device, gen);
        var (shot, read, widths, chromaKept) = DrawNoise(n, MaxShot, device, gen);
        return new Camera(camToRgb, rgbToCam, gains, shot, read, widths, chromaKept,
                          Held.Full(new long[] { n, 1, 1, 1 }, 2.2f, device: device), torch.ones(n, 1, 1, 1, device: device),
                          Enumerable.Repeat(DemosaicMethod.Bilinear, (int)n).ToArray());
    }

    /// <summary>camera-wide's draw: every stage's parameters per image (the class's summary lists them).</summary>
    Camera DrawWide(long n, Device device, Generator gen)
    {
        Tensor U(params long[] shape) => torch.rand(shape, generator: gen, device: device);
        Tensor Chance(double p) => U(n).Below(p).to_type(ScalarType.Float32); // 1 with chance p, per image
        var (camToRgb, rgbToCam, gains) = DrawColour(n, device, gen);
        var (shot, read, widths, chromaKept) = DrawNoise(n, MaxShotWide, device, gen);
        // Half the cameras keep all the luma noise's RMS (a DSLR's light touch), half reduce it, down to MinLumaKept.
        var lumaKept = (Chance(0.5) * U(n).Times_(-(1 - MinLumaKept))).Plus_(1);
        var gamma = U(n, 1, 1, 1).Times_(0.8).Plus_(1.8);
        var tone = U(n, 1, 1, 1).Below(0.75).to_type(ScalarType.Float32);
        var methods = U(n).Times_(3).floor_().cpu().data<float>().Select(v => (DemosaicMethod)Math.Min((int)v, 2)).ToArray();
        var sharpen = Chance(0.5) * U(n).Times_(MaxSharpen);
        var sharpenWidth = U(n).Times_(MaxSharpenWidth - 0.5).Plus_(0.5);
        var blotchWidth = U(n).Times_(MaxBlotchWidth - 2).Plus_(2);
        var blotchRms = Chance(0.5) * U(n).Times_(MaxBlotchRms);
        return new Camera(camToRgb, rgbToCam, gains, shot, read, widths, chromaKept, gamma, tone, methods,
                          lumaKept, sharpen, sharpenWidth, blotchWidth, blotchRms);
    }

    /// <summary>
    /// The raw noise's levels, shot (up to <paramref name="maxShot"/>) and read tied to it as Brooks, and the camera's
    /// noise reduction: a luma width, a chroma width at least as wide, and the share of chroma noise left.
    /// </summary>
    static (Tensor Shot, Tensor Read, Tensor Widths, Tensor ChromaKept) DrawNoise(long n, double maxShot, Device device, Generator gen)
    {
        Tensor U(params long[] shape) => torch.rand(shape, generator: gen, device: device);
        var logShot = U(n, 1, 1, 1).Times_(Math.Log(maxShot) - Math.Log(MinShot)).Plus_(Math.Log(MinShot));
        var logRead = logShot.Times(2.18).Plus_(1.2).Plus_(torch.randn(new long[] { n, 1, 1, 1 }, generator: gen, device: device).Times_(0.26));
        var luma = U(n, 1).Times_(MaxSmoothing);
        var chroma = luma.Plus(U(n, 1) * luma.From(MaxChromaSmoothing));
        var widths = torch.cat(new[] { luma, chroma, chroma }, 1);
        var kept = U(n).Times_(1 - MinChromaKept).Plus_(MinChromaKept);
        return (logShot.exp(), logRead.exp(), widths, kept);
    }

    /// <summary>The images <paramref name="index"/> of a drawn batch of cameras.</summary>
    static Camera Select(Camera c, Tensor at, long[] index)
    {
        Tensor? S(Tensor? t) => t?.index_select(0, at);
        return new Camera(S(c.CamToRgb)!, S(c.RgbToCam)!, S(c.Gains)!, S(c.Shot)!, S(c.Read)!, S(c.Widths)!, S(c.ChromaKept)!, S(c.Gamma)!, S(c.Tone)!,
                          index.Select(i => c.Demosaic[i]).ToArray(), S(c.LumaKept), S(c.SharpenAmount), S(c.SharpenWidth), S(c.BlotchWidth), S(c.BlotchRms));
    }

    /// <summary>A colour matrix (a random mix of the four cameras') and white-balance and brightness gains, as Brooks.</summary>
    static (Tensor CamToRgb, Tensor RgbToCam, Tensor Gains) DrawColour(long n, Device device, Generator gen)
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
        return (camToRgb, rgbToCam, gains);
    }

    static Tensor Matrix(float[,] m, Device device) =>
        torch.tensor(Enumerable.Range(0, 9).Select(k => m[k / 3, k % 3]).ToArray(), new long[] { 3, 3 }, device: device);

    /// <summary>sRGB (B, 3, H, W) to the camera's white-balanced-back raw RGB, before the mosaic.</summary>
    static Tensor Unprocess(Tensor srgb, Camera camera)
    {
        var s = srgb.Clamp(0, 1);
        var toned = (InverseSmoothstep(s) * camera.Tone).Plus_(s * camera.Tone.From(1));
        var linear = toned.AtLeast_(1e-8).pow(camera.Gamma);
        var cam = ApplyMatrix(linear, camera.RgbToCam);
        // Brooks' highlight-preserving inverse gains: near white the gain fades to 1, so highlights are not pushed to clip.
        var grey = cam.mean(new long[] { 1 }, keepdim: true);
        var mask = grey.Plus(-0.9).AtLeast_(0).Over_(0.1).Power_(2);
        var inverse = camera.Gains.reciprocal().unsqueeze(-1).unsqueeze(-1);
        var safe = torch.maximum(mask.Plus(mask.From(1) * inverse), inverse);
        // Saturated colours come out of the colour matrix slightly negative; light cannot be, and the shot noise's variance must not be.
        return (cam * safe).AtLeast_(0);
    }

    /// <summary>Raw (B, 1, H, W) mosaic to sRGB: gains, demosaicing, colour matrix, gamma, tone curve.</summary>
    static Tensor Process(Tensor bayer, Camera camera)
    {
        var (r, g, b) = CameraStages.Sites(bayer);
        var gains = camera.Gains.unsqueeze(-1).unsqueeze(-1); // (n, 3, 1, 1)
        var balanced = (bayer * (r * gains.narrow(1, 0, 1)).Plus_(g * gains.narrow(1, 1, 1)).Plus_(b * gains.narrow(1, 2, 1))).Clamp_(0, 1);
        var rgb = CameraStages.Demosaic(balanced, camera.Demosaic);
        var s = ApplyMatrix(rgb, camera.CamToRgb).Clamp_(1e-8, 1).pow(camera.Gamma.reciprocal());
        var smoothstep = s * s * s.Times(-2).Plus_(3); // 3s^2 - 2s^3: the tone curve Brooks fit
        return (smoothstep * camera.Tone).Plus_(s * camera.Tone.From(1));
    }

    /// <summary>
    /// The camera's own noise reduction, as it leaves the noise. In YCbCr, each image's luma noise is blurred by a Gaussian
    /// of a drawn width (0 to <see cref="MaxSmoothing"/> pixels) and scaled back to its RMS (camera-wide: to a drawn share
    /// of it); its chroma noise, which cameras reduce harder, by a wider one (up to <see cref="MaxChromaSmoothing"/>) and
    /// scaled to a drawn share (a quarter to all) of its RMS. What remains of camera noise in its JPEGs is such
    /// blotches, mostly grey: on PolyU, the real-minus-mean difference averaged over 8x8 blocks keeps 60-80% of its RMS,
    /// bilinear demosaicing alone 30-40% (docs/real-photographs.md).
    /// </summary>
    static Tensor Smooth(Tensor noise, Camera camera)
    {
        long n = noise.shape[0];
        using var scope = NewDisposeScope();
        var ycc = Colour.ToYCbCr(noise);
        var smooth = CameraStages.GaussianBlur(ycc, camera.Widths, MaxChromaSmoothing);
        var rms = CameraStages.Rms(ycc);
        var smoothRms = CameraStages.Rms(smooth).AtLeast_(1e-12);
        var lumaKept = camera.LumaKept?.view(n, 1) ?? torch.ones(n, 1, device: noise.device);
        var kept = torch.cat(new[] { lumaKept, camera.ChromaKept.view(n, 1).expand(n, 2) }, 1).view(n, 3, 1, 1);
        return Colour.FromYCbCr(smooth * (rms / smoothRms) * kept).MoveToOuterDisposeScope();
    }

    static Tensor InverseSmoothstep(Tensor y) => y.Times(-2).Plus_(1).asin_().Over_(3).sin_().From(0.5); // 0.5 - sin(asin(1 - 2y) / 3)

    static Tensor ApplyMatrix(Tensor image, Tensor m) => torch.einsum("nij,njhw->nihw", m, image);

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
