// Runs a trained model on an image of any size: pad by reflection to a size the network maps to itself, then run it
// whole or in tiles that give exactly the whole image's result.
using Denoiser.Data;
using Denoiser.Shapes;

namespace Denoiser.Inference;

/// <summary>A model that maps one picture of C planes to another of the same size, whatever runs it (libtorch, ONNX Runtime).</summary>
public interface IImageModel : IDisposable
{
    /// <summary>Which model it is: its channels C and the sizes it maps to themselves.</summary>
    Models.ModelInfo Info { get; }
    /// <summary>What it was trained on (denoise warns about pictures far from it).</summary>
    TrainingDomain Domain { get; }
    /// <summary>Side of the part of a large picture each tile keeps, unless the caller says: the runtime's best for this model.</summary>
    int TileSide => Info.TileSide;
    /// <summary>What runs it, for the lines that say so: "libtorch", "ONNX Runtime".</summary>
    string Runtime => "libtorch";
    /// <param name="image">The model's input planes (C, and the noise level for a model that takes it), at a size it keeps; C planes come out.</param>
    Picture Run(Picture image);
}

public static class ImageDenoiser
{
    /// <summary>
    /// Side of the part of the image each tile keeps, unless the model says otherwise (<see cref="Models.ModelInfo.TileSide"/>).
    /// 512: one tile's largest activation is then 64 x 582 x 582 floats (87 MB, DnCNN with its margins of 35), whatever
    /// the photo's size; on a 4000x3000 picture the margins make resunet run on 1.49x its pixels (<see cref="PixelsRun"/>,
    /// printed by `bench --only photo` beside the time), DnCNN on 1.25x.
    /// </summary>
    public const int TileSize = 512;

    /// <summary>Pictures of this many pixels or more are collected between bands of tiles (<see cref="Denoise"/>).</summary>
    const long CollectAbove = 4_000_000;

    /// <summary>
    /// Denoises the model's C planes of floats in [0, 1], each h x w, row-major (and the noise-level plane after them, for
    /// a model that takes one; C planes come out): the image is padded by reflection to a
    /// size the model keeps (as torch's ReflectionPad) and run whole when it fits in a tile. A larger one is cut into
    /// tiles that each keep a part of <paramref name="tileSize"/> square and read a margin of the model's receptive field
    /// around it, so every kept pixel sees what it sees in the whole image: the result is the whole image's, up to float
    /// rounding, with no blending.
    /// </summary>
    /// <param name="level">For a model told the noise level: the level (0-1 scale) that each tile gets as its last plane,
    /// so that no whole-image plane of it is ever made; null when <paramref name="image"/> carries its level plane itself.</param>
    /// <param name="inPlace">Write the result over <paramref name="image"/>'s planes (a caller that does not read them
    /// again): each band of tiles is written back once the band is done, and the rows of it that the next band's
    /// margin reads are kept aside first, so memory holds one band of output, not a second picture.</param>
    public static Picture Denoise(IImageModel model, Picture image, int? tileSize = null, Action? tileDone = null, double? level = null, bool inPlace = false)
    {
        var info = model.Info;
        int c = info.Channels, cin = info.InputChannels, h = image.Height, w = image.Width;
        if (image.Channels + (level != null ? 1 : 0) != cin)
            throw new ArgumentException($"{info.Name} takes {cin} plane(s); got {image.Channels}{(level != null ? " and a level" : "")}");
        inPlace &= image.Channels == c; // a level plane in the picture: the output has fewer planes
        int ph = info.PaddedSide(h), pw = info.PaddedSide(w), top = (ph - h) / 2, left = (pw - w) / 2;
        // Reflection (as torch's ReflectionPad: the edge row is not repeated) needs the pad to be smaller than the
        // side; tiny images fall back to repeating the edge.
        bool reflect = ph - h < h && pw - w < w;
        var output = inPlace ? image.Planes : new float[c * h * w];
        var rows = new Rows(image.Planes, image.Channels, h, w);
        var bands = Tiles(info, h, w, tileSize ?? model.TileSide).GroupBy(t => t.Y).ToList();
        // Each tile's input and output are large-object arrays (21 MB at 768) that .NET collects only when its budget
        // for them runs out, and that budget grows with the picture's own planes: at 50 MP, 1 GB of them piled up. A
        // collection before each band, and one after the last (before the caller encodes the result), frees them, for
        // milliseconds against a band's seconds.
        bool large = (long)h * w >= CollectAbove;
        for (int b = 0; b < bands.Count; b++)
        {
            if (large) GC.Collect();
            int bandY = bands[b].Key, bandHeight = bands[b].First().Height;
            var band = new float[c * bandHeight * w]; // the band's output, written back when every tile of it is done
            foreach (var tile in bands[b])
            {
                // In padded coordinates: the window read, and within it the rows and columns kept.
                var (y0, y1) = Window(info, top + tile.Y, top + tile.Y + tile.Height, ph, tile.Whole);
                var (x0, x1) = Window(info, left + tile.X, left + tile.X + tile.Width, pw, tile.Whole);
                int th = y1 - y0, tw = x1 - x0;
                // Each tile's input is cut from the picture as it is, padding read through the reflection: only the tile's
                // planes exist at once, never a padded copy of the whole picture.
                var input = Cut(rows, y0 - top, x0 - left, th, tw, reflect, level);
                float[] result = model.Run(new Picture(tw, th, cin, input, image.Bits)).Planes;
                for (int k = 0; k < c; k++)
                    for (int y = 0; y < tile.Height; y++)
                        Array.Copy(result, (k * th + top + tile.Y + y - y0) * tw + left + tile.X - x0, band, (k * bandHeight + y) * w + tile.X, tile.Width);
                tileDone?.Invoke();
            }
            if (inPlace && b + 1 < bands.Count) // the rows of this band that the next band's windows read, as they were
                rows.Keep(Window(info, top + bands[b + 1].Key, top + bands[b + 1].Key + 1, ph, whole: false).First - top, bandY + bandHeight);
            for (int k = 0; k < c; k++) Array.Copy(band, k * bandHeight * w, output, (k * h + bandY) * w, bandHeight * w);
        }
        if (large) GC.Collect();
        return image with { Channels = c, Planes = output };
    }

