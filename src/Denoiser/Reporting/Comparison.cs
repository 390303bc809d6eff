// One picture of one image under several methods side by side, each labelled with its name and PSNR (evaluate --images).
using Denoiser.Data;
using SkiaSharp;

namespace Denoiser.Reporting;

public static class Comparison
{
    const int Gap = 6, Caption = 22;

    /// <summary>The panels left to right on white, a caption over each ("noisy 20.17 dB"); written as PNG.</summary>
    public static void Write(string path, IReadOnlyList<(string Label, Picture Image)> panels)
    {
        int w = panels.Sum(p => p.Image.Width) + Gap * (panels.Count - 1), h = panels.Max(p => p.Image.Height) + Caption;
        using var surface = SKSurface.Create(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var font = new SKFont(SKTypeface.Default, 15);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        int x = 0;
        foreach (var (label, picture) in panels)
        {
            canvas.DrawText(label, x + 4, Caption - 6, SKTextAlign.Left, font, ink);
            byte[] bytes = picture.Bytes();
            var rgba = new byte[picture.Width * picture.Height * 4];
            for (int i = 0; i < picture.Width * picture.Height; i++)
                for (int k = 0; k < 4; k++)
                    rgba[4 * i + k] = k == 3 ? (byte)255 : bytes[i * picture.Channels + (picture.IsColor ? k : 0)];
            using var image = SKImage.FromPixelCopy(new SKImageInfo(picture.Width, picture.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul), rgba);
            canvas.DrawImage(image, x, Caption);
            x += picture.Width + Gap;
        }
        using var snapshot = surface.Snapshot();
        using var png = snapshot.Encode(SKEncodedImageFormat.Png, 100);
        AtomicFile.Write(path, s => png.SaveTo(s));
    }
}
