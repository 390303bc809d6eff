// OpenCV for Denoiser: its own log lines off, and its codecs for what stb and Skia cannot do (TIFF, 16-bit PNG).
using OpenCvSharp;

namespace Denoiser.Data;

public static class OpenCv
{
    static readonly Lazy<bool> quiet = new(() =>
    {
        LoadGtkStubsWhereGtkIsMissing();
        Cv2.SetLogLevel(LogLevel.SILENT); // a damaged TIFF made OpenCV print four warnings before our error
        return true;
    });

    /// <summary>
    /// OpenCV's runtime links GTK 3 for its windows, which Denoiser never opens; where GTK 3 is not installed, an empty
    /// library of the same name (build/gtk-stubs) loaded first satisfies the link, as the loader matches loaded
    /// libraries by name. The real library, when there is one, is always preferred.
    /// </summary>
    static void LoadGtkStubsWhereGtkIsMissing()
    {
        if (!OperatingSystem.IsLinux()) return;
        foreach (string lib in new[] { "libgdk-3.so.0", "libgtk-3.so.0" })
        {
            if (System.Runtime.InteropServices.NativeLibrary.TryLoad(lib, out _)) continue;
            string stub = Path.Combine(AppContext.BaseDirectory, "gtk-stubs", lib);
            if (File.Exists(stub)) System.Runtime.InteropServices.NativeLibrary.TryLoad(stub, out _);
        }
    }

    /// <summary>Call before using OpenCV.</summary>
    public static void Quiet() => _ = quiet.Value;

    /// <summary>
    /// Decodes at the file's own depth, 8 or 16 bits, or 32-bit floats as stored (a TIFF's: not clipped), keeping its
    /// channels: grey, grey and alpha (OpenCV gives RGBA), RGB or RGBA. The caller has checked the declared size.
    /// </summary>
    public static Picture Decode(byte[] bytes, string path, string format)
    {
        Quiet();
        using var mat = Cv2.ImDecode(bytes, ImreadModes.Unchanged);
        if (mat.Empty()) throw new InvalidDataException($"{path}: the {format} data is damaged or in a form OpenCV cannot read.");
        int depth = mat.Depth();
        int bits = depth == MatType.CV_8U ? 8 : depth == MatType.CV_16U ? 16 : depth == MatType.CV_32F ? 32
            : throw new InvalidDataException($"{path}: holds {DepthName(depth)} samples; 8- and 16-bit integer and 32-bit floating-point images are supported (convert it to 16-bit).");
        int channels = mat.Channels();
        if (channels is not (1 or 3 or 4) || bits == 32 && channels == 4)
            throw new InvalidDataException($"{path}: has {channels} {(bits == 32 ? "floating-point " : "")}channels; grey, RGB{(bits == 32 ? "" : " and RGBA")} images are supported.");
        return Planes(mat, bits, channels);
    }

    /// <summary>
    /// A decoded Mat's samples as the picture's planes, R, G, B (A) from OpenCV's B, G, R (A), a row at a time: no copy of
    /// the whole image is made on the way (at 50 MP each would be 150 MB of bytes, or 600 MB of floats).
    /// </summary>
    static Picture Planes(Mat mat, int bits, int channels)
    {
        int w = mat.Width, h = mat.Height, n = w * h, size = bits / 8;
        int[] source = channels == 3 ? [2, 1, 0] : channels == 4 ? [2, 1, 0, 3] : [0];
        var planes = new float[channels * n];
        var row = new byte[w * channels * size];
        for (int y = 0; y < h; y++)
        {
            System.Runtime.InteropServices.Marshal.Copy(mat.Ptr(y), row, 0, row.Length);
            for (int k = 0; k < channels; k++)
            {
                int to = k * n + y * w, from = source[k], stride = channels * size;
                if (bits == 8)
                    for (int x = 0; x < w; x++) planes[to + x] = row[x * stride + from] / 255f;
                else if (bits == 16)
                    for (int x = 0; x < w; x++) planes[to + x] = BitConverter.ToUInt16(row, x * stride + from * size) / 65535f;
                else
                    for (int x = 0; x < w; x++) planes[to + x] = BitConverter.ToSingle(row, x * stride + from * size);
            }
        }
        return new Picture(w, h, channels, planes, bits, Alpha: channels == 4);
    }

    /// <summary>
    /// A picture as PNG, TIFF or JPEG (<paramref name="extension"/> ".png", ".tiff" or ".jpg") at its own depth (32-bit
    /// floats: TIFF only; JPEG: 8 bits, at <paramref name="quality"/> with libjpeg's 4:2:0 chroma); grey and alpha is
    /// written as RGBA.
    /// </summary>
    public static byte[] Encode(Picture picture, string extension, int quality = 95)
    {
        Quiet();
        if (picture.Channels == 2) picture = GreyAlphaAsRgba(picture); // OpenCV writes 1, 3 or 4 channels
        int c = picture.Channels;
        // Interleaved straight into OpenCV's order (B, G, R, A) and wrapped, not copied: at 50 MP each copy is 150 MB.
        int[]? order = c == 3 ? [2, 1, 0] : c == 4 ? [2, 1, 0, 3] : null;
        Array samples = picture.Bits switch { 8 => picture.Bytes(order), 16 => picture.Words(order), _ => picture.Floats(order) };
        var type = MatType.MakeType(picture.Bits switch { 8 => MatType.CV_8U, 16 => MatType.CV_16U, _ => MatType.CV_32F }, c);
        using var ordered = Mat.FromPixelData(picture.Height, picture.Width, type, samples);
        int[] parameters = extension == ".jpg" ? [(int)ImwriteFlags.JpegQuality, quality] : [];
        if (!Cv2.ImEncode(extension, ordered, out byte[] bytes, parameters)) throw new IOException($"OpenCV could not encode a {extension} image");
        return bytes;
    }

    /// <summary>An 8-bit RGB picture through OpenCV's JPEG encoder at <paramref name="quality"/> (1-100), chroma 4:2:0, and back.</summary>
    public static Picture JpegRoundTrip(Picture picture, int quality)
    {
        Quiet();
        using var flat = new Mat(picture.Height, picture.Width * 3, MatType.CV_8UC1);
        flat.SetArray(picture.Bytes());
        using var mat = flat.Reshape(3, picture.Height);
        using var bgr = new Mat();
        Cv2.CvtColor(mat, bgr, ColorConversionCodes.RGB2BGR);
        // 4:2:0 chroma, as cameras and phones write JPEGs (OpenCV's IMWRITE_JPEG_SAMPLING_FACTOR, 7, is not in OpenCvSharp's enum).
        Cv2.ImEncode(".jpg", bgr, out byte[] jpeg, new ImageEncodingParam(ImwriteFlags.JpegQuality, quality), new ImageEncodingParam((ImwriteFlags)7, 0x221111));
        return Decode(jpeg, "(JPEG round trip)", "JPEG");
    }

    static Picture GreyAlphaAsRgba(Picture p)
    {
        var grey = p.Plane(0);
        return new Picture(p.Width, p.Height, 4, grey.Concat(grey).Concat(grey).Concat(p.Plane(1)).ToArray(), p.Bits, Alpha: true);
    }

    static string DepthName(int depth) =>
        depth == MatType.CV_32F ? "32-bit floating-point" : depth == MatType.CV_64F ? "64-bit floating-point"
        : depth == MatType.CV_8S ? "signed 8-bit" : depth == MatType.CV_16S ? "signed 16-bit" : depth == MatType.CV_32S ? "32-bit integer" : $"type-{depth}";
}
