// `denoiser denoise IMAGE...`: load a model (TorchSharp or ONNX Runtime), denoise each image, write it at its own depth;
// as one task of a job array if asked (--shard, --skip-existing, --report).
using System.CommandLine;
using Denoiser.Batch;
using Denoiser.Data;

namespace Denoiser.Commands;

public static class DenoiseCommand
{
    public static Command Create(AppConfig config)
    {
        var inputs = new Argument<string[]>("images") { Description = "Image files (PNG, JPEG, BMP, GIF, TGA, WebP, TIFF; 8 or 16 bits), folders or glob patterns", Arity = ArgumentArity.OneOrMore };
        var recursive = new Opt<bool>("--recursive", "Look for images in subfolders of folder arguments too", "-r");
        var output = new Opt<string?>("--output", "Output file (one input), or folder (several inputs: the input tree is mirrored) [default: NAME.denoised.EXT beside each input]", "-o");
        var overwrite = new Opt<bool>("--overwrite", "Replace outputs that already exist");
        var format = new Opt<string>("--format", "Output format: png or tiff (keep alpha and 16 bits), webp (keeps alpha) or jpg") { Default = "png", Choices = ImageFile.OutputFormats };
        var quality = new Opt<int>("--quality", "JPEG and WebP quality, 1-100") { Default = 90, Rule = Rule.Between(1, 100) };
        var color = new Opt<string>("--color", "Colour images through a grayscale model: luma (denoise Y of YCbCr) or channels (each of R, G, B); an RGB model takes them whole")
            { Default = "luma", Choices = ["luma", "channels"] };
        var invert = new Opt<string>("--invert", "Invert dark-on-light images around the model (MNIST is light on dark): auto, yes or no") { Default = "auto", Choices = ["auto", "yes", "no"] };
        var compare = new Opt<bool>("--compare", "Also write NAME.compare.png: input and output side by side");
        var strength = new Opt<double>("--strength",
            "How strongly to denoise: a model told the noise level (the shipped photo-rgb and photo: resunet-rgb, resunet-told) is given the estimated level times this (more smooths more); " +
            "a blind model keeps 1 - S of the noise (S from 0 to 1)")
            { Default = 1, Rule = new(s => s > 0 && s <= 20, "above 0 and at most 20 (1: as estimated)", SaysValue: true) };
        var sigma = new Opt<double?>("--sigma", "The noise level to give a model told it, on the 0-255 scale (the RMS of the noise), instead of its estimate; --strength multiplies it")
            { Rule = SigmaRule };
        var runtime = new Opt<string>("--runtime",
            "auto (ONNX Runtime for a model with an ONNX graph: --weights MODEL.onnx, or a shipped model that has one, where it measured faster; else libtorch), torch or onnx")
            { Default = "auto", Choices = ["auto", "torch", "onnx"] };
        var ensemble = new Opt<bool>("--ensemble", "Average the model over the image's 8 flips and rotations (x8 self-ensemble): a few hundredths of a dB for 8 times the time");
        var posterior = new Opt<bool>("--posterior",
            "For a blind-spot (Noise2Void) model: combine its prediction of each pixel, made without the pixel, with the noisy pixel, for Gaussian noise of the estimated level; 64 times the time");
        var posteriorSigma = new Opt<double?>("--posterior-sigma", "The noise's sigma (0-255 scale) for --posterior, which it implies [default: estimated on each plane denoised]")
            { Rule = SigmaRule };
        var tile = new Opt<int?>("--tile", "Side of the square each tile keeps, in pixels: larger is faster (fewer margins), smaller holds less memory; the picture is the same [default: the model's for its runtime: 768 for photo-rgb on ONNX Runtime, else 512]")
            { Rule = new(t => t is not { } side || side >= 64 && side <= 16384, "a side of 64 to 16384 pixels", SaysValue: true) };
        var shard = new Opt<string?>("--shard", "Take only task K's share of N (K/N, K from 0) of the sorted inputs; N alone takes K from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID");
        var skipExisting = new Opt<bool>("--skip-existing", "Skip inputs whose outputs exist (outputs are written whole or not at all), so a re-run task finishes the rest");
        var report = new Opt<string?>("--report", "Write a JSON summary to this file: inputs, outputs, skipped, failed with reasons, seconds");
        var source = new ModelSource(config, byPicture: true);
        var devices = new DeviceOptions(config); // the torch runtime's; ONNX Runtime chooses its own

        var command = new Command("denoise", "Denoise images with a checkpoint, a safetensors or PyTorch .pt weights file, a shipped model or an ONNX model.")
        {
            inputs, recursive, output, overwrite, format, quality, color, invert, compare, strength, sigma, tile, runtime, ensemble, posterior, posteriorSigma, shard, skipExisting, report,
        };
        foreach (var o in source.Options.Concat(devices.Options)) command.Options.Add(o);
        command.SetAction(p => DenoiseBatch.Run(report.Get(p), shard.Get(p),
            () => new DenoiseRequest(p.GetValue(inputs)!, recursive.Get(p), output.Get(p), overwrite.Get(p), skipExisting.Get(p), format.Get(p), quality.Get(p),
                                     color.Get(p), invert.Get(p), compare.Get(p), strength.Get(p), sigma.Get(p), posterior.Get(p), posteriorSigma.Get(p), tile.Get(p)),
            () => source.ForPictures(p, devices, runtime.Get(p), ensemble.Get(p))));
        return command;
    }

    static readonly Rule<double?> SigmaRule = new(level => level is not { } l || l > 0 && l < 255, "a noise level above 0 and below 255 (the 0-255 scale)", SaysValue: true);
}
