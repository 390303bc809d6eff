// The CPU seam: every model fed channels-last batches computes what it computes on NCHW ones, on libtorch's reference kernels.
using System.Runtime.InteropServices;
using Denoiser.Cpu;
using Denoiser.Models;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace Denoiser.Tests.Cpu;

public class CpuLayoutTests
{
    // at::globalContext().setUserEnabledMkldnn(bool): test-only switch to libtorch's own (slow, sound) kernels.
    [DllImport("torch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    static extern IntPtr GlobalContext();

    [DllImport("torch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    static extern void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    static (Tensor Output, List<Tensor> Grads) OutputAndGradients(nn.Module<Tensor, Tensor> model, Tensor x, bool channelsLast)
    {
        model.zero_grad();
        Tensor output;
        using (var scope = NewDisposeScope())
        {
            output = model.call(channelsLast ? CpuLayout.ForModel(x) : x);
            nn.functional.mse_loss(output, x.narrow(1, 0, output.shape[1])).backward(); // against the image planes, without any level plane
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
    /// The model on NCHW batches and libtorch's reference kernels (oneDNN off: NCHW with oneDNN has a gradient bug on
    /// these CPUs, see CpuLayout) against the same weights on channels-last batches and oneDNN, 20 times over memory full
    /// of NaN.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void Channels_last_batches_give_the_reference_outputs_and_gradients_even_on_dirty_memory(string name, int batch, int size)
    {
        var info = Registry.Get(name);
        torch.manual_seed(3);
        using var plain = info.Create();
        using var fast = Twin(info, plain);
        using var x = torch.rand(batch, info.InputChannels, size, size); // a model told the level reads a plane more
        var context = GlobalContext();
        SetUserEnabledMkldnn(context, false);
        (Tensor Output, List<Tensor> Grads) reference;
        try { reference = OutputAndGradients(plain, x, channelsLast: false); }
        finally { SetUserEnabledMkldnn(context, true); }

        // DnCNN's gradients through 15 train-mode BatchNorms amplify float rounding: oneDNN's own NCHW kernels differ from
        // the reference ones by up to 1.6% there (measured), the fast path by up to 1.0%; the oneDNN bug gave 30% or NaN.
        bool large = Parameters(info) > 100_000;
        double tolerance = large ? 5e-2 : 1e-3;
        for (int trial = 0, trials = large ? 3 : 20; trial < trials; trial++)
        {
            PolluteFreedMemory();
            var (output, grads) = OutputAndGradients(fast, x, channelsLast: true);
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
    public void Every_layer_sees_channels_last_and_the_model_is_untouched()
    {
        using var model = new ConvDenoiser();
        var before = model.named_modules().Select(m => (m.name, m.module.GetType())).ToList();
        var seen = new List<string>();
        var layers = model.named_children().ToDictionary(c => c.name, c => (nn.Module<Tensor, Tensor>)c.module);
        foreach (var name in new[] { "conv2", "t_conv2", "conv_out" })
            layers[name].register_forward_hook((_, x, y) => { seen.Add($"{name} {(x.stride(1) == 1 ? "NHWC" : "NCHW")}"); return y; });
        using var scope = NewDisposeScope();
        var input = torch.rand(2, 1, 28, 28);
        var output = model.call(CpuLayout.ForModel(input));
        Assert.Equal(new[] { "conv2 NHWC", "t_conv2 NHWC", "conv_out NHWC" }, seen);
        Assert.Equal(before, model.named_modules().Select(m => (m.name, m.module.GetType())).ToList());
        Assert.Equal(model.forward(input).contiguous().data<float>().ToArray(), output.contiguous().data<float>().ToArray(),
                     new FloatTolerance(1e-6f)); // forward and call are one function: only the batch's layout differs
    }

    [Fact]
    public void Only_a_cpu_batch_of_images_changes_layout_and_a_view_keeps_its_own_images()
    {
        using var scope = NewDisposeScope();
        var flat = torch.rand(3, 4);
        Assert.Same(flat, CpuLayout.ForModel(flat));
        var all = torch.rand(6, 3, 5, 7);
        var part = CpuLayout.ForModel(all.narrow(0, 3, 3));
        Assert.Equal(new long[] { 3, 3, 5, 7 }, part.shape);
        Assert.Equal(1, part.stride(1));
        Assert.True(part.allclose(all.narrow(0, 3, 3), rtol: 0, atol: 0));
    }

    sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= tolerance;
        public int GetHashCode(float v) => 0;
    }
}
