// IDX reading: raw and gzip, limits, and one precise error for every kind of damage.
using Denoiser.Data;
using Xunit;

namespace Denoiser.Tests.Data;

public class IdxFileTests
{
    static readonly byte[][] Images = { TestFiles.Digit(3, 0), TestFiles.Digit(7, 1), TestFiles.Digit(1, 2) };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reads_images_and_labels_raw_or_gzipped(bool gzip)
    {
        using var dir = new TempDir();
        byte[] img = TestFiles.Idx3(Images), lab = TestFiles.Idx1(new byte[] { 3, 7, 1 });
        File.WriteAllBytes(dir["i"], gzip ? TestFiles.Gzip(img) : img);
        File.WriteAllBytes(dir["l"], gzip ? TestFiles.Gzip(lab) : lab);

        var images = IdxFile.ReadImages(dir["i"]);
        var labels = IdxFile.ReadLabels(dir["l"]);

        Assert.Equal(new[] { 3, 28, 28 }, images.Dimensions);
        Assert.Equal(Images.SelectMany(b => b).ToArray(), images.Data);
        Assert.Equal(new byte[] { 3, 7, 1 }, labels.Data);
    }

    [Fact]
    public void A_limit_keeps_the_first_items()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir["i"], TestFiles.Idx3(Images));
        var two = IdxFile.ReadImages(dir["i"], limit: 2);
        Assert.Equal(2, two.Count);
        Assert.Equal(Images[1], two.Data.Skip(784).ToArray());
        Assert.Equal(3, IdxFile.ReadImages(dir["i"], limit: 100).Count);
    }

    public static TheoryData<string, Func<byte[], byte[]>, string> Damage => new()
    {
        { "truncated", b => b[..^10], "truncated" },
        { "padded", b => b.Concat(new byte[5]).ToArray(), "truncated or not IDX" },
        { "wrong magic", b => { var c = (byte[])b.Clone(); c[2] = 0x0D; return c; }, "magic number is 00000D03" },
        { "labels file given as images", b => TestFiles.Idx1(new byte[] { 1, 2, 3 }), "magic number is 00000801" },
        { "zero count", b => { var c = (byte[])b.Clone(); c[7] = 0; c[6] = 0; c[5] = 0; c[4] = 0; return c; }, "dimension 0 is 0" },
        { "lying rows", b => { var c = (byte[])b.Clone(); c[11] = 29; return c; }, "truncated or not IDX" },
        { "header only", b => b[..6], "file ends while reading dimension 0" },
        { "empty", b => Array.Empty<byte>(), "file ends while reading the 4-byte magic number" },
    };

    [Theory]
    [MemberData(nameof(Damage))]
    public void Damaged_raw_files_fail_with_the_file_name_and_the_problem(string _, Func<byte[], byte[]> damage, string expected)
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir["images"], damage(TestFiles.Idx3(Images)));
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(dir["images"]));
        Assert.Contains(dir["images"], e.Message);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Damaged_gzip_files_fail_clearly()
    {
        using var dir = new TempDir();
        byte[] gz = TestFiles.Gzip(TestFiles.Idx3(Images));
        File.WriteAllBytes(dir["cut.gz"], gz[..(gz.Length / 2)]);
        File.WriteAllBytes(dir["long.gz"], TestFiles.Gzip(TestFiles.Idx3(Images).Concat(new byte[100]).ToArray()));
        var corrupt = (byte[])gz.Clone();
        for (int i = 20; i < 40; i++) corrupt[i] ^= 0x5A;
        File.WriteAllBytes(dir["corrupt.gz"], corrupt);

        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(dir["cut.gz"])).Message);
        Assert.Contains("longer than its header declares", Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(dir["long.gz"])).Message);
        Assert.Contains(dir["corrupt.gz"], Assert.ThrowsAny<InvalidDataException>(() => IdxFile.ReadImages(dir["corrupt.gz"])).Message);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var e = Assert.Throws<FileNotFoundException>(() => IdxFile.ReadImages("/nonexistent/train-images-idx3-ubyte"));
        Assert.Contains("/nonexistent/train-images-idx3-ubyte", e.Message);
    }

    [Fact]
    public void A_gzip_whose_header_claims_gigabytes_fails_without_allocating_them()
    {
        using var dir = new TempDir();
        var lying = TestFiles.Idx3(new[] { TestFiles.Digit(1, 1) });
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(lying.AsSpan(4), 2_000_000); // 1.6 GB of images
        File.WriteAllBytes(dir["lying.gz"], TestFiles.Gzip(lying));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(dir["lying.gz"]));
        Assert.Contains("truncated", e.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20, "allocated as if the header were true");
    }
}
