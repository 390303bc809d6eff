// The flat-step Adam: TorchSharp's Adam's results and state format, over flat vectors.
using Denoiser.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using FlatAdam = Denoiser.Training.Adam;

namespace Denoiser.Tests.Training;

public class AdamTests
{
    static ConvDenoiser Model()
    {
        torch.manual_seed(3);
        return new ConvDenoiser();
    }

    /// <summary>Steps with MSE gradients on seeded random batches; <paramref name="beforeStep"/> may alter the gradients.</summary>
    static void Train(ConvDenoiser model, optim.Optimizer optimizer, int steps, int seed, Action<ConvDenoiser>? beforeStep = null)
    {
        using var gen = new Generator((ulong)seed);
        for (int i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            var clean = torch.rand(new long[] { 4, 1, 28, 28 }, generator: gen);
            var noisy = (clean + 0.5 * torch.randn(clean.shape, generator: gen)).clamp(0, 1);
            optimizer.zero_grad();
            nn.functional.mse_loss(model.forward(noisy), clean).backward();
            beforeStep?.Invoke(model);
            optimizer.step();
        }
    }

    /// <summary>Two models with the same initial weights: one with TorchSharp's Adam, one with the flat-step Adam.</summary>
    sealed class Twins : IDisposable
    {
        public readonly ConvDenoiser Expected = Model(), Actual = Model();
        public readonly optim.Optimizer Reference, Flat;

        public Twins()
        {
            Reference = torch.optim.Adam(Expected.parameters(), lr: 1e-3);
            Flat = new FlatAdam(Actual.parameters(), lr: 1e-3);
        }

        public double MaxDifference() => AdamTests.MaxDifference(Expected, Actual);

        public void Dispose()
        {
            Reference.Dispose();
            Flat.Dispose();
            Expected.Dispose();
            Actual.Dispose();
        }
    }

    /// <summary>The largest |difference| between the two models' parameters.</summary>
    static double MaxDifference(ConvDenoiser a, ConvDenoiser b) =>
        a.parameters().Zip(b.parameters()).Max(p => (p.First - p.Second).abs().max().item<float>());

    [Fact]
    public void Steps_as_TorchSharps_Adam_does()
    {
        using var t = new Twins();
        Train(t.Expected, t.Reference, 25, seed: 1);
        Train(t.Actual, t.Flat, 25, seed: 1);
        Assert.Equal(0, t.MaxDifference());
        using var untrained = Model();
        Assert.NotEqual(0, MaxDifference(t.Actual, untrained)); // the parameters the model holds did move
    }

    [Fact]
    public void A_learning_rate_changed_by_a_scheduler_is_used()
    {
        using var t = new Twins();
        var s1 = optim.lr_scheduler.StepLR(t.Reference, step_size: 1, gamma: 0.5);
        var s2 = optim.lr_scheduler.StepLR(t.Flat, step_size: 1, gamma: 0.5);
        for (int i = 0; i < 4; i++)
        {
            Train(t.Expected, t.Reference, 2, seed: 10 + i);
            Train(t.Actual, t.Flat, 2, seed: 10 + i);
            s1.step();
            s2.step();
        }
        Assert.Equal(0, t.MaxDifference());
    }

    [Fact]
    public void A_parameter_without_a_gradient_takes_TorchSharps_own_step()
    {
        using var t = new Twins();
        static void DropFirstGradient(ConvDenoiser m) => m.parameters().First().grad = null;
        Train(t.Expected, t.Reference, 5, seed: 2, DropFirstGradient);
        Train(t.Actual, t.Flat, 5, seed: 2, DropFirstGradient);
        Train(t.Expected, t.Reference, 5, seed: 3);
        Train(t.Actual, t.Flat, 5, seed: 3);
        Assert.Equal(0, t.MaxDifference());
    }

    [Fact]
    public void Its_state_loads_into_TorchSharps_Adam_and_back()
    {
        // Three models trained alike for 5 steps: A goes on with the flat Adam; B's state goes into TorchSharp's Adam,
        // and C's from there back into a new flat Adam. All three must take the same next 5 steps.
        using var a = Model();
        using var b = Model();
        using var c = Model();
        using var flatA = new FlatAdam(a.parameters(), lr: 1e-3);
        using var flatB = new FlatAdam(b.parameters(), lr: 1e-3);
        using var flatC = new FlatAdam(c.parameters(), lr: 1e-3);
        foreach (var (m, o) in new[] { (a, flatA), (b, flatB), (c, flatC) }) Train(m, o, 5, seed: 4);

        using var plainB = torch.optim.Adam(b.parameters(), lr: 1e-3);
        Load(plainB, Save(flatB));
        using var plainC = torch.optim.Adam(c.parameters(), lr: 1e-3);
        Load(plainC, Save(flatC));
        using var flatC2 = new FlatAdam(c.parameters(), lr: 1e-3);
        Load(flatC2, Save(plainC));

        Train(a, flatA, 5, seed: 5);
        Train(b, plainB, 5, seed: 5);
        Train(c, flatC2, 5, seed: 5);
        Assert.Equal(0, MaxDifference(a, b));
        Assert.Equal(0, MaxDifference(a, c));
    }

    static byte[] Save(TorchSharp.Modules.OptimizerHelper optimizer)
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream)) optimizer.save_state_dict(w);
        return stream.ToArray();
    }

    static void Load(TorchSharp.Modules.OptimizerHelper optimizer, byte[] state)
    {
        using var r = new BinaryReader(new MemoryStream(state));
        optimizer.load_state_dict(r);
    }

    [Fact]
    public void Outlives_the_dispose_scope_it_was_built_in()
    {
        using var expected = Model();
        using var actual = Model();
        using var reference = torch.optim.Adam(expected.parameters(), lr: 1e-3);
        FlatAdam flat;
        using (NewDisposeScope()) flat = new FlatAdam(actual.parameters(), lr: 1e-3);
        using (flat)
        {
            Train(expected, reference, 3, seed: 6);
            Train(actual, flat, 3, seed: 6);
        }
        Assert.Equal(0, MaxDifference(expected, actual));
    }
}
