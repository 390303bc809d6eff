// Runs an exported ONNX model through ONNX Runtime: no libtorch is loaded on this path.
using Denoiser.Interchange;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Denoiser.Inference;

public sealed class OnnxImageModel : IImageModel
{
    readonly InferenceSession session;
    readonly string input;

    public OnnxImageModel(string path, string expectedModel)
    {
        if (!File.Exists(path)) throw new UserException($"{path}: file not found.");
        try { session = new InferenceSession(path); }
        catch (OnnxRuntimeException e)
        {
            throw new UserException($"{path}: not a loadable ONNX model ({e.Message.ReplaceLineEndings(" ")}). Export one with `denoiser export --format onnx`.");
        }
        if (session.ModelMetadata.CustomMetadataMap.TryGetValue(WeightsFile.ModelKey, out var kind) && kind != expectedModel)
        {
            session.Dispose();
            throw new UserException($"{path}: is an ONNX export of model '{kind}', not '{expectedModel}'.");
        }
        var (name, meta) = session.InputMetadata.First();
        if (session.InputMetadata.Count != 1 || meta.Dimensions.Length != 4 || meta.ElementType != typeof(float))
        {
            session.Dispose();
            throw new UserException($"{path}: its input is not one (batch, channels, height, width) float tensor, so it is not a Denoiser model.");
        }
        input = name;
    }

    public float[] Run(float[] image, int height, int width)
    {
        var tensor = new DenseTensor<float>(image, new[] { 1, 1, height, width });
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor(input, tensor) });
        var output = results.First().AsTensor<float>();
        if (output.Dimensions.Length != 4 || output.Dimensions[2] != height || output.Dimensions[3] != width)
            throw new UserException($"the ONNX model maps {height}x{width} to [{string.Join(", ", output.Dimensions.ToArray())}], not an image of the same size.");
        return output.ToArray();
    }

    public void Dispose() => session.Dispose();
}
