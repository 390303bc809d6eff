// CIFAR-10's binary files and archive, folders of pictures, and telling them apart, with small files of the real formats.
using Denoiser.Data;
using TorchSharp;
using Xunit;

namespace Denoiser.Tests.Data;

public class DatasetTests
{
    [Fact]
    public void Cifar_records_become_rgb_images_with_their_labels_in_file_order()
    {
        using var dir = new TempDir();
        TestFiles.WriteCifar(dir.Path, perBatch: 7, test: 5);
        using var train = Cifar10.Load(dir.Path, train: true);
        using var test = Cifar10.Load(dir.Path, train: false);
        Assert.Equal(new long[] { 35, 3, 32, 32 }, train.Pixels.shape);
        Assert.Equal(new long[] { 5, 3, 32, 32 }, test.Pixels.shape);
        // The second record of data_batch_1: bytes as written, R then G then B planes.
        byte[] record = TestFiles.CifarRecord((1 + 1000) % 10, 1001);
        Assert.Equal(record[1..], train.Pixels[1].data<byte>().ToArray());
        Assert.Equal(record[0], train.Labels[1].item<long>());
    }

    [Fact]
    public void The_archive_reads_like_the_folder_and_a_limit_takes_the_first_records()
    {
        using var dir = new TempDir();
        string folder = TestFiles.WriteCifar(dir["plain"], perBatch: 4, test: 3);
        string archive = TestFiles.WriteCifarArchive(dir["packed"], perBatch: 4, test: 3);
        using var fromFolder = Cifar10.Load(folder, train: true, limit: 6);
        using var fromArchive = Cifar10.Load(archive, train: true, limit: 6);
        using var fromArchiveDir = Cifar10.Load(dir["packed"], train: true, limit: 6);
        Assert.Equal(6, fromFolder.Count);
        Assert.True(fromFolder.Pixels.eq(fromArchive.Pixels).all().item<bool>());
        Assert.True(fromFolder.Pixels.eq(fromArchiveDir.Pixels).all().item<bool>());
        Assert.Equal(DatasetKind.Cifar10, Datasets.Detect(archive));
        Assert.Equal(DatasetKind.Cifar10, Datasets.Detect(dir["packed"]));
        Assert.Equal(DatasetKind.Cifar10, Datasets.Detect(dir["plain"]));
    }

    [Fact]
    public void Damaged_cifar_files_are_refused_with_what_is_wrong()
    {
        using var dir = new TempDir();
        string folder = TestFiles.WriteCifar(dir.Path, perBatch: 2, test: 2, batches: 1);
        string test = Path.Combine(folder, "test_batch.bin");
        File.WriteAllBytes(test, File.ReadAllBytes(test)[..^10]);
        var e = Assert.Throws<InvalidDataException>(() => Cifar10.Load(dir.Path, train: false));
        Assert.Contains("not a whole number of 3,073-byte CIFAR-10 records", e.Message);

        var bad = TestFiles.CifarRecord(3, 0);
        bad[0] = 200;
        File.WriteAllBytes(test, bad);
        e = Assert.Throws<InvalidDataException>(() => Cifar10.Load(dir.Path, train: false));
        Assert.Contains("has label 200", e.Message);

        File.WriteAllBytes(dir["broken.tar.gz"], new byte[] { 0x1f, 0x8b, 8, 0, 1, 2, 3 });
        e = Assert.Throws<InvalidDataException>(() => Cifar10.Load(dir["broken.tar.gz"], train: true));
        Assert.Contains("not a readable .tar.gz", e.Message);
    }

