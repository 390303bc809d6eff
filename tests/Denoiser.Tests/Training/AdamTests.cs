// The trainer's Adam (Training/Adam.cs) is TorchSharp's, step for step: the same weights bit for bit, and state either one resumes.
using Denoiser.Models;
using Denoiser.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Denoiser.Tests.Training;

public class AdamTests
{
    /// <summary>Five steps on the same batches; returns the weights and the optimizer's saved state.</summary>
    static (List<Tensor> Weights, byte[] State) Steps(Func<nn.Module<Tensor, Tensor>, TorchSharp.Modules.OptimizerHelper> adam, byte[]? resumeFrom = null)
    {
        torch.manual_seed(3);
        using var model = new ConvDenoiser();
        using var optimizer = adam(model);
        if (resumeFrom != null)
            using (var r = new BinaryReader(new MemoryStream(resumeFrom))) optimizer.load_state_dict(r);
        using var gen = new Generator(5);
        for (int step = 0; step < 5; step++)
        {
            using var scope = NewDisposeScope();
            var clean = torch.rand(new long[] { 2, 1, 28, 28 }, generator: gen);
            var noisy = torch.randn(new long[] { 2, 1, 28, 28 }, generator: gen) * 0.1 + clean;
            optimizer.zero_grad();
            nn.functional.mse_loss(model.call(noisy), clean).backward();
            optimizer.step();
        }
        using var state = new MemoryStream();
        using (var w = new BinaryWriter(state, System.Text.Encoding.UTF8, leaveOpen: true)) optimizer.save_state_dict(w);
        return (model.parameters().Select(p => p.detach().clone()).ToList(), state.ToArray());
    }

    [Fact]
    public void It_trains_exactly_as_torchsharps_Adam_and_their_saved_states_are_one()
    {
        // Given the same model, batches and learning rate
        // When TorchSharp's Adam and ours each take five steps, and then five more from the other's saved state
        var theirs = Steps(m => torch.optim.Adam(m.parameters(), lr: 1e-3));
        var ours = Steps(m => new Adam(m.parameters(), lr: 1e-3));
        var ourResumed = Steps(m => new Adam(m.parameters(), lr: 1e-3), resumeFrom: theirs.State);
        var theirResumed = Steps(m => torch.optim.Adam(m.parameters(), lr: 1e-3), resumeFrom: ours.State);

        // Then the weights agree bit for bit, and so does the state each saves
        foreach (var (p, q) in theirs.Weights.Zip(ours.Weights)) Assert.True(p.allclose(q, rtol: 0, atol: 0));
        Assert.Equal(theirs.State, ours.State);
        foreach (var (p, q) in theirResumed.Weights.Zip(ourResumed.Weights)) Assert.True(p.allclose(q, rtol: 0, atol: 0));
        Assert.Equal(theirResumed.State, ourResumed.State);
    }
}
