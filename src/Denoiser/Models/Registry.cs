// Every model Denoiser can train and run, by the name that --model takes and checkpoints record.
using static TorchSharp.torch;

namespace Denoiser.Models;

/// <summary>What the rest of the program needs to know about a model without building one.</summary>
/// <param name="Name">What --model takes and checkpoints, safetensors and ONNX files record.</param>
/// <param name="Channels">Image channels in and out: 1 (grayscale) or 3 (RGB).</param>
/// <param name="Side">The image side it was designed for (28 for MNIST, 32 for CIFAR-10).</param>
/// <param name="SideMultiple">A side s maps to itself when s % SideMultiple == SideRemainder and s >= MinSide.</param>
public sealed record ModelInfo(
    string Name, string Description, int Channels, int Side, Func<nn.Module<Tensor, Tensor>> Create,
    int SideMultiple, int SideRemainder, int MinSide)
{
    /// <summary>The smallest side >= n that the model maps to itself (the size an image is padded to).</summary>
    public int PaddedSide(int n)
    {
        int p = Math.Max(n, MinSide);
        return p + ((SideRemainder - p % SideMultiple) % SideMultiple + SideMultiple) % SideMultiple;
    }

    /// <summary>
    /// The model takes one more input plane after its image channels: the noise level (the RMS of the noise, on the 0-1
    /// scale) at every pixel, as FFDNet's noise map. Its output has <see cref="Channels"/> planes.
    /// </summary>
    public bool TakesNoiseLevel { get; init; }

    /// <summary>
    /// The model told nothing whose weights this one can start from (`train --init-from`): the same layers with the level
    /// plane's input weights at zero, so it starts as that model does and learns to read the level.
    /// </summary>
    public string? BlindTwin { get; init; }

    /// <summary>
    /// Side of the part of a large image each tile keeps (`denoise`): larger for a model whose margin is wide and whose
    /// activations are small per pixel. 512 unless the model's file says otherwise.
    /// </summary>
    public int TileSide { get; init; } = Inference.ImageDenoiser.TileSize;

    /// <summary>
    /// The same under ONNX Runtime, which holds less memory per tile than libtorch: there a larger tile, whose margins
    /// cost less, fits the same memory. <see cref="TileSide"/> unless measured otherwise (docs/performance.md).
    /// </summary>
    public int? OnnxTileSide { get; init; }

    /// <summary>
    /// The measured effective reach of the shipped weights, in pixels: beyond it, changing the input moves an output
    /// pixel by less than a quarter of a grey level, on real photographs and on the worst case (every sample turned to
    /// its opposite). Tiles read this margin instead of the receptive field (docs/natural-images.md#tiles). Null: not
    /// measured, and tiles read the whole receptive field, which is exact for any weights.
    /// </summary>
    public int? Reach { get; init; }

    /// <summary>Planes in: the image's channels, and the noise-level plane when it takes one.</summary>
    public int InputChannels => Channels + (TakesNoiseLevel ? 1 : 0);

    /// <summary>The sides it keeps, as a rule: "8k+4 (at least 12)", "4k (at least 4)".</summary>
    public string KeptSides => $"{SideMultiple}k{(SideRemainder == 0 ? "" : $"+{SideRemainder}")} (at least {MinSide})";

    public override string ToString() => Name;
}

public static class Registry
{
    /// <summary>Adding a model: its file with a static Info, and one line here.</summary>
    public static readonly IReadOnlyList<ModelInfo> All = new[]
    {
        ConvDenoiser.Info,
        ConvAutoEncoder.Info,
        UNet.Info,
        DnCNN.Info,
        ResUNet.Info,
        ResUNet.ToldInfo,
        ResUNetRgb.Info,
    };

    public static ModelInfo Default => ConvDenoiser.Info;

    public static string Names => string.Join(", ", All.Select(m => m.Name));

    public static ModelInfo? Find(string name) => All.FirstOrDefault(m => m.Name == name);

    /// <summary>
    /// The model the weights or ONNX file <paramref name="path"/> holds: what the file records, else <paramref name="named"/>
    /// (--model), else the default. --model naming another model than the file records is an error.
    /// </summary>
    public static ModelInfo ForWeights(string path, string? recorded, string? named)
    {
        if (recorded != null && named != null && recorded != named)
            throw new UserException($"{path}: holds weights of model '{recorded}', not '{named}'; drop --model or use weights of {named}.");
        string name = recorded ?? named ?? Default.Name;
        return Find(name) ?? (recorded != null
            ? throw new UserException($"{path}: holds weights of model '{recorded}', which this Denoiser does not know ({Names}).")
            : Get(name));
    }

    /// <summary>The model called <paramref name="name"/>, or a usage error that lists the ones there are.</summary>
    public static ModelInfo Get(string name) =>
        Find(name) ?? throw new UserException($"--model: there is no model '{name}'; choose one of {Names} (see `denoiser shapes --model NAME`).", ExitCodes.Usage);
}
