// The x8 self-ensemble: each of the 8 orientations is a different view of the image, and every result is turned back
// exactly before the average.
using Denoiser.Data;
using Denoiser.Inference;
using Denoiser.Models;
using Xunit;

namespace Denoiser.Tests.Inference;

public class SelfEnsembleTests
{
    /// <summary>Returns a function of its input that an orientation changes (a left-to-right running sum), and keeps what it saw.</summary>
    sealed class Recorder(bool identity) : IImageModel
    {
        public ModelInfo Info => ResUNet.Info;
        public TrainingDomain Domain => TrainingDomain.Of(Info, (Denoiser.Training.TrainSettings?)null);
        public List<(float[] Image, int H, int W)> Seen { get; } = new();

        public Picture Run(Picture p) => p with { Planes = Run(p.Planes, p.Height, p.Width) };
        public float[] Run(float[] image, int height, int width)
        {
            Seen.Add(((float[])image.Clone(), height, width));
            if (identity) return (float[])image.Clone();
            var output = new float[image.Length];
            for (int y = 0; y < height; y++)
                for (int x = 0, at = y * width; x < width; x++) output[at + x] = image[at + x] + (x > 0 ? output[at + x - 1] : 0);
            return output;
        }

        public void Dispose() { }
    }

    static float[] Ramp(int h, int w) => Enumerable.Range(0, h * w).Select(i => (float)(i * 7 % 23)).ToArray();

    [Fact]
    public void Every_orientation_is_a_distinct_view_and_an_identity_model_gives_the_image_back_exactly()
    {
        const int h = 4, w = 8; // not square: a transposed view is 8 x 4
        var image = Ramp(h, w);
        var recorder = new Recorder(identity: true);
        Assert.Equal(image, new SelfEnsemble(recorder).Run(TestFiles.Planes(image, h, w)).Planes);

        Assert.Equal(SelfEnsemble.Orientations, recorder.Seen.Count);
        Assert.Equal(4, recorder.Seen.Count(s => (s.H, s.W) == (h, w)));
        Assert.Equal(4, recorder.Seen.Count(s => (s.H, s.W) == (w, h)));
        Assert.Equal(SelfEnsemble.Orientations, recorder.Seen.Select(s => string.Join(",", s.Image)).Distinct().Count());
        Assert.Equal(image, recorder.Seen[0].Image); // orientation 0 is the image itself
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                Assert.Equal(image[y * w + x], recorder.Seen[1].Image[y * w + (w - 1 - x)]);           // left-right
                Assert.Equal(image[y * w + x], recorder.Seen[2].Image[(h - 1 - y) * w + x]);           // top-bottom
                Assert.Equal(image[y * w + x], recorder.Seen[4].Image[x * h + y]);                     // transposed
                Assert.Equal(image[y * w + x], recorder.Seen[7].Image[(w - 1 - x) * h + (h - 1 - y)]); // all three
            }
        for (int k = 0; k < SelfEnsemble.Orientations; k++) // a permutation: every element lands somewhere, once
            Assert.Equal(Enumerable.Range(0, h * w), Enumerable.Range(0, h * w).Select(i => SelfEnsemble.Turned(i, k, h, w)).OrderBy(i => i));
    }

    [Fact]
    public void A_model_that_depends_on_orientation_is_averaged_over_the_eight_turned_back_results()
    {
        const int h = 3, w = 5;
        var image = Ramp(h, w);
        var model = new Recorder(identity: false);
        var averaged = new SelfEnsemble(model).Run(TestFiles.Planes(image, h, w)).Planes;
        // By hand: each orientation's running sum, read back at each pixel's place in that orientation.
        for (int i = 0; i < image.Length; i++)
        {
            double expected = 0;
            for (int k = 0; k < SelfEnsemble.Orientations; k++)
            {
                var (seen, th, tw) = model.Seen[k];
                int at = SelfEnsemble.Turned(i, k, h, w), row = at / tw, col = at % tw;
                expected += Enumerable.Range(0, col + 1).Sum(x => seen[row * tw + x]);
            }
            Assert.Equal(expected / SelfEnsemble.Orientations, averaged[i], 3);
        }
        Assert.NotEqual(new Recorder(identity: false).Run(image, h, w), averaged); // it is not the plain model's output
    }

    [Fact]
    public void A_model_that_takes_more_planes_than_it_gives_averages_its_output_planes()
    {
        // A model told the noise level takes R, G, B and the level, and gives R, G and B: the ensemble averaged 4 planes once (issue 41).
        var model = new SelfEnsemble(new LevelDropper());
        var input = Enumerable.Range(0, 4 * 6 * 4).Select(i => i / 96f).ToArray();
        var result = model.Run(new Picture(4, 6, 4, input));
        Assert.Equal(3, result.Channels);
        Assert.Equal(input[..(3 * 24)], result.Planes);
    }

    /// <summary>Gives back the first three of its four planes.</summary>
    sealed class LevelDropper : IImageModel
    {
        public ModelInfo Info => ResUNetRgb.Info;
        public TrainingDomain Domain => TrainingDomain.Of(Info, (Denoiser.Training.TrainSettings?)null);
        public Picture Run(Picture p) => p with { Channels = 3, Planes = p.Planes[..(3 * p.Pixels)] };
        public void Dispose() { }
    }
}
