// The ONNX export of every model run by ONNX Runtime against TorchSharp's own forward pass, at several batch and image sizes.
using Denoiser.Interchange;
using Denoiser.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using Xunit;

namespace Denoiser.Tests.Interchange;

public class OnnxExportTests
{
    /// <summary>Every registered model, the colour one told the noise level (its fold, input slices and pooled level plane) among them.</summary>
    public static TheoryData<string> Models => new(Registry.All.Select(m => m.Name));

    /// <summary>A layer followed by a function the exporter has no mapping for (tanh).</summary>
    sealed class Unmappable : torch.nn.Module<torch.Tensor, torch.Tensor>
    {
        readonly torch.nn.Module<torch.Tensor, torch.Tensor> conv = torch.nn.Conv2d(1, 1, 3, padding: 1);
        readonly torch.nn.Module<torch.Tensor, torch.Tensor> out_conv = torch.nn.Conv2d(1, 1, 3, padding: 1);
        public Unmappable() : base(nameof(Unmappable)) => RegisterComponents();
        public override torch.Tensor forward(torch.Tensor x) => out_conv.call(torch.tanh(conv.call(x)));
    }

    [Fact]
    public void A_model_the_exporter_cannot_map_is_refused_naming_what_it_cannot()
    {
        using var model = new Unmappable();
        var refused = Assert.Throws<NotSupportedException>(() => OnnxExport.Build(model, ConvDenoiser.Info with { Name = "unmappable" }, new Dictionary<string, string>()));
        Assert.Contains("out_conv", refused.Message);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Onnx_runtime_reproduces_torchsharp_with_dynamic_batch_height_and_width(string name)
    {
        var info = Registry.Get(name);
        using var dir = new TempDir();
        torch.manual_seed(21);
        using var model = info.Create();
        // BatchNorm's running statistics away from their initial 0 and 1, so that the export must carry them.
        using (torch.no_grad())
            foreach (var (key, buffer) in model.named_buffers())
                if (key.EndsWith("running_mean")) buffer.copy_(torch.randn_like(buffer) * 0.1);
                else if (key.EndsWith("running_var")) buffer.copy_(torch.rand_like(buffer) + 0.5);
        var onnx = OnnxExport.Build(model, info, new Dictionary<string, string> { [WeightsFile.ModelKey] = info.Name });
        OnnxExport.Write(onnx, dir["m.onnx"]);
        Assert.True(onnx.OpsetImport.Single().Version >= 13);

        using var session = new InferenceSession(dir["m.onnx"]);
        int c = info.InputChannels;
        Assert.Equal(new[] { -1, c, -1, -1 }, session.InputMetadata["input"].Dimensions); // symbolic batch, height, width
        Assert.Equal(info.Name, session.ModelMetadata.CustomMetadataMap[WeightsFile.ModelKey]);

        model.eval();
        foreach (var (b, h, w) in new[] { (3, info.Side, info.Side), (1, info.PaddedSide(20), info.PaddedSide(36)), (2, info.PaddedSide(12), info.PaddedSide(44)) })
        {
            using var x = torch.rand(b, c, h, w);
            torch.Tensor expected;
            using (torch.no_grad()) expected = model.forward(x);
            var input = new DenseTensor<float>(x.data<float>().ToArray(), new[] { b, c, h, w });
            using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("input", input) });
            var output = results.Single().AsTensor<float>();
            Assert.Equal(expected.shape.Select(d => (int)d), output.Dimensions.ToArray());
            float max = expected.data<float>().ToArray().Zip(output.ToArray()).Max(p => Math.Abs(p.First - p.Second));
            Assert.True(max <= 1e-5f, $"{name} {b}x{c}x{h}x{w}: max |ONNX - TorchSharp| = {max:G3}");
            expected.Dispose();
        }
    }
}
