// OpenCV set up once for Denoiser: its own log lines off, since every failure becomes one error line of ours.
using OpenCvSharp;

namespace Denoiser.Data;

public static class OpenCv
{
    static readonly Lazy<bool> quiet = new(() =>
    {
        Cv2.SetLogLevel(LogLevel.SILENT); // a damaged TIFF made OpenCV print four warnings before our error
        return true;
    });

    /// <summary>Call before using OpenCV.</summary>
    public static void Quiet() => _ = quiet.Value;
}
