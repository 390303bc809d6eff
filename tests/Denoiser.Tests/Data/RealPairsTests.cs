// Real noisy/clean pairs are found in both layouts, and a photograph without its partner is named.
using Denoiser.Data;
using Xunit;

namespace Denoiser.Tests.Data;

public class RealPairsTests
{
    [Fact]
    public void Finds_polyu_names_and_noisy_clean_folders_in_name_order()
    {
        using var dir = new TempDir();
        foreach (string name in new[] { "b_real.jpg", "b_mean.jpg", "a_real.jpg", "a_mean.jpg" }) TestFiles.WriteRgbPng(dir[name], 16, 16);
        var pairs = RealPairs.Find(dir.Path)!;
        Assert.Equal(new[] { "a", "b" }, pairs.Select(p => p.Name));
        Assert.Equal(dir["a_mean.jpg"], pairs[0].Clean);
        Assert.Equal(dir["a_real.jpg"], pairs[0].Noisy);

        using var folders = new TempDir();
        Directory.CreateDirectory(folders["noisy"]);
        Directory.CreateDirectory(folders["clean"]);
        TestFiles.WriteRgbPng(folders["noisy/x.png"], 16, 16);
        TestFiles.WriteRgbPng(folders["clean/x.png"], 16, 16);
        var pair = Assert.Single(RealPairs.Find(folders.Path)!);
        Assert.Equal((folders["noisy/x.png"], folders["clean/x.png"]), (pair.Noisy, pair.Clean));
    }

    [Fact]
    public void A_folder_of_clean_images_is_not_pairs()
    {
        using var dir = new TempDir();
        TestFiles.WriteRgbPng(dir["photo.png"], 16, 16);
        Assert.Null(RealPairs.Find(dir.Path));
    }

    [Fact]
    public void A_photograph_without_its_partner_is_named()
    {
        using var dir = new TempDir();
        TestFiles.WriteRgbPng(dir["a_real.png"], 16, 16);
        Assert.Contains("a_real.png: has no clean version", Assert.Throws<InvalidDataException>(() => RealPairs.Find(dir.Path)).Message);

        using var folders = new TempDir();
        Directory.CreateDirectory(folders["noisy"]);
        Directory.CreateDirectory(folders["clean"]);
        TestFiles.WriteRgbPng(folders["clean/x.png"], 16, 16);
        Assert.Contains("has no noisy version", Assert.Throws<InvalidDataException>(() => RealPairs.Find(folders.Path)).Message);
    }
}
