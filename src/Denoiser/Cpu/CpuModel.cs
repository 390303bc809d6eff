// The one place Denoiser makes a model fast on a CPU. Models know nothing of it; each trick is measured by `bench`.
using System.Reflection;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Denoiser.Cpu;

/// <summary>
/// Which CPU speed tricks are on: all of them by default. `denoiser bench` turns each off in turn and prints what it
/// gains (docs/performance.md). SplitBatch acts in <see cref="BatchParts"/>, the others in <see cref="CpuModel"/>.
/// </summary>
/// <param name="ChannelsLast">Inputs stored NHWC, so every layer runs channels-last: libtorch's max-pool is vectorised only
/// for that layout, oneDNN skips its reorders, and it keeps a libtorch 2.10 oneDNN gradient bug away (see CpuModel).</param>
/// <param name="TapsConv">Same-size convolutions to one channel run as <see cref="TapsConv2d"/>.</param>
/// <param name="SplitBias">Transposed convolutions add their bias apart while training (<see cref="SplitBiasConvTranspose2d"/>).</param>
/// <param name="SplitBatch">A batch runs in parts, one per core, each on its own thread (<see cref="BatchParts"/>).</param>
public sealed record CpuTricks(bool ChannelsLast = true, bool TapsConv = true, bool SplitBias = true, bool SplitBatch = true)
{
    public static readonly CpuTricks All = new();
    public static readonly CpuTricks None = new(false, false, false, false);
}

public static class CpuModel
{
    /// <summary>
    /// Makes <paramref name="model"/> (already on its device) run fast there. On the CPU, in place: layers are swapped
    /// for their faster forms (the same parameter objects under the same names, so state-dict keys, checkpoints and the
    /// optimizer are unaffected) and <c>call</c> takes its input channels-last. Elsewhere (CUDA) nothing changes.
    /// Run the model with <c>model.call(x)</c>, as PyTorch's <c>model(x)</c>: the input hook is not run by <c>forward</c>.
    /// <para>
    /// Channels-last is also a fix: in NCHW, libtorch 2.10's oneDNN backward-data kernel of a convolution whose
    /// out_channels is not a multiple of its 16-channel block (the seed's conv3: 8, conv_out: 1) reads padding of its
    /// blocked buffer that it never zeroed (on these AVX-512 machines: wrong input gradients in 182 of 200 trials, NaN
    /// training within a few hundred batches). Channels-last tensors take oneDNN's NHWC kernels, which have no such
    /// padding. CpuModelTests holds every model's gradients to libtorch's reference kernels on NaN-filled memory.
    /// </para>
    /// </summary>
    /// <returns>What was done, one entry per change ("conv_out: TapsConv2d", "channels-last input"), for tests and `bench`.</returns>
    public static IReadOnlyList<string> Prepare(nn.Module<Tensor, Tensor> model, Device device, CpuTricks? tricks = null)
    {
        tricks ??= CpuTricks.All;
        var done = new List<string>();
        if (device.type != DeviceType.CPU) return done;
        foreach (var (parent, name, layer) in Layers(model))
        {
            nn.Module? faster =
                tricks.TapsConv && layer is Conv2d conv && TapsConv2d.Fits(conv) && Replaceable<TapsConv2d>(parent, name) ? new TapsConv2d(conv) :
                tricks.SplitBias && layer is ConvTranspose2d t && t.bias is not null && Replaceable<SplitBiasConvTranspose2d>(parent, name) ? new SplitBiasConvTranspose2d(t) :
                null;
            if (faster == null) continue;
            Replace(parent, name, faster);
            done.Add($"{name}: {faster.GetType().Name}");
        }
        if (tricks.ChannelsLast)
        {
            model.register_forward_pre_hook((_, x) => ChannelsLast(x));
            model.register_forward_hook((_, _, y) => y.contiguous()); // callers read the output's bytes in NCHW order
            done.Add("channels-last input");
        }
        return done;
    }

    /// <summary>
    /// The (B, C, H, W) input stored channels-last. With one channel no byte moves (both layouts are the same bytes; the
    /// strides alone tell libtorch which it is); with more it is one copy.
    /// </summary>
    public static Tensor ChannelsLast(Tensor x)
    {
        if (x.dim() != 4) return x;
        if (x.shape[1] != 1) return x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
        x = x.contiguous();
        // TorchSharp's as_strided defaults the offset to 0, not to the view's own: a batch narrowed from a larger
        // tensor would silently read the first batch.
        return x.as_strided(x.shape, new[] { x.shape[2] * x.shape[3], 1, x.shape[3], 1 }, x.storage_offset());
    }

    /// <summary>Every leaf layer with the module that holds it and its name there.</summary>
    static List<(nn.Module Parent, string Name, nn.Module Layer)> Layers(nn.Module module)
    {
        var found = new List<(nn.Module, string, nn.Module)>();
        foreach (var (name, child) in module.named_children())
        {
            if (child.named_children().Any()) found.AddRange(Layers(child));
            else found.Add((module, name, child));
        }
        return found;
    }

    static FieldInfo? Field(nn.Module parent, string name) =>
        parent.GetType().GetField(name, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);

    static bool Replaceable<T>(nn.Module parent, string name) => Field(parent, name)?.FieldType.IsAssignableFrom(typeof(T)) == true;

    /// <summary>
    /// PyTorch's <c>setattr(parent, name, replacement)</c>: TorchSharp models call their layers through fields, so the
    /// field changes, and the children are registered again in their order, so that parameters() keeps its order. A
    /// layer held by a field of its own sealed type (Conv2d) or by a container (Sequential) is left as it is.
    /// </summary>
    static void Replace(nn.Module parent, string name, nn.Module replacement)
    {
        Field(parent, name)!.SetValue(parent, replacement);
        var children = parent.named_children().ToList();
        foreach (var (n, _) in children) parent.register_module(n, null!);
        foreach (var (n, m) in children) parent.register_module(n, n == name ? replacement : m);
    }
}
