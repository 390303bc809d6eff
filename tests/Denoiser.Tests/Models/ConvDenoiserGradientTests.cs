// Gradients of the whole model against libtorch's reference kernels, with memory full of NaN beforehand.
using System.Runtime.InteropServices;
using Denoiser.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Denoiser.Tests.Models;

public class ConvDenoiserGradientTests
{
    // at::globalContext().setUserEnabledMkldnn(bool): test-only switch to libtorch's own (slow, sound) kernels.
    [DllImport("torch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    static extern IntPtr GlobalContext();

    [DllImport("torch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    static extern void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    static List<Tensor> Gradients(ConvDenoiser model, Tensor x)
    {
        model.zero_grad();
        using (var scope = NewDisposeScope())
            nn.functional.mse_loss(model.forward(x), x).backward();
        return model.parameters().Select(p => p.grad!.clone()).ToList();
    }

    /// <summary>Leaves freed heap blocks full of NaN, so a kernel that reads memory it never wrote shows it.</summary>
    static void PolluteFreedMemory()
    {
        for (int i = 0; i < 8; i++) { using var t = torch.full(new long[] { 1 << 20 }, float.NaN); }
    }

    [Theory]
    [InlineData(20, 28)]
    [InlineData(1, 28)]
    [InlineData(3, 36)]
    public void Training_gradients_match_the_reference_kernels_even_on_dirty_memory(int batch, int size)
    {
        torch.manual_seed(3);
        using var model = new ConvDenoiser();
        using var x = torch.rand(batch, 1, size, size);
        var context = GlobalContext();
        SetUserEnabledMkldnn(context, false);
        List<Tensor> reference;
        try { reference = Gradients(model, x); }
        finally { SetUserEnabledMkldnn(context, true); }

        for (int trial = 0; trial < 30; trial++)
        {
            PolluteFreedMemory();
            var grads = Gradients(model, x);
            foreach (var (g, r) in grads.Zip(reference))
            {
                double scale = r.abs().max().item<float>() + 1e-12;
                double diff = (g - r).abs().max().item<float>(); // NaN fails the check below too
                Assert.True(diff / scale < 1e-3, $"trial {trial}: relative gradient error {diff / scale:G3}");
            }
        }
    }
}