    /// <summary>
    /// The picture's rows as they were before any band was written back: from the planes, or, for rows already
    /// overwritten, from the copy kept of them (<see cref="Keep"/>).
    /// </summary>
    sealed class Rows(float[] planes, int channels, int h, int w)
    {
        public int Channels => channels;
        public int Width => w;
        public int Height => h;
        float[]? kept;
        int keptFrom, keptTo; // kept holds rows [keptFrom, keptTo) of every plane

        /// <summary>
        /// Copies rows [from, to) aside, as they were, before they are overwritten: rows already overwritten (a margin
        /// wider than a band) come from the copy kept before, which the windows' downward order guarantees holds them.
        /// </summary>
        public void Keep(int from, int to)
        {
            from = Math.Max(0, Math.Min(from, to));
            int n = to - from;
            var copy = new float[channels * n * w];
            for (int k = 0; k < channels; k++)
                for (int y = from; y < to; y++)
                {
                    var (source, offset) = Row(k, y);
                    Array.Copy(source, offset, copy, (k * n + y - from) * w, w);
                }
            (kept, keptFrom, keptTo) = (copy, from, to);
        }

        /// <summary>Where row <paramref name="y"/> of plane <paramref name="k"/> starts, and in which array.</summary>
        public (float[] Array, int Offset) Row(int k, int y) =>
            kept != null && y >= keptFrom && y < keptTo ? (kept, (k * (keptTo - keptFrom) + y - keptFrom) * w) : (planes, (k * h + y) * w);
    }

    /// <summary>How many tiles <see cref="Denoise"/> will run for an image of this size.</summary>
    public static int TileCount(int width, int height, int tileSize) =>
        width <= tileSize && height <= tileSize ? 1 : Cores(height, tileSize).Count() * Cores(width, tileSize).Count();

