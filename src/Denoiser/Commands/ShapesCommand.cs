// `denoiser shapes`: a model's layer table traced from the model itself, and the size arithmetic of (transposed) convolutions.
using System.CommandLine;
using System.Globalization;
using Denoiser.Models;
using Denoiser.Shapes;
using Spectre.Console;

namespace Denoiser.Commands;

public static class ShapesCommand
{
    public static Command Create()
    {
        var model = new Opt<string>("--model", $"Model to trace: {Registry.Names}") { Default = Registry.Default.Name };
        var input = new Opt<string?>("--input", "Input size CxHxW, HxW or a side [default: the model's own, 1x28x28 or 3x32x32]");
        var command = new Command("shapes", "Every layer of a model with its output shape and parameters; and the size arithmetic of Conv2d, MaxPool2d and ConvTranspose2d.")
        {
            model, input, Conv(), ConvTranspose(), Invert(),
        };
        command.SetAction(p =>
        {
            var info = Registry.Get(model.Get(p));
            Devices.SetThreads(0); // also turns off libtorch's NNPACK probe, which warns on these CPUs
            var summary = ModelSummary.Trace(info, ParseInput(input.Get(p), info));
            Print(summary);
            return summary.Failure == null ? ExitCodes.Ok : ExitCodes.Failure;
        });
        return command;
    }

    /// <summary>The options every calculator shares; stride, padding and dilation default as in torch.nn.</summary>
    sealed class SideOptions
    {
        public readonly Opt<long> In = new("--in", "Input size along one side") { Required = true };
        public readonly Opt<long> Kernel = new("--kernel", "kernel_size") { Required = true };
        public readonly Opt<long> Stride = new("--stride", "stride") { Default = 1 };
        public readonly Opt<long> Padding = new("--padding", "padding") { Default = 0 };
        public readonly Opt<long> Dilation = new("--dilation", "dilation") { Default = 1 };

        public Command AddTo(Command c)
        {
            foreach (var o in new Option[] { In, Kernel, Stride, Padding, Dilation }) c.Options.Add(o);
            return c;
        }

        public ConvSide Read(ParseResult p, long outputPadding = 0) =>
            new(Kernel.Get(p), Stride.Get(p), Padding.Get(p), Dilation.Get(p), outputPadding);
    }

    static Command Conv()
    {
        var o = new SideOptions();
        var command = o.AddTo(new Command("conv", "Output size of a Conv2d (or MaxPool2d) along one side, term by term."));
        command.SetAction(p => Calculate(() =>
        {
            long n = o.In.Get(p);
            var c = o.Read(p);
            long output = ConvArithmetic.ConvOut(n, c);
            Console.WriteLine($"Conv2d({c}): {n} -> {output}");
            Console.WriteLine("  out = floor((in + 2p - d(k-1) - 1) / s) + 1");
            Console.WriteLine($"      = floor(({n} + 2*{c.Padding} - {c.Dilation}*({c.Kernel}-1) - 1) / {c.Stride}) + 1");
            long numerator = n + 2 * c.Padding - c.Reach;
            Console.WriteLine($"      = floor({numerator} / {c.Stride}) + 1 = {numerator / c.Stride} + 1 = {output}");
            Console.WriteLine($"  padded input in + 2p = {n + 2 * c.Padding}; the kernel reaches d(k-1) + 1 = {c.Reach} pixels;" +
                              $" {c.Stride} step(s) between outputs");
            var (first, last) = ConvArithmetic.InputsFor(output, c);
            if (last > first)
                Console.WriteLine($"  inputs {first} to {last} all give {output}: the floor drops what is left after the last full step" +
                                  $" (so a ConvTranspose2d needs output_padding to say which; see `shapes invert`)");
        }));
        return command;
    }

    static Command ConvTranspose()
    {
        var o = new SideOptions();
        var outputPadding = new Opt<long>("--output-padding", "output_padding (less than the stride or the dilation)") { Default = 0 };
        var command = o.AddTo(new Command("convtranspose", "Output size of a ConvTranspose2d along one side, term by term."));
        command.Options.Add(outputPadding);
        command.SetAction(p => Calculate(() =>
        {
            long n = o.In.Get(p);
            var c = o.Read(p, outputPadding.Get(p));
            long output = ConvArithmetic.TransposedOut(n, c);
            Console.WriteLine($"ConvTranspose2d({c}): {n} -> {output}");
            Console.WriteLine("  out = (in - 1)s - 2p + d(k-1) + output_padding + 1");
            Console.WriteLine($"      = ({n} - 1)*{c.Stride} - 2*{c.Padding} + {c.Dilation}*({c.Kernel}-1) + {c.OutputPadding} + 1");
            Console.WriteLine($"      = {(n - 1) * c.Stride} - {2 * c.Padding} + {c.Dilation * (c.Kernel - 1)} + {c.OutputPadding} + 1 = {output}");
            Console.WriteLine($"  each input pixel spreads a {c.Reach}-pixel kernel footprint, placed every {c.Stride} pixel(s); padding trims {c.Padding} from each end");
        }));
        return command;
    }

    static Command Invert()
    {
        var o = new SideOptions();
        var command = o.AddTo(new Command("invert", "The ConvTranspose2d settings (output_padding included) that bring a Conv2d's output back to its input size."));
        command.SetAction(p => Calculate(() =>
        {
            long n = o.In.Get(p);
            var c = o.Read(p);
            var (down, back, outputPadding) = ConvArithmetic.Invert(n, c);
            Console.WriteLine($"Conv2d({c}): {n} -> {down}");
            Console.WriteLine($"ConvTranspose2d({c}): {down} -> {back}");
            if (outputPadding == 0)
                Console.WriteLine($"  already {n}: output_padding = 0 (the default)");
            else
            {
                Console.WriteLine($"  {back} is not {n}: output_padding = {n} - {back} = {outputPadding}");
                Console.WriteLine($"ConvTranspose2d({c with { OutputPadding = outputPadding }}): {down} -> {n}");
            }
            var (first, last) = ConvArithmetic.InputsFor(down, c);
            if (last > first)
                Console.WriteLine($"  why: the convolution maps every size from {first} to {last} to {down} (its floor drops the remainder), " +
                                  "so the transposed one cannot know which to give back; output_padding adds the difference on one side.");
            Console.WriteLine("  note: this restores the size, not the image. A transposed convolution is the convolution's adjoint " +
                              "(its gradient with respect to the input), with its own learned weights: an upsampler, not an inverse.");
        }));
        return command;
    }

    static int Calculate(Action show)
    {
        try { show(); }
        catch (InvalidShapeException e) { throw new UserException(e.Message, ExitCodes.Usage); }
        return ExitCodes.Ok;
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
