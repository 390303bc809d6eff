// Writes a model as an ONNX graph (opset 13, dynamic batch, height and width) that ONNX Runtime can run without libtorch.
using Google.Protobuf;
using Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Denoiser.Interchange;

public static class OnnxExport
{
    public const int Opset = 13;        // Conv, ConvTranspose, MaxPool, AveragePool, BatchNormalization, Relu, Selu, Sigmoid, Concat, Add, Sub, Clip, Slice, DepthToSpace as of opset 13
    const long IrVersion = 7;           // the IR version that goes with opset 13
    public const string Input = "input", Output = "output";

    /// <summary>
    /// The model's forward as an ONNX graph, weights as initializers. The graph is traced from forward itself
    /// (<see cref="GraphTrace"/>), so a model is written once and its export follows it.
    /// </summary>
    public static ModelProto Build(nn.Module<Tensor, Tensor> model, Models.ModelInfo info, IReadOnlyDictionary<string, string> metadata)
    {
        // At least 8x8: at 1x1 a fresh DnCNN's ReLUs can all be off, and its output then equals its input, bit for bit.
        int side = info.PaddedSide(Math.Max(8, info.MinSide));
        var traced = GraphTrace.Trace(model, info.InputChannels, (side, info.PaddedSide(side + 1)));
        var graph = new GraphProto { Name = model.GetName() };
        string Value(int i) => i == 0 ? Input : i == traced.Output ? Output : $"{traced.Nodes[i - 1].Name}_{i}";
        for (int i = 0; i < traced.Nodes.Count; i++)
        {
            var step = traced.Nodes[i];
            var node = new NodeProto { Name = $"{step.Name}_{i + 1}", Output = { Value(i + 1) } };
            node.Input.AddRange(step.Inputs.Select(Value));
            if (step.Layer != null) AddLayer(graph, node, step.Name, step.Layer, step.InputChannels);
            else AddFunction(graph, node, step.Op);
            graph.Node.Add(node);
        }
        graph.Input.Add(ImageValue(Input, info.InputChannels, "height", "width"));
        graph.Output.Add(ImageValue(Output, info.Channels, "out_height", "out_width"));

        var onnx = new ModelProto
        {
            IrVersion = IrVersion, ProducerName = "Denoiser", ProducerVersion = typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "",
            Graph = graph, OpsetImport = { new OperatorSetIdProto { Domain = "", Version = Opset } },
        };
        foreach (var (k, v) in metadata) onnx.MetadataProps.Add(new StringStringEntryProto { Key = k, Value = v });
        return onnx;
    }

