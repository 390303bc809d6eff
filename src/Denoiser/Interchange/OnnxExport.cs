// Writes a model as an ONNX graph (opset 13, dynamic batch, height and width) that ONNX Runtime can run without libtorch.
using Google.Protobuf;
using Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Denoiser.Interchange;

public static class OnnxExport
{
    public const int Opset = 13;        // Conv, ConvTranspose, MaxPool, Relu, Selu, Sigmoid, Concat, Add, Clip as of opset 13
    const long IrVersion = 7;           // the IR version that goes with opset 13
    public const string Input = "input", Output = "output";

    /// <summary>
    /// Builds the graph from the model's OnnxPlan, weights as initializers. Steps: submodule names, "relu",
    /// "selu", "sigmoid", "push" (keep the current tensor), "cat" (the current tensor, then the last one kept,
    /// along the channels: a U-Net's skip connection), "residual" (add the graph's input) and "clip" (to [0, 1]).
    /// </summary>
    public static ModelProto Build(nn.Module model, Models.ModelInfo info, IReadOnlyDictionary<string, string> metadata)
    {
        var plan = info.OnnxPlan ?? throw new UserException($"{info.Name} has no ONNX export; export it as safetensors.", ExitCodes.Usage);
        int channels = info.Channels;
        var children = model.named_children().ToDictionary(c => c.name, c => c.module);
        var graph = new GraphProto { Name = model.GetName() };
        string current = Input;
        var kept = new Stack<string>();
        for (int i = 0; i < plan.Count; i++)
        {
            string step = plan[i], output = i == plan.Count - 1 ? Output : $"{step}_{i}";
            if (step == "push") { kept.Push(current); continue; }
            var node = new NodeProto { Name = $"{step}_{i}", Output = { output } };
            node.Input.Add(current);
            switch (step)
            {
                case "relu": node.OpType = "Relu"; break;
                case "selu": node.OpType = "Selu"; break; // ONNX's default alpha and gamma are torch's constants
                case "sigmoid": node.OpType = "Sigmoid"; break;
                case "residual": node.OpType = "Add"; node.Input.Add(Input); break;
                case "clip":
                    node.OpType = "Clip";
                    foreach (var (bound, value) in new[] { ("clip_min", 0f), ("clip_max", 1f) })
                    {
                        if (graph.Initializer.All(t => t.Name != bound))
                            graph.Initializer.Add(new TensorProto { Name = bound, DataType = (int)TensorProto.Types.DataType.Float, FloatData = { value } });
                        node.Input.Add(bound);
                    }
                    break;
                case "cat":
                    node.OpType = "Concat";
                    node.Input.Add(kept.Pop());
                    node.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
                    break;
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
        graph.Input.Add(ImageValue(Input, channels, "height", "width"));
        graph.Output.Add(ImageValue(Output, channels, "out_height", "out_width"));

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

    /// <summary>(batch, channels, height, width) float, every size but the channels symbolic.</summary>
    static ValueInfoProto ImageValue(string name, int channels, string height, string width)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = channels });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = height });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = width });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}
