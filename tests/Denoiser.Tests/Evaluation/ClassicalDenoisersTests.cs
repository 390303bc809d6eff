// Non-local means and the bilateral filter through OpenCV: they load on this machine, keep the image's layout, and denoise.
using Denoiser.Evaluation;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Denoiser.Tests.Evaluation;

public class ClassicalDenoisersTests
{
    /// <summary>A smooth (1, C, 48, 40) image: ramps that differ per channel, so a swapped layout shows.</summary>
    static Tensor Smooth(int channels)
    {
        var y = torch.linspace(0.2, 0.8, 48).view(1, 1, 48, 1);
        var x = torch.linspace(0.1, 0.7, 40).view(1, 1, 1, 40);
        return torch.cat(Enumerable.Range(0, channels).Select(c => (y * (c + 1) / channels + x * 0.3).expand(1, 1, 48, 40)).ToArray(), 1).clamp(0, 1);
    }

    static double Mse(Tensor a, Tensor b) => (a - b).square().mean().item<float>();

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Both_denoise_grey_and_colour_images_and_keep_their_layout(int channels)
    {
        using var scope = NewDisposeScope();
        var clean = Smooth(channels);
        torch.manual_seed(4);
        const double sigma = 25 / 255.0;
        var noisy = clean + torch.randn_like(clean) * sigma;
        var strengths = ClassicalStrengths.Tuned;

        var nlm = ClassicalDenoisers.NonLocalMeans(noisy, sigma, strengths.NlMeans);
        var bilateral = ClassicalDenoisers.BilateralFilter(noisy, sigma, strengths.Bilateral);

        Assert.Equal(clean.shape, nlm.shape);
        Assert.Equal(clean.shape, bilateral.shape);
        Assert.True(Mse(nlm, clean) < Mse(noisy, clean) / 4, $"NL-means: MSE {Mse(noisy, clean):G3} -> {Mse(nlm, clean):G3}");
        Assert.True(Mse(bilateral, clean) < Mse(noisy, clean) / 2, $"bilateral: MSE {Mse(noisy, clean):G3} -> {Mse(bilateral, clean):G3}");
        // Channel by channel, the result follows its own channel's ramp: R, G and B were not mixed up by the layout.
        for (int c = 0; c < channels; c++)
            Assert.True(Mse(nlm.narrow(1, c, 1), clean.narrow(1, c, 1)) < Mse(noisy.narrow(1, c, 1), clean.narrow(1, c, 1)) / 4, $"channel {c}");
    }

    [Fact]
    public void A_tiny_strength_leaves_an_8_bit_grey_image_as_it_was()
    {
        // Random pixels on the 8-bit grid: no two patches alike, so NL-means finds nothing to average with, and the
        // conversion to OpenCV's bytes and back is exact. (Colour NL-means goes through Lab and back, which rounds.)
        using var scope = NewDisposeScope();
        torch.manual_seed(9);
        var clean = torch.randint(0, 256, new long[] { 1, 1, 32, 24 }).to_type(ScalarType.Float32) / 255;
        var same = ClassicalDenoisers.NonLocalMeans(clean, sigma: 0.1 / 255, factor: 1);
        Assert.True(Mse(same, clean) < 1e-12, $"MSE {Mse(same, clean):G3}");
        var alsoSame = ClassicalDenoisers.BilateralFilter(clean, sigma: 1e-6, factor: 1);
        Assert.True(Mse(alsoSame, clean) < 1e-12, $"MSE {Mse(alsoSame, clean):G3}");
    }

    [Fact]
    public void Coloured_NL_means_gives_what_OpenCVs_Python_binding_gives_for_the_same_picture()
    {
        // tools/parity/make_nlmeans_fixture.py: cv2.fastNlMeansDenoisingColored on the picture as cv2.imread reads it
        // (B, G, R), h = hColor = 0.9 x 25. Handing OpenCV R, G, B instead weights the channels wrongly in its Lab.
        using var scope = NewDisposeScope();
        Tensor Read(string name)
        {
            var p = Denoiser.Data.ImageFile.Read(TestFiles.Fixture(name));
            return torch.tensor(p.Rgb(), new long[] { 1, 3, p.Height, p.Width });
        }
        var noisy = Read("nlmeans-colour.noisy.png");
        var expected = Read("nlmeans-colour.expected.png");
        var ours = ClassicalDenoisers.NonLocalMeans(noisy, 25 / 255.0, ClassicalStrengths.Tuned.NlMeans);
        double worst = (ours - expected).abs().max().item<float>() * 255;
        Assert.True(worst <= 1.0, $"differs by up to {worst:F1} grey levels"); // Debian's OpenCV 4.6 against OpenCvSharp's 4.13
        var swapped = ClassicalDenoisers.NonLocalMeans(noisy.flip(1), 25 / 255.0, ClassicalStrengths.Tuned.NlMeans).flip(1);
        Assert.True((swapped - expected).abs().max().item<float>() * 255 > 1.0, "the fixture does not tell the channel orders apart");
    }
}
