// The shipped models (models/pretrained/): every catalogue entry is a file that loads strictly and denoises.
using Denoiser.Inference;
using Denoiser.Interchange;
using Denoiser.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Denoiser.Tests.Inference;

public class PretrainedTests
{
    [Fact]
    public void Every_shipped_model_loads_strictly_and_removes_most_of_sigma_25_noise()
    {
        var all = Pretrained.All();
        Assert.Contains(all, m => m.Name == Pretrained.Default);
        Assert.Equal(all.Count, all.Select(m => m.Name).Distinct().Count());
        foreach (var entry in all)
        {
            var (_, path) = Pretrained.Get(entry.Name);
            string? kind = WeightsFile.ModelOf(path);
            Assert.True(kind != null, $"{entry.Name}: {path} names no model");
            var info = Registry.Get(kind!);
            using var model = info.Create();
            WeightsFile.LoadInto(model, kind!, path); // strict: every key, every shape
            model.eval();
            using var scope = NewDisposeScope();
            using var _ = torch.no_grad();
            // A smooth 64x64 picture (sides of 4k suit every model) with sigma-25 noise from a fixed seed.
            var ramp = torch.linspace(0.2, 0.8, 64);
            var clean = (ramp.unsqueeze(0) * 0.5 + ramp.unsqueeze(1) * 0.5).reshape(1, 1, 64, 64).expand(1, info.Channels, 64, 64);
            using var gen = new Generator(7);
            var noisy = clean + torch.randn(new long[] { 1, info.Channels, 64, 64 }, generator: gen) * (25 / 255.0);
            // A model told the level is told this one.
            var input = info.TakesNoiseLevel ? NoiseMap.Append(noisy, torch.full(1, 25 / 255f)) : noisy;
            var denoised = model.call(input).clamp(0, 1);
            double before = (noisy - clean).square().mean().item<float>(), after = (denoised - clean).square().mean().item<float>();
            Assert.True(after < before / 4, $"{entry.Name}: MSE {before:G3} -> {after:G3}");
        }
    }
}
