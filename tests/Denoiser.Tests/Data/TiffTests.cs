// TIFF in: grey and RGB read exactly, the declared size checked before decoding, a damaged header refused by name.
using System.Buffers.Binary;
using Denoiser.Data;
using OpenCvSharp;
using Xunit;

namespace Denoiser.Tests.Data;

public class TiffTests
{
    /// <summary>A TIFF written by OpenCV itself (another implementation than the reader's size check).</summary>
    static void WriteTiff(string path, Mat image)
    {
        Cv2.ImEncode(".tiff", image, out byte[] bytes);
        File.WriteAllBytes(path, bytes);
    }

    [Fact]
    public void Grey_and_colour_tiffs_read_pixel_for_pixel()
    {
        using var dir = new TempDir();
        var grey = Enumerable.Range(0, 7 * 5).Select(i => (byte)(i * 7)).ToArray();
        using (var mat = new Mat(5, 7, MatType.CV_8UC1)) { mat.SetArray(grey); WriteTiff(dir["g.tif"], mat); }
        var g = ImageFile.Read(dir["g.tif"]);
        Assert.Equal((7, 5, 1), (g.Width, g.Height, g.Channels));
        Assert.Equal(grey, g.Bytes());

        var rgb = Enumerable.Range(0, 7 * 5 * 3).Select(i => (byte)(i * 3 % 251)).ToArray();
        using (var flat = new Mat(5, 7 * 3, MatType.CV_8UC1))
        {
            var bgr = new byte[rgb.Length];
            for (int i = 0; i < rgb.Length; i += 3) (bgr[i], bgr[i + 1], bgr[i + 2]) = (rgb[i + 2], rgb[i + 1], rgb[i]); // OpenCV stores BGR
            flat.SetArray(bgr);
            using var mat = flat.Reshape(3, 5);
            WriteTiff(dir["c.tiff"], mat);
        }
        var c = ImageFile.Read(dir["c.tiff"]);
        Assert.Equal((7, 5, 3), (c.Width, c.Height, c.Channels));
        Assert.Equal(rgb, c.Bytes());
        Assert.Equal(5 * 7, TestFiles.ReadGrey(dir["c.tiff"]).Pixels.Length);
    }

    [Fact]
    public void Float_tiffs_are_read_exactly_as_stored_values_outside_0_to_1_kept()
    {
        using var dir = new TempDir();
        var grey = Enumerable.Range(0, 7 * 5).Select(i => -0.3f + i * 0.05f).ToArray(); // -0.30 ... 1.40
        using (var mat = new Mat(5, 7, MatType.CV_32FC1)) { mat.SetArray(grey); WriteTiff(dir["g.tiff"], mat); }
        var g = ImageFile.Read(dir["g.tiff"]);
        Assert.Equal((5, 7, 1, 32), (g.Height, g.Width, g.Channels, g.Bits));
        Assert.Equal(grey, g.Planes);
        Assert.Same(g, g.As(1));
        Assert.Equal(grey.Concat(grey).Concat(grey), g.As(3).Planes);

        // A sample that is not a number would make every loss NaN: refused by name before training.
        grey[12] = float.NaN;
        using (var mat = new Mat(5, 7, MatType.CV_32FC1)) { mat.SetArray(grey); WriteTiff(dir["nan.tiff"], mat); }
        Assert.Contains("nan.tiff: sample 12 is NaN", Assert.Throws<InvalidDataException>(() => ImageFile.Read(dir["nan.tiff"])).Message);

        // Colour, through the writer add-noise uses: RGB planes back as written, and luma by BT.601 without rounding.
        var rgb = Enumerable.Range(0, 7 * 5 * 3).Select(i => (i % 11) * 0.17f - 0.4f).ToArray();
        ImageFile.Write(dir["c.tiff"], new Picture(7, 5, 3, rgb, Bits: 32), "tiff");
        var colour = ImageFile.Read(dir["c.tiff"]);
        Assert.Equal(rgb, colour.Planes);
        Assert.Equal(Colour.Luma(rgb), colour.As(1).Planes);
        // Whole-number images keep their depth and are rounded to its grid where made grey.
        using (var mat = new Mat(4, 4, MatType.CV_8UC1, Scalar.All(9))) WriteTiff(dir["b.tif"], mat);
        Assert.Equal(Enumerable.Repeat((byte)9, 16), ImageFile.Read(dir["b.tif"]).As(1).Bytes());
    }

    [Fact]
    public void A_tiff_declaring_too_many_pixels_or_without_a_size_is_refused_by_name()
    {
        using var dir = new TempDir();
        using (var mat = new Mat(4, 4, MatType.CV_8UC1, Scalar.All(9))) WriteTiff(dir["small.tif"], mat);
        byte[] bytes = File.ReadAllBytes(dir["small.tif"]);
        bool little = bytes[0] == 'I';
        uint ifd = little ? BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)) : BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(4));
        int entries = little ? BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan((int)ifd)) : BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan((int)ifd));
        var huge = (byte[])bytes.Clone();
        for (int i = 0; i < entries; i++)
        {
            int e = (int)ifd + 2 + 12 * i;
            int tag = little ? BinaryPrimitives.ReadUInt16LittleEndian(huge.AsSpan(e)) : BinaryPrimitives.ReadUInt16BigEndian(huge.AsSpan(e));
            if (tag is not (256 or 257)) continue;
            if (little) { BinaryPrimitives.WriteUInt16LittleEndian(huge.AsSpan(e + 2), 4); BinaryPrimitives.WriteUInt32LittleEndian(huge.AsSpan(e + 8), 60_000); }
            else { BinaryPrimitives.WriteUInt16BigEndian(huge.AsSpan(e + 2), 4); BinaryPrimitives.WriteUInt32BigEndian(huge.AsSpan(e + 8), 60_000); }
        }
        File.WriteAllBytes(dir["huge.tif"], huge);
        var e1 = Assert.Throws<InvalidDataException>(() => ImageFile.Read(dir["huge.tif"]));
        Assert.Contains("huge.tif: declares 60000x60000 pixels", e1.Message);

        File.WriteAllBytes(dir["cut.tif"], bytes[..8]);
        var e2 = Assert.Throws<InvalidDataException>(() => ImageFile.Read(dir["cut.tif"]));
        Assert.Contains("cut.tif: the TIFF header is damaged or truncated", e2.Message);
    }
}
