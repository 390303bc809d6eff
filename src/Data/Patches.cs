// Training patches as the field draws them: random squares of whole images, redrawn every epoch, in any of the 8
// flips and rotations, the next epoch's drawn while this one trains.
using TorchSharp;
using static TorchSharp.torch;

namespace Denoiser.Data;

/// <summary>The images an epoch trains on, as (N, C, H, W) bytes (or floats, from float TIFFs): a fixed set, or patches drawn for the epoch.</summary>
public interface IEpochImages
{
    int Count { get; }
    int Channels { get; }
    int Height { get; }
    int Width { get; }
    /// <summary>Epoch <paramref name="epoch"/>'s images, the same for the same epoch of the same run; the caller disposes them.</summary>
    Tensor ForEpoch(int epoch);
}

/// <summary>
/// <paramref name="perEpoch"/> patches of <paramref name="side"/> x <paramref name="side"/> per epoch from whole
/// pictures. A patch's image is chosen in
/// proportion to the patches it holds (as cutting every image into all its patches would weigh it), its place
/// uniformly, and its orientation among the 8 of the square (DnCNN's augmentation). Everything follows from the
/// run's seed and the epoch, so a resumed run draws the same.
/// </summary>
public sealed class Patches : IEpochImages
{
    readonly List<Picture> images;
    readonly bool bytes; // all 8-bit: an epoch's patches as bytes (ImageFolder.Stored)
    readonly double[] cumulative; // running sum of the places a patch can take in each image
    readonly long seed;
    (int Epoch, Task<Array> Draw)? next;

    public int Count { get; }
    public int Channels { get; }
    public int Height => Side;
    public int Width => Side;
    public int Side { get; }
    public int ImageCount => images.Count;

    public Patches(List<Picture> images, int channels, int side, int perEpoch, long seed)
    {
        if (images.Count == 0) throw new ArgumentException("no images to draw patches from");
        this.images = images;
        bytes = images.All(p => p.Bits == 8);
        (Channels, Side, Count, this.seed) = (channels, side, perEpoch, seed);
        cumulative = new double[images.Count];
        double sum = 0;
        for (int i = 0; i < images.Count; i++) cumulative[i] = sum += (double)(images[i].Height - side + 1) * (images[i].Width - side + 1);
    }

    /// <summary>
    /// The training split of a folder of images (<see cref="ImageFolder.Split"/>), whole, with <paramref name="channels"/>
    /// channels per file; with a <paramref name="layout"/> of pairs, both of a pair stacked, so a patch cuts both at one place.
    /// </summary>
    public static Patches FromFolder(string dir, int side, int channels, int perEpoch, long seed, int? limit = null, FolderLayout? layout = null)
    {
        layout ??= FolderLayout.Single;
        var images = new List<Picture>();
        foreach (var sample in ImageFolder.Split(dir, layout.Samples(dir), train: true, seed).Take(limit ?? int.MaxValue))
        {
            var picture = sample.Read(channels);
            if (picture.Width < side || picture.Height < side)
                throw new InvalidDataException($"{sample.Files[0]}: is {picture.Width}x{picture.Height}, smaller than the {side}x{side} patches; pass a smaller --patch or remove the file.");
            images.Add(picture);
        }
        return new Patches(images, channels * layout.FilesPerSample, side, perEpoch > 0 ? perEpoch : DefaultPerImage * images.Count, seed);
    }

    /// <summary>The same pictures and seed, <paramref name="count"/> patches an epoch.</summary>
    public Patches WithCount(int count) => new(images, Channels, Side, count, seed);

    /// <summary>Patches per training image and epoch when --patches-per-epoch is 0.</summary>
    public const int DefaultPerImage = 16;

    public Tensor ForEpoch(int epoch)
    {
        Array pixels = next is { } n && n.Epoch == epoch ? n.Draw.Result : Draw(epoch);
        next = (epoch + 1, Task.Run(() => Draw(epoch + 1))); // ready when the next epoch starts: the cores never wait for it
        var shape = new long[] { Count, Channels, Side, Side };
        return pixels is byte[] b ? torch.tensor(b, shape) : torch.tensor((float[])pixels, shape);
    }

    /// <summary>Epoch <paramref name="epoch"/>'s patches, (N, C, side, side) bytes for 8-bit pictures, else floats.</summary>
    public Array Draw(int epoch) => bytes ? Draw(epoch, Picture.ToByte) : Draw(epoch, v => v);

    T[] Draw<T>(int epoch, Func<float, T> stored)
    {
        var random = new Random(unchecked((int)Seeds.ForPatches(seed, epoch)));
        int s = Side, c = Channels, patchBytes = c * s * s;
        var pixels = new T[(long)Count * patchBytes];
        for (int k = 0; k < Count; k++)
        {
            int i = Array.BinarySearch(cumulative, random.NextDouble() * cumulative[^1]);
            i = Math.Min(i < 0 ? ~i : i, images.Count - 1);
            var picture = images[i];
            int h = picture.Height, w = picture.Width;
            var planes = picture.Planes;
            int y0 = random.Next(h - s + 1), x0 = random.Next(w - s + 1), orientation = random.Next(8);
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < s; y++)
                    for (int x = 0; x < s; x++)
                    {
                        var (sy, sx) = Orient(orientation, y, x, s);
                        pixels[(long)k * patchBytes + (ch * s + y) * s + x] = stored(planes[(ch * h + y0 + sy) * w + x0 + sx]);
                    }
        }
        return pixels;
    }

    /// <summary>
    /// Where pixel (y, x) of a patch in orientation 0-7 comes from: bit 0 mirrors left to right, bits 1-2 turn by that
    /// many quarter turns; the 8 symmetries of the square.
    /// </summary>
    public static (int Y, int X) Orient(int orientation, int y, int x, int side)
    {
        if ((orientation & 1) != 0) x = side - 1 - x;
        return (orientation >> 1) switch
        {
            0 => (y, x),
            1 => (x, side - 1 - y),
            2 => (side - 1 - y, side - 1 - x),
            _ => (side - 1 - x, y),
        };
    }
}
