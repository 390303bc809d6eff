// The CPU seam: every model prepared by CpuModel computes what the plain model computes, and each trick is really taken.
using System.Runtime.InteropServices;
using Denoiser.Cpu;
using Denoiser.Models;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace Denoiser.Tests.Cpu;

public class CpuModelTests
{
    // at::globalContext().setUserEnabledMkldnn(bool): test-only switch to libtorch's own (slow, sound) kernels.
    [DllImport("torch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    static extern IntPtr GlobalContext();

    [DllImport("torch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    static extern void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    static (Tensor Output, List<Tensor> Grads) OutputAndGradients(nn.Module<Tensor, Tensor> model, Tensor x)
    {
        model.zero_grad();
        Tensor output;
        using (var scope = NewDisposeScope())
        {
            output = model.call(x);
            nn.functional.mse_loss(output, x).backward();
            output = output.detach().MoveToOuterDisposeScope();
        }
        return (output, model.parameters().Select(p => p.grad!.clone()).ToList());
    }

    /// <summary>Leaves freed heap blocks full of NaN, so a kernel that reads memory it never wrote shows it.</summary>
    static void PolluteFreedMemory()
    {
        for (int i = 0; i < 8; i++) { using var t = torch.full(new long[] { 1 << 20 }, float.NaN); }
    }

    static nn.Module<Tensor, Tensor> Twin(ModelInfo info, nn.Module<Tensor, Tensor> of)
    {
        var twin = info.Create();
        twin.load_state_dict(of.state_dict());
        return twin;
    }

    /// <summary>Small models at batch 20, 1 and 3; a large one (DnCNN: 556,096 parameters) at 2 and 1, to keep the suite short.</summary>
    public static TheoryData<string, int, int> Cases()
    {
        var cases = new TheoryData<string, int, int>();
        foreach (var m in Registry.All)
        {
            bool large = Parameters(m) > 100_000;
            foreach (var (batch, size) in large ? new[] { (2, m.Side), (1, m.PaddedSide(m.Side / 2 + 1)) }
                                                : new[] { (20, m.Side), (1, m.Side), (3, m.PaddedSide(m.Side + 1)) })
                cases.Add(m.Name, batch, size);
        }
        return cases;
    }

    static long Parameters(ModelInfo m)
    {
        using var model = m.Create();
        return model.parameters().Sum(p => p.numel());
    }

    /// <summary>
    /// The plain model on libtorch's reference kernels (oneDNN off: NCHW with oneDNN has a gradient bug on these CPUs,
    /// see CpuModel) against the prepared model on oneDNN, 20 times over memory full of NaN.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void A_prepared_model_gives_the_plain_models_outputs_and_gradients_even_on_dirty_memory(string name, int batch, int size)
    {
        var info = Registry.Get(name);
        torch.manual_seed(3);
        using var plain = info.Create();
        using var fast = Twin(info, plain);
        Assert.NotEmpty(CpuModel.Prepare(fast, torch.CPU));
        using var x = torch.rand(batch, info.Channels, size, size);
        var context = GlobalContext();
        SetUserEnabledMkldnn(context, false);
        (Tensor Output, List<Tensor> Grads) reference;
        try { reference = OutputAndGradients(plain, x); }
        finally { SetUserEnabledMkldnn(context, true); }

        // DnCNN's gradients through 15 train-mode BatchNorms amplify float rounding: oneDNN's own NCHW kernels differ from
        // the reference ones by up to 1.6% there (measured), the fast path by up to 1.0%; the oneDNN bug gave 30% or NaN.
        bool large = Parameters(info) > 100_000;
        double tolerance = large ? 5e-2 : 1e-3;
        for (int trial = 0, trials = large ? 3 : 20; trial < trials; trial++)
        {
            PolluteFreedMemory();
            var (output, grads) = OutputAndGradients(fast, x);
            double outputError = (output - reference.Output).abs().max().item<float>() / (reference.Output.abs().max().item<float>() + 1e-12);
            Assert.True(outputError < 1e-4, $"{name}, trial {trial}: relative output error {outputError:G3}");
            foreach (var (g, r) in grads.Zip(reference.Grads))
            {
                double scale = r.abs().max().item<float>() + 1e-12;
                double diff = (g - r).abs().max().item<float>(); // NaN fails the check below too
                Assert.True(diff / scale < tolerance, $"{name}, trial {trial}: relative gradient error {diff / scale:G3}");
            }
        }
    }

    [Fact]
    public void Every_trick_of_the_seed_model_is_taken()
    {
        using var model = new ConvDenoiser();
        var keys = model.state_dict().Keys.ToList();
        var done = CpuModel.Prepare(model, torch.CPU);

        Assert.Equal(new[] { "t_conv1: SplitBiasConvTranspose2d", "t_conv2: SplitBiasConvTranspose2d", "t_conv3: SplitBiasConvTranspose2d",
                             "conv_out: TapsConv2d", "channels-last input" }, done);
        Assert.Equal(keys, model.state_dict().Keys.ToList()); // checkpoints and the optimizer see the same parameters
        var layers = model.named_children().ToDictionary(c => c.name, c => c.module);
        Assert.IsType<TapsConv2d>(layers["conv_out"]);
        Assert.IsType<SplitBiasConvTranspose2d>(layers["t_conv2"]);

        // The layers are really called, and conv2 really sees a channels-last input (channel stride 1).
        var seen = new List<string>();
        ((nn.Module<Tensor, Tensor>)layers["conv_out"]).register_forward_hook((_, _, y) => { seen.Add("conv_out"); return y; });
        ((nn.Module<Tensor, Tensor>)layers["conv2"]).register_forward_hook((_, x, y) => { seen.Add($"conv2 stride {x.stride(1)}"); return y; });
        using var scope = NewDisposeScope();
        var output = model.call(torch.rand(2, 1, 28, 28));
        Assert.Equal(new[] { "conv2 stride 1", "conv_out" }, seen);
        Assert.True(output.is_contiguous());
    }

    [Fact]
    public void Tricks_turned_off_are_not_taken_and_cuda_is_left_alone()
    {
        using var model = new ConvDenoiser();
        Assert.Empty(CpuModel.Prepare(model, torch.CPU, CpuTricks.None));
        Assert.IsType<Conv2d>(model.named_children().Single(c => c.name == "conv_out").module);
        using var other = new ConvDenoiser();
        Assert.Empty(CpuModel.Prepare(other, new Device(DeviceType.CUDA)));
    }
}
