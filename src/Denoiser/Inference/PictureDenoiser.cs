// Denoises whole pictures: colour by luma or per channel for a grey model, RGB for a colour one, alpha kept,
// polarity handled, at the picture's own depth (8 or 16 bits).
using Denoiser.Data;

namespace Denoiser.Inference;

public enum ColorMode { Luma, Channels }
public enum InvertMode { Auto, Yes, No }

/// <summary>
/// How strongly to denoise. A model told the noise level is given <see cref="Sigma"/> (0-255 scale), or else the level
/// it estimates on the picture (<see cref="NoiseLevel.ForModel"/>), times <see cref="Factor"/>: more smooths more. A
/// blind model has no level to set: a factor below 1 mixes its output with the input (1: its output as it is).
/// </summary>
public sealed record Strength(double? Sigma = null, double Factor = 1)
{
    public static readonly Strength AsEstimated = new();

    /// <summary>Why this strength cannot be used with <paramref name="info"/>; null when it can.</summary>
    public string? RefusedBy(Models.ModelInfo info) =>
        info.TakesNoiseLevel ? null
        : Sigma != null ? $"--sigma: {info.Name} is not told the noise level (it works it out itself); use --strength 0-1 to keep some of the noise, or a model told the level (resunet-told, resunet-rgb: the shipped photo and photo-rgb)"
        : Factor > 1 ? $"--strength {Factor}: {info.Name} is not told the noise level, so it cannot be made stronger; --strength 0-1 keeps some of the noise, or use a model told the level (resunet-told, resunet-rgb: the shipped photo and photo-rgb)"
        : null;
}

