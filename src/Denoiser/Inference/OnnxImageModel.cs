// Runs an exported ONNX model through ONNX Runtime: no libtorch is loaded on this path.
using Denoiser.Interchange;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Denoiser.Inference;

public sealed class OnnxImageModel : IImageModel
{
    readonly InferenceSession session;
    readonly string input;

    public Models.ModelInfo Info { get; }
    public TrainingDomain Domain { get; }
    public int TileSide => Info.OnnxTileSide ?? Info.TileSide;
    public string Runtime => "ONNX Runtime";

    /// <param name="named">--model, for a file that does not record its model.</param>
    /// <param name="threads">Threads for each operator (0: ONNX Runtime's choice, one per core).</param>
    public OnnxImageModel(string path, string? named, int threads = 0)
    {
        if (!File.Exists(path)) throw new UserException($"{path}: file not found.");
        // Every graph optimisation, NCHWc layouts included: the fastest of ONNX Runtime's CPU settings for these models.
        // No memory pattern: it plans for one input shape, and tiles come in several (edge tiles); planned, a 12-MP
        // colour photo peaked 100 MB higher (873 against 771 MB), at the same speed. The arena stays: without it glibc's
        // heap fragments and the peak rose to 1,250 MB.
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = threads, EnableMemoryPattern = false,
        };
        try { session = new InferenceSession(path, options); }
        catch (OnnxRuntimeException e)
        {
            throw new UserException($"{path}: not a loadable ONNX model ({e.Message.ReplaceLineEndings(" ")}). Export one with `denoiser export --format onnx`.");
        }
        try { Info = Models.Registry.ForWeights(path, session.ModelMetadata.CustomMetadataMap.GetValueOrDefault(WeightsFile.ModelKey), named); }
        catch
        {
            session.Dispose();
            throw;
        }
        var (name, meta) = session.InputMetadata.First();
        if (session.InputMetadata.Count != 1 || meta.Dimensions.Length != 4 || meta.ElementType != typeof(float) || meta.Dimensions[1] != Info.InputChannels)
        {
            session.Dispose();
            throw new UserException($"{path}: its input is not one (batch, {Info.InputChannels}, height, width) float tensor, so it is not a Denoiser {Info.Name} model.");
        }
        input = name;
        Domain = TrainingDomain.Of(Info, session.ModelMetadata.CustomMetadataMap);
    }

    /// <remarks>The ONNX boundary: the picture's planes are the input tensor's (1, C, H, W) floats as they are.</remarks>
    public Data.Picture Run(Data.Picture image)
    {
        int height = image.Height, width = image.Width;
        var tensor = new DenseTensor<float>(image.Planes, new[] { 1, Info.InputChannels, height, width });
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor(input, tensor) });
        var output = results.First().AsTensor<float>();
        if (output.Dimensions.Length != 4 || output.Dimensions[2] != height || output.Dimensions[3] != width)
            throw new UserException($"the ONNX model maps {height}x{width} to [{string.Join(", ", output.Dimensions.ToArray())}], not an image of the same size.");
        return image with { Channels = Info.Channels, Planes = output.ToArray() };
    }

    public void Dispose() => session.Dispose();
}
