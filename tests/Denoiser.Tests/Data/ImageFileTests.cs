// Image input and output: round trips, and clear refusals of what is not a readable image.
using Denoiser.Data;
using Xunit;

namespace Denoiser.Tests.Data;

public class ImageFileTests
{
    [Fact]
    public void A_png_round_trips_pixel_for_pixel()
    {
        using var dir = new TempDir();
        var image = new TestFiles.Grey(5, 3, Enumerable.Range(0, 15).Select(i => (byte)(i * 17)).ToArray());
        ImageFile.Write(dir["a.png"], image.ToPicture());
        var back = TestFiles.ReadGrey(dir["a.png"]);
        Assert.Equal((5, 3), (back.Width, back.Height));
        Assert.Equal(image.Pixels, back.Pixels);
        Assert.Single(Directory.GetFiles(dir.Path)); // the temporary file was renamed, not left behind
    }

    [Fact]
    public void Empty_non_image_and_truncated_files_are_refused_with_their_name()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir["empty.png"], Array.Empty<byte>());
        File.WriteAllText(dir["text.png"], "this is not a picture");
        TestFiles.WritePng(dir["full.png"], 64, 64);
        byte[] full = File.ReadAllBytes(dir["full.png"]);
        File.WriteAllBytes(dir["cut.png"], full[..(full.Length / 2)]);

        Assert.Contains("empty", Assert.Throws<InvalidDataException>(() => TestFiles.ReadGrey(dir["empty.png"])).Message);
        Assert.Contains("not a readable image", Assert.Throws<InvalidDataException>(() => TestFiles.ReadGrey(dir["text.png"])).Message);
        Assert.Contains(dir["cut.png"], Assert.Throws<InvalidDataException>(() => TestFiles.ReadGrey(dir["cut.png"])).Message);
    }

    /// <summary>
    /// A JPEG cut off before its end is refused; one followed by zeros is whole (PolyU's Sony A7 II files carry up to
    /// 32 KB of them) and reads as the same picture.
    /// </summary>
    [Fact]
    public void A_jpeg_padded_with_zeros_reads_and_a_cut_one_is_refused()
    {
        using var dir = new TempDir();
        var picture = Picture.FromBytes(64, 48, 3, Enumerable.Range(0, 64 * 48 * 3).Select(i => (byte)(i * 7 % 251)).ToArray());
        ImageFile.Write(dir["whole.jpg"], picture, "jpg", 90);
        byte[] whole = File.ReadAllBytes(dir["whole.jpg"]);
        File.WriteAllBytes(dir["padded.jpg"], [.. whole, .. new byte[40_000]]);
        File.WriteAllBytes(dir["cut.jpg"], whole[..(whole.Length * 2 / 3)]);
        File.WriteAllBytes(dir["cut-padded.jpg"], [.. whole[..(whole.Length * 2 / 3)], .. new byte[5_000]]);
        Assert.Equal(ImageFile.Read(dir["whole.jpg"]).Planes, ImageFile.Read(dir["padded.jpg"]).Planes);
        foreach (var cut in new[] { "cut.jpg", "cut-padded.jpg" })
            Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => ImageFile.Read(dir[cut])).Message);
    }

    [Fact]
    public void Samples_are_floats_on_the_unit_scale_and_are_rounded_only_when_written()
    {
        var bytes = new byte[] { 0, 51, 102, 153, 204, 255, 1, 2 };
        var image = Picture.FromBytes(4, 2, 1, bytes);
        Assert.Equal(1f, image.Planes[5]);
        Assert.Equal(0.2f, image.Planes[1], 6);
        Assert.Equal(bytes, image.Bytes());
        // Half to even and clamped, as torch's round() then clamp; at 16 bits on the 16-bit grid.
        var values = new Picture(2, 2, 1, new[] { -0.5f, 1.5f, 0.5f, float.Epsilon });
        Assert.Equal(new byte[] { 0, 255, 128, 0 }, values.Bytes());
        Assert.Equal(new ushort[] { 0, 65535, 32768, 0 }, (values with { Bits = 16 }).Words());
    }

    [Fact]
    public void Colour_and_alpha_survive_png_and_jpeg_drops_only_alpha()
    {
        using var dir = new TempDir();
        var rgba = Picture.FromBytes(3, 2, 4, Enumerable.Range(0, 24).Select(i => (byte)(i * 10)).ToArray());
        ImageFile.Write(dir["a.png"], rgba);
        var back = ImageFile.Read(dir["a.png"]);
        Assert.Equal((rgba.Width, rgba.Height, rgba.Channels, rgba.Bits, rgba.Alpha), (back.Width, back.Height, back.Channels, back.Bits, back.Alpha));
        Assert.Equal(rgba.Planes, back.Planes);

        ImageFile.Write(dir["a.jpg"], rgba, "jpg", 95);
        var jpeg = ImageFile.Read(dir["a.jpg"]);
        Assert.Equal((3, 2, 3), (jpeg.Width, jpeg.Height, jpeg.Channels));
    }

    [Fact]
    public void Exif_orientation_is_applied_as_viewers_show_it()
    {
        // Stored 30 wide and 20 high with orientation 6: a viewer (Pillow's exif_transpose) shows it 20 x 30.
        var oriented = TestFiles.ReadGrey(TestFiles.Fixture("exif-orientation-6.jpg"));
        var expected = TestFiles.ReadGrey(TestFiles.Fixture("exif-orientation-6.expected.png"));
        Assert.Equal((20, 30), (oriented.Width, oriented.Height));
        Assert.True(oriented.Pixels.Zip(expected.Pixels).All(p => Math.Abs(p.First - p.Second) <= 12), "orientation differs from Pillow's");
    }

    [Fact]
    public void WebP_is_read_and_written()
    {
        var pillow = ImageFile.Read(TestFiles.Fixture("pillow-lossless.webp"));
        Assert.Equal((16, 12, 4), (pillow.Width, pillow.Height, pillow.Channels));
        Assert.Equal(new byte[] { 45, 40, 90, 200 }, pillow.Bytes().Skip((2 * 16 + 3) * 4).Take(4).ToArray());

        using var dir = new TempDir();
        ImageFile.Write(dir["out.webp"], pillow, "webp", 100);
        var back = ImageFile.Read(dir["out.webp"]);
        Assert.Equal((16, 12, 4), (back.Width, back.Height, back.Channels));
        Assert.True(back.Bytes().Zip(pillow.Bytes()).All(p => Math.Abs(p.First - p.Second) <= 16));
    }

    [Fact]
    public void An_image_declaring_absurd_dimensions_is_refused_before_decoding()
    {
        // A real PNG of 1x1, with its header then rewritten to claim 50,000 x 50,000 pixels (CRC fixed up).
        using var dir = new TempDir();
        TestFiles.WritePng(dir["one.png"], 1, 1);
        byte[] png = File.ReadAllBytes(dir["one.png"]);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(16), 50_000);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(20), 50_000);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(29), Crc32(png.AsSpan(12, 17)));
        File.WriteAllBytes(dir["bomb.png"], png);

        var e = Assert.Throws<InvalidDataException>(() => ImageFile.Read(dir["bomb.png"]));
        Assert.Contains("declares 50000x50000 pixels", e.Message);
    }

    /// <summary>PNG's CRC-32 (ISO-HDLC, the one zlib uses), to keep a rewritten header valid.</summary>
    static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }
}
