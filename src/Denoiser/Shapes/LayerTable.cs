// `shapes`' layer table: a model traced on an input size, each layer's output shape and parameters, its receptive field,
// and, when the model does not keep the size, which sizes it keeps.
using System.Globalization;
using Denoiser.Models;
using Spectre.Console;

namespace Denoiser.Shapes;

public static class LayerTable
{
    /// <summary>Traces model <paramref name="name"/> on <paramref name="input"/> (its own size when null) and prints the table.</summary>
    /// <returns>The exit code: a failure when the model cannot run on that input.</returns>
    public static int Print(string name, string? input)
    {
        var info = Registry.Get(name);
        Devices.SetThreads(0); // also turns off libtorch's NNPACK probe, which warns on these CPUs
        var summary = ModelSummary.Trace(info, ParseInput(input, info));
        Print(summary);
        return summary.Failure == null ? ExitCodes.Ok : ExitCodes.Failure;
    }

    /// <summary>"CxHxW", "HxW" or "N" (square); the channels must be the model's input planes (a noise-level plane included).</summary>
    static long[] ParseInput(string? text, ModelInfo info)
    {
        int c = info.InputChannels;
        if (text == null) return new long[] { c, info.Side, info.Side };
        var parts = text.ToLowerInvariant().Split('x');
        var values = parts.Select(v => long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n > 0 ? n : -1).ToArray();
        if (values.Any(v => v < 0) || values.Length is < 1 or > 3)
            throw new UserException($"--input: '{text}' is not a size; write CxHxW (1x28x28), HxW (24x24) or a side (24).", ExitCodes.Usage);
        long[] shape = values.Length switch
        {
            1 => new[] { c, values[0], values[0] },
            2 => new[] { c, values[0], values[1] },
            _ => values,
        };
        if (shape[0] != c)
            throw new UserException($"--input: {info.Name} takes {c} channel(s){(info.TakesNoiseLevel ? " (its image's and the noise level's)" : "")}, not {shape[0]}; write {c}x{shape[1]}x{shape[2]}.", ExitCodes.Usage);
        if (shape[1] > 2048 || shape[2] > 2048)
            throw new UserException($"--input: {text} is larger than the tracer runs (sides up to 2,048); the arithmetic is the same at any size, see `shapes conv`.", ExitCodes.Usage);
        return shape;
    }

    static void Print(Summary s)
    {
        // Shapes as C x H x W, the batch left out (torchsummary's -1).
        var table = new Table { Border = TableBorder.Simple }.AddColumns("layer", "", "output", "params", "");
        table.Columns[3].RightAligned();
        table.AddRow("input", "", Shape(s.Input), "", "");
        foreach (var r in s.Rows)
            table.AddRow(r.Name, Markup.Escape(r.Layer), Shape(r.Output[1..]),
                         r.Parameters.ToString("N0", CultureInfo.InvariantCulture), r.Note == null ? "" : $"[yellow]{Markup.Escape(r.Note)}[/]");
        if (s.Failure != null) table.AddRow("[red]stops[/]", "", "", "", "[red]does not fit (below)[/]");
        table.Title = new TableTitle($"{s.Model.Name}: {s.Model.Description}");
        AnsiConsole.Write(table);
        // As torchsummary estimates them: every listed layer's output kept for the backward pass, float32, batch 1.
        long activations = s.Rows.Sum(r => r.Output.Aggregate(1L, (a, b) => a * b));
        Console.WriteLine($"parameters: {s.Parameters:N0}; weights {s.Parameters * 4 / 1024.0:N1} KiB as float32; " +
                          $"layer outputs {activations * 4 / 1024.0:N1} KiB per image");
        Console.WriteLine("(activations, concatenations and additions keep the spatial size and are not listed; a concatenation shows in the next layer's input channels)");
        if (s.Failure == null)
            Console.WriteLine($"receptive field: {ReceptiveField.Compute(s)} pixels (1 + each layer's reach less one, times the input pixels between its positions); " +
                              $"`denoise` tiles read a margin of {Inference.ImageDenoiser.Margin(s.Model)} around what they keep");
        if (s.Failure != null)
        {
            Console.WriteLine($"input {Shape(s.Input)}: the model cannot run on it ({s.Failure}).");
            Console.WriteLine(Keeps(s.Model));
        }
        else if (s.SizeKept)
            Console.WriteLine($"input {Shape(s.Input)} -> output {Shape(s.Output!)}: the size is kept");
        else
        {
            Console.WriteLine($"input {Shape(s.Input)} -> output {Shape(s.Output!)}: NOT the input size, so this model cannot be trained on it as it is.");
            Console.WriteLine(Keeps(s.Model) + $" `denoise` pads such an image by reflection to {s.Model.PaddedSide((int)s.Input[1])}x{s.Model.PaddedSide((int)s.Input[2])} and crops the result back.");
        }
    }

    static string Keeps(ModelInfo m) =>
        $"{m.Name} keeps sides of {m.KeptSides}: " +
        string.Join(", ", Enumerable.Range(m.MinSide, 4 * m.SideMultiple).Where(n => m.PaddedSide(n) == n).Take(4)) + ", ...";

    static string Shape(long[] shape) => string.Join('x', shape);
}
