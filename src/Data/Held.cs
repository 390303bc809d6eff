// Tensor arithmetic with numbers, for code that does much of it on small tensors (the noise synthesis).
//
// Why: TorchSharp 0.107 turns each number in `t * 0.5 + 1.9` into a Scalar, and gives every add an alpha Scalar of 1,
// that nothing holds while libtorch reads them (no GC.KeepAlive; dotnet/TorchSharp#1434 is still open). When a garbage
// collection started by another thread falls in that window, the finalizer frees the Scalar mid-call: "Expected false
// to be true" from c10::Scalar::toFloat, or an abort. Camera noise, about a hundred operations per image, hit it:
// `add-noise --noise camera` on 100 images failed 3 times in 24 runs with three running at once. These methods hold
// their Scalars until libtorch has returned. A trailing underscore works in place, as in torch.
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Data;

public static class Held
{
    static readonly Scalar One = 1.0; // every add's alpha; a static field is never finalized

    public static Tensor Plus(this Tensor t, double value) { using var s = value.ToScalar(); return t.add(s, One); }
    public static Tensor Plus_(this Tensor t, double value) { using var s = value.ToScalar(); return t.add_(s, One); }
    public static Tensor Plus(this Tensor t, Tensor other) => t.add(other, One);
    public static Tensor Plus_(this Tensor t, Tensor other) => t.add_(other, One);

    public static Tensor Times(this Tensor t, double value) { using var s = value.ToScalar(); return t.mul(s); }
    public static Tensor Times_(this Tensor t, double value) { using var s = value.ToScalar(); return t.mul_(s); }

    public static Tensor Over(this Tensor t, double value) { using var s = value.ToScalar(); return t.div(s); }
    public static Tensor Over_(this Tensor t, double value) { using var s = value.ToScalar(); return t.div_(s); }

    /// <summary>value - t.</summary>
    public static Tensor From(this Tensor t, double value) { using var s = value.ToScalar(); return t.neg().add_(s, One); }

    public static Tensor Power_(this Tensor t, double exponent) { using var s = exponent.ToScalar(); return t.pow_(s); }

    public static Tensor Clamp(this Tensor t, double min, double max)
    {
        using Scalar lo = min, hi = max;
        return t.clamp(lo, hi);
    }

    public static Tensor Clamp_(this Tensor t, double min, double max)
    {
        using Scalar lo = min, hi = max;
        return t.clamp_(lo, hi);
    }

    public static Tensor AtLeast(this Tensor t, double min) { using var s = min.ToScalar(); return t.clamp_min(s); }
    public static Tensor AtLeast_(this Tensor t, double min) { using var s = min.ToScalar(); return t.clamp_min_(s); }

    /// <summary>Whether each element is even: (t % 2) == 0.</summary>
    public static Tensor IsEven(this Tensor t)
    {
        using Scalar two = 2, zero = 0;
        using var remainder = t.remainder(two);
        return remainder.eq(zero);
    }
}
