// The noise-level plane a model that takes one (ModelInfo.TakesNoiseLevel) reads after its image's channels.
using Denoiser.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Models;

public static class NoiseMap
{
    /// <summary>(B, C, H, W) images with each one's level (B, on the 0-1 scale) as one more plane: (B, C + 1, H, W).</summary>
    public static Tensor Append(Tensor images, Tensor levels)
    {
        using var scope = NewDisposeScope();
        var plane = levels.to_type(images.dtype).view(-1, 1, 1, 1).expand(-1, 1, images.shape[2], images.shape[3]);
        return torch.cat(new[] { images, plane }, 1).MoveToOuterDisposeScope();
    }

    /// <summary>A picture's planes with a plane of <paramref name="level"/> (0-1 scale) after them.</summary>
    public static Picture Append(Picture picture, double level)
    {
        var planes = new float[picture.Planes.Length + picture.Pixels];
        picture.Planes.CopyTo(planes, 0);
        Array.Fill(planes, (float)level, picture.Planes.Length, picture.Pixels);
        return picture with { Channels = picture.Channels + 1, Planes = planes };
    }

    /// <summary>
    /// What a training example's level is: the RMS of its noise, noisy minus clean, per image (B). For Gaussian noise that
    /// is sigma (to a fraction of a percent on a 96x96 patch); for camera noise, which varies with brightness and is
    /// clipped, rounded and compressed, it is the one number a user can estimate and set (`denoise --sigma`).
    /// </summary>
    public static Tensor Rms(Tensor noisy, Tensor clean) => (noisy - clean).Power_(2).mean(new long[] { 1, 2, 3 }).sqrt_();
}
