// The size arithmetic of one side of a Conv2d (or MaxPool2d) and a ConvTranspose2d, printed term by term (`shapes conv`,
// `convtranspose`, `invert`).

namespace Denoiser.Shapes;

public static class ArithmeticReport
{
    /// <summary>A Conv2d's output size along one side, term by term; and which inputs share it.</summary>
    public static void Conv(long n, ConvSide c)
    {
        long output = ConvArithmetic.ConvOut(n, c);
        Console.WriteLine($"Conv2d({c}): {n} -> {output}");
        Console.WriteLine("  out = floor((in + 2p - d(k-1) - 1) / s) + 1");
        Console.WriteLine($"      = floor(({n} + 2*{c.Padding} - {c.Dilation}*({c.Kernel}-1) - 1) / {c.Stride}) + 1");
        long numerator = n + 2 * c.Padding - c.Reach;
        Console.WriteLine($"      = floor({numerator} / {c.Stride}) + 1 = {numerator / c.Stride} + 1 = {output}");
        Console.WriteLine($"  padded input in + 2p = {n + 2 * c.Padding}; the kernel reaches d(k-1) + 1 = {c.Reach} pixels;" +
                          $" {c.Stride} step(s) between outputs");
        var (first, last) = ConvArithmetic.InputsFor(output, c);
        if (last > first)
            Console.WriteLine($"  inputs {first} to {last} all give {output}: the floor drops what is left after the last full step" +
                              $" (so a ConvTranspose2d needs output_padding to say which; see `shapes invert`)");
    }

    /// <summary>A ConvTranspose2d's output size along one side, term by term.</summary>
    public static void ConvTranspose(long n, ConvSide c)
    {
        long output = ConvArithmetic.TransposedOut(n, c);
        Console.WriteLine($"ConvTranspose2d({c}): {n} -> {output}");
        Console.WriteLine("  out = (in - 1)s - 2p + d(k-1) + output_padding + 1");
        Console.WriteLine($"      = ({n} - 1)*{c.Stride} - 2*{c.Padding} + {c.Dilation}*({c.Kernel}-1) + {c.OutputPadding} + 1");
        Console.WriteLine($"      = {(n - 1) * c.Stride} - {2 * c.Padding} + {c.Dilation * (c.Kernel - 1)} + {c.OutputPadding} + 1 = {output}");
        Console.WriteLine($"  each input pixel spreads a {c.Reach}-pixel kernel footprint, placed every {c.Stride} pixel(s); padding trims {c.Padding} from each end");
    }

    /// <summary>The ConvTranspose2d (output_padding included) that brings a Conv2d's output back to its input size, and why it is needed.</summary>
    public static void Invert(long n, ConvSide c)
    {
        var (down, back, outputPadding) = ConvArithmetic.Invert(n, c);
        Console.WriteLine($"Conv2d({c}): {n} -> {down}");
        Console.WriteLine($"ConvTranspose2d({c}): {down} -> {back}");
        if (outputPadding == 0)
            Console.WriteLine($"  already {n}: output_padding = 0 (the default)");
        else
        {
            Console.WriteLine($"  {back} is not {n}: output_padding = {n} - {back} = {outputPadding}");
            Console.WriteLine($"ConvTranspose2d({c with { OutputPadding = outputPadding }}): {down} -> {n}");
        }
        var (first, last) = ConvArithmetic.InputsFor(down, c);
        if (last > first)
            Console.WriteLine($"  why: the convolution maps every size from {first} to {last} to {down} (its floor drops the remainder), " +
                              "so the transposed one cannot know which to give back; output_padding adds the difference on one side.");
        Console.WriteLine("  note: this restores the size, not the image. A transposed convolution is the convolution's adjoint " +
                          "(its gradient with respect to the input), with its own learned weights: an upsampler, not an inverse.");
    }
}
