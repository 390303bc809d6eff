// Fashion-MNIST: small files of its format train through the real CLI; Debian's package is found, verified and told
// apart from MNIST; a missing package is one line naming the apt command.
using Denoiser.Data;
using Denoiser.Tests.EndToEnd;
using Xunit;

namespace Denoiser.Tests.Data;

public class FashionMnistTests
{
    [Fact]
    public void A_folder_holding_its_files_is_read_and_missing_files_name_the_apt_command()
    {
        using var dir = new TempDir();
        TestFiles.WriteMnist(dir["small"], train: 20, test: 10, gzip: true);
        Assert.Equal(dir["small"], FashionMnist.Folder(dir["small"], dir["no-package"]));

        var missing = Assert.Throws<FileNotFoundException>(() => FashionMnist.Folder(dir["empty"], dir["no-package"]));
        Assert.Contains("sudo apt-get install dataset-fashion-mnist", missing.Message);

        // A package folder whose files are not Debian's Fashion-MNIST is refused rather than trained on.
        var wrong = Assert.Throws<InvalidDataException>(() => FashionMnist.Folder(dir["empty"], dir["small"]));
        Assert.Contains("is not Fashion-MNIST as Debian ships it", wrong.Message);
    }

    [Fact]
    public void Train_with_dataset_fashion_mnist_runs_and_records_it()
    {
        using var dir = new TempDir();
        TestFiles.WriteMnist(dir["fashion"], train: 40, test: 20, gzip: true);
        var r = Cli.Run(dir.Path, "train", "--dataset", "fashion-mnist", "--data-dir", "fashion", "--epochs", "1", "--run-dir", "run", "--threads", "2");
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Contains("(Fashion-MNIST)", r.Out);
        Assert.Contains("\"Dataset\": \"fashionmnist\"", File.ReadAllText(dir["run/settings.json"]));
        var resumed = Cli.Run(dir.Path, "train", "--resume", "--run-dir", "run", "--dataset", "fashion-mnist", "--epochs", "1");
        Assert.True(resumed.ExitCode == 0, resumed.Err); // the spelling it was given matches what the run recorded
    }

    [Fact]
    public void Without_the_package_train_says_how_to_get_it_and_writes_nothing()
    {
        using var dir = new TempDir();
        var env = new Dictionary<string, string> { ["DENOISER_Data__FashionMnistDir"] = dir["absent"] };
        var r = Cli.Run(dir.Path, env, "train", "--dataset", "fashion-mnist", "--data-dir", "nothing-here", "--run-dir", "run");
        Cli.AssertOneLineFailure(r, 1, "install it with `sudo apt-get install dataset-fashion-mnist`");
        Assert.False(Directory.Exists(dir["run"]) && Directory.EnumerateFileSystemEntries(dir["run"]).Any());
    }

    /// <summary>Debian's own files, where the package is installed: verified, and told apart from MNIST by auto.</summary>
    [SkippableFact]
    public void Debians_package_verifies_and_is_detected()
    {
        Skip.IfNot(File.Exists(Path.Combine(FashionMnist.DebianFolder, "t10k-labels-idx1-ubyte.gz")), $"{FashionMnist.Install} has not been run here");
        using var dir = new TempDir();
        Assert.Equal(FashionMnist.DebianFolder, FashionMnist.Folder(dir["empty"]));
        Assert.Equal(DatasetKind.FashionMnist, Datasets.Detect(FashionMnist.DebianFolder));
        Assert.True(FashionMnist.HoldsLabelsOf(FashionMnist.DebianFolder, FashionMnist.Files));
        Assert.False(FashionMnist.HoldsLabelsOf(FashionMnist.DebianFolder, MnistFiles.Official));
    }
}
