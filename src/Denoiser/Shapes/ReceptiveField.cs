// How far a model's output pixel can see into its input, computed from the layers a traced forward pass calls.
using System.Collections.Concurrent;
using Denoiser.Models;

namespace Denoiser.Shapes;

public static class ReceptiveField
{
    static readonly ConcurrentDictionary<string, int> known = new();

    /// <summary>
    /// The side of the input window one output pixel depends on, at most: 1 + the sum over every layer called of
    /// (positions it reads - 1) x the input pixels one of its positions spans (the "jump"). Layers are taken in the order
    /// the forward pass calls them, so a skip connection's layers are counted as if they were on the main path: an
    /// upper bound for a U-Net, exact for a chain. A transposed convolution of kernel k and stride s reads ceil(k/s) of
    /// its input positions per output position and divides the jump by s.
    /// </summary>
    public static int Of(ModelInfo info) => known.GetOrAdd(info.Name, _ => Compute(ModelSummary.Trace(info, TraceInput(info))));

    /// <summary>A small input the model maps to itself: the trace needs the forward pass to go through.</summary>
    static long[] TraceInput(ModelInfo info)
    {
        long side = info.PaddedSide(Math.Max(64, info.MinSide));
        return new[] { (long)info.InputChannels, side, side };
    }

    public static int Compute(Summary trace)
    {
        if (trace.Failure is { } failure) throw new InvalidOperationException($"{trace.Model.Name}: the trace failed ({failure})");
        double field = 1, jump = 1;
        foreach (var row in trace.Rows)
        {
            if (row.Window is not { } window)
            {
                if (row.Input.Length == 4 && row.Output.Length == 4 && !row.Input[2..].SequenceEqual(row.Output[2..]))
                    throw new NotSupportedException($"{trace.Model.Name}: {row.Name} ({row.Layer}) changes the size and its reach is not known");
                continue; // pointwise: activations, batch norm
            }
            long reach = window.Reach, stride = window.Stride;
            if (row.Transposed)
            {
                field += (Math.Ceiling(reach / (double)stride) - 1) * jump;
                jump /= stride;
            }
            else
            {
                field += (reach - 1) * jump;
                jump *= stride;
            }
        }
        return (int)Math.Ceiling(field);
    }
}
