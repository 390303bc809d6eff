// The seed model's structure: parameter count, state-dict keys, and the shape of every stage.
using Denoiser.Models;
using Denoiser.Shapes;
using TorchSharp;
using Xunit;

namespace Denoiser.Tests.Models;

public class ConvDenoiserTests
{
    [Fact]
    public void Has_the_seed_parameter_count()
    {
        using var model = new ConvDenoiser();
        Assert.Equal(9_585, model.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void State_dict_keys_are_the_pytorch_attribute_names()
    {
        // Renaming a field breaks every saved checkpoint and PyTorch interchange: this list is the contract.
        using var model = new ConvDenoiser();
        Assert.Equal(new[]
        {
            "conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "conv3.weight", "conv3.bias",
            "t_conv1.weight", "t_conv1.bias", "t_conv2.weight", "t_conv2.bias", "t_conv3.weight", "t_conv3.bias",
            "conv_out.weight", "conv_out.bias",
        }, model.state_dict().Keys);
        Assert.Equal(new long[] { 8, 16, 2, 2 }, model.state_dict()["t_conv2.weight"].shape); // (in, out, k, k)
    }

    [Fact]
    public void Maps_28_to_14_7_3_7_14_28_layer_by_layer_in_the_seeds_order()
    {
        var summary = ModelSummary.Trace(ConvDenoiser.Info, new long[] { 1, 28, 28 });
        Assert.Equal(new (string, long)[]
        {
            ("conv1", 28), ("pool", 14), ("conv2", 14), ("pool", 7), ("conv3", 7), ("pool", 3),
            ("t_conv1", 7), ("t_conv2", 14), ("t_conv3", 28), ("conv_out", 28),
        }, summary.Rows.Select(r => (r.Name, r.Output[2])));
        Assert.Equal(new long[] { 1, 8, 3, 3 }, summary.Rows[5].Output);
        Assert.Equal(new long[] { 1, 28, 28 }, summary.Output);
    }

    [Fact]
    public void A_batch_that_is_a_view_into_a_larger_tensor_is_denoised_from_its_own_images()
    {
        // Evaluation and tiling pass narrowed views; the channels-last batch must keep the view's storage offset.
        using var model = new ConvDenoiser();
        using var _ = torch.no_grad();
        using var all = torch.rand(6, 1, 28, 28);
        using var fromView = model.call(Denoiser.Cpu.CpuLayout.ForModel(all.narrow(0, 3, 3)));
        using var fromCopy = model.call(Denoiser.Cpu.CpuLayout.ForModel(all.narrow(0, 3, 3).clone()));
        Assert.Equal(0f, (fromView - fromCopy).abs().max().item<float>());
        Assert.InRange(fromView.min().item<float>(), 0f, 1f); // sigmoid output
    }

    [Theory]
    [InlineData(8, 8)]
    [InlineData(12, 12)]
    [InlineData(24, 31)]
    [InlineData(28, 28)]
    [InlineData(33, 17)]
    [InlineData(64, 45)]
    public void Output_of_H_by_W_is_8_floor_H_over_8_plus_4(int h, int w)
    {
        using var model = new ConvDenoiser();
        using var _ = torch.no_grad();
        using var y = model.forward(torch.rand(1, 1, h, w));
        Assert.Equal(new long[] { 1, 1, 8 * (h / 8) + 4, 8 * (w / 8) + 4 }, y.shape);
    }
}
