// Corruptions as seeded, reusable transforms, named by specs such as gaussian:25/255, gaussian:0.5,clip or poisson:30,8bit.
using System.Globalization;
using System.Text.RegularExpressions;
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Data;

/// <summary>
/// What becomes of the noisy values, the same for every kind of noise: kept as computed (the papers' protocol: values
/// below 0 and above 1 stay), clipped to [0, 1], or clipped and rounded to the 8-bit grid, as an image file holds them.
/// </summary>
public enum NoiseRange { Float, Clip, EightBit }

/// <summary>A noise model for images in [0, 1]; the same generator state gives the same noise.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(SpecJsonConverter<Noise>))]
public abstract record Noise(NoiseRange Range) : ISpec<Noise>
{
    /// <summary>The canonical spec: kind:level, then ",clip" or ",8bit" when the values are clipped or rounded.</summary>
    public string Spec => Body + Range switch { NoiseRange.Clip => ",clip", NoiseRange.EightBit => ",8bit", _ => "" };

    public sealed override string ToString() => Spec;

    /// <summary>kind:level, without the range.</summary>
    protected abstract string Body { get; }

    /// <summary>The one size of the noise on [0, 1] units: sigma, the midpoint of a sigma range, a fraction or a peak.</summary>
    public abstract double Level { get; }

    /// <summary>Gaussian noise, of one sigma or of a sigma drawn per image: what non-local means and plots against sigma take.</summary>
    public virtual bool IsGaussian => false;

    /// <summary>The sigma of Gaussian noise of one known sigma (on [0, 1] units); null for any other noise, a sigma range included.</summary>
    public virtual double? KnownSigma => null;

    /// <summary>A noisy copy of <paramref name="clean"/>, then clipped or rounded as <see cref="Range"/> says.</summary>
    public Tensor Apply(Tensor clean, Generator generator)
    {
        var noisy = Add(clean, generator);
        return Range switch
        {
            NoiseRange.Clip => noisy.Clamp_(0, 1),
            NoiseRange.EightBit => noisy.Clamp_(0, 1).Times_(255).round_().Over_(255),
            _ => noisy,
        };
    }

    /// <summary>The noisy values as computed, unclipped.</summary>
    protected abstract Tensor Add(Tensor clean, Generator generator);

    public const string Kinds = "gaussian:SIGMA (on [0, 1]), gaussian:S/255 (on the 0-255 scale), gaussian:LOW-HIGH/255 (a sigma drawn per image), " +
                                "salt-pepper:FRACTION, speckle:SIGMA, poisson:PEAK, camera (a DSLR's noise, always 8-bit; camera:SHARE JPEGs that share, default 0.5), camera-wide (the pipelines of many cameras and phones, drawn per image), " +
                                "or none (the images are noisy already); " +
                                "then ,clip to clip to [0, 1] or ,8bit to clip and round to 8 bits as image files hold them (default: neither, as the papers); " +
                                "A+B mixes kinds, one drawn per image";

