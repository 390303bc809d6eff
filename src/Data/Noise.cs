// Corruptions as seeded, reusable transforms, named by specs such as gaussian:0.5 or salt-pepper:0.1.
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Data;

/// <summary>A noise model for images in [0, 1]; the same generator state gives the same noise.</summary>
public abstract record Noise(double Level)
{
    /// <summary>The spec this noise was parsed from, in canonical form (kind:level).</summary>
    public virtual string Spec => $"{Kind}:{Level.ToString(CultureInfo.InvariantCulture)}";
    protected abstract string Kind { get; }

    /// <summary>A noisy copy of <paramref name="clean"/>, clipped to [0, 1] (but for the papers' gaussian:S/255).</summary>
    public abstract Tensor Apply(Tensor clean, Generator generator);

    public const string Kinds = "gaussian:SIGMA, gaussian:S/255 (the papers' protocol), gaussian:LOW-HIGH/255 (a sigma drawn per image), " +
                                "salt-pepper:FRACTION, speckle:SIGMA, poisson:PEAK, or none (the images are noisy already)";

    /// <summary>Parses kind:level; a bare number means gaussian. Throws FormatException saying what is accepted.</summary>
    public static Noise Parse(string spec)
    {
        if (spec.Trim().Equals("none", StringComparison.OrdinalIgnoreCase)) return NoNoise.Instance;
        if (System.Text.RegularExpressions.Regex.Match(spec.Trim(), @"^gaussian:\s*([0-9.]+)\s*-\s*([0-9.]+)\s*/\s*255$", System.Text.RegularExpressions.RegexOptions.IgnoreCase) is
            { Success: true } range)
            return double.TryParse(range.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double low) && double.IsFinite(low) &&
                   double.TryParse(range.Groups[2].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double high) && double.IsFinite(high)
                ? low < high ? new BlindGaussianNoise(low, high) : throw new FormatException($"noise '{spec}': the range's low end must be below its high end")
                : throw new FormatException($"noise '{spec}' does not parse; use {Kinds}");
        if (System.Text.RegularExpressions.Regex.Match(spec.Trim(), @"^gaussian:\s*([0-9.]+)\s*/\s*255$", System.Text.RegularExpressions.RegexOptions.IgnoreCase) is
            { Success: true } paper)
            return double.TryParse(paper.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double s255) && double.IsFinite(s255)
                ? new PaperGaussianNoise(s255)
                : throw new FormatException($"noise '{spec}' does not parse; use {Kinds}");
        string[] parts = spec.Trim().Split(':');
        string kind = parts.Length == 2 ? parts[0].Trim().ToLowerInvariant() : "gaussian";
        string number = parts[^1].Trim();
        if (parts.Length > 2 || !double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double level) || !double.IsFinite(level))
            throw new FormatException($"noise '{spec}' does not parse; use {Kinds}");
        return kind switch
        {
            "gaussian" when level >= 0 => new GaussianNoise(level),
            "salt-pepper" when level is >= 0 and <= 1 => new SaltPepperNoise(level),
            "speckle" when level >= 0 => new SpeckleNoise(level),
            "poisson" when level > 0 => new PoissonNoise(level),
            "gaussian" or "speckle" => throw new FormatException($"noise '{spec}': sigma must be zero or more"),
            "salt-pepper" => throw new FormatException($"noise '{spec}': the fraction must be between 0 and 1"),
            "poisson" => throw new FormatException($"noise '{spec}': the peak (photons at white) must be more than 0"),
            _ => throw new FormatException($"noise '{spec}': unknown kind '{kind}'; use {Kinds}"),
        };
    }
}

/// <summary>Nothing added: for images that are noisy already (self-supervised training, scoring real noisy pairs).</summary>
public sealed record NoNoise() : Noise(0)
{
    public static readonly NoNoise Instance = new();
    protected override string Kind => "none";
    public override string Spec => "none";
    public override Tensor Apply(Tensor clean, Generator generator) => clean.clone();
}

