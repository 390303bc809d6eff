// Which model denoises each picture: the one named, or, with none named, the one that fits it (Commands/ModelPicker).
using Denoiser.Data;
using Denoiser.Inference;

namespace Denoiser.Batch;

public interface IModelChoice : IDisposable
{
    /// <summary>The model named for every picture; null when each picture gets the one that fits it.</summary>
    IImageModel? Named { get; }

    /// <summary>The model for <paramref name="picture"/>, and why it was chosen when none was named.</summary>
    (IImageModel Model, string? Why) For(Picture picture);
}

/// <summary>One model, named, for every picture.</summary>
public sealed class NamedModel(IImageModel model) : IModelChoice
{
    public IImageModel? Named => model;

    public (IImageModel Model, string? Why) For(Picture picture) => (model, null);

    public void Dispose() => model.Dispose();
}
