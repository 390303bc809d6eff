// The ONNX export run by ONNX Runtime against TorchSharp's own forward pass, at several batch sizes and image sizes.
using Denoiser.Interchange;
using Denoiser.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using Xunit;

namespace Denoiser.Tests.Interchange;

public class OnnxExportTests
{
    [Fact]
    public void Onnx_runtime_reproduces_torchsharp_with_dynamic_batch_height_and_width()
    {
        using var dir = new TempDir();
        torch.manual_seed(21);
        using var model = new ConvDenoiser();
        var onnx = OnnxExport.Build(model, ConvDenoiser.Plan, new Dictionary<string, string> { [WeightsFile.ModelKey] = ConvDenoiser.Kind });
        OnnxExport.Write(onnx, dir["m.onnx"]);
        Assert.True(onnx.OpsetImport.Single().Version >= 13);

        using var session = new InferenceSession(dir["m.onnx"]);
        Assert.Equal(new[] { -1, 1, -1, -1 }, session.InputMetadata["input"].Dimensions); // symbolic batch, height, width
        Assert.Equal(ConvDenoiser.Kind, session.ModelMetadata.CustomMetadataMap[WeightsFile.ModelKey]);

        model.eval();
        foreach (var (b, h, w) in new[] { (3, 28, 28), (1, 20, 36), (2, 12, 44) })
        {
            using var x = torch.rand(b, 1, h, w);
            torch.Tensor expected;
            using (torch.no_grad()) expected = model.forward(x);
            var input = new DenseTensor<float>(x.data<float>().ToArray(), new[] { b, 1, h, w });
            using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("input", input) });
            var output = results.Single().AsTensor<float>();
            Assert.Equal(expected.shape.Select(d => (int)d), output.Dimensions.ToArray());
            float max = expected.data<float>().ToArray().Zip(output.ToArray()).Max(p => Math.Abs(p.First - p.Second));
            Assert.True(max <= 1e-5f, $"{b}x1x{h}x{w}: max |ONNX - TorchSharp| = {max:G3}");
            expected.Dispose();
        }
    }
}
