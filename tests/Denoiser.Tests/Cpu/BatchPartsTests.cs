// Splitting a batch across threads: the same loss and gradients as the whole batch, repeatable bit for bit; models with
// BatchNorm are not split.
using Denoiser.Cpu;
using Denoiser.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Denoiser.Tests.Cpu;

public class BatchPartsTests
{
    static Tensor Mse(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y) => nn.functional.mse_loss(model.call(x), y);

    static (float Loss, float[][] Grads) Run(ConvDenoiser model, BatchParts parts, Tensor noisy, Tensor clean)
    {
        model.zero_grad();
        using var scope = NewDisposeScope();
        using var partThreads = parts.PartThreadsHere();
        var loss = parts.Backward(model, noisy, clean, (x, y) => Mse(model, x, y));
        return (loss.item<float>(), model.parameters().Select(p => p.grad!.data<float>().ToArray()).ToArray());
    }

    [Theory]
    [InlineData(2, 20, 2)]
    [InlineData(3, 24, 2)] // 3 threads on 2 cores: never more parts than cores
    [InlineData(2, 9, 1)]  // fewer than 2 x 8 digits: one part
    public void Parts_give_the_whole_batch_loss_and_gradients(int threads, int batch, int expectedParts)
    {
        torch.manual_seed(5);
        using var model = new ConvDenoiser();
        using var noisy = torch.rand(batch, 1, 28, 28);
        using var clean = torch.rand(batch, 1, 28, 28);
        using var whole = new BatchParts(1);
        using var split = new BatchParts(threads);

        var expected = Run(model, whole, noisy, clean);
        var actual = Run(model, split, noisy, clean);

        Assert.Equal(1, whole.LastParts);
        Assert.Equal(Math.Min(expectedParts, Environment.ProcessorCount), split.LastParts);
        Assert.Equal(expected.Loss, actual.Loss, 6);
        for (int p = 0; p < expected.Grads.Length; p++)
        {
            float scale = expected.Grads[p].Max(MathF.Abs) + 1e-12f;
            float diff = expected.Grads[p].Zip(actual.Grads[p], (e, a) => MathF.Abs(e - a)).Max();
            Assert.True(diff / scale < 1e-5, $"parameter {p}: relative difference {diff / scale:G3}");
        }
    }

    [Fact]
    public void On_32_cores_a_batch_of_20_digits_is_two_parts_and_a_part_never_has_fewer_than_8_digits_of_pixels()
    {
        using var many = new BatchParts(threads: 32, cores: 32);
        Assert.Equal(32, many.MaxParts);
        Assert.Equal(2, many.PartsFor(20, 28 * 28));
        Assert.Equal(16, many.PartsFor(128, 28 * 28));
        Assert.Equal(32, many.PartsFor(1000, 28 * 28));
        Assert.Equal(1, many.PartsFor(7, 28 * 28));
        // Photo patches: pixels count, not images; a part is never less than one image.
        Assert.Equal(8, many.PartsFor(8, 96 * 96));
        Assert.Equal(3, many.PartsFor(3, 512 * 512));
        Assert.Equal(1, many.PartsFor(1, 512 * 512));
        Assert.Equal(3, many.PartsFor(6, 56 * 56)); // 18,816 pixels: three parts of 6,272
        using var fewerThreads = new BatchParts(threads: 4, cores: 32); // --threads 4: four parts at most
        Assert.Equal(4, fewerThreads.PartsFor(1000, 28 * 28));
        using var fewerCores = new BatchParts(threads: 16, cores: 2);   // --threads above the cores: one part per core
        Assert.Equal(2, fewerCores.MaxParts);
    }

    /// <summary>Two photo-sized images are a part each on two cores (the rule counted images once, and ran them on one).</summary>
    [Fact]
    public void Two_96x96_images_run_in_two_parts_with_the_whole_batch_loss()
    {
        torch.manual_seed(5);
        using var model = new UNet();
        using var noisy = torch.rand(2, 1, 96, 96);
        using var clean = torch.rand(2, 1, 96, 96);
        using var whole = new BatchParts(1);
        using var split = new BatchParts(2);
        float Loss(BatchParts parts)
        {
            using var scope = NewDisposeScope();
            using var partThreads = parts.PartThreadsHere();
            return parts.Backward(model, noisy, clean, (x, y) => Mse(model, x, y)).item<float>();
        }
        float expected = Loss(whole), actual = Loss(split);
        Assert.Equal(Math.Min(2, Environment.ProcessorCount), split.LastParts);
        Assert.Equal(expected, actual, 6);
    }

    /// <summary>Issue 44: which layers make a model run whole, told by module type, in any mode.</summary>
    [Fact]
    public void A_model_with_batchnorm_or_running_statistics_needs_the_whole_batch_and_per_image_norms_do_not()
    {
        static bool Needs(nn.Module<Tensor, Tensor> layer)
        {
            using var model = nn.Sequential(nn.Conv2d(1, 4, 3), layer, nn.ReLU());
            bool training = BatchParts.NeedsWholeBatch(model);
            model.eval();
            Assert.Equal(training, BatchParts.NeedsWholeBatch(model)); // one rule for training and evaluation
            return training;
        }
        Assert.True(Needs(nn.BatchNorm2d(4)));
        Assert.True(Needs(nn.BatchNorm2d(4, track_running_stats: false)));
        Assert.True(Needs(nn.Sequential(nn.Flatten(), nn.BatchNorm1d(4))));  // nested deeper
        Assert.True(Needs(nn.BatchNorm3d(4)));
        Assert.True(Needs(nn.InstanceNorm2d(4, track_running_stats: true))); // its running statistics: once per call
        Assert.False(Needs(nn.InstanceNorm2d(4)));
        Assert.False(Needs(nn.GroupNorm(2, 4)));
        Assert.False(Needs(nn.LayerNorm(new long[] { 4 })));
        Assert.False(Needs(nn.Identity()));

        using var dncnn = new DnCNN();
        Assert.True(BatchParts.NeedsWholeBatch(dncnn));
        foreach (var model in new nn.Module<Tensor, Tensor>[] { new ConvDenoiser(), new UNet(), new ResUNet() })
            using (model) Assert.False(BatchParts.NeedsWholeBatch(model), model.GetName());
    }

