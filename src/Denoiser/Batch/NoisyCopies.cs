// `add-noise`: a folder of clean images made noisy once, from a seed: the data a self-supervised run is benchmarked on
// (single noisy images, or NAME_a / NAME_b pairs of independent draws), and test inputs for `denoise`.
using Denoiser.Data;
using Denoiser.Reporting;
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Batch;

public static class NoisyCopies
{
    /// <summary>Writes <paramref name="inDir"/>'s images with noise added to <paramref name="outDir"/>, whole or not at all.</summary>
    /// <param name="pairs">Two independent draws of each image (NAME_a, NAME_b), for --target noisy-pairs.</param>
    /// <param name="asFloat">32-bit float TIFFs, neither clipped nor rounded, instead of 8-bit PNGs.</param>
    public static int Make(string inDir, string outDir, string spec, bool pairs, bool asFloat, long seed)
    {
        Noise noise;
        try { noise = Noise.Parse(spec); }
        catch (FormatException e) { throw new UserException($"--noise: {e.Message}.", ExitCodes.Usage); }
        if (noise is NoNoise) throw new UserException("--noise none adds nothing; give the noise to add, for example gaussian:25/255.", ExitCodes.Usage);
        if (!Directory.Exists(inDir)) throw new UserException($"{inDir}: folder not found; give a folder of clean images.", ExitCodes.Usage);
        string fullIn = Path.GetFullPath(inDir), fullOut = Path.GetFullPath(outDir);
        if ((fullOut + Path.DirectorySeparatorChar).StartsWith(fullIn + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new UserException($"-o {outDir}: is inside {inDir}, whose images it would then mix with the clean ones; write somewhere else.", ExitCodes.Usage);
        if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any())
            throw new UserException($"-o {outDir}: already holds files; choose a new or empty folder (nothing in it is overwritten).", ExitCodes.Usage);
        var files = ImageFolder.Files(inDir);
        if (files.Count == 0) throw new UserException($"{inDir}: holds no images ({string.Join(", ", ImageFile.Extensions)}).", ExitCodes.Failure);

        // Written into a folder beside the output and renamed at the end: a failure leaves no half-made set behind.
        string staging = fullOut.TrimEnd(Path.DirectorySeparatorChar) + $".partial-{Environment.ProcessId}";
        try
        {
            int written = Write(files, inDir, staging, noise, pairs, asFloat, seed);
            if (Directory.Exists(outDir)) Directory.Delete(outDir); // empty, as checked
            Directory.Move(staging, fullOut);
            Console.WriteLine($"wrote {written:N0} noisy {(asFloat ? "float TIFFs" : "PNGs")} ({noise.Spec}, seed {seed}{(pairs ? ", two per image" : "")}) to {outDir}: " +
                              (asFloat ? "32-bit floats on the 0-1 scale, neither clipped nor rounded, as the noise was drawn." : "clipped to 0-255 and rounded to 8 bits, as a saved photograph is."));
            return ExitCodes.Ok;
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    static int Write(List<string> files, string inDir, string outDir, Noise noise, bool pairs, bool asFloat, long seed)
    {
        int written = 0;
        ConsoleProgress.WithProgress($"adding {noise.Spec}", files.Count, (status, done) =>
        {
            foreach (string file in files)
            {
                string relative = Path.GetRelativePath(inDir, file);
                string stem = Path.Combine(outDir, Path.GetDirectoryName(relative) ?? "", Path.GetFileNameWithoutExtension(relative));
                var picture = ImageFile.Read(file);
                int channels = picture.IsColor ? 3 : 1; // alpha dropped
                using var gen = new Generator(Seeds.ForName(seed, relative));
                string ext = asFloat ? ".tiff" : ".png";
                var names = pairs ? new[] { stem + NoisyPairs.SuffixA + ext, stem + NoisyPairs.SuffixB + ext } : new[] { stem + ext };
                foreach (string name in names) // a pair's second draw follows its first from one generator: never the same noise
                {
                    if (File.Exists(name)) throw new UserException($"{name}: two inputs make this output (names that differ only in extension); rename one.", ExitCodes.Failure);
                    Directory.CreateDirectory(Path.GetDirectoryName(name)!);
                    using var scope = NewDisposeScope();
                    var noisy = noise.Apply(picture.As(channels).ToTensor(), gen);
                    // 32-bit floats as drawn, or an 8-bit PNG: clipped and rounded when written, as a saved photograph is.
                    ImageFile.Write(name, Picture.FromTensor(noisy, bits: asFloat ? 32 : 8), asFloat ? "tiff" : "png");
                    written++;
                }
                done(null);
            }
        });
        return written;
    }
}
