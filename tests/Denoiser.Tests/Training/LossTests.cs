// What a training step minimises: the step's reported loss is the chosen one, computed on what the model saw.
using Denoiser.Cpu;
using Denoiser.Data;
using Denoiser.Models;
using Denoiser.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Denoiser.Tests.Training;

public class LossTests
{
    [Theory]
    [InlineData("mse")]
    [InlineData("l1")]
    public void A_step_reports_the_chosen_loss_of_the_model_on_the_noisy_batch(string kind)
    {
        Devices.SetThreads(2);
        torch.manual_seed(3);
        using var model = new ConvDenoiser();
        using var optimizer = torch.optim.Adam(model.parameters(), lr: 1e-3);
        using var parts = new BatchParts(2);
        using var clean = torch.rand(6, 1, 28, 28);
        var noise = Noise.Parse("gaussian:0.3");

        // The same draws the step will make, and the loss by hand before the step moves the weights.
        Tensor expected;
        using (var gen = new Generator(11))
        using (torch.no_grad())
        using (var output = model.call(noise.Apply(clean, gen)))
        {
            var error = output - clean;
            expected = kind == "l1" ? error.abs().mean() : (error * error).mean();
        }
        using var stepGen = new Generator(11);
        using var loss = Trainer.Step(model, optimizer, clean, Target.Create(TargetKind.Clean, noise, 1, onDisk: false), stepGen, parts, objective: Loss.Parse(kind));
        Assert.Equal(expected.item<float>(), loss.item<float>(), 5);
    }

    [Fact]
    public void An_unknown_loss_is_refused_naming_the_choices()
    {
        var e = Assert.Throws<FormatException>(() => Loss.Parse("huber"));
        Assert.Contains("mse or l1", e.Message);
        Assert.Equal("--loss: 'huber' is not a loss; use mse or l1",
                     Assert.Throws<FormatException>(() => Denoiser.Commands.Setting.Named("--loss").Read(new TrainSettings(), "huber")).Message);
    }
}