    [Fact]
    public void An_image_folder_splits_by_path_and_seed_and_crops_to_the_asked_size()
    {
        using var dir = new TempDir();
        for (int i = 0; i < 30; i++) TestFiles.WriteRgbPng(dir[$"pics{i % 3}/p{i:D2}.png"], 64 + i, 40, i);
        Assert.Equal(DatasetKind.Images, Datasets.Detect(dir.Path));

        using var train = ImageFolder.Load(dir.Path, train: true, side: 32, channels: 3, seed: 1);
        using var test = ImageFolder.Load(dir.Path, train: false, side: 32, channels: 3, seed: 1);
        using var again = ImageFolder.Load(dir.Path, train: false, side: 32, channels: 3, seed: 1);
        using var gray = ImageFolder.Load(dir.Path, train: false, side: 20, channels: 1, seed: 1);
        Assert.Equal(new long[] { 3, 32, 32 }, train.Pixels.shape[1..]);
        Assert.Equal(new long[] { 1, 20, 20 }, gray.Pixels.shape[1..]);
        Assert.True(test.Count > 0 && train.Count > 2 * test.Count, $"{train.Count} training and {test.Count} test crops");
        Assert.True(test.Pixels.eq(again.Pixels).all().item<bool>()); // seeded: the same crops each time
        Assert.All(train.Labels.data<long>().ToArray(), l => Assert.Equal(-1, l));

        // A new file does not move the others between the splits: the test crops of the old files stay the same.
        TestFiles.WriteRgbPng(dir["pics0/zz-new.png"], 64, 40, 99);
        using var after = ImageFolder.Load(dir.Path, train: false, side: 32, channels: 3, seed: 1);
        Assert.True(after.Count >= test.Count);
        using var otherSeed = ImageFolder.Load(dir.Path, train: false, side: 32, channels: 3, seed: 2);
        Assert.False(otherSeed.Count == test.Count && otherSeed.Pixels.eq(test.Pixels).all().item<bool>());
    }

    [Fact]
    public void Images_smaller_than_the_crop_and_folders_without_enough_images_are_refused()
    {
        using var dir = new TempDir();
        TestFiles.WriteRgbPng(dir["a.png"], 40, 40);
        var e = Assert.Throws<InvalidDataException>(() => ImageFolder.Load(dir.Path, train: true, side: 32, channels: 3, seed: 1));
        Assert.Contains("at least 2", e.Message);
        Assert.Contains("folder not found", Assert.Throws<DirectoryNotFoundException>(() => ImageFolder.Load(dir["missing"], true, 32, 3, 1)).Message);
        TestFiles.WriteRgbPng(dir["b.png"], 20, 40);
        TestFiles.WriteRgbPng(dir["c.png"], 20, 40);
        e = Assert.Throws<InvalidDataException>(() =>
        {
            ImageFolder.Load(dir.Path, train: true, side: 32, channels: 3, seed: 1).Dispose();
            ImageFolder.Load(dir.Path, train: false, side: 32, channels: 3, seed: 1).Dispose();
        });
        Assert.Contains("smaller than the 32x32 crops", e.Message);
    }

    [Fact]
    public void Channels_convert_by_bt601_luma_and_by_repeating_gray()
    {
        using var pixels = torch.tensor(new byte[] { 255, 0, 0, 255, 0, 0 }, new long[] { 1, 3, 1, 2 });
        using var rgb = new ImageSet(pixels.clone(), torch.zeros(1, dtype: torch.ScalarType.Int64));
        using var gray = rgb.WithChannels(1);
        Assert.Same(rgb, rgb.WithChannels(3));
        Assert.Equal(new byte[] { 76, 150 }, gray.Pixels.data<byte>().ToArray()); // a red pixel, a green one: round(0.299 * 255), round(0.587 * 255)
        using var back = gray.WithChannels(3);
        Assert.Equal(new byte[] { 76, 150, 76, 150, 76, 150 }, back.Pixels.data<byte>().ToArray());
    }

    [Fact]
    public void Detection_falls_back_to_mnist_for_a_missing_folder()
    {
        using var dir = new TempDir();
        Assert.Equal(DatasetKind.Mnist, Datasets.Detect(dir["nothing-here"]));
        TestFiles.WriteMnist(dir["m"], 3, 3);
        Assert.Equal(DatasetKind.Mnist, Datasets.Detect(dir["m"]));
    }
}
