// The layer table is traced from the models themselves: sizes, parameters, and where sizes stop matching.
using Denoiser.Models;
using Denoiser.Shapes;
using Xunit;

namespace Denoiser.Tests.Shapes;

public class ModelSummaryTests
{
    [Fact]
    public void Conv_denoiser_goes_28_14_7_3_7_14_28_with_9585_parameters()
    {
        var s = ModelSummary.Trace(ConvDenoiser.Info, new long[] { 1, 28, 28 });
        Assert.Null(s.Failure);
        Assert.Equal(9_585, s.Parameters);
        Assert.Equal(9_585, s.Rows.Sum(r => r.Parameters)); // the shared pool is counted once, with no parameters
        Assert.Equal(new[] { "conv1", "pool", "conv2", "pool", "conv3", "pool", "t_conv1", "t_conv2", "t_conv3", "conv_out" }, s.Rows.Select(r => r.Name));
        Assert.Equal(new long[] { 28, 14, 14, 7, 7, 3, 7, 14, 28, 28 }, s.Rows.Select(r => r.Output[2]));
        Assert.All(s.Rows, r => Assert.Null(r.Note));
        Assert.True(s.SizeKept);
    }

    [Fact]
    public void At_24_it_shows_where_sizes_stop_matching_and_that_the_output_is_28()
    {
        var s = ModelSummary.Trace(ConvDenoiser.Info, new long[] { 1, 24, 24 });
        Assert.Null(s.Failure);
        Assert.Equal(new long[] { 1, 28, 28 }, s.Output);
        Assert.False(s.SizeKept);
        Assert.Equal(new[] { "expected 6x6", "expected 12x12", "expected 24x24" }, s.Rows.Where(r => r.Note != null).Select(r => r.Note));
        Assert.Equal("t_conv1", s.Rows.First(r => r.Note != null).Name);
    }

    [Fact]
    public void A_unet_whose_skip_sizes_differ_stops_at_the_concatenation_with_torchs_reason()
    {
        var s = ModelSummary.Trace(UNet.Info, new long[] { 1, 30, 30 });
        Assert.Null(s.Output);
        Assert.Contains("Sizes of tensors must match", s.Failure);
        Assert.Equal("up2", s.Rows[^1].Name); // the last layer that ran, before the concatenation refused
        Assert.Equal("expected 15x15", s.Rows[^1].Note);
    }

    [Fact]
    public void Every_model_keeps_its_own_size_and_every_size_its_info_promises()
    {
        foreach (var m in Registry.All)
        {
            for (int side = 1; side <= 40; side++)
            {
                var s = ModelSummary.Trace(m, new long[] { m.InputChannels, side, side });
                bool promised = m.PaddedSide(side) == side;
                Assert.True(promised == s.SizeKept, $"{m.Name} at {side}: info says {(promised ? "kept" : "not kept")}, the model gives {(s.Output == null ? s.Failure : string.Join('x', s.Output))}");
            }
            Assert.Equal(m.Side, m.PaddedSide(m.Side));
        }
    }

    [Fact]
    public void The_autoencoder_is_the_tutorials_rgb_model()
    {
        var s = ModelSummary.Trace(ConvAutoEncoder.Info, new long[] { 3, 32, 32 });
        Assert.Equal(new long[] { 32, 16, 16, 8, 16, 32 }, s.Rows.Select(r => r.Output[2]));
        Assert.Equal(new long[] { 16, 16, 32, 32, 16, 3 }, s.Rows.Select(r => r.Output[1]));
        Assert.Equal(448 + 4_640 + 2_064 + 195, s.Parameters);
        using var model = new ConvAutoEncoder();
        Assert.Equal(new[] { "conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "t_conv1.weight", "t_conv1.bias", "t_conv2.weight", "t_conv2.bias" },
                     model.state_dict().Keys);
    }
}