    /// <summary>Parses kind:level[,clip|,8bit]; a bare number means gaussian. Throws FormatException saying what is accepted.</summary>
    public static Noise Parse(string spec)
    {
        if (spec.Contains('+'))
            return new MixedNoise(spec.Split('+').Select(p => p.Trim().Length > 0 ? Parse(p)
                : throw new FormatException($"noise '{spec}': an empty part; write A+B")).ToArray());
        string[] parts = spec.Split(',').Select(p => p.Trim()).ToArray();
        if (parts[0].Equals("none", StringComparison.OrdinalIgnoreCase))
            return parts.Length == 1 ? NoNoise.Instance : throw new FormatException($"noise '{spec}': none adds nothing, so there is nothing to clip or round");
        if (parts.Length > 2)
            throw new FormatException($"noise '{spec}': give at most one of ,clip and ,8bit (8bit clips too)");
        var range = parts.Length == 1 ? NoiseRange.Float : parts[1].ToLowerInvariant() switch
        {
            "clip" => NoiseRange.Clip,
            "8bit" => NoiseRange.EightBit,
            _ => throw new FormatException($"noise '{spec}': '{parts[1]}' is not ,clip or ,8bit"),
        };
        string body = parts[0];
        if (Regex.Match(body, @"^camera(-wide)?(?::(.+))?$", RegexOptions.IgnoreCase) is { Success: true } cam)
        {
            if (range == NoiseRange.Clip) throw new FormatException($"noise '{spec}': camera noise is always clipped and rounded to 8 bits, as a camera writes it; write camera or camera,8bit");
            double share = cam.Groups[2].Success ? Number(cam.Groups[2].Value, spec) : CameraNoise.DefaultJpegShare;
            return share is >= 0 and <= 1 ? new CameraNoise(share, Wide: cam.Groups[1].Success) : throw new FormatException($"noise '{spec}': the JPEG share must be between 0 and 1");
        }
        if (Regex.Match(body, @"^(?:gaussian:)?([^-/:]+?)(?:-([^-/:]+?))?(/255)?$", RegexOptions.IgnoreCase) is { Success: true } g
            && (body.StartsWith("gaussian:", StringComparison.OrdinalIgnoreCase) || !body.Contains(':')))
        {
            double low = Number(g.Groups[1].Value, spec), high = g.Groups[2].Success ? Number(g.Groups[2].Value, spec) : low;
            if (low < 0) throw new FormatException($"noise '{spec}': sigma must be zero or more");
            if (g.Groups[2].Success && !(low < high)) throw new FormatException($"noise '{spec}': the range's low end must be below its high end");
            return new GaussianNoise(low, high, Over255: g.Groups[3].Success, range);
        }
        string[] kindLevel = body.Split(':');
        if (kindLevel.Length != 2) throw new FormatException($"noise '{spec}' does not parse; use {Kinds}");
        string kind = kindLevel[0].Trim().ToLowerInvariant();
        double level = Number(kindLevel[1], spec);
        return kind switch
        {
            "salt-pepper" when level is >= 0 and <= 1 => new SaltPepperNoise(level, range),
            "speckle" when level >= 0 => new SpeckleNoise(level, range),
            "poisson" when level > 0 => new PoissonNoise(level, range),
            "speckle" or "gaussian" when level < 0 => throw new FormatException($"noise '{spec}': sigma must be zero or more"),
            "salt-pepper" => throw new FormatException($"noise '{spec}': the fraction must be between 0 and 1"),
            "poisson" => throw new FormatException($"noise '{spec}': the peak (photons at white) must be more than 0"),
            _ => throw new FormatException($"noise '{spec}': unknown kind '{kind}'; use {Kinds}"),
        };
    }

    /// <summary>
    /// A spec as checkpoints of format 1 wrote it, in today's notation: then gaussian:SIGMA, speckle and poisson were
    /// clipped to [0, 1] and the /255 forms were not.
    /// </summary>
    public static string FromFormat1(string spec)
    {
        var noise = Parse(spec);
        bool clipped = noise is SpeckleNoise or PoissonNoise || noise is GaussianNoise { Over255: false };
        return clipped && noise.Range == NoiseRange.Float ? (noise with { Range = NoiseRange.Clip }).Spec : noise.Spec;
    }

    static double Number(string text, string spec) =>
        double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v)
            ? v : throw new FormatException($"noise '{spec}' does not parse; use {Kinds}");

    protected static string Format(double v) => v.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Nothing added: for images that are noisy already (self-supervised training, scoring real noisy pairs).</summary>
public sealed record NoNoise() : Noise(NoiseRange.Float)
{
    public static readonly NoNoise Instance = new();
    protected override string Body => "none";
    public override double Level => 0;
    protected override Tensor Add(Tensor clean, Generator generator) => clean.clone();
}

/// <summary>
/// x + sigma * N(0, 1), with sigma fixed or drawn per image uniformly in [Low, High] (how a blind denoiser is trained,
/// DnCNN-B: 0-55/255). <paramref name="Over255"/>: the sigmas were written on the 0-255 scale, as the papers write them.
/// </summary>
public sealed record GaussianNoise(double Low, double High, bool Over255, NoiseRange Range) : Noise(Range)
{
    double Scale => Over255 ? 255 : 1;
    protected override string Body => $"gaussian:{Format(Low)}{(High != Low ? "-" + Format(High) : "")}{(Over255 ? "/255" : "")}";
    public override double Level => (Low + High) / 2 / Scale;
    public override bool IsGaussian => true;
    public override double? KnownSigma => Low == High ? Low / Scale : null;

