// Writes a model as an ONNX graph (opset 13, dynamic batch, height and width) that ONNX Runtime can run without libtorch.
using Google.Protobuf;
using Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Denoiser.Interchange;

public static class OnnxExport
{
    public const int Opset = 13;        // Conv, ConvTranspose, MaxPool, Relu, Sigmoid as of opset 13
    const long IrVersion = 7;           // the IR version that goes with opset 13
    public const string Input = "input", Output = "output";

    /// <summary>Builds the graph from <paramref name="plan"/> (submodule names, "relu", "sigmoid"), weights as initializers.</summary>
    public static ModelProto Build(nn.Module model, IReadOnlyList<string> plan, IReadOnlyDictionary<string, string> metadata)
    {
        var children = model.named_children().ToDictionary(c => c.name, c => c.module);
        var graph = new GraphProto { Name = model.GetName() };
        string current = Input;
        for (int i = 0; i < plan.Count; i++)
        {
            string step = plan[i], output = i == plan.Count - 1 ? Output : $"{step}_{i}";
            var node = new NodeProto { Name = $"{step}_{i}", Output = { output } };
            node.Input.Add(current);
            switch (step)
            {
                case "relu": node.OpType = "Relu"; break;
                case "sigmoid": node.OpType = "Sigmoid"; break;
                default:
                    switch (children.GetValueOrDefault(step) ?? throw new ArgumentException($"the plan names '{step}', which the model lacks"))
                    {
                        case Convolution c: // Conv2d and ConvTranspose2d: the same attributes, and output_padding for the latter
                            node.OpType = c.transposed ? "ConvTranspose" : "Conv";
                            AddWeights(graph, node, step, c.weight, c.bias);
                            node.Attribute.Add(Ints("kernel_shape", c.kernel_size));
                            node.Attribute.Add(Ints("strides", c.stride));
                            node.Attribute.Add(Ints("dilations", c.dilation));
                            node.Attribute.Add(Ints("pads", c.padding!.Concat(c.padding!).ToArray())); // [top, left, bottom, right]
                            if (c.transposed) node.Attribute.Add(Ints("output_padding", c.output_padding));
                            break;
                        case MaxPool2d p:
                            node.OpType = "MaxPool";
                            node.Attribute.Add(Ints("kernel_shape", p.kernel_size));
                            node.Attribute.Add(Ints("strides", p.stride ?? p.kernel_size));
                            break;
                        case var m:
                            throw new NotSupportedException($"no ONNX mapping for {m.GetType().Name} ('{step}')");
                    }
                    break;
            }
            graph.Node.Add(node);
            current = output;
        }
        graph.Input.Add(ImageValue(Input, "height", "width"));
        graph.Output.Add(ImageValue(Output, "out_height", "out_width"));

        var onnx = new ModelProto
        {
            IrVersion = IrVersion, ProducerName = "Denoiser", ProducerVersion = typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "",
            Graph = graph, OpsetImport = { new OperatorSetIdProto { Domain = "", Version = Opset } },
        };
        foreach (var (k, v) in metadata) onnx.MetadataProps.Add(new StringStringEntryProto { Key = k, Value = v });
        return onnx;
    }

    public static void Write(ModelProto onnx, string path) => Data.AtomicFile.Write(path, s => onnx.WriteTo(s));

    static void AddWeights(GraphProto graph, NodeProto node, string name, Tensor weight, Tensor? bias)
    {
        foreach (var (suffix, t) in new[] { ("weight", weight), ("bias", bias) })
        {
            if (t is null) continue;
            using var cpu = t.detach().cpu().contiguous();
            var proto = new TensorProto { Name = $"{name}.{suffix}", DataType = (int)TensorProto.Types.DataType.Float };
            proto.Dims.AddRange(cpu.shape);
            proto.FloatData.AddRange(cpu.data<float>().ToArray());
            graph.Initializer.Add(proto);
            node.Input.Add(proto.Name);
        }
    }

    static AttributeProto Ints(string name, long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    /// <summary>(batch, 1, height, width) float, every size but the channel symbolic.</summary>
    static ValueInfoProto ImageValue(string name, string height, string width)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = 1 });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = height });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = width });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}
