// Noise2Void's masking: one spot per 8x8 cell, each from a neighbour in the 5x5 window and never itself, the same for
// every channel, nothing else touched, and the same for the same seed.
using Denoiser.Data;
using Xunit;

namespace Denoiser.Tests.Data;

public class BlindSpotTests
{
    /// <summary>A batch whose every value is distinct, so a moved value tells where it came from.</summary>
    static float[] Distinct(int n, int c, int h, int w) => Enumerable.Range(0, n * c * h * w).Select(i => (float)i).ToArray();

    [Theory]
    [InlineData(2, 1, 64, 64)]
    [InlineData(3, 3, 20, 36)] // sides that are not multiples of 8: the last cells are partial
    [InlineData(1, 1, 5, 5)]   // as small as the window, where reflections land on the centre most often
    public void Each_cell_gets_one_spot_from_a_neighbour_never_itself(int n, int c, int h, int w)
    {
        var original = Distinct(n, c, h, w);
        var batch = (float[])original.Clone();
        var (mask, moves) = BlindSpot.Apply(batch, n, c, h, w, new Random(3));

        int cells = (h + BlindSpot.Box - 1) / BlindSpot.Box * ((w + BlindSpot.Box - 1) / BlindSpot.Box);
        Assert.Equal(n * cells, mask.Count(m => m == 1));
        Assert.Equal(n * cells, moves.Count);
        for (int s = 0; s < n; s++)
        {
            var spots = moves.Skip(s * cells).Take(cells).ToList();
            Assert.Equal(cells, spots.Select(m => (m.Spot / w / BlindSpot.Box, m.Spot % w / BlindSpot.Box)).Distinct().Count()); // one per cell
            foreach (var (spot, source) in spots)
            {
                Assert.Equal(1, mask[s * h * w + spot]);
                Assert.NotEqual(spot, source);
                Assert.InRange(Math.Abs(spot / w - source / w), 0, BlindSpot.Radius);
                Assert.InRange(Math.Abs(spot % w - source % w), 0, BlindSpot.Radius);
                for (int ch = 0; ch < c; ch++)
                {
                    long plane = ((long)s * c + ch) * h * w;
                    Assert.Equal(original[plane + source], batch[plane + spot]); // the neighbour's noisy value, in every channel
                    Assert.NotEqual(original[plane + spot], batch[plane + spot]);
                }
            }
        }
        for (int i = 0; i < batch.Length; i++)
        {
            int s = i / (c * h * w), pixel = i % (h * w);
            if (mask[s * h * w + pixel] == 0) Assert.Equal(original[i], batch[i]); // only the spots change
        }
    }

    [Fact]
    public void The_fraction_is_one_in_64_and_the_places_are_spread()
    {
        var batch = new float[16 * 64 * 64];
        var (mask, _) = BlindSpot.Apply(batch, 16, 1, 64, 64, new Random(1));
        Assert.Equal(1.0 / 64, mask.Average(m => (double)m), 6);
        // Every offset within a cell is used: the spots are uniform in it, not fixed.
        var offsets = new HashSet<int>();
        for (int i = 0; i < mask.Length; i++)
            if (mask[i] == 1) offsets.Add(i % 64 % 8 + 8 * (i / 64 % 64 % 8));
        Assert.Equal(64, offsets.Count);
    }

    [Fact]
    public void The_same_seed_places_the_same_spots()
    {
        float[] a = Distinct(2, 1, 32, 32), b = Distinct(2, 1, 32, 32), d = Distinct(2, 1, 32, 32);
        var first = BlindSpot.Apply(a, 2, 1, 32, 32, new Random(9));
        var second = BlindSpot.Apply(b, 2, 1, 32, 32, new Random(9));
        var other = BlindSpot.Apply(d, 2, 1, 32, 32, new Random(10));
        Assert.Equal(first.Mask, second.Mask);
        Assert.Equal(a, b);
        Assert.NotEqual(first.Mask, other.Mask);
    }

    [Fact]
    public void A_patch_smaller_than_the_window_is_refused()
    {
        Assert.Throws<ArgumentException>(() => BlindSpot.Apply(new float[16], 1, 1, 4, 4, new Random(1)));
    }
}
