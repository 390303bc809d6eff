// resunet-told, the grey residual U-Net told the noise level: its layers are resunet's, and it starts from resunet's weights.
using Denoiser.Models;
using Denoiser.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Denoiser.Tests.Models;

public class ResUNetToldTests
{
    [Fact]
    public void Its_layers_are_the_blind_models_with_a_level_plane_into_the_first()
    {
        using var blind = new ResUNet();
        using var told = new ResUNet(told: true);
        Assert.Equal(blind.state_dict().Keys, told.state_dict().Keys);
        Assert.Equal(new long[] { 32, 2, 3, 3 }, told.state_dict()["head.weight"].shape);
        Assert.Equal(blind.parameters().Sum(p => p.numel()) + 32 * 9, told.parameters().Sum(p => p.numel()));
        using var _ = torch.no_grad();
        using var output = told.call(torch.rand(2, 2, 16, 12));
        Assert.Equal(new long[] { 2, 1, 16, 12 }, output.shape);
    }

    [Fact]
    public void Started_from_blind_weights_it_computes_what_the_blind_model_does_at_any_level()
    {
        using var dir = new TempDir();
        torch.manual_seed(3);
        using var blind = new ResUNet();
        Denoiser.Interchange.WeightsFile.Export(blind, dir["blind.safetensors"], new Dictionary<string, string> { ["denoiser.model"] = ResUNet.Kind });
        using var told = new ResUNet(told: true);
        StartingWeights.LoadInto(told, ResUNet.ToldKind, dir["blind.safetensors"]);

        using var _ = torch.no_grad();
        using var x = torch.rand(1, 1, 24, 24);
        using var expected = blind.call(x);
        foreach (float level in new[] { 0f, 0.1f, 0.5f })
        {
            using var input = NoiseMap.Append(x, torch.full(1, level));
            using var output = told.call(input);
            Assert.True(output.allclose(expected, rtol: 0, atol: 1e-6), $"level {level}: differs from the blind model by {(output - expected).abs().max().item<float>():G3}");
        }
        using var head = told.state_dict()["head.weight"];
        Assert.Equal(0, head[.., 1].abs().sum().item<float>()); // the level plane's weights start at zero
    }
}
