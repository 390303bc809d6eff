// Test-time self-ensemble ("x8", the "+" results of the super-resolution and denoising papers): the model on the 8
// flips and rotations of the image, each result turned back and the 8 averaged. Eight times the work; the errors the
// model makes differ between orientations and partly average out, the image does not. It wraps any runtime
// (libtorch or ONNX).
namespace Denoiser.Inference;

public sealed class SelfEnsemble(IImageModel inner) : IImageModel
{
    public const int Orientations = 8;

    public Models.ModelInfo Info => inner.Info;
    public TrainingDomain Domain => inner.Domain;
    public int TileSide => inner.TileSide;
    public string Runtime => inner.Runtime;

    /// <remarks>
    /// The image comes padded to sides the model keeps; a transposed one has them swapped, which it keeps too. The
    /// output may have fewer planes than the input (a model told the noise level takes its level plane and gives back
    /// the image's).
    /// </remarks>
    public Data.Picture Run(Data.Picture picture)
    {
        float[] image = picture.Planes;
        int height = picture.Height, width = picture.Width;
        double[]? sum = null;
        int channels = 0;
        for (int k = 0; k < Orientations; k++)
        {
            var (th, tw) = (k & 4) != 0 ? (width, height) : (height, width);
            var turned = new float[image.Length];
            for (int i = 0; i < image.Length; i++) turned[Turned(i, k, height, width)] = image[i];
            var result = inner.Run(picture with { Width = tw, Height = th, Planes = turned });
            (sum, channels) = (sum ?? new double[result.Planes.Length], result.Channels);
            for (int i = 0; i < sum.Length; i++) sum[i] += result.Planes[Turned(i, k, height, width)];
        }
        var mean = new float[sum!.Length];
        for (int i = 0; i < mean.Length; i++) mean[i] = (float)(sum[i] / Orientations);
        return picture with { Channels = channels, Planes = mean };
    }

    /// <summary>
    /// Where element <paramref name="i"/> of planes of h x w goes in orientation k of 8: bit 2 transposes, then bit 0
    /// flips left-right, then bit 1 flips top-bottom. The same index reads the result back, undoing the orientation.
    /// </summary>
    public static int Turned(int i, int k, int h, int w)
    {
        int plane = i / (h * w), y = i / w % h, x = i % w;
        var (ty, tx, th, tw) = (k & 4) != 0 ? (x, y, w, h) : (y, x, h, w);
        if ((k & 1) != 0) tx = tw - 1 - tx;
        if ((k & 2) != 0) ty = th - 1 - ty;
        return (plane * th + ty) * tw + tx;
    }

    public void Dispose() => inner.Dispose();
}
