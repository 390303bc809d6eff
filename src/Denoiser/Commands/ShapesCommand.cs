// `denoiser shapes`: a model's layer table traced from the model itself, and the size arithmetic of (transposed) convolutions.
using System.CommandLine;
using Denoiser.Models;
using Denoiser.Shapes;

namespace Denoiser.Commands;

public static class ShapesCommand
{
    public static Command Create()
    {
        var model = new Opt<string>("--model", $"Model to trace: {Registry.Names}") { Default = Registry.Default.Name };
        var input = new Opt<string?>("--input", "Input size CxHxW, HxW or a side [default: the model's own, 1x28x28 or 3x32x32]");
        var command = new Command("shapes", "Every layer of a model with its output shape and parameters; and the size arithmetic of Conv2d, MaxPool2d and ConvTranspose2d.")
        {
            model, input,
            Calculator("conv", "Output size of a Conv2d (or MaxPool2d) along one side, term by term.", ArithmeticReport.Conv),
            Calculator("convtranspose", "Output size of a ConvTranspose2d along one side, term by term.", ArithmeticReport.ConvTranspose, outputPadding: true),
            Calculator("invert", "The ConvTranspose2d settings (output_padding included) that bring a Conv2d's output back to its input size.", ArithmeticReport.Invert),
        };
        command.SetAction(p => LayerTable.Print(model.Get(p), input.Get(p)));
        return command;
    }

    /// <summary>A calculator: one side's size and a layer's settings; stride, padding and dilation default as in torch.nn.</summary>
    static Command Calculator(string name, string description, Action<long, ConvSide> show, bool outputPadding = false)
    {
        var size = new Opt<long>("--in", "Input size along one side") { Required = true };
        var kernel = new Opt<long>("--kernel", "kernel_size") { Required = true };
        var stride = new Opt<long>("--stride", "stride") { Default = 1 };
        var padding = new Opt<long>("--padding", "padding") { Default = 0 };
        var dilation = new Opt<long>("--dilation", "dilation") { Default = 1 };
        var extra = new Opt<long>("--output-padding", "output_padding (less than the stride or the dilation)") { Default = 0 };
        var command = new Command(name, description) { size, kernel, stride, padding, dilation };
        if (outputPadding) command.Options.Add(extra);
        command.SetAction(p =>
        {
            try { show(size.Get(p), new ConvSide(kernel.Get(p), stride.Get(p), padding.Get(p), dilation.Get(p), outputPadding ? extra.Get(p) : 0)); }
            catch (InvalidShapeException e) { throw new UserException(e.Message, ExitCodes.Usage); }
            return ExitCodes.Ok;
        });
        return command;
    }
}
