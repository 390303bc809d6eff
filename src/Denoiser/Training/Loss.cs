// What a training step minimises: the model's output against its target.
using static TorchSharp.torch;

namespace Denoiser.Training;

/// <summary>
/// mse (the seed's, and what PSNR measures) or l1 (as DRUNet and EDSR train: Zhao et al., IEEE TCI 2017, found networks
/// trained with L1 reach a lower L2 error than those trained with L2 itself, the L1 gradient not fading as the error
/// shrinks). Validation, the best checkpoint and every reported figure stay on MSE / PSNR whichever is trained.
/// </summary>
public static class Loss
{
    public const string Kinds = "mse or l1";

    /// <summary>Throws FormatException saying what is accepted.</summary>
    public static Func<Tensor, Tensor, Tensor> Parse(string spec) => spec.Trim().ToLowerInvariant() switch
    {
        "mse" => (output, target) => nn.functional.mse_loss(output, target),
        "l1" => (output, target) => nn.functional.l1_loss(output, target),
        _ => throw new FormatException($"'{spec}' is not a loss; use {Kinds}"),
    };
}
