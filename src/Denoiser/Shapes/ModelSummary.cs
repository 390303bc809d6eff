// A torchsummary-style table of a model's layers, traced by running an input of the given size through the model itself.
using Denoiser.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Denoiser.Shapes;

/// <param name="Note">Where sizes stop matching: an upsampler's output that differs from the size its matching downsampler took in (the expected size).</param>
/// <param name="Window">A sliding-window layer's settings along one side (convolutions, pools); null for pointwise layers.</param>
/// <param name="Transposed">A transposed convolution: it upsamples by its stride.</param>
public sealed record LayerRow(string Name, string Layer, long[] Input, long[] Output, long Parameters, string? Note,
                              ConvSide? Window = null, bool Transposed = false);

/// <param name="Output">The model's output shape, or null when the input does not get through (see Failure).</param>
public sealed record Summary(ModelInfo Model, long[] Input, IReadOnlyList<LayerRow> Rows, long[]? Output, long Parameters, string? Failure)
{
    /// <summary>The output has the image's size and channels (the input less any noise-level plane).</summary>
    public bool SizeKept => Output != null && Output.SequenceEqual(new[] { (long)Model.Channels }.Concat(Input[1..]));
}

public static class ModelSummary
{
    /// <summary>
    /// Runs a (1, C, H, W) tensor of zeros through a fresh <paramref name="info"/> model, recording every layer call
    /// with forward hooks, so the table is what the model really does.
    /// </summary>
    public static Summary Trace(ModelInfo info, long[] input)
    {
        using var model = info.Create();
        long parameters = model.parameters().Sum(p => p.numel());
        model.eval();
        var rows = new List<LayerRow>();
        var downsampled = new Stack<long[]>(); // the spatial size each downsampling layer took in
        var unhook = new List<Action>();
        foreach (var (name, module) in model.named_modules())
        {
            if (module is not nn.Module<Tensor, Tensor> layer || module.named_children().Any()) continue;
            long own = module.parameters().Sum(p => p.numel());
            var remover = layer.register_forward_hook((_, x, y) =>
            {
                long[] inSize = x.shape[2..], outSize = y.shape[2..];
                string? note = null;
                if (outSize.Zip(inSize).Any(p => p.First < p.Second)) downsampled.Push(inSize);
                else if (outSize.Zip(inSize).Any(p => p.First > p.Second) && downsampled.TryPop(out var expected) && !expected.SequenceEqual(outSize))
                    note = $"expected {Size(expected)}";
                rows.Add(new LayerRow(name, Describe(module), x.shape, y.shape, rows.Any(r => r.Name == name) ? 0 : own, note,
                                      Window(module), module is ConvTranspose2d or PixelShuffle));
                return y;
            });
            unhook.Add(remover.remove);
        }
        try
        {
            using var noGrad = torch.no_grad();
            using var x = torch.zeros(new[] { 1L }.Concat(input).ToArray());
            using var y = model.forward(x);
            return new Summary(info, input, rows, y.shape[1..], parameters, null);
        }
        catch (Exception e) when (e is System.Runtime.InteropServices.ExternalException or ArgumentException)
        {
            // libtorch's message: its first line says what did not fit.
            return new Summary(info, input, rows, null, parameters, e.Message.Split('\n')[0].Trim());
        }
        finally
        {
            foreach (var remove in unhook) remove();
        }
    }

    /// <summary>Along one side (these models' kernels are square): kernel, stride, padding, dilation.</summary>
    static ConvSide? Window(nn.Module m) => m switch
    {
        Convolution c => new ConvSide(c.kernel_size.Max(), c.stride.Max(), c.padding!.Max(), c.dilation.Max()),
        MaxPool2d p => new ConvSide(p.kernel_size.Max(), (p.stride ?? p.kernel_size).Max(), (p.padding ?? new[] { 0L }).Max(), (p.dilation ?? new[] { 1L }).Max()),
        AvgPool2d p => new ConvSide(p.kernel_size.Max(), (p.stride ?? p.kernel_size).Max(), (p.padding ?? new[] { 0L }).Max()),
        // Folding r x r blocks into channels reads each block once, as a k r s r convolution; unfolding, as its transpose.
        PixelUnshuffle u => new ConvSide(u.downscale_factor, u.downscale_factor, 0, 1),
        PixelShuffle s => new ConvSide(s.upscale_factor, s.upscale_factor, 0, 1),
        _ => null,
    };

    static string Describe(nn.Module m) => m switch
    {
        Conv2d c => $"Conv2d {c.in_channels}->{c.out_channels} {Settings(c)}",
        ConvTranspose2d c => $"ConvTranspose2d {c.in_channels}->{c.out_channels} {Settings(c)}" + (c.output_padding.Any(v => v != 0) ? $" op{c.output_padding[0]}" : ""),
        MaxPool2d p => $"MaxPool2d k{p.kernel_size[0]} s{(p.stride ?? p.kernel_size)[0]}",
        _ => m.GetType().Name,
    };

    /// <summary>The tutorials' shorthand: k3 s2 p1 d2, leaving out stride 1, padding 0 and dilation 1.</summary>
    static string Settings(Convolution c) =>
        $"k{c.kernel_size[0]}" + (c.stride[0] != 1 ? $" s{c.stride[0]}" : "") + (c.padding![0] != 0 ? $" p{c.padding[0]}" : "") +
        (c.dilation[0] != 1 ? $" d{c.dilation[0]}" : "");

    public static string Size(long[] hw) => string.Join('x', hw);
}