public static class PictureDenoiser
{
    /// <summary>
    /// Denoises <paramref name="picture"/>; returns the result and a note of what was done (colour handling,
    /// inversion). MNIST models expect light strokes on dark; documents are the opposite, so a plane whose median
    /// brightness is above one half is inverted before the model and back after it (with InvertMode.Auto).
    /// </summary>
    /// <param name="domain">What the model was trained on: a picture far from it gets a warning in the note.</param>
    /// <param name="posterior">Run a blind-spot model through <see cref="BlindSpotPosterior"/>, for Gaussian noise of
    /// this sigma (0-255 scale), or of each denoised plane's estimated level when NaN.</param>
    /// <param name="strength">How strongly (a model told the noise level: the level it is given).</param>
    /// <param name="consume">The caller will not read <paramref name="picture"/> again, so its planes may be overwritten
    /// with the result (12 MP of colour: 144 MB less at the peak).</param>
    /// <param name="tileSize">The side of the part of the picture each tile keeps (null: the model's own,
    /// <see cref="Models.ModelInfo.TileSide"/>): larger runs fewer margins, smaller holds less memory; the result is the same.</param>
    /// <returns>The result, a note of what was done, and the level the model was given (0-255 scale; null for a blind model).</returns>
    public static (Picture Result, string Note, double? Level) Denoise(IImageModel model, Picture picture, ColorMode color, InvertMode invert,
                                                        TrainingDomain? domain = null, Action? tileDone = null, double? posterior = null,
                                                        Strength? strength = null, bool consume = false, int? tileSize = null)
    {
        strength ??= Strength.AsEstimated;
        if (strength.RefusedBy(model.Info) is { } refused) throw new UserException(refused + ".", ExitCodes.Usage);
        if (posterior != null && model.Info.TakesNoiseLevel)
            throw new UserException($"--posterior is for blind-spot (Noise2Void) models; {model.Info.Name} is told the noise level and takes it as it is.", ExitCodes.Usage);
        double? level = null;
        int w = picture.Width, h = picture.Height;
        var notes = new List<string>();
        // Made only when read: a colour model on a colour photo never needs it (at 50 MP it is 200 MB).
        var luma = new Lazy<float[]>(picture.Luma);
        // Auto inverts only for a model trained on light strokes on black (MNIST): a photo model takes pictures as they are.
        bool flip = invert == InvertMode.Yes || (invert == InvertMode.Auto && domain?.SparseLightOnDark != false && TrainingDomain.Median(luma.Value) > 127);
        if (flip) notes.Add(invert == InvertMode.Yes ? "inverted (--invert yes)" : "inverted: dark on light (median brightness above half)");
        if (domain is { SparseLightOnDark: true } && domain.Warning(new Picture(w, h, 1, flip ? Invert(luma.Value) : luma.Value)) is { } warning) notes.Add(warning);
        var sigmas = new List<double>();
        // The model's planes of this picture, at its depth.
        Picture Planes(float[] planes) => new(w, h, planes.Length / (w * h), planes, picture.Bits);
        float[] Run(float[] planes)
        {
            var input = flip ? Invert(planes) : planes;
            float[] output;
            if (posterior is double given)
            {
                double sigma = double.IsNaN(given) ? NoiseLevel.Estimate(Planes(input)) / 255 : given / 255; // each plane's, averaged
                sigmas.Add(sigma * 255);
                output = BlindSpotPosterior.Denoise(model, Planes(input), sigma, tileSize: tileSize ?? model.TileSide, tileDone: tileDone).Planes;
            }
            else if (model.Info.TakesNoiseLevel)
            {
                level ??= (strength.Sigma ?? NoiseLevel.ForModel(model, Planes(input))) * strength.Factor;
                // Over the input when it is a copy made here, or the caller gave its picture up: one picture of floats, not two.
                bool overwrite = consume || !ReferenceEquals(input, picture.Planes);
                output = ImageDenoiser.Denoise(model, Planes(input), tileSize, tileDone, level.Value / 255, overwrite).Planes;
            }
            else
            {
                output = ImageDenoiser.Denoise(model, Planes(input), tileSize, tileDone).Planes;
                if (strength.Factor < 1) // a blind model's nearest equivalent: keep a share of the noise
                    for (int i = 0; i < output.Length; i++) output[i] = input[i] + (float)strength.Factor * (output[i] - input[i]);
            }
            return flip ? Invert(output) : output;
        }

        Picture result;
        int n = w * h;
        if (model.Info.Channels == 3)
        {
            bool rgbOnly = picture.Channels == 3; // no alpha: the picture's own planes go in and the result's replace them, no copies
            var rgb = Run(rgbOnly ? picture.Planes : picture.Rgb());
            result = rgbOnly ? picture with { Planes = rgb } : picture.IsColor ? picture.WithPlanes(0, rgb)
                : picture.WithPlane(0, Enumerable.Range(0, n).Select(i => (rgb[i] + rgb[n + i] + rgb[2 * n + i]) / 3).ToArray());
            notes.Add(picture.IsColor ? "colour: R, G, B denoised together (RGB model)" : "gray: run as three equal planes (RGB model)");
        }
        else if (!picture.IsColor)
            result = picture.WithPlane(0, Run(luma.Value)); // a grey picture's one plane is its luma
        else if (color == ColorMode.Channels)
        {
            result = picture.WithPlanes(0, Enumerable.Range(0, 3).SelectMany(c => Run(picture.Plane(c))).ToArray());
            notes.Add("colour: each of R, G, B denoised");
        }
        else
        {
            result = WithLuma(picture, Run(luma.Value));
            notes.Add("colour: luma (Y of YCbCr) denoised, chroma kept");
        }
        if (sigmas.Count > 0)
            notes.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"blind-spot posterior at sigma {string.Join("/", sigmas.Select(s => s.ToString("F1", System.Globalization.CultureInfo.InvariantCulture)))}/255{(double.IsNaN(posterior!.Value) ? " (estimated)" : "")}"));
        if (level is double l)
        {
            string given = strength.Sigma != null ? "--sigma" : "estimated";
            var inv = System.Globalization.CultureInfo.InvariantCulture;
            notes.Insert(0, strength.Factor == 1 ? string.Create(inv, $"noise level {l:F1}/255 {given}")
                : string.Create(inv, $"noise level {l:F1}/255 ({l / strength.Factor:F1} {given} x strength {strength.Factor:0.##})"));
        }
        else if (strength.Factor != 1) notes.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"strength {strength.Factor:0.##}: that share of the noise removed"));
        if (picture.Alpha) notes.Add("alpha kept");
        if (picture.Bits == 16) notes.Add("16-bit");
        return (result, string.Join("; ", notes), level);
    }

    /// <summary>Tiles the model will run for this picture (for progress).</summary>
    public static int TileCount(IImageModel model, Picture picture, ColorMode color, bool posterior = false, int? tileSize = null) =>
        ImageDenoiser.TileCount(picture.Width, picture.Height, tileSize ?? model.TileSide) * (model.Info.Channels == 1 && picture.IsColor && color == ColorMode.Channels ? 3 : 1)
        * (posterior ? BlindSpotPosterior.Passes : 1);

    /// <summary>The picture with luma <paramref name="y"/> and its own chroma (<see cref="Colour"/>: JPEG's full-range YCbCr).</summary>
    public static Picture WithLuma(Picture p, float[] y)
    {
        var ycc = Colour.ToYCbCr(p.Rgb());
        Array.Copy(y, ycc, y.Length);
        return p.WithPlanes(0, Colour.FromYCbCr(ycc));
    }

    static float[] Invert(float[] plane) => Array.ConvertAll(plane, v => 1 - v);
}
