// What each training target feeds the model and the loss: the blind spots alone in Noise2Void's loss, two different
// draws in Noise2Noise's pairs, both shots of a stored pair used, everything repeatable from the seed.
using Denoiser.Data;
using Denoiser.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Denoiser.Tests.Training;

public class TargetTests
{
    static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    static Tensor Batch(int n, int c, int side, int seed)
    {
        using var gen = new Generator((ulong)seed);
        return torch.rand(new long[] { n, c, side, side }, generator: gen);
    }

    [Fact]
    public void Blind_spot_loss_comes_from_the_masked_pixels_alone_and_is_their_mean()
    {
        var target = Target.Create(TargetKind.BlindSpot, NoNoise.Instance, channels: 1, onDisk: false);
        using var noisy = Batch(4, 1, 32, seed: 1);
        using var gen = new Generator(5);
        var (input, reference) = target.Make(noisy, gen);
        using var mask = reference.narrow(1, 1, 1);
        Assert.Equal(4 * 16, mask.sum().item<float>()); // one spot per 8x8 cell: 1/64 of 32x32, per patch
        // Outside the spots the input is the noisy image itself; at them, another value (a neighbour's).
        Assert.True(Same(input.masked_select(mask.eq(0)), noisy.masked_select(mask.eq(0))));

        using var output = torch.rand(4, 1, 32, 32).requires_grad_(true);
        var loss = target.Loss(output, reference, (a, b) => nn.functional.mse_loss(a, b));
        loss.backward();
        using var touched = output.grad!.ne(0);
        Assert.True(Same(touched, mask.to_type(ScalarType.Bool)), "the gradient reaches exactly the masked pixels");
        using var byHand = (output - noisy).pow(2).masked_select(mask.to_type(ScalarType.Bool)).mean();
        Assert.Equal(byHand.item<float>(), loss.item<float>(), 5);
    }

    [Fact]
    public void Blind_spots_repeat_from_the_generator_and_differ_from_batch_to_batch()
    {
        var target = Target.Create(TargetKind.BlindSpot, NoNoise.Instance, channels: 3, onDisk: false);
        using var noisy = Batch(2, 3, 16, seed: 2);
        using var g1 = new Generator(9);
        using var g2 = new Generator(9);
        var (a, ma) = target.Make(noisy, g1);
        var (b, mb) = target.Make(noisy, g2);
        Assert.True(Same(a, b) && Same(ma, mb));
        var (_, next) = target.Make(noisy, g1);
        Assert.False(Same(next.narrow(1, 3, 1), ma.narrow(1, 3, 1)));
        // The same spot in every channel of an example (BlindSpot's rule): the mask has one plane.
        Assert.Equal(4, ma.shape[1]);
    }

    [Fact]
    public void Drawn_pairs_never_share_a_noise_draw_and_never_hand_the_clean_image_to_the_loss()
    {
        var target = Target.Create(TargetKind.NoisyPairs, Noise.Parse("gaussian:25/255"), channels: 1, onDisk: false);
        using var clean = Batch(8, 1, 24, seed: 3);
        using var gen = new Generator(4);
        var (input, reference) = target.Make(clean, gen);
        using var n1 = input - clean;
        using var n2 = reference - clean;
        Assert.False(Same(n1, n2));
        Assert.False(Same(reference, clean)); // the target is a noisy version too
        // Independent draws: their correlation is near 0 (4,608 samples: |r| < 0.06 at more than 4 standard errors).
        double r = (n1 * n2).mean().item<float>() / Math.Sqrt((n1 * n1).mean().item<float>() * (n2 * n2).mean().item<float>());
        Assert.InRange(r, -0.06, 0.06);
        Assert.InRange(Math.Sqrt((n2 * n2).mean().item<float>()) * 255, 23, 27);
    }

    [Fact]
    public void Stored_pairs_give_each_shot_in_turn_as_input_and_the_other_as_target()
    {
        var target = Target.Create(TargetKind.NoisyPairs, NoNoise.Instance, channels: 1, onDisk: true);
        using var pairs = Batch(64, 2, 8, seed: 6);
        using var gen = new Generator(7);
        var (input, reference) = target.Make(pairs, gen);
        int swapped = 0;
        for (int i = 0; i < 64; i++)
        {
            using var a = pairs[i, 0];
            using var b = pairs[i, 1];
            bool straight = Same(input[i, 0], a) && Same(reference[i, 0], b);
            bool turned = Same(input[i, 0], b) && Same(reference[i, 0], a);
            Assert.True(straight ^ turned);
            if (turned) swapped++;
        }
        Assert.InRange(swapped, 16, 48); // a fair coin per example
    }
}
