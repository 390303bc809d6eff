// Images in memory: Picture (8 or 16 bits, 1-4 channels, as the file held it) and GrayImage (8-bit grey, for digits).
namespace Denoiser.Data;

/// <summary>A grayscale image, row-major, one byte per pixel.</summary>
public sealed record GrayImage(int Width, int Height, byte[] Pixels)
{
    /// <summary>Pixels as floats in [0, 1]: p / 255.</summary>
    public float[] ToUnit() => Array.ConvertAll(Pixels, p => p / 255f);

    /// <summary>Rounds floats in [0, 1] to bytes (half to even, clamped), as torch's round() then clamp.</summary>
    public static GrayImage FromUnit(int width, int height, float[] values) =>
        new(width, height, Array.ConvertAll(values, v => (byte)Math.Clamp(Math.Round(v * 255f, MidpointRounding.ToEven), 0, 255)));
}

/// <summary>
/// An image of <paramref name="Bits"/> (8 or 16) bits per sample with 1 (grey), 2 (grey, alpha), 3 (RGB) or 4 (RGBA)
/// interleaved channels. A 16-bit picture keeps every bit of a 16-bit PNG or TIFF: the models see samples / 65535, so
/// noise levels and PSNR refer to the data's full range at either depth.
/// </summary>
public sealed record Picture(int Width, int Height, int Channels, ushort[] Samples, int Bits = 8)
{
    /// <summary>An 8-bit picture.</summary>
    public Picture(int width, int height, int channels, byte[] pixels) : this(width, height, channels, Array.ConvertAll(pixels, p => (ushort)p)) { }

    /// <summary>The largest sample: 255 or 65535.</summary>
    public int Max => (1 << Bits) - 1;
    public bool HasAlpha => Channels is 2 or 4;
    public bool IsColor => Channels >= 3;

    /// <summary>The samples at 8 bits (a 16-bit sample v becomes round(v * 255 / 65535)), for displays and 8-bit formats.</summary>
    public byte[] Bytes() => Bits == 8 ? Array.ConvertAll(Samples, s => (byte)s)
        : Array.ConvertAll(Samples, s => (byte)Math.Round(s * 255.0 / Max, MidpointRounding.ToEven));

    public Picture To8Bit() => Bits == 8 ? this : new Picture(Width, Height, Channels, Bytes());

    /// <summary><paramref name="left"/> and <paramref name="right"/> (same size and channels) side by side, a gap between.</summary>
    public static Picture SideBySide(Picture left, Picture right, int gap = 4)
    {
        if (left.Bits != right.Bits) (left, right) = (left.To8Bit(), right.To8Bit());
        int width = left.Width + gap + right.Width, c = left.Channels;
        var samples = new ushort[width * left.Height * c];
        for (int y = 0; y < left.Height; y++)
        {
            Array.Copy(left.Samples, y * left.Width * c, samples, y * width * c, left.Width * c);
            Array.Copy(right.Samples, y * right.Width * c, samples, (y * width + left.Width + gap) * c, right.Width * c);
        }
        return new Picture(width, left.Height, c, samples, left.Bits);
    }

    /// <summary>
    /// (C, H, W) bytes at 8 bits, alpha dropped: for 1 channel the luma (ITU-R BT.601, as JPEG and Pillow's
    /// convert("L")), for 3 R, G and B (a gray picture's plane three times). Training sets are held this way.
    /// </summary>
    public byte[] Planes(int channels)
    {
        if (Bits != 8) return To8Bit().Planes(channels);
        if (channels is not (1 or 3)) throw new ArgumentException($"planes are 1 (luma) or 3 (RGB), not {channels}");
        int n = Width * Height;
        var planes = new byte[channels * n];
        for (int i = 0; i < n; i++)
        {
            int o = i * Channels;
            byte r = (byte)Samples[o], g = IsColor ? (byte)Samples[o + 1] : r, b = IsColor ? (byte)Samples[o + 2] : r;
            if (channels == 1) planes[i] = (byte)Math.Clamp(Math.Round(0.299 * r + 0.587 * g + 0.114 * b), 0, 255);
            else (planes[i], planes[n + i], planes[2 * n + i]) = (r, g, b);
        }
        return planes;
    }

    /// <summary>
    /// (C, H, W) floats in [0, 1] (samples / Max), alpha dropped: for 1 channel the luma, computed without rounding;
    /// for 3 R, G and B (a gray picture's plane three times).
    /// </summary>
    public float[] UnitPlanes(int channels)
    {
        if (channels is not (1 or 3)) throw new ArgumentException($"planes are 1 (luma) or 3 (RGB), not {channels}");
        int n = Width * Height;
        var planes = new float[channels * n];
        float max = Max;
        for (int i = 0; i < n; i++)
        {
            int o = i * Channels;
            float r = Samples[o] / max, g = IsColor ? Samples[o + 1] / max : r, b = IsColor ? Samples[o + 2] / max : r;
            if (channels == 1) planes[i] = IsColor ? (float)(0.299 * r + 0.587 * g + 0.114 * b) : r;
            else (planes[i], planes[n + i], planes[2 * n + i]) = (r, g, b);
        }
        return planes;
    }

    /// <summary>Channel <paramref name="c"/> as floats in [0, 1].</summary>
    public float[] UnitPlane(int c)
    {
        var plane = new float[Width * Height];
        float max = Max;
        for (int i = 0; i < plane.Length; i++) plane[i] = Samples[i * Channels + c] / max;
        return plane;
    }

    /// <summary>A copy with channel <paramref name="c"/> set from floats in [0, 1], rounded (half to even) and clamped at this depth.</summary>
    public Picture WithUnitPlane(int c, float[] plane)
    {
        var samples = (ushort[])Samples.Clone();
        for (int i = 0; i < plane.Length; i++) samples[i * Channels + c] = Sample(plane[i]);
        return this with { Samples = samples };
    }

    /// <summary>A float in [0, 1] as a sample of this depth (half to even, clamped), as torch's round() then clamp.</summary>
    public ushort Sample(double unit) => (ushort)Math.Clamp(Math.Round(unit * Max, MidpointRounding.ToEven), 0, Max);
}
