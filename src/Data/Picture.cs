// The one in-memory image: its planes as floats on the 0-1 scale, with the depth and alpha the file had; and the two
// crossings into and out of tensors.
using static TorchSharp.torch;

namespace Denoiser.Data;

/// <summary>
/// An image as Denoiser holds it from decoding to writing: <paramref name="Channels"/> planes of
/// <paramref name="Height"/> x <paramref name="Width"/> floats, row-major, (C, H, W) as tensors take them. Integer
/// samples are stored as sample / (2^Bits - 1), so a 16-bit picture keeps every bit and noise levels and PSNR refer to
/// the data's full range at any depth; a 32-bit floating-point TIFF's samples are kept as they are, below 0 and above 1
/// included. Files are rounded back to their grid only when written (<see cref="ImageFile.Write"/>).
/// </summary>
/// <param name="Bits">8 or 16 (integer samples), or 32 (floating-point samples, not clipped).</param>
/// <param name="Alpha">The last plane is opacity (grey and alpha, RGBA), which denoising leaves as it is.</param>
public sealed record Picture(int Width, int Height, int Channels, float[] Planes, int Bits = 8, bool Alpha = false)
{
    /// <summary>The largest integer sample: 255 or 65535 (1 for floats).</summary>
    public int Max => Bits == 32 ? 1 : (1 << Bits) - 1;
    public int Pixels => Width * Height;
    /// <summary>Grey (1) or colour (3) planes, alpha not counted.</summary>
    public int ColourPlanes => Alpha ? Channels - 1 : Channels;
    public bool IsColor => ColourPlanes >= 3;

    /// <summary>Plane <paramref name="c"/>, a copy.</summary>
    public float[] Plane(int c) => Planes[(c * Pixels)..((c + 1) * Pixels)];

    /// <summary>A copy with plane <paramref name="c"/> replaced.</summary>
    public Picture WithPlane(int c, float[] plane) => WithPlanes(c, plane);

    /// <summary>A copy with the planes from <paramref name="first"/> on replaced by <paramref name="planes"/> (k planes, one after another).</summary>
    public Picture WithPlanes(int first, float[] planes)
    {
        var copy = (float[])Planes.Clone();
        Array.Copy(planes, 0, copy, first * Pixels, planes.Length);
        return this with { Planes = copy };
    }

    /// <summary>R, G and B (a grey picture's plane three times), alpha dropped: (3, H, W).</summary>
    public float[] Rgb()
    {
        if (IsColor) return Planes[..(3 * Pixels)];
        var rgb = new float[3 * Pixels];
        for (int c = 0; c < 3; c++) Array.Copy(Planes, 0, rgb, c * Pixels, Pixels);
        return rgb;
    }

    /// <summary>The luma (BT.601, not rounded; a grey picture's own plane): (1, H, W).</summary>
    public float[] Luma() => IsColor ? Colour.Luma(Rgb()) : Plane(0);

    /// <summary>
    /// As a model with <paramref name="channels"/> channels takes it, alpha dropped: 1 the luma, as a grey file of this
    /// picture would hold it (rounded to this depth's grid, as JPEG and Pillow's convert("L") make grey), 3 R, G and B.
    /// </summary>
    public Picture As(int channels) => channels switch
    {
        1 when !IsColor && !Alpha => this,
        1 => new Picture(Width, Height, 1, Bits == 32 ? Luma() : Array.ConvertAll(Luma(), v => OnGrid(v)), Bits),
        3 when IsColor && !Alpha => this,
        3 => new Picture(Width, Height, 3, Rgb(), Bits),
        _ => throw new ArgumentException($"planes are 1 (luma) or 3 (RGB), not {channels}"),
    };

    /// <summary>A value on this depth's grid: rounded half to even and clamped, as torch's round() then clamp (floats kept).</summary>
    public float OnGrid(float v) => Bits == 32 ? v : (float)(Math.Clamp(Math.Round((double)v * Max, MidpointRounding.ToEven), 0, Max) / Max);