    [Fact]
    public void The_runner_for_a_model_with_batchnorm_is_one_part_with_all_the_threads()
    {
        using var dncnn = new DnCNN();
        using var forDnCNN = BatchParts.For(dncnn, threads: 2, cores: 2);
        using var seed = new ConvDenoiser();
        using var forSeed = BatchParts.For(seed, threads: 2, cores: 2);
        Assert.Equal(1, forDnCNN.MaxParts);
        Assert.Equal(2, forSeed.MaxParts);
        int threads = torch.get_num_threads();
        using (forDnCNN.PartThreadsHere()) Assert.Equal(threads, torch.get_num_threads()); // the whole batch keeps every thread
    }

    /// <summary>
    /// Any runner keeps a model with BatchNorm whole, in training (where its statistics are the batch's) and in
    /// evaluation, with the whole batch's result; Models/DnCNNTests holds its training steps to PyTorch's.
    /// </summary>
    [Fact]
    public void A_runner_of_two_parts_runs_a_model_with_batchnorm_whole()
    {
        torch.manual_seed(8);
        using var model = nn.Sequential(nn.Conv2d(1, 4, 3, padding: 1), nn.BatchNorm2d(4), nn.Conv2d(4, 1, 3, padding: 1));
        using var noisy = torch.rand(4, 1, 56, 56) + torch.arange(4).reshape(4, 1, 1, 1); // each image brighter than the last
        using var clean = torch.rand(4, 1, 56, 56);
        using var parts = new BatchParts(2);
        Assert.Equal(Math.Min(2, Environment.ProcessorCount), parts.PartsFor(4, 56 * 56));
        using var scope = NewDisposeScope();
        using var partThreads = parts.PartThreadsHere();
        var loss = parts.Backward(model, noisy, clean, (x, y) => Mse(model, x, y));
        Assert.Equal(1, parts.LastParts);
        var bn = (TorchSharp.Modules.BatchNorm2d)model.children().ElementAt(1);
        Assert.Equal(1L, bn.num_batches_tracked!.item<long>()); // once per step, as PyTorch
        model.eval();
        var output = parts.Forward(model, noisy);
        Assert.Equal(1, parts.LastParts);
        using (torch.no_grad()) Assert.True((output - model.call(noisy)).abs().max().item<float>() == 0);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Gradients_add_to_what_the_parameters_hold_as_backward_does(int threads)
    {
        torch.manual_seed(5);
        using var model = new ConvDenoiser();
        using var noisy = torch.rand(16, 1, 28, 28);
        using var clean = torch.rand(16, 1, 28, 28);
        using var parts = new BatchParts(threads);
        var once = Run(model, parts, noisy, clean);
        using (NewDisposeScope())
        using (parts.PartThreadsHere())
            parts.Backward(model, noisy, clean, (x, y) => Mse(model, x, y)); // on top of the gradients of the first call
        var twice = model.parameters().Select(p => p.grad!.data<float>().ToArray()).ToArray();
        for (int p = 0; p < once.Grads.Length; p++)
            Assert.Equal(once.Grads[p].Select(g => 2 * g), twice[p]);
    }

    [Theory]
    [InlineData(2, 256)]
    [InlineData(3, 7)]
    public void Parts_give_the_whole_batch_output(int threads, int batch)
    {
        torch.manual_seed(7);
        using var model = new ConvDenoiser();
        model.eval();
        using var x = torch.rand(batch, 1, 36, 28);
        using var parts = new BatchParts(threads);
        using var noGrad = torch.no_grad();
        using var whole = model.call(x);
        using (parts.PartThreadsHere())
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
    public void A_failing_part_is_reported_its_tensors_freed_and_the_thread_count_restored()
    {
        using var model = new ConvDenoiser();
        using var noisy = torch.rand(16, 1, 28, 28);
        int threads = torch.get_num_threads();
        using var parts = new BatchParts(2);
        using (parts.PartThreadsHere())
        {
            // Part 1 fails in its loss after part 0 has its gradients: those must be freed, not left to the finalizer.
            // (Tensor.TotalCount counts live tensor handles; earlier tests' garbage is finalised first, so that only a
            // leak can raise it.)
            GC.Collect();
            GC.WaitForPendingFinalizers();
            long before = Tensor.TotalCount;
            using (NewDisposeScope())
                Assert.ThrowsAny<Exception>(() => parts.Backward(model, noisy, noisy, (x, y) =>
                    x.storage_offset() == 0 ? Mse(model, x, y) : throw new InvalidOperationException("part 1 fails")));
            Assert.True(Tensor.TotalCount <= before, $"{Tensor.TotalCount - before} tensors left alive");
            // The workers still serve.
            for (int i = 0; i < 5; i++)
            {
                using var fine = parts.Backward(model, noisy, noisy, (x, y) => Mse(model, x, y));
                Assert.True(fine.item<float>() >= 0);
            }
        }
        Assert.Equal(threads, torch.get_num_threads());
    }
}
