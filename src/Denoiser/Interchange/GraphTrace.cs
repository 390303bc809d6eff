// The graph a model's forward computes, found by running it: layers seen through hooks, the functions between them by their values.
using Denoiser.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Interchange;

/// <summary>One step of a traced graph. Values are numbered: 0 is the graph's input, node i makes value i + 1.</summary>
/// <param name="Op">"layer" (a module: see Layer), or a function: relu, sigmoid, selu, clip01 (clamp to [0, 1]),
/// avgpool2 (2x2 average pooling), slice:FIRST:COUNT (channels of the graph's input), add, sub, cat (along the channels).</param>
/// <param name="Name">The layer's name in the model (its state-dict prefix), else the function's.</param>
/// <param name="InputChannels">A layer's input channels, as traced (a pixel unshuffle's mapping needs them).</param>
public sealed record GraphNode(string Op, string Name, int[] Inputs, nn.Module<Tensor, Tensor>? Layer = null, long InputChannels = 0);

public sealed record Graph(IReadOnlyList<GraphNode> Nodes, int Output)
{
    /// <summary>Runs the graph with TorchSharp's own operations (to check a trace against the model it came from).</summary>
    public Tensor Run(Tensor input)
    {
        var values = new List<Tensor> { input };
        foreach (var n in Nodes)
            values.Add(n.Op == "layer" ? n.Layer!.call(values[n.Inputs[0]]) : GraphTrace.Apply(n.Op, n.Inputs.Select(i => values[i]).ToArray()));
        return values[Output];
    }
}

/// <summary>
/// libtorch's tracer is not reachable from TorchSharp, so the trace runs forward once on random values with a hook on
/// every layer (which gives each layer's input and output), and finds each input that no earlier step produced as
/// one function, or a function of a function, of earlier values whose result is the same, bit for bit. Random values
/// make a false match all but impossible; <see cref="Trace"/> then runs the graph on a second, differently sized input
/// and refuses a graph that does not reproduce the model.
/// </summary>
public static class GraphTrace
{
    static readonly string[] Unary = { "relu", "sigmoid", "selu", "clip01", "avgpool2" };
    static readonly string[] Binary = { "add", "sub", "cat" };

    public static Tensor Apply(string op, Tensor[] x) => op switch
    {
        "relu" => nn.functional.relu(x[0]),
        "sigmoid" => torch.sigmoid(x[0]),
        "selu" => nn.functional.selu(x[0]),
        "clip01" => x[0].Clamp(0, 1),
        "avgpool2" => nn.functional.avg_pool2d(x[0], 2),
        "add" => x[0].Plus(x[1]),
        "sub" => x[0] - x[1],
        "cat" => torch.cat(new[] { x[0], x[1] }, 1),
        _ when Slice(op) is var (first, count) => x[0].narrow(1, first, count),
        _ => throw new ArgumentException($"no function '{op}'"),
    };

    /// <summary>The channels "slice:FIRST:COUNT" takes (a model that splits its input: an image and a noise-level plane).</summary>
    public static (int First, int Count)? Slice(string op) =>
        op.Split(':') is ["slice", var first, var count] ? (int.Parse(first), int.Parse(count)) : null;

    /// <param name="channels">The model's input channels.</param>
    /// <param name="sides">Two image sides the model maps to themselves: one to trace at, one to check at.</param>
    public static Graph Trace(nn.Module<Tensor, Tensor> model, int channels, (int Trace, int Check) sides)
    {
        model.eval();
        using var noGrad = torch.no_grad();
        using var scope = NewDisposeScope();
        var calls = new List<(string Name, nn.Module<Tensor, Tensor> Layer, Tensor Input, Tensor Output)>();
        var removers = new List<Action>();
        foreach (var (name, module) in model.named_modules())
            if (module is nn.Module<Tensor, Tensor> layer && !module.named_children().Any())
                removers.Add(layer.register_forward_hook((_, x, y) => { calls.Add((name, layer, x.clone(), y.clone())); return y; }).remove);
        // Spread wide, so that relu, clip01 and the identity differ on this input.
        var traced = torch.randn(1, channels, sides.Trace, sides.Trace) * 4;
        Tensor output;
        try { output = model.forward(traced); }
        finally { foreach (var remove in removers) remove(); }

        var builder = new Builder(traced);
        foreach (var (name, layer, input, result) in calls)
            builder.Add(new GraphNode("layer", name, new[] { builder.Find(input, name) }, layer, input.shape[1]), result);
        var graph = new Graph(builder.Nodes, builder.Find(output, "the output"));
        Check(model, graph, channels, sides.Check);
        return graph;
    }

    static void Check(nn.Module<Tensor, Tensor> model, Graph graph, int channels, int side)
    {
        var x = torch.randn(2, channels, side, side);
        var expected = model.forward(x);
        var actual = graph.Run(x);
        if (!expected.shape.SequenceEqual(actual.shape) || !actual.allclose(expected, rtol: 1e-5, atol: 1e-6))
            throw new NotSupportedException($"the traced graph of {model.GetName()} does not reproduce its forward; its functions between layers " +
                                            $"must be among {string.Join(", ", Unary.Concat(Binary))}");
    }