    protected override Tensor Add(Tensor clean, Generator generator)
    {
        if (KnownSigma is double sigma)
            return torch.randn(clean.shape, dtype: clean.dtype, device: clean.device, generator: generator).Times_(sigma).Plus_(clean);
        using var scope = NewDisposeScope();
        var shape = new long[clean.dim()];
        Array.Fill(shape, 1L);
        shape[0] = clean.shape[0];
        var sigmas = torch.rand(shape, dtype: clean.dtype, device: clean.device, generator: generator).Times_((High - Low) / Scale).Plus_(Low / Scale);
        return torch.randn(clean.shape, dtype: clean.dtype, device: clean.device, generator: generator).mul_(sigmas).Plus_(clean).MoveToOuterDisposeScope();
    }
}

/// <summary>A fraction of pixels set to 0 or 1 (half each), the rest untouched.</summary>
public sealed record SaltPepperNoise(double Fraction, NoiseRange Range = NoiseRange.Float) : Noise(Range)
{
    protected override string Body => $"salt-pepper:{Format(Fraction)}";
    public override double Level => Fraction;

    protected override Tensor Add(Tensor clean, Generator generator)
    {
        using var scope = NewDisposeScope();
        var u = torch.rand(clean.shape, dtype: clean.dtype, device: clean.device, generator: generator);
        var noisy = clean.clone();
        noisy.Fill_(u.Below(Fraction / 2), 0).Fill_(u.Above(1 - Fraction / 2), 1);
        return noisy.MoveToOuterDisposeScope();
    }
}

/// <summary>x + x * sigma * N(0, 1): noise proportional to brightness (as scikit-image's 'speckle').</summary>
public sealed record SpeckleNoise(double Sigma, NoiseRange Range = NoiseRange.Float) : Noise(Range)
{
    protected override string Body => $"speckle:{Format(Sigma)}";
    public override double Level => Sigma;

    protected override Tensor Add(Tensor clean, Generator generator) =>
        torch.randn(clean.shape, dtype: clean.dtype, device: clean.device, generator: generator).Times_(Sigma).mul_(clean).Plus_(clean);
}

/// <summary>Shot noise: Poisson(x * peak) / peak, where peak is the expected photon count of a white pixel.</summary>
public sealed record PoissonNoise(double Peak, NoiseRange Range = NoiseRange.Float) : Noise(Range)
{
    protected override string Body => $"poisson:{Format(Peak)}";
    public override double Level => Peak;

    protected override Tensor Add(Tensor clean, Generator generator)
    {
        using var scope = NewDisposeScope();
        return torch.poisson(clean.Times(Peak), generator).Over_(Peak).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Kinds of noise mixed: each image of a batch gets one of them, drawn uniformly (how a model is trained for
/// camera noise and the papers' Gaussian noise at once). Each part clips or rounds as its own spec says.
/// </summary>
public sealed record MixedNoise(Noise[] Parts) : Noise(NoiseRange.Float)
{
    protected override string Body => string.Join("+", Parts.Select(p => p.Spec));
    public override double Level => Parts.Average(p => p.Level);

    public bool Equals(MixedNoise? other) => other is not null && Parts.SequenceEqual(other.Parts);
    public override int GetHashCode() => Parts.Aggregate(0, (h, p) => HashCode.Combine(h, p));

    protected override Tensor Add(Tensor clean, Generator generator)
    {
        using var scope = NewDisposeScope();
        var which = torch.randint(0, Parts.Length, new long[] { clean.shape[0] }, generator: generator, device: clean.device);
        var noisy = torch.empty_like(clean);
        for (int k = 0; k < Parts.Length; k++)
        {
            var index = which.Is(k).nonzero().flatten();
            if (index.shape[0] == 0) continue;
            noisy.index_copy_(0, index, Parts[k].Apply(clean.index_select(0, index), generator));
        }
        return noisy.MoveToOuterDisposeScope();
    }
}
