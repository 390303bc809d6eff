// The learning-rate schedules: their values at the ends and the middle, and their specs.
using Denoiser.Training;
using Xunit;

namespace Denoiser.Tests.Training;

public class LrScheduleTests
{
    [Fact]
    public void Cosine_falls_from_the_rate_to_zero_and_steps_multiply_at_their_epochs()
    {
        var cosine = LrSchedule.Parse("cosine");
        Assert.Equal(1e-3, cosine.At(1e-3, 0, 40), 12);
        Assert.Equal(0.5e-3, cosine.At(1e-3, 20, 40), 12);
        Assert.Equal(0, cosine.At(1e-3, 40, 40), 12);
        Assert.True(cosine.At(1e-3, 10, 40) > cosine.At(1e-3, 10.5, 40)); // within an epoch too

        var step = LrSchedule.Parse("step:30:0.1");
        Assert.Equal("step:30:0.1", step.Spec);
        Assert.Equal(1e-3, step.At(1e-3, 29.99, 50), 12);
        Assert.Equal(1e-4, step.At(1e-3, 30, 50), 12);
        Assert.Equal(1e-3, LrSchedule.Parse("constant").At(1e-3, 49, 50));

        foreach (var bad in new[] { "linear", "step:0:0.1", "step:10:2", "step:10", "cosine:5" })
            Assert.Contains("constant, cosine or step", Assert.Throws<FormatException>(() => LrSchedule.Parse(bad)).Message);
    }
}
