// The size arithmetic of Conv2d, MaxPool2d and ConvTranspose2d along one spatial side, as PyTorch defines it.
namespace Denoiser.Shapes;

/// <summary>The settings of a layer along one side; the same names as torch.nn's arguments.</summary>
public readonly record struct ConvSide(long Kernel, long Stride = 1, long Padding = 0, long Dilation = 1, long OutputPadding = 0)
{
    /// <summary>How many input positions one output position sees: d(k - 1) + 1.</summary>
    public long Reach => Dilation * (Kernel - 1) + 1;

    public override string ToString() =>
        $"kernel_size={Kernel}, stride={Stride}, padding={Padding}" + (Dilation != 1 ? $", dilation={Dilation}" : "") +
        (OutputPadding != 0 ? $", output_padding={OutputPadding}" : "");
}

/// <summary>Thrown for settings that torch refuses or that leave no output; the message says which and why.</summary>
public sealed class InvalidShapeException(string message) : Exception(message);

public static class ConvArithmetic
{
    /// <summary>Conv2d (and MaxPool2d without ceil_mode): out = floor((in + 2p - d(k - 1) - 1) / s) + 1.</summary>
    public static long ConvOut(long input, ConvSide c)
    {
        CheckCommon(input, c);
        long reach = c.Reach, padded = input + 2 * c.Padding;
        if (padded < reach)
            throw new InvalidShapeException($"the kernel's reach d(k-1)+1 = {reach} is larger than the padded input in+2p = {padded}, so there is no output; use a smaller kernel or dilation, or more padding.");
        return (padded - reach) / c.Stride + 1; // non-negative here, so integer division is the floor
    }

    /// <summary>ConvTranspose2d: out = (in - 1)s - 2p + d(k - 1) + output_padding + 1.</summary>
    public static long TransposedOut(long input, ConvSide c)
    {
        CheckCommon(input, c);
        if (c.OutputPadding < 0) throw new InvalidShapeException($"output_padding must be 0 or more, not {c.OutputPadding}.");
        if (c.OutputPadding >= c.Stride && c.OutputPadding >= c.Dilation)
            throw new InvalidShapeException($"output_padding ({c.OutputPadding}) must be smaller than the stride ({c.Stride}) or the dilation ({c.Dilation}); torch refuses it.");
        long output = (input - 1) * c.Stride - 2 * c.Padding + c.Dilation * (c.Kernel - 1) + c.OutputPadding + 1;
        if (output < 1)
            throw new InvalidShapeException($"the output would be {output} wide: padding 2p = {2 * c.Padding} removes more than the upsampled size (in-1)s + d(k-1) + output_padding + 1 = {output + 2 * c.Padding}; use less padding.");
        return output;
    }

    /// <summary>Every input size that a convolution with <paramref name="c"/> maps to <paramref name="output"/>.</summary>
    /// <remarks>The floor division makes the map many-to-one: s consecutive sizes share each output size.</remarks>
    public static (long First, long Last) InputsFor(long output, ConvSide c)
    {
        long first = Math.Max(1, (output - 1) * c.Stride - 2 * c.Padding + c.Reach);
        return (first, (output - 1) * c.Stride - 2 * c.Padding + c.Reach + c.Stride - 1);
    }

    /// <summary>
    /// The output_padding with which ConvTranspose2d (the same kernel, stride, padding, dilation) maps the
    /// convolution's output of <paramref name="input"/> back to <paramref name="input"/>; always in [0, s).
    /// </summary>
    public static (long ConvOutput, long WithoutOutputPadding, long OutputPadding) Invert(long input, ConvSide c)
    {
        long down = ConvOut(input, c with { OutputPadding = 0 });
        long back = (down - 1) * c.Stride - 2 * c.Padding + c.Dilation * (c.Kernel - 1) + 1;
        long outputPadding = input - back;
        // The transposed layer is then legal: output_padding < s (the floor dropped at most s - 1 positions).
        TransposedOut(down, c with { OutputPadding = outputPadding });
        return (down, back, outputPadding);
    }

    static void CheckCommon(long input, ConvSide c)
    {
        if (input < 1) throw new InvalidShapeException($"the input size must be 1 or more, not {input}.");
        if (c.Kernel < 1) throw new InvalidShapeException($"the kernel size must be 1 or more, not {c.Kernel}.");
        if (c.Stride < 1) throw new InvalidShapeException($"the stride must be 1 or more, not {c.Stride}.");
        if (c.Padding < 0) throw new InvalidShapeException($"the padding must be 0 or more, not {c.Padding}.");
        if (c.Dilation < 1) throw new InvalidShapeException($"the dilation must be 1 or more, not {c.Dilation}.");
    }
}
