// The shape calculator against TorchSharp's real layers over a grid of settings, errors included.
using Denoiser.Shapes;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Denoiser.Tests.Shapes;

public class ConvArithmeticTests
{
    static IEnumerable<ConvSide> Grid(bool transposed)
    {
        foreach (long k in new[] { 1, 2, 3, 5 })
            foreach (long s in new[] { 1, 2, 3 })
                foreach (long p in new[] { 0, 1, 2 })
                    foreach (long d in new[] { 1, 2 })
                        foreach (long op in transposed ? new long[] { 0, 1, 2 } : new long[] { 0 })
                            yield return new ConvSide(k, s, p, d, op);
    }

    /// <summary>The layer's output side, or null when TorchSharp refuses the settings or the input.</summary>
    static long? Torch(Func<nn.Module<Tensor, Tensor>> layer, long input)
    {
        try
        {
            using var m = layer();
            using var _ = torch.no_grad();
            using var x = torch.zeros(1, 1, input, input); // square: TorchSharp 0.107 applies an output_padding tuple's first value to both sides
            using var y = m.forward(x);
            return y.shape[2];
        }
        catch (Exception) { return null; }
    }

    static long? Calculated(Func<long> f)
    {
        try { return f(); }
        catch (InvalidShapeException) { return null; }
    }

    [Fact]
    public void Conv_output_matches_conv2d_over_a_grid_and_refuses_exactly_what_torch_refuses()
    {
        int compared = 0, refused = 0;
        foreach (var c in Grid(transposed: false))
            for (long input = 1; input <= 12; input++)
            {
                long? torchSide = Torch(() => nn.Conv2d(1, 1, c.Kernel, c.Stride, c.Padding, c.Dilation), input);
                long? ours = Calculated(() => ConvArithmetic.ConvOut(input, c));
                Assert.True(torchSide == ours, $"in {input}, {c}: torch {torchSide?.ToString() ?? "refuses"}, calculator {ours?.ToString() ?? "refuses"}");
                compared++;
                if (ours == null) refused++;
            }
        Assert.True(refused > 10 && refused < compared / 2, $"{refused} of {compared} refused: the grid should hold both kinds");
    }

    [Fact]
    public void Max_pool_follows_the_same_formula()
    {
        foreach (var (k, s) in new[] { (2L, 2L), (3L, 2L), (2L, 1L) })
            for (long input = 2; input <= 30; input++)
                Assert.Equal(Torch(() => nn.MaxPool2d(k, s), input), Calculated(() => ConvArithmetic.ConvOut(input, new ConvSide(k, s))));
    }

    [Fact]
    public void Transposed_output_matches_conv_transpose2d_over_a_grid_and_refuses_exactly_what_torch_refuses()
    {
        int compared = 0, refused = 0;
        foreach (var c in Grid(transposed: true))
            for (long input = 1; input <= 8; input++)
            {
                long? torchSide = Torch(() => nn.ConvTranspose2d(1, 1, c.Kernel, c.Stride, c.Padding, c.OutputPadding, c.Dilation), input);
                long? ours = Calculated(() => ConvArithmetic.TransposedOut(input, c));
                Assert.True(torchSide == ours, $"in {input}, {c}: torch {torchSide?.ToString() ?? "refuses"}, calculator {ours?.ToString() ?? "refuses"}");
                compared++;
                if (ours == null) refused++;
            }
        Assert.True(refused > 10 && refused < compared / 2, $"{refused} of {compared} refused: the grid should hold both kinds");
    }

    [Fact]
    public void Invert_gives_the_output_padding_that_brings_every_size_back()
    {
        var (down, back, op) = ConvArithmetic.Invert(24, new ConvSide(3, 2, 1));
        Assert.Equal((12L, 23L, 1L), (down, back, op)); // the issue's example: 24 -> 12 -> 24 needs output_padding 1

        foreach (var c in Grid(transposed: false))
            for (long input = 1; input <= 16; input++)
            {
                if (Calculated(() => ConvArithmetic.ConvOut(input, c)) is not { } mid) continue;
                var (_, _, outputPadding) = ConvArithmetic.Invert(input, c);
                Assert.InRange(outputPadding, 0, c.Stride - 1);
                var t = c with { OutputPadding = outputPadding };
                // The real layers: down with Conv2d, back up with ConvTranspose2d, and the size is the input's again.
                Assert.Equal(mid, Torch(() => nn.Conv2d(1, 1, c.Kernel, c.Stride, c.Padding, c.Dilation), input));
                long? back2 = Torch(() => nn.ConvTranspose2d(1, 1, t.Kernel, t.Stride, t.Padding, t.OutputPadding, t.Dilation), mid);
                Assert.True(back2 == input, $"{c}: {input} -> {mid} -> {back2}");
            }
    }

    [Fact]
    public void The_sizes_that_share_an_output_are_the_floors_range()
    {
        var c = new ConvSide(3, 2, 1);
        var (first, last) = ConvArithmetic.InputsFor(12, c);
        Assert.Equal((23L, 24L), (first, last));
        for (long n = 1; n <= 40; n++)
            Assert.Equal(n >= first && n <= last, ConvArithmetic.ConvOut(n, c) == 12);
    }
}