    /// <summary>The pictures' planes one after another (a noisy pair, an image and its clean version), all one size.</summary>
    public static Picture Stack(IReadOnlyList<Picture> pictures) =>
        new(pictures[0].Width, pictures[0].Height, pictures.Sum(p => p.Channels), pictures.SelectMany(p => p.Planes).ToArray(), pictures.Max(p => p.Bits));

    /// <summary><paramref name="left"/> and <paramref name="right"/> (same size and channels) side by side, a gap between.</summary>
    public static Picture SideBySide(Picture left, Picture right, int gap = 4)
    {
        int width = left.Width + gap + right.Width, h = left.Height;
        var planes = new float[left.Channels * width * h];
        for (int c = 0; c < left.Channels; c++)
            for (int y = 0; y < h; y++)
            {
                Array.Copy(left.Planes, (c * h + y) * left.Width, planes, (c * h + y) * width, left.Width);
                Array.Copy(right.Planes, (c * h + y) * right.Width, planes, (c * h + y) * width + left.Width + gap, right.Width);
            }
        return new Picture(width, h, left.Channels, planes, Math.Min(left.Bits, right.Bits), left.Alpha);
    }

    /// <summary>The samples interleaved (H, W, C) at 8 bits, rounded and clamped: what 8-bit encoders take.</summary>
    /// <param name="order">The planes in the order they are interleaved (OpenCV's B, G, R: 2, 1, 0); null: as they are.</param>
    public byte[] Bytes(int[]? order = null) => Interleaved(ToByte, order);

    /// <summary>A value on the 0-1 scale as an 8-bit sample: rounded half to even and clamped, as torch's round() then clamp.</summary>
    public static byte ToByte(float v) => (byte)Math.Clamp(Math.Round((double)v * 255, MidpointRounding.ToEven), 0, 255);

    /// <summary>The samples interleaved at 16 bits, rounded and clamped.</summary>
    public ushort[] Words(int[]? order = null) => Interleaved(v => (ushort)Math.Clamp(Math.Round((double)v * 65535, MidpointRounding.ToEven), 0, 65535), order);

    /// <summary>The samples interleaved as they are (floating-point TIFFs).</summary>
    public float[] Floats(int[]? order = null) => Interleaved(v => v, order);

    T[] Interleaved<T>(Func<float, T> sample, int[]? order)
    {
        int n = Pixels, c = Channels;
        var samples = new T[n * c];
        for (int k = 0; k < c; k++)
        {
            int plane = (order?[k] ?? k) * n;
            for (int i = 0; i < n; i++) samples[i * c + k] = sample(Planes[plane + i]);
        }
        return samples;
    }

    /// <summary>A picture from interleaved (H, W, C) samples: integers at <paramref name="bits"/>, or floats as they are.</summary>
    public static Picture FromInterleaved<T>(int width, int height, int channels, T[] samples, int bits, bool alpha, Func<T, float> value)
    {
        int n = width * height;
        var planes = new float[channels * n];
        for (int k = 0; k < channels; k++)
            for (int i = 0; i < n; i++) planes[k * n + i] = value(samples[i * channels + k]);
        return new Picture(width, height, channels, planes, bits, alpha);
    }

    /// <summary>The planes as a (1, C, H, W) float32 tensor, the form models take.</summary>
    public Tensor ToTensor() => tensor(Planes, new long[] { 1, Channels, Height, Width });

    /// <summary>A (1, C, H, W) or (C, H, W) tensor as a picture of <paramref name="bits"/> (rounded only when written).</summary>
    public static Picture FromTensor(Tensor image, int bits = 8, bool alpha = false)
    {
        var t = image.dim() == 4 ? image[0] : image;
        int c = (int)t.shape[0], h = (int)t.shape[1], w = (int)t.shape[2];
        using var values = t.detach().cpu().to_type(ScalarType.Float32).contiguous();
        return new Picture(w, h, c, values.data<float>().ToArray(), bits, alpha);
    }

    public static Picture FromBytes(int width, int height, int channels, byte[] samples) =>
        FromInterleaved(width, height, channels, samples, 8, channels is 2 or 4, b => b / 255f);
}
