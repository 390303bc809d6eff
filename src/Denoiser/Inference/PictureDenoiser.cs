// Denoises whole pictures for a grayscale model: colour by luma or per channel, alpha kept, polarity handled.
using Denoiser.Data;

namespace Denoiser.Inference;

public enum ColorMode { Luma, Channels }
public enum InvertMode { Auto, Yes, No }

public static class PictureDenoiser
{
    /// <summary>
    /// Denoises <paramref name="picture"/>; returns the result and a note of what was done (colour handling,
    /// inversion). MNIST models expect light strokes on dark; documents are the opposite, so a plane whose median
    /// brightness is above one half is inverted before the model and back after it (with InvertMode.Auto).
    /// </summary>
    /// <param name="domain">What the model was trained on: a picture far from it gets a warning in the note.</param>
    public static (Picture Result, string Note) Denoise(IImageModel model, Picture picture, ColorMode color, InvertMode invert,
                                                        TrainingDomain? domain = null, Action? tileDone = null)
    {
        var notes = new List<string>();
        var luma = Luma(picture);
        // Auto inverts only for a model trained on light strokes on black (MNIST): a photo model takes pictures as they are.
        bool flip = invert == InvertMode.Yes || (invert == InvertMode.Auto && domain?.SparseLightOnDark != false && TrainingDomain.Median(luma) > 127);
        if (flip) notes.Add(invert == InvertMode.Yes ? "inverted (--invert yes)" : "inverted: dark on light (median brightness above half)");
        if (domain?.Warning(flip ? Invert(luma) : luma) is { } warning) notes.Add(warning);
        GrayImage Run(GrayImage plane)
        {
            var output = ImageDenoiser.Denoise(model, flip ? Invert(plane) : plane, tileDone: tileDone);
            return flip ? Invert(output) : output;
        }

        Picture result;
        if (model.Info.Channels == 3)
        {
            result = DenoiseRgb(model, picture, flip, tileDone);
            notes.Add(picture.IsColor ? "colour: R, G, B denoised together (RGB model)" : "gray: run as three equal planes (RGB model)");
        }
        else if (!picture.IsColor)
            result = picture.WithPlane(0, Run(picture.Plane(0)));
        else if (color == ColorMode.Channels)
        {
            result = picture;
            for (int c = 0; c < 3; c++) result = result.WithPlane(c, Run(picture.Plane(c)));
            notes.Add("colour: each of R, G, B denoised");
        }
        else
        {
            result = DenoiseLuma(picture, Run);
            notes.Add("colour: luma (Y of YCbCr) denoised, chroma kept");
        }
        if (picture.HasAlpha) notes.Add("alpha kept");
        return (result, string.Join("; ", notes));
    }

    /// <summary>Tiles the model will run for this picture (for progress).</summary>
    public static int TileCount(IImageModel model, Picture picture, ColorMode color) =>
        ImageDenoiser.TileCount(picture.Width, picture.Height) * (model.Info.Channels == 1 && picture.IsColor && color == ColorMode.Channels ? 3 : 1);

    /// <summary>A 3-channel model on the picture's R, G, B (or its gray plane three times, averaged back); alpha kept.</summary>
    static Picture DenoiseRgb(IImageModel model, Picture p, bool flip, Action? tileDone)
    {
        int n = p.Width * p.Height;
        var planes = new float[3 * n];
        for (int i = 0; i < n; i++)
            for (int c = 0; c < 3; c++)
            {
                byte v = p.Pixels[i * p.Channels + (p.IsColor ? c : 0)];
                planes[c * n + i] = (flip ? 255 - v : v) / 255f;
            }
        float[] output = ImageDenoiser.Denoise(model, planes, p.Height, p.Width, tileDone: tileDone);
        var pixels = (byte[])p.Pixels.Clone();
        for (int i = 0; i < n; i++)
        {
            if (p.IsColor)
                for (int c = 0; c < 3; c++) pixels[i * p.Channels + c] = Unit(output[c * n + i], flip);
            else pixels[i * p.Channels] = Unit((output[i] + output[n + i] + output[2 * n + i]) / 3, flip);
        }
        return p with { Pixels = pixels };
    }

    static byte Unit(float v, bool flip)
    {
        byte b = Byte(v * 255.0);
        return flip ? (byte)(255 - b) : b;
    }

    // JPEG's full-range BT.601 YCbCr (ITU-T T.871).
    static Picture DenoiseLuma(Picture p, Func<GrayImage, GrayImage> run)
    {
        var y = run(Luma(p));
        var pixels = (byte[])p.Pixels.Clone();
        for (int i = 0; i < p.Width * p.Height; i++)
        {
            int o = i * p.Channels;
            double r = p.Pixels[o], g = p.Pixels[o + 1], b = p.Pixels[o + 2];
            double cb = -0.168736 * r - 0.331264 * g + 0.5 * b, cr = 0.5 * r - 0.418688 * g - 0.081312 * b;
            double luma = y.Pixels[i];
            pixels[o] = Byte(luma + 1.402 * cr);
            pixels[o + 1] = Byte(luma - 0.344136 * cb - 0.714136 * cr);
            pixels[o + 2] = Byte(luma + 1.772 * cb);
        }
        return p with { Pixels = pixels };
    }

    static GrayImage Luma(Picture p) => new(p.Width, p.Height, p.Planes(1));

    static GrayImage Invert(GrayImage g) => g with { Pixels = Array.ConvertAll(g.Pixels, v => (byte)(255 - v)) };

    static byte Byte(double v) => (byte)Math.Clamp(Math.Round(v), 0, 255);
}
