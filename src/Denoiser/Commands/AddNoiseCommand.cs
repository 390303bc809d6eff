// `denoiser add-noise`: a folder of clean images made noisy once, from a seed: the data a self-supervised run is
// benchmarked on (single noisy images, or NAME_a / NAME_b pairs of independent draws), and test inputs for `denoise`.
using System.CommandLine;
using Denoiser.Batch;
using Denoiser.Data;

namespace Denoiser.Commands;

public static class AddNoiseCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("folder") { Description = "Folder of clean images (searched recursively)" };
        var output = new Opt<string>("--output", "Folder to write the noisy images to (the same sub-folders and names); must not exist yet or be empty", "-o") { Required = true };
        var noise = new Opt<string>("--noise", $"Noise to add: {Noise.Kinds}") { Required = true };
        var pairs = new Opt<bool>("--pairs", $"Write two independent noisy versions of each image, {NoisyPairs.Rule}, for --target noisy-pairs");
        var asFloat = new Opt<bool>("--float", "Write 32-bit floating-point TIFFs, neither clipped nor rounded (the noise as evaluate adds it, as a sensor measures it), instead of 8-bit PNGs");
        var seed = new Opt<long>("--seed", "Seed; each file's noise follows from it and the file's path alone") { Default = 1 };
        var command = new Command("add-noise", "Make noisy copies of a folder of images once, from a seed: 8-bit PNGs (or float TIFFs), grey stays grey and colour colour.")
        {
            input, output, noise, pairs, asFloat, seed,
        };
        command.SetAction(p => NoisyCopies.Make(p.GetValue(input)!, output.Get(p), noise.Get(p), pairs.Get(p), asFloat.Get(p), seed.Get(p)));
        return command;
    }
}