    /// <summary>The pixels the model runs on for an image of this size, over the image's own: what the margins cost.</summary>
    public static double PixelsRun(Models.ModelInfo info, int width, int height, int? tileSize = null)
    {
        int ph = info.PaddedSide(height), pw = info.PaddedSide(width), top = (ph - height) / 2, left = (pw - width) / 2;
        double run = 0;
        foreach (var tile in Tiles(info, height, width, tileSize ?? info.TileSide))
        {
            var (y0, y1) = Window(info, top + tile.Y, top + tile.Y + tile.Height, ph, tile.Whole);
            var (x0, x1) = Window(info, left + tile.X, left + tile.X + tile.Width, pw, tile.Whole);
            run += (double)(y1 - y0) * (x1 - x0);
        }
        return run / ((double)width * height);
    }

    /// <summary>
    /// The margin a tile reads on each side of what it keeps: the receptive field, rounded up to the model's side
    /// multiple. Every path of the network from a kept pixel stays inside it, and a window that starts on that multiple
    /// meets the network's pools and strides at the same phase as the whole image does.
    /// </summary>
    /// <remarks>A model whose reach was measured (<see cref="Models.ModelInfo.Reach"/>) reads that instead: its tiles then
    /// agree with the whole image to a quarter of a grey level, for a fraction of the margins' cost.</remarks>
    public static int Margin(Models.ModelInfo info) => RoundUp(info.Reach ?? ReceptiveField.Of(info), info.SideMultiple);

    readonly record struct Tile(int Y, int X, int Height, int Width, bool Whole);

    static IEnumerable<Tile> Tiles(Models.ModelInfo info, int h, int w, int tileSize)
    {
        if (h <= tileSize && w <= tileSize) { yield return new Tile(0, 0, h, w, Whole: true); yield break; }
        foreach (var (y, th) in Cores(h, tileSize))
            foreach (var (x, tw) in Cores(w, tileSize))
                yield return new Tile(y, x, th, tw, Whole: false);
    }

    static IEnumerable<(int Start, int Length)> Cores(int n, int tile)
    {
        for (int start = 0; start < n; start += tile) yield return (start, Math.Min(tile, n - start));
    }

    /// <summary>
    /// The window [first, last) of a padded side of <paramref name="n"/> that a tile keeping [keepFrom, keepTo) reads:
    /// the margin on both sides, the start on the model's side multiple, the length a side the model keeps, and inside
    /// the padded image (whose sides the model keeps, so a window ending there keeps its length too).
    /// </summary>
    static (int First, int Last) Window(Models.ModelInfo info, int keepFrom, int keepTo, int n, bool whole)
    {
        if (whole) return (0, n);
        int margin = Margin(info);
        int first = Math.Max(0, (keepFrom - margin) / info.SideMultiple * info.SideMultiple);
        int last = first + info.PaddedSide(keepTo + margin - first);
        return last >= n ? (first, n) : (first, last);
    }

    static int RoundUp(int n, int multiple) => (n + multiple - 1) / multiple * multiple;

    /// <summary>
    /// The window of <paramref name="th"/> x <paramref name="tw"/> starting at (y0, x0) in the picture's own coordinates
    /// (negative, or past the edge, where it reads the padding), each plane's rows copied whole where they lie inside;
    /// then a plane of <paramref name="level"/> when given.
    /// </summary>
    static float[] Cut(Rows rows, int y0, int x0, int th, int tw, bool reflect, double? level)
    {
        int c = rows.Channels, h = rows.Height, w = rows.Width;
        var tile = new float[(c + (level != null ? 1 : 0)) * th * tw];
        bool inside = x0 >= 0 && x0 + tw <= w;
        for (int k = 0; k < c; k++)
            for (int y = 0; y < th; y++)
            {
                var (source, from) = rows.Row(k, Source(y0 + y, h, reflect));
                int to = (k * th + y) * tw;
                if (inside) Array.Copy(source, from + x0, tile, to, tw);
                else
                    for (int x = 0; x < tw; x++) tile[to + x] = source[from + Source(x0 + x, w, reflect)];
            }
        if (level is double l) Array.Fill(tile, (float)l, c * th * tw, th * tw);
        return tile;
    }

    static int Source(int i, int n, bool reflect) =>
        i < 0 ? (reflect ? -i : 0) : i >= n ? (reflect ? 2 * (n - 1) - i : n - 1) : i;
}
