// Training patches: real squares of the images in one of the 8 orientations, weighed by size, redrawn per epoch, repeatable.
using Denoiser.Data;
using Xunit;

namespace Denoiser.Tests.Data;

public class PatchesTests
{
    /// <summary>Two grey images whose pixels are all different, so a patch tells where it came from.</summary>
    static List<Picture> Images() => new()
    {
        Picture.FromBytes(12, 9, 1, Enumerable.Range(0, 9 * 12).Select(i => (byte)i).ToArray()),
        Picture.FromBytes(6, 6, 1, Enumerable.Range(0, 36).Select(i => (byte)(200 + i)).ToArray()),
    };

    [Fact]
    public void The_eight_orientations_are_the_eight_symmetries_of_the_square()
    {
        const int s = 3;
        var arrangements = Enumerable.Range(0, 8).Select(o =>
            string.Join(",", from y in Enumerable.Range(0, s) from x in Enumerable.Range(0, s) select Patches.Orient(o, y, x, s))).ToList();
        Assert.Equal(8, arrangements.Distinct().Count());
        Assert.Equal((1, 2), Patches.Orient(0, 1, 2, s)); // orientation 0 is the patch as it stands
        for (int o = 0; o < 8; o++) // each is a permutation of the square's pixels
            Assert.Equal(s * s, (from y in Enumerable.Range(0, s) from x in Enumerable.Range(0, s) select Patches.Orient(o, y, x, s)).Distinct().Count());
    }

    [Fact]
    public void Every_patch_is_a_square_of_one_image_in_one_orientation_and_images_are_weighed_by_their_places()
    {
        const int side = 4;
        var patches = new Patches(Images(), channels: 1, side, perEpoch: 3000, seed: 5);
        var drawn = (byte[])patches.Draw(1);
        var images = Images();
        var seen = new HashSet<int>();
        int fromLarge = 0;
        for (int k = 0; k < patches.Count; k++)
        {
            var patch = drawn.AsSpan(k * side * side, side * side).ToArray();
            var match = (from i in Enumerable.Range(0, 2)
                         let img = images[i]
                         from y0 in Enumerable.Range(0, img.Height - side + 1)
                         from x0 in Enumerable.Range(0, img.Width - side + 1)
                         from o in Enumerable.Range(0, 8)
                         where Enumerable.Range(0, side * side).All(p =>
                         {
                             var (sy, sx) = Patches.Orient(o, p / side, p % side, side);
                             return patch[p] == img.Bytes()[(y0 + sy) * img.Width + x0 + sx];
                         })
                         select (Image: i, Orientation: o)).FirstOrDefault((Image: -1, Orientation: -1));
            Assert.NotEqual(-1, match.Image);
            seen.Add(match.Orientation);
            if (match.Image == 0) fromLarge++;
        }
        Assert.Equal(8, seen.Count);
        // 6 x 9 = 54 places in the large image, 3 x 3 = 9 in the small: 6/7 of the patches (2,571 of 3,000) from the large.
        Assert.InRange(fromLarge, 2450, 2690);
    }

    [Fact]
    public void An_epoch_draws_the_same_patches_every_time_and_the_next_epoch_others()
    {
        var a = new Patches(Images(), 1, 4, 50, seed: 5);
        var b = new Patches(Images(), 1, 4, 50, seed: 5);
        Assert.Equal(Bytes(a, 3), Bytes(b, 3));
        Assert.NotEqual(Bytes(a, 3), Bytes(a, 4));
        Assert.NotEqual(Bytes(a, 3), Bytes(new Patches(Images(), 1, 4, 50, seed: 6), 3));
        // ForEpoch prefetches the next epoch in the background; what it hands out is the same as drawing on the spot.
        using (var first = a.ForEpoch(3)) Assert.Equal(Bytes(b, 3), first.data<byte>().ToArray());
        using (var second = a.ForEpoch(4)) Assert.Equal(Bytes(b, 4), second.data<byte>().ToArray());
        using (var again = a.ForEpoch(4)) Assert.Equal(Bytes(b, 4), again.data<byte>().ToArray());
        Assert.Equal(new long[] { 50, 1, 4, 4 }, a.ForEpoch(1).shape);
    }

    [Fact]
    public void Float_images_give_float_patches_from_the_same_places_and_keep_values_outside_0_to_1()
    {
        // The same images as floats, shifted out of [0, 1] where the noise of a float TIFF would take them.
        var floats = Images().Select(i => i with { Planes = i.Planes.Select(v => 3 * v - 1).ToArray(), Bits = 32 }).ToList();
        var asBytes = new Patches(Images(), 1, 4, 200, seed: 5);
        var asFloats = new Patches(floats, 1, 4, 200, seed: 5);
        var drawn = Assert.IsType<float[]>(asFloats.Draw(2));
        Assert.Equal(Bytes(asBytes, 2).Select(b => 3 * (b / 255f) - 1), drawn);
        Assert.Contains(drawn, v => v < 0);
        Assert.Contains(drawn, v => v > 1);
        using var tensor = asFloats.ForEpoch(2);
        Assert.Equal(TorchSharp.torch.ScalarType.Float32, tensor.dtype);
        using var images = ImageSet.ToImages(tensor);
        Assert.Equal(drawn, images.data<float>().ToArray()); // already on the 0-1 scale: neither divided nor clipped
        images.add_(1);
        Assert.Equal(drawn, tensor.data<float>().ToArray()); // and a copy, which a target may change in place

        // A float image among 8-bit ones makes them all floats (b / 255), so an epoch's patches stack.
        var mixed = new Patches(new List<Picture> { Images()[0], floats[1] }, 1, 4, 200, seed: 5);
        Assert.IsType<float[]>(mixed.Draw(2));
    }

    static byte[] Bytes(Patches patches, int epoch) => Assert.IsType<byte[]>(patches.Draw(epoch));
}
