// ConvDenoiser against the seed's PyTorch model: forward, loss, gradients and Adam steps, from a committed fixture.
using Denoiser.Data;
using Denoiser.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Denoiser.Tests.Models;

/// <summary>
/// The fixture is written by tools/parity/make_fixture.py with PyTorch 1.13 (Debian's python3-torch): fixed random
/// weights, inputs, the output, MSE loss, every gradient, and the weights after one and three Adam(1e-3) steps.
/// </summary>
public class PyTorchParityTests
{
    static readonly IReadOnlyDictionary<string, SafeTensor> Fixture =
        SafeTensorsFile.Read(TestFiles.Fixture("parity.safetensors")).Tensors;

    static Tensor T(string name) => torch.tensor(Fixture[name].Data, Fixture[name].Shape);

    static ConvDenoiser ModelAt(string prefix)
    {
        var model = new ConvDenoiser();
        using (torch.no_grad())
            foreach (var (name, p) in model.state_dict()) p.copy_(T($"{prefix}.{name}"));
        return model;
    }

    static void AssertClose(Tensor expected, Tensor actual, double tolerance, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        double diff = (expected - actual).abs().max().item<float>();
        Assert.True(diff <= tolerance, $"{what}: max |difference| {diff:G3} > {tolerance:G3}");
    }

    [Fact]
    public void Forward_matches_pytorch_within_1e_5()
    {
        using var model = ModelAt("init");
        using var _ = torch.no_grad();
        AssertClose(T("output"), model.forward(T("input")), 1e-5, "output 28x28");
        AssertClose(T("odd_output"), model.forward(T("odd_input")), 1e-5, "output 20x36");
    }

    [Fact]
    public void Loss_and_every_gradient_match_pytorch()
    {
        using var model = ModelAt("init");
        var loss = nn.functional.mse_loss(model.forward(T("input")), T("target"));
        double expected = T("loss").item<float>();
        Assert.True(Math.Abs(loss.item<float>() - expected) <= 1e-6 * expected, $"loss {loss.item<float>()} vs {expected}");
        loss.backward();
        foreach (var (name, p) in model.named_parameters())
            AssertClose(T($"grad.{name}"), p.grad!, 1e-5, $"gradient of {name}");
    }

    [Fact]
    public void Adam_steps_match_pytorch_after_one_and_three_steps()
    {
        using var model = ModelAt("init");
        // betas 0.9/0.999, eps 1e-8 as PyTorch
        using var optimizer = torch.optim.Adam(model.parameters(), lr: 1e-3);
        for (int step = 1; step <= 3; step++)
        {
            optimizer.zero_grad();
            nn.functional.mse_loss(model.forward(T("input")), T("target")).backward();
            optimizer.step();
            if (step is 1 or 3)
                foreach (var (name, p) in model.state_dict())
                    AssertClose(T($"step{step}.{name}"), p, 1e-5, $"{name} after {step} Adam steps");
        }
    }

    [Fact]
    public void The_same_seed_gives_pytorchs_initial_weights()
    {
        // Both run libtorch's own reset_parameters (kaiming-uniform weights, uniform biases) on the same
        // Mersenne-Twister CPU generator, so a seed means the same initialisation in both.
        torch.manual_seed(20261126);
        using var model = new ConvDenoiser();
        foreach (var (name, p) in model.state_dict())
            AssertClose(T($"init.{name}"), p, 0, $"initial {name}");
    }
}
