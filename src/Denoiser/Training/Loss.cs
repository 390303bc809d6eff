// What a training step minimises: the model's output against its target.
using static TorchSharp.torch;

namespace Denoiser.Training;

/// <summary>
/// mse (the seed's, and what PSNR measures) or l1 (as DRUNet and EDSR train: Zhao et al., IEEE TCI 2017, found networks
/// trained with L1 reach a lower L2 error than those trained with L2 itself, the L1 gradient not fading as the error
/// shrinks). Validation, the best checkpoint and every reported figure stay on MSE / PSNR whichever is trained.
/// </summary>
[System.Text.Json.Serialization.JsonConverter(typeof(Data.SpecJsonConverter<Loss>))]
public sealed record Loss : Data.ISpec<Loss>
{
    public const string Kinds = "mse or l1";

    public static readonly Loss Mse = new("mse", (output, target) => nn.functional.mse_loss(output, target));
    public static readonly Loss L1 = new("l1", (output, target) => nn.functional.l1_loss(output, target));

    Loss(string spec, Func<Tensor, Tensor, Tensor> of) => (Spec, Of) = (spec, of);

    public string Spec { get; }

    /// <summary>The loss of an output against its target, as a scalar tensor.</summary>
    public Func<Tensor, Tensor, Tensor> Of { get; }

    /// <summary>Throws FormatException saying what is accepted.</summary>
    public static Loss Parse(string spec) => spec.Trim().ToLowerInvariant() switch
    {
        "mse" => Mse,
        "l1" => L1,
        _ => throw new FormatException($"'{spec}' is not a loss; use {Kinds}"),
    };

    public bool Equals(Loss? other) => other?.Spec == Spec;
    public override int GetHashCode() => Spec.GetHashCode();
    public override string ToString() => Spec;
}
