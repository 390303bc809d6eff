// Tensor arithmetic with numbers whose Scalars live until libtorch has returned: the one way numbers reach libtorch on
// every path that runs per image or per step (docs/native-lifetimes.md says why, and how it is tested).
//
// TorchSharp 0.107 turns each number in `t * 0.5 + 1` into a Scalar, and gives every add, tensor + tensor too, an
// alpha Scalar of 1, that nothing holds during the native call (dotnet/TorchSharp#1434). A trailing underscore works
// in place, as in torch. Each method calls the very op the operator would, with the same values.
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Data;

public static class Held
{
    static readonly Scalar One = 1; // every add's alpha, as TorchSharp's own add(t) passes it; a static field is never finalized

    public static Tensor Plus(this Tensor t, double value) { using var s = value.ToScalar(); return t.add(s, One); }
    public static Tensor Plus_(this Tensor t, double value) { using var s = value.ToScalar(); return t.add_(s, One); }
    /// <summary>t + other (Tensor + Tensor also takes an alpha Scalar).</summary>
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

    /// <summary>t &lt; value, element by element.</summary>
    public static Tensor Below(this Tensor t, double value) { using var s = value.ToScalar(); return t.lt(s); }

    /// <summary>t &gt; value, element by element.</summary>
    public static Tensor Above(this Tensor t, double value) { using var s = value.ToScalar(); return t.gt(s); }

    /// <summary>t == value, element by element (integers: an exact comparison).</summary>
    public static Tensor Is(this Tensor t, long value) { using var s = value.ToScalar(); return t.eq(s); }

    /// <summary>Whether each element is even: (t % 2) == 0.</summary>
    public static Tensor IsEven(this Tensor t)
    {
        using Scalar two = 2, zero = 0;
        using var remainder = t.remainder(two);
        return remainder.eq(zero);
    }

    /// <summary>t with <paramref name="value"/> where <paramref name="mask"/> is set, in place (masked_fill_).</summary>
    public static Tensor Fill_(this Tensor t, Tensor mask, double value) { using var s = value.ToScalar(); return t.masked_fill_(mask, s); }

    /// <summary>torch.arange(start, stop): start, start + 1, ..., stop - 1; int64 unless <paramref name="dtype"/> says otherwise.</summary>
    public static Tensor Range(long start, long stop, ScalarType? dtype = null, Device? device = null)
    {
        using Scalar from = start, to = stop, step = 1L; // arange(start, stop) would make the step itself, unheld
        return torch.arange(from, to, step, dtype, device);
    }

    /// <summary>torch.full: a tensor of <paramref name="shape"/> holding <paramref name="value"/> (the default float type unless <paramref name="dtype"/> says otherwise).</summary>
    public static Tensor Full(long[] shape, double value, ScalarType? dtype = null, Device? device = null)
    {
        using var s = value.ToScalar();
        return torch.full(shape, s, dtype, device);
    }
}