/// <summary>x + sigma * N(0, 1): the seed's noise.</summary>
public sealed record GaussianNoise(double Sigma) : Noise(Sigma)
{
    protected override string Kind => "gaussian";
    public override Tensor Apply(Tensor clean, Generator generator) =>
        torch.randn(clean.shape, dtype: clean.dtype, device: clean.device, generator: generator).mul_(Sigma).add_(clean).clamp_(0, 1);
}

/// <summary>
/// x + S/255 * N(0, 1) with S on the 0-255 scale, added in floating point and neither clipped nor rounded: how the
/// denoising papers (DnCNN, FFDNet, DRUNet) corrupt their test images, and so how `evaluate` scores as they do.
/// </summary>
public sealed record PaperGaussianNoise(double Sigma255) : Noise(Sigma255 / 255)
{
    protected override string Kind => "gaussian";
    public override string Spec => $"gaussian:{Sigma255.ToString(CultureInfo.InvariantCulture)}/255";
    public override Tensor Apply(Tensor clean, Generator generator) =>
        torch.randn(clean.shape, dtype: clean.dtype, device: clean.device, generator: generator).mul_(Level).add_(clean);
}

/// <summary>
/// The papers' noise with a sigma drawn per image, uniformly in [Low255, High255] on the 0-255 scale: how a blind
/// denoiser is trained (DnCNN-B: 0-55). Unclipped, as <see cref="PaperGaussianNoise"/>. Its Level is the midpoint.
/// </summary>
public sealed record BlindGaussianNoise(double Low255, double High255) : Noise((Low255 + High255) / 2 / 255)
{
    protected override string Kind => "gaussian";
    public override string Spec => $"gaussian:{Low255.ToString(CultureInfo.InvariantCulture)}-{High255.ToString(CultureInfo.InvariantCulture)}/255";
    public override Tensor Apply(Tensor clean, Generator generator)
    {
        using var scope = NewDisposeScope();
        var shape = new long[clean.dim()];
        Array.Fill(shape, 1L);
        shape[0] = clean.shape[0];
        var sigma = torch.rand(shape, dtype: clean.dtype, device: clean.device, generator: generator).mul_((High255 - Low255) / 255).add_(Low255 / 255);
        return torch.randn(clean.shape, dtype: clean.dtype, device: clean.device, generator: generator).mul_(sigma).add_(clean).MoveToOuterDisposeScope();
    }
}

/// <summary>A fraction of pixels set to 0 or 1 (half each), the rest untouched.</summary>
public sealed record SaltPepperNoise(double Fraction) : Noise(Fraction)
{
    protected override string Kind => "salt-pepper";
    public override Tensor Apply(Tensor clean, Generator generator)
    {
        using var scope = NewDisposeScope();
        var u = torch.rand(clean.shape, dtype: clean.dtype, device: clean.device, generator: generator);
        var noisy = clean.clone();
        noisy.masked_fill_(u < Fraction / 2, 0).masked_fill_(u > 1 - Fraction / 2, 1);
        return noisy.MoveToOuterDisposeScope();
    }
}

/// <summary>x + x * sigma * N(0, 1): noise proportional to brightness (as scikit-image's 'speckle').</summary>
public sealed record SpeckleNoise(double Sigma) : Noise(Sigma)
{
    protected override string Kind => "speckle";
    public override Tensor Apply(Tensor clean, Generator generator) =>
        torch.randn(clean.shape, dtype: clean.dtype, device: clean.device, generator: generator).mul_(Sigma).mul_(clean).add_(clean).clamp_(0, 1);
}

/// <summary>Shot noise: Poisson(x * peak) / peak, where peak is the expected photon count of a white pixel.</summary>
public sealed record PoissonNoise(double Peak) : Noise(Peak)
{
    protected override string Kind => "poisson";
    public override Tensor Apply(Tensor clean, Generator generator)
    {
        using var scope = NewDisposeScope();
        return torch.poisson(clean * Peak, generator).div_(Peak).clamp_(0, 1).MoveToOuterDisposeScope();
    }
}
