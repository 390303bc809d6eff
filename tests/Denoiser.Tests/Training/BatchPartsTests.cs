// Splitting a batch across threads: the same loss and gradients as the whole batch, repeatable bit for bit.
using Denoiser.Models;
using Denoiser.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Denoiser.Tests.Training;

public class BatchPartsTests
{
    static (float Loss, float[][] Grads) Run(ConvDenoiser model, BatchParts parts, Tensor noisy, Tensor clean)
    {
        model.zero_grad();
        using var scope = NewDisposeScope();
        using var oneThread = parts.OneThreadHere();
        var loss = parts.LossAndGradients(model, noisy, clean);
        return (loss.item<float>(), model.parameters().Select(p => p.grad!.data<float>().ToArray()).ToArray());
    }

    [Theory]
    [InlineData(2, 20)]
    [InlineData(3, 20)]
    [InlineData(4, 3)] // more parts than images: one image a part
    public void Parts_give_the_whole_batch_loss_and_gradients(int count, int batch)
    {
        torch.manual_seed(5);
        using var model = new ConvDenoiser();
        using var noisy = torch.rand(batch, 1, 28, 28);
        using var clean = torch.rand(batch, 1, 28, 28);
        using var whole = new BatchParts(1);
        using var split = new BatchParts(count);

        var expected = Run(model, whole, noisy, clean);
        var actual = Run(model, split, noisy, clean);

        Assert.Equal(expected.Loss, actual.Loss, 6);
        for (int p = 0; p < expected.Grads.Length; p++)
        {
            float scale = expected.Grads[p].Max(MathF.Abs) + 1e-12f;
            float diff = expected.Grads[p].Zip(actual.Grads[p], (e, a) => MathF.Abs(e - a)).Max();
            Assert.True(diff / scale < 1e-5, $"parameter {p}: relative difference {diff / scale:G3}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Gradients_replace_what_the_parameters_held(int count)
    {
        // Training does not zero the gradients before a step: LossAndGradients must set them, not add to them.
        torch.manual_seed(5);
        using var model = new ConvDenoiser();
        using var noisy = torch.rand(6, 1, 28, 28);
        using var clean = torch.rand(6, 1, 28, 28);
        using var parts = new BatchParts(count);
        var first = Run(model, parts, noisy, clean);
        using (NewDisposeScope())
        using (parts.OneThreadHere())
            parts.LossAndGradients(model, noisy, clean); // the gradients are now set, and not zeroed before the next call
        using (NewDisposeScope())
        using (parts.OneThreadHere())
            parts.LossAndGradients(model, noisy, clean);
        var again = model.parameters().Select(p => p.grad!.data<float>().ToArray()).ToArray();
        Assert.Equal(first.Grads, again);
    }

    [Theory]
    [InlineData(2, 256)]
    [InlineData(3, 7)]
    public void Parts_give_the_whole_batch_output(int count, int batch)
    {
        torch.manual_seed(7);
        using var model = new ConvDenoiser();
        model.eval();
        using var x = torch.rand(batch, 1, 36, 28);
        using var parts = new BatchParts(count);
        using var noGrad = torch.no_grad();
        using var whole = model.forward(x);
        using (parts.OneThreadHere())
            for (int i = 0; i < 3; i++) // the first call runs the parts in turn, the later ones together
            {
                using var split = parts.Forward(model, x);
                Assert.Equal(whole.shape, split.shape);
                Assert.True((split - whole).abs().max().item<float>() < 1e-6f);
            }
    }

    [Fact]
    public void Split_gradients_are_the_same_bits_every_time()
    {
        // The parts finish in any order; the sum must not depend on it (resume and kill tests rely on this).
        torch.manual_seed(6);
        using var model = new ConvDenoiser();
        using var noisy = torch.rand(20, 1, 28, 28);
        using var clean = torch.rand(20, 1, 28, 28);
        using var parts = new BatchParts(3);
        var first = Run(model, parts, noisy, clean);
        for (int i = 0; i < 10; i++)
        {
            var again = Run(model, parts, noisy, clean);
            Assert.Equal(first.Loss, again.Loss);
            for (int p = 0; p < first.Grads.Length; p++) Assert.Equal(first.Grads[p], again.Grads[p]);
        }
    }

    [Fact]
    public void A_failing_part_is_reported_and_the_thread_count_restored()
    {
        using var model = new ConvDenoiser();
        using var noisy = torch.rand(4, 1, 28, 28);
        using var wrongTarget = torch.rand(4, 1, 20, 20); // MSE of 28x28 against 20x20 fails in every part
        using var parts = new BatchParts(2);
        int threads = torch.get_num_threads();
        using (parts.OneThreadHere())
        {
            Assert.ThrowsAny<Exception>(() => { using var _ = parts.LossAndGradients(model, noisy, wrongTarget); });
            // The workers still serve, and since the failed run never got to backward, this one sets the shape up
            // part after part again (run concurrently, it crashed the test host now and then).
            for (int i = 0; i < 20; i++)
            {
                using var fine = parts.LossAndGradients(model, noisy, noisy);
                Assert.True(fine.item<float>() >= 0);
            }
        }
        Assert.Equal(threads, torch.get_num_threads());
    }
}
