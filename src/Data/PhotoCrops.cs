// Square crops cut at random places of a photograph, so that a folder of 5-50 megapixel photographs becomes a few
// hundred small pictures without ever holding more than one photograph at full size.
namespace Denoiser.Data;

public static class PhotoCrops
{
    /// <summary>
    /// <paramref name="count"/> crops of <paramref name="side"/> x <paramref name="side"/> from <paramref name="photo"/>
    /// at uniform places (they may overlap), with its planes as they are; none when the photograph is smaller than a crop.
    /// </summary>
    public static List<Picture> Cut(Picture photo, int count, int side, Random random)
    {
        var crops = new List<Picture>();
        if (photo.Width < side || photo.Height < side) return crops;
        int w = photo.Width, h = photo.Height, c = photo.Channels;
        for (int k = 0; k < count; k++)
        {
            int x0 = random.Next(w - side + 1), y0 = random.Next(h - side + 1);
            var planes = new float[c * side * side];
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < side; y++)
                    Array.Copy(photo.Planes, ((long)ch * h + y0 + y) * w + x0, planes, (ch * side + y) * side, side);
            crops.Add(photo with { Width = side, Height = side, Planes = planes });
        }
        return crops;
    }

    /// <summary>
    /// How many crops a photograph of <paramref name="width"/> x <paramref name="height"/> gives when <paramref name="wanted"/>
    /// are asked of it: at most twice the crops that would tile it (more would only repeat its pixels), none when it is smaller than one.
    /// </summary>
    public static int Count(int width, int height, int side, int wanted) =>
        width < side || height < side ? 0 : (int)Math.Min(wanted, Math.Max(1, 2L * width * height / ((long)side * side)));
}