    static void AddLayer(GraphProto graph, NodeProto node, string name, nn.Module layer, long inputChannels)
    {
        switch (layer)
        {
            case PixelShuffle p: // torch's channel order is DepthToSpace's CRD mode
                node.OpType = "DepthToSpace";
                node.Attribute.Add(new AttributeProto { Name = "blocksize", Type = AttributeProto.Types.AttributeType.Int, I = p.upscale_factor });
                node.Attribute.Add(new AttributeProto { Name = "mode", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8("CRD") });
                break;
            case PixelUnshuffle u: // SpaceToDepth orders channels otherwise; a strided convolution of ones picks each block's pixels in torch's order, exactly
            {
                long r = u.downscale_factor, c = inputChannels;
                var ones = new float[c * r * r * c * r * r];
                for (long k = 0; k < c; k++)
                    for (long b = 0; b < r * r; b++)
                        ones[(((k * r * r + b) * c + k) * r + b / r) * r + b % r] = 1; // output k*r*r + b reads input k at block offset b
                var weight = new TensorProto { Name = $"{name}.ones", DataType = (int)TensorProto.Types.DataType.Float, Dims = { c * r * r, c, r, r }, FloatData = { ones } };
                graph.Initializer.Add(weight);
                node.OpType = "Conv";
                node.Input.Add(weight.Name);
                node.Attribute.Add(Ints("kernel_shape", new[] { r, r }));
                node.Attribute.Add(Ints("strides", new[] { r, r }));
                break;
            }
            case Convolution c: // Conv2d and ConvTranspose2d: the same attributes, and output_padding for the latter
                node.OpType = c.transposed ? "ConvTranspose" : "Conv";
                AddTensors(graph, node, name, ("weight", c.weight), ("bias", c.bias));
                node.Attribute.Add(Ints("kernel_shape", c.kernel_size));
                node.Attribute.Add(Ints("strides", c.stride));
                node.Attribute.Add(Ints("dilations", c.dilation));
                node.Attribute.Add(Ints("pads", c.padding!.Concat(c.padding!).ToArray())); // [top, left, bottom, right]
                node.Attribute.Add(new AttributeProto { Name = "group", Type = AttributeProto.Types.AttributeType.Int, I = c.groups });
                if (c.transposed) node.Attribute.Add(Ints("output_padding", c.output_padding));
                break;
            case BatchNorm2d b: // as in eval(): the running statistics
                node.OpType = "BatchNormalization";
                AddTensors(graph, node, name, ("weight", b.weight), ("bias", b.bias), ("running_mean", b.running_mean), ("running_var", b.running_var));
                node.Attribute.Add(new AttributeProto { Name = "epsilon", Type = AttributeProto.Types.AttributeType.Float, F = (float)b.eps });
                break;
            case ReLU:
                node.OpType = "Relu";
                break;
            case MaxPool2d p:
                node.OpType = "MaxPool";
                node.Attribute.Add(Ints("kernel_shape", p.kernel_size));
                node.Attribute.Add(Ints("strides", p.stride ?? p.kernel_size));
                break;
            default:
                throw new NotSupportedException($"no ONNX mapping for {layer.GetType().Name} ('{name}')");
        }
    }

    static void AddFunction(GraphProto graph, NodeProto node, string op)
    {
        if (GraphTrace.Slice(op) is var (first, count)) // channels [first, first + count) of the input
        {
            node.OpType = "Slice";
            foreach (var (part, value) in new[] { ("starts", (long)first), ("ends", (long)(first + count)), ("axes", 1L) })
            {
                string bound = $"slice_{first}_{count}_{part}";
                if (graph.Initializer.All(t => t.Name != bound))
                    graph.Initializer.Add(new TensorProto { Name = bound, DataType = (int)TensorProto.Types.DataType.Int64, Dims = { 1 }, Int64Data = { value } });
                node.Input.Add(bound);
            }
            return;
        }
        if (op == "avgpool2")
        {
            node.OpType = "AveragePool";
            node.Attribute.Add(Ints("kernel_shape", new[] { 2L, 2 }));
            node.Attribute.Add(Ints("strides", new[] { 2L, 2 }));
            return;
        }
        node.OpType = op switch
        {
            "relu" => "Relu", "sigmoid" => "Sigmoid", "selu" => "Selu", // ONNX's default alpha and gamma are torch's constants
            "add" => "Add", "sub" => "Sub", "cat" => "Concat", "clip01" => "Clip",
            _ => throw new NotSupportedException($"no ONNX mapping for '{op}'"),
        };
        if (op == "cat") node.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        if (op != "clip01") return;
        foreach (var (bound, value) in new[] { ("clip_min", 0f), ("clip_max", 1f) })
        {
            if (graph.Initializer.All(t => t.Name != bound))
                graph.Initializer.Add(new TensorProto { Name = bound, DataType = (int)TensorProto.Types.DataType.Float, FloatData = { value } });
            node.Input.Add(bound);
        }
    }

    public static void Write(ModelProto onnx, string path) => Data.AtomicFile.Write(path, s => onnx.WriteTo(s));

    static void AddTensors(GraphProto graph, NodeProto node, string name, params (string Suffix, Tensor? Tensor)[] tensors)
    {
        foreach (var (suffix, t) in tensors)
        {
            if (t is null) continue;
            if (graph.Initializer.Any(i => i.Name == $"{name}.{suffix}")) { node.Input.Add($"{name}.{suffix}"); continue; } // a layer called twice
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
