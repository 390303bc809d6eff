// Folders of noisy pairs: the naming rule, and every way a folder can break it, refused before training with the file named.
using Denoiser.Data;
using Xunit;

namespace Denoiser.Tests.Data;

public class NoisyPairsTests
{
    [Fact]
    public void Pairs_are_found_by_name_in_sub_folders_and_stacked_as_channels()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir["sub"]);
        foreach (var name in new[] { "x_a.png", "x_b.png", "sub/y_a.png", "sub/y_b.png" }) TestFiles.WritePng(dir[name], 20, 12);
        var pairs = NoisyPairs.Find(dir.Path);
        Assert.Equal(new[] { (dir["sub/y_a.png"], dir["sub/y_b.png"]), (dir["x_a.png"], dir["x_b.png"]) }, pairs);
        Assert.True(NoisyPairs.Holds(dir.Path));

        var samples = new FolderLayout(Pairs: true).Samples(dir.Path);
        Assert.Equal(new[] { "sub/y_a.png", "x_a.png" }, samples.Select(s => s.Key));
        var stacked = samples[0].Read(1);
        Assert.Equal((12, 20, 2, 2 * 12 * 20), (stacked.Height, stacked.Width, stacked.Channels, stacked.Planes.Length));
        Assert.False(stacked.Alpha); // two grey planes of a pair, not grey and alpha
    }

    [Fact]
    public void A_missing_partner_a_stray_image_or_a_double_is_one_clear_error()
    {
        using var dir = new TempDir();
        TestFiles.WritePng(dir["x_a.png"], 20, 12);
        TestFiles.WritePng(dir["x_b.png"], 20, 12);
        TestFiles.WritePng(dir["lonely_a.png"], 20, 12);
        Assert.Contains("lonely_a.png: has no partner", Assert.Throws<InvalidDataException>(() => NoisyPairs.Find(dir.Path)).Message);

        File.Delete(dir["lonely_a.png"]);
        TestFiles.WritePng(dir["stray.png"], 20, 12);
        Assert.Contains("stray.png: is not one of a pair", Assert.Throws<InvalidDataException>(() => NoisyPairs.Find(dir.Path)).Message);

        File.Delete(dir["stray.png"]);
        TestFiles.WritePng(dir["x_b.jpg"], 20, 12);
        Assert.Contains("a pair is one of each", Assert.Throws<InvalidDataException>(() => NoisyPairs.Find(dir.Path)).Message);

        File.Delete(dir["x_b.jpg"]);
        File.Delete(dir["x_b.png"]);
        TestFiles.WritePng(dir["x_b.png"], 20, 14);
        var sample = Assert.Single(new FolderLayout(Pairs: true).Samples(dir.Path));
        Assert.Contains("must be the same size", Assert.Throws<InvalidDataException>(() => sample.Read(1)).Message);
    }

    [Fact]
    public void Clean_versions_are_matched_by_name_and_a_missing_one_is_named()
    {
        using var dir = new TempDir();
        foreach (var name in new[] { "noisy/x_a.png", "noisy/x_b.png", "clean/x.png", "single/x.png" })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(dir[name])!);
            TestFiles.WritePng(dir[name], 20, 12);
        }
        var pair = Assert.Single(new FolderLayout(Pairs: true, CleanDir: dir["clean"]).Samples(dir["noisy"]));
        Assert.Equal(new[] { dir["noisy/x_a.png"], dir["noisy/x_b.png"], dir["clean/x.png"] }, pair.Files);
        var single = Assert.Single(new FolderLayout(CleanDir: dir["clean"]).Samples(dir["single"]));
        Assert.Equal(new[] { dir["single/x.png"], dir["clean/x.png"] }, single.Files);

        File.Delete(dir["clean/x.png"]);
        var e = Assert.Throws<FileNotFoundException>(() => new FolderLayout(CleanDir: dir["clean"]).Samples(dir["single"]));
        Assert.Contains("has no clean version", e.Message);
    }
}