    sealed class Builder(Tensor input)
    {
        public List<GraphNode> Nodes { get; } = new();
        readonly List<Tensor> values = new() { input };

        public int Add(GraphNode node, Tensor value)
        {
            Nodes.Add(node);
            values.Add(value);
            return values.Count - 1;
        }

        /// <summary>The value equal to <paramref name="v"/>: an earlier one, or one or two functions of earlier ones (added).</summary>
        public int Find(Tensor v, string usedBy)
        {
            if (Same(v) is { } known) return known;
            foreach (var (node, value) in Candidates())
                if (Equal(value, v)) return Add(node, value);
            foreach (var (node, value) in Candidates())
                foreach (string op in Unary.Where(op => Applies(op, value)))
                {
                    var outer = Apply(op, new[] { value });
                    if (Equal(outer, v)) return Add(new GraphNode(op, op, new[] { Add(node, value) }), outer);
                }
            int count = values.Count;
            // One level deep on one side: sub(slice of the input, a layer's output), as a grey model told the level returns its image less the noise.
            foreach (var (inner, innerValue) in Unaries(count).ToList())
                for (int i = count - 1; i >= 0; i--)
                    foreach (string binary in Binary)
                        foreach (bool innerFirst in new[] { true, false })
                        {
                            var args = innerFirst ? new[] { innerValue, values[i] } : new[] { values[i], innerValue };
                            if (!Fits(binary, args[0], args[1]) || !Equal(Apply(binary, args), v)) continue;
                            int a = Add(inner, innerValue);
                            return Add(new GraphNode(binary, binary, innerFirst ? new[] { a, i } : new[] { i, a }), Apply(binary, args));
                        }
            // Two levels deep on one side: cat(a layer's output, avgpool2(slice of the input)), as a model told the noise level joins them.
            for (int i = count - 1; i >= 0; i--)
                foreach (var (inner, innerValue) in Unaries(count).ToList())
                    foreach (string op in Unary.Where(op => Applies(op, innerValue)))
                    {
                        var deeper = Apply(op, new[] { innerValue });
                        foreach (string binary in Binary)
                            if (Fits(binary, values[i], deeper) && Equal(Apply(binary, new[] { values[i], deeper }), v))
                            {
                                int a = Add(inner, innerValue), b = Add(new GraphNode(op, op, new[] { a }), deeper);
                                return Add(new GraphNode(binary, binary, new[] { i, b }), Apply(binary, new[] { values[i], values[b] }));
                            }
                    }
            throw new NotSupportedException($"cannot trace what feeds {usedBy}: not a layer's output, nor a function of earlier values " +
                                            $"({string.Join(", ", Unary.Concat(Binary))})");
        }

        int? Same(Tensor v)
        {
            for (int i = values.Count - 1; i >= 0; i--) if (Equal(values[i], v)) return i;
            return null;
        }

        /// <summary>Every function of one of the first <paramref name="count"/> values, newest first; slices of the graph's input among them.</summary>
        IEnumerable<(GraphNode Node, Tensor Value)> Unaries(int count)
        {
            for (int i = count - 1; i >= 0; i--)
                foreach (string op in Unary.Where(op => Applies(op, values[i])))
                        yield return (new GraphNode(op, op, new[] { i }), Apply(op, new[] { values[i] }));
            long channels = values[0].shape[1]; // only the input's: a layer's output is not split
            for (int first = 0; first < channels; first++)
                for (int n = 1; first + n <= channels; n++)
                    if (n < channels) yield return (new GraphNode($"slice:{first}:{n}", "slice", new[] { 0 }), values[0].narrow(1, first, n));
        }

        /// <summary>Every function of the values so far, newest first: one argument, then two.</summary>
        IEnumerable<(GraphNode Node, Tensor Value)> Candidates()
        {
            int count = values.Count;
            foreach (var unary in Unaries(count)) yield return unary;
            for (int i = count - 1; i >= 0; i--)
                for (int j = count - 1; j >= 0; j--)
                    foreach (string op in Binary)
                        if (Fits(op, values[i], values[j])) yield return (new GraphNode(op, op, new[] { i, j }), Apply(op, new[] { values[i], values[j] }));
        }

        /// <summary>Pooling needs even sides; the other functions take anything.</summary>
        static bool Applies(string op, Tensor t) => op != "avgpool2" || t.dim() == 4 && t.shape[2] % 2 == 0 && t.shape[3] % 2 == 0;

        static bool Fits(string op, Tensor a, Tensor b) =>
            op == "cat" ? a.dim() == 4 && b.dim() == 4 && a.shape[0] == b.shape[0] && a.shape[2..].SequenceEqual(b.shape[2..])
                        : a.shape.SequenceEqual(b.shape);

        static bool Equal(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.allclose(b, rtol: 0, atol: 0);
    }
}
