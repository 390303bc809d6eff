// Every model's gradients against libtorch's reference kernels, with memory full of NaN beforehand.
using System.Runtime.InteropServices;
using Denoiser.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Denoiser.Tests.Models;

public class GradientTests
{
    // at::globalContext().setUserEnabledMkldnn(bool): test-only switch to libtorch's own (slow, sound) kernels.
    [DllImport("torch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    static extern IntPtr GlobalContext();

    [DllImport("torch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    static extern void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    static List<Tensor> Gradients(nn.Module<Tensor, Tensor> model, Tensor x)
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

    public static TheoryData<string, int, int> Cases()
    {
        var cases = new TheoryData<string, int, int>();
        foreach (var m in Registry.All)
            foreach (var (batch, size) in new[] { (20, m.Side), (1, m.Side), (3, m.PaddedSide(m.Side + 1)) })
                cases.Add(m.Name, batch, size);
        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Training_gradients_match_the_reference_kernels_even_on_dirty_memory(string name, int batch, int size)
    {
        var info = Registry.Get(name);
        torch.manual_seed(3);
        using var model = info.Create();
        using var x = torch.rand(batch, info.Channels, size, size);
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
                Assert.True(diff / scale < 1e-3, $"{name}, trial {trial}: relative gradient error {diff / scale:G3}");
            }
        }
    }
}
