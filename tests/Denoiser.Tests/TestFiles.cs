// Small real files for tests: IDX (raw and .gz), PNG images, temporary folders. No mocks, no network.
using System.Buffers.Binary;
using System.IO.Compression;
using Denoiser.Data;

namespace Denoiser.Tests;

public sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("denoiser-test-").FullName;
    public string this[string name] => System.IO.Path.Combine(Path, name);
    public void Dispose() { try { Directory.Delete(Path, recursive: true); } catch (IOException) { } }
}

public static class TestFiles
{
    /// <summary>A committed fixture (tests/Denoiser.Tests/Fixtures, made by tools/parity), as copied beside the tests.</summary>
    public static string Fixture(string name) => System.IO.Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    /// <summary>The folder holding Denoiser.sln, found upwards from the test binaries.</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
                if (File.Exists(System.IO.Path.Combine(d.FullName, "Denoiser.sln"))) return d.FullName;
            throw new InvalidOperationException("Denoiser.sln not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>The bytes of an idx3 (images) file: magic 0x00000803, N, rows, cols, pixels.</summary>
    public static byte[] Idx3(byte[][] images, int rows = 28, int cols = 28)
    {
        var bytes = new byte[16 + images.Length * rows * cols];
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(0), 0x0803);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), images.Length);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), cols);
        for (int i = 0; i < images.Length; i++) images[i].CopyTo(bytes, 16 + i * rows * cols);
        return bytes;
    }

    /// <summary>The bytes of an idx1 (labels) file: magic 0x00000801, N, labels.</summary>
    public static byte[] Idx1(byte[] labels)
    {
        var bytes = new byte[8 + labels.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(0), 0x0801);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), labels.Length);
        labels.CopyTo(bytes, 8);
        return bytes;
    }

    public static byte[] Gzip(byte[] raw)
    {
        using var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.Fastest)) gz.Write(raw);
        return output.ToArray();
    }

    /// <summary>A digit-like 28x28 image: a bright ring or bar whose shape depends on the label, on black.</summary>
    public static byte[] Digit(int label, int variant)
    {
        var pixels = new byte[28 * 28];
        double cx = 14 + (variant % 3) - 1, cy = 14 + (variant % 5) - 2, r = 5 + label % 5;
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++)
            {
                double d = Math.Sqrt((x - cx) * (x - cx) + (y - cy) * (y - cy));
                bool ring = Math.Abs(d - r) < 1.6;
                bool bar = label >= 5 && Math.Abs(x - cx) < 1.5 && Math.Abs(y - cy) < 9;
                if (ring || bar) pixels[y * 28 + x] = (byte)(200 + (x * 7 + y * 3 + variant) % 56);
            }
        return pixels;
    }

    /// <summary>Writes train-* and t10k-* IDX files (raw, or .gz) of synthetic digits into <paramref name="dir"/>.</summary>
    public static void WriteMnist(string dir, int train, int test, bool gzip = false)
    {
        Directory.CreateDirectory(dir);
        void Write(string prefix, int n)
        {
            var images = Enumerable.Range(0, n).Select(i => Digit(i % 10, i)).ToArray();
            var labels = Enumerable.Range(0, n).Select(i => (byte)(i % 10)).ToArray();
            byte[] img = Idx3(images), lab = Idx1(labels);
            string ext = gzip ? ".gz" : "";
            File.WriteAllBytes(System.IO.Path.Combine(dir, $"{prefix}-images-idx3-ubyte{ext}"), gzip ? Gzip(img) : img);
            File.WriteAllBytes(System.IO.Path.Combine(dir, $"{prefix}-labels-idx1-ubyte{ext}"), gzip ? Gzip(lab) : lab);
        }
        Write("train", train);
        Write("t10k", test);
    }

    /// <summary>Writes a grayscale PNG with a gradient and a few bright strokes.</summary>
    public static void WritePng(string path, int width, int height)
    {
        var pixels = new byte[width * height];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                pixels[y * width + x] = (byte)((x * 255 / Math.Max(1, width - 1) + ((x + y) % 9 == 0 ? 120 : 0)) % 256);
        ImageFile.Write(path, Picture.FromBytes(width, height, 1, pixels));
    }

    /// <summary>An 8-bit grey image's pixels, for tests that compare them.</summary>
    public sealed record Grey(int Width, int Height, byte[] Pixels)
    {
        public Picture ToPicture() => Picture.FromBytes(Width, Height, 1, Pixels);
        public float[] ToUnit() => Array.ConvertAll(Pixels, p => p / 255f);
    }

    /// <summary>An image file as 8-bit grey: its luma rounded, as a grey file of it would hold (Picture.As(1)).</summary>
    public static Grey ReadGrey(string path)
    {
        var grey = ImageFile.Read(path).As(1);
        return new Grey(grey.Width, grey.Height, (grey.Bits == 8 ? grey : grey with { Bits = 8 }).Bytes());
    }

    /// <summary>The model's planes (C of h x w, one after another) as the picture the model runners take.</summary>
    public static Picture Planes(float[] planes, int h, int w) => new(w, h, planes.Length / (h * w), planes);

    /// <summary>ImageDenoiser.Denoise on bare planes, for tests that build them by hand.</summary>
    public static float[] DenoisePlanes(Denoiser.Inference.IImageModel model, float[] planes, int h, int w,
                                        int? tileSize = null, Action? tileDone = null) =>
        Denoiser.Inference.ImageDenoiser.Denoise(model, Planes(planes, h, w), tileSize, tileDone).Planes;

    /// <summary>A 16-bit picture from interleaved samples.</summary>
    public static Picture Words(int width, int height, int channels, ushort[] samples) =>
        Picture.FromInterleaved(width, height, channels, samples, 16, channels is 2 or 4, v => v / 65535f);

    /// <summary>Writes an RGB PNG: a colour gradient with a few bright strokes.</summary>
    public static void WriteRgbPng(string path, int width, int height, int seed = 0)
    {
        var pixels = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int o = (y * width + x) * 3;
                pixels[o] = (byte)(x * 255 / Math.Max(1, width - 1));
                pixels[o + 1] = (byte)(y * 255 / Math.Max(1, height - 1));
                pixels[o + 2] = (byte)((x + y + seed) % 7 == 0 ? 250 : 40);
            }
        ImageFile.Write(path, Picture.FromBytes(width, height, 3, pixels));
    }

    /// <summary>A shipped model's module, its weights loaded (the kind its file records), on the CPU.</summary>
    public static (TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> Module, Denoiser.Models.ModelInfo Info) Shipped(string name)
    {
        var (_, path) = Denoiser.Inference.Pretrained.Get(name);
        var info = Denoiser.Models.Registry.Get(Denoiser.Interchange.WeightsFile.ModelOf(path)!);
        var module = info.Create();
        Denoiser.Interchange.WeightsFile.LoadInto(module, info.Name, path);
        return (module, info);
    }

    /// <summary>A clean colour picture like a photograph's content: shading, edges, a checker and fine stripes (no pixel-scale pattern).</summary>
    public static Picture Scene(int w = 192, int h = 160, int seed = 0)
    {
        var planes = new float[3 * w * h];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    planes[(c * h + y) * w + x] = (float)Math.Clamp(0.25 + 0.15 * c + 0.3 * x / w + (((x + 7 * seed) / 24 + y / 24) % 2 == 0 ? 0.15 : 0)
                                                                    + (y > h * 5 / 8 && x % 6 < 3 ? 0.1 : 0), 0, 1);
        return new Picture(w, h, 3, planes);
    }

    /// <summary>One CIFAR-10 binary record: the label byte, then 1,024 red, 1,024 green and 1,024 blue bytes.</summary>
    public static byte[] CifarRecord(int label, int variant)
    {
        var record = new byte[Cifar10.RecordBytes];
        record[0] = (byte)label;
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < 1024; i++)
                record[1 + c * 1024 + i] = (byte)((i * (c + 1) + variant * 13 + label * 29) % 256);
        return record;
    }

    /// <summary>data_batch_1..batches.bin and test_batch.bin of synthetic records, in <paramref name="dir"/>/cifar-10-batches-bin.</summary>
    public static string WriteCifar(string dir, int perBatch, int test, int batches = 5)
    {
        string folder = System.IO.Path.Combine(dir, Cifar10.Folder);
        Directory.CreateDirectory(folder);
        byte[] File(int n, int offset) => Enumerable.Range(0, n).SelectMany(i => CifarRecord((i + offset) % 10, i + offset)).ToArray();
        for (int b = 1; b <= batches; b++) System.IO.File.WriteAllBytes(System.IO.Path.Combine(folder, $"data_batch_{b}.bin"), File(perBatch, b * 1000));
        System.IO.File.WriteAllBytes(System.IO.Path.Combine(folder, "test_batch.bin"), File(test, 0));
        return folder;
    }

    /// <summary>cifar-10-binary.tar.gz holding the folder <see cref="WriteCifar"/> made, as the real archive lays it out.</summary>
    public static string WriteCifarArchive(string dir, int perBatch, int test)
    {
        string staging = System.IO.Path.Combine(dir, "staging");
        WriteCifar(staging, perBatch, test);
        string archive = System.IO.Path.Combine(dir, Cifar10.Archive);
        using (var file = System.IO.File.Create(archive))
        using (var gz = new GZipStream(file, CompressionLevel.Fastest))
            System.Formats.Tar.TarFile.CreateFromDirectory(System.IO.Path.Combine(staging, Cifar10.Folder), gz, includeBaseDirectory: true);
        Directory.Delete(staging, recursive: true);
        return archive;
    }
}
