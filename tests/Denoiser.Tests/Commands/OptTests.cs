// Options declared once: parsed without running any work, their defaults in help, their rules' one-line errors, and
// TrainSettings' list, each setting bound to its own property.
using System.CommandLine;
using System.Text.Json;
using Denoiser.Commands;
using Denoiser.Data;
using Denoiser.Training;
using Xunit;

namespace Denoiser.Tests.Commands;

public class OptTests
{
    /// <summary>`denoiser denoise --quality`, as the program declares it; parsed with the command's name first.</summary>
    static (RootCommand Command, Opt<int> Quality) Quality()
    {
        var quality = new Opt<int>("--quality", "JPEG and WebP quality, 1-100") { Default = 90, Rule = Rule.Between(1, 100) };
        return (new RootCommand { new Command("denoise") { quality } }, quality);
    }

    [Fact]
    public void A_declared_option_gives_its_default_reads_its_value_and_holds_it_to_its_rule()
    {
        var (command, quality) = Quality();
        Assert.Equal(90, quality.Get(command.Parse("denoise")));
        Assert.False(quality.Given(command.Parse("denoise")));
        Assert.Equal(75, quality.Get(command.Parse("denoise --quality 75")));
        Assert.True(quality.Given(command.Parse("denoise --quality 75")));
        Assert.True(quality.Option.HasDefaultValue); // help shows [default: 90]

        var e = Assert.Throws<UserException>(() => quality.Get(command.Parse("denoise --quality 0")));
        Assert.Equal("--quality must be between 1 and 100. Run `denoiser denoise --help`.", e.Message);
        Assert.Equal(ExitCodes.Usage, e.ExitCode);
    }

    [Fact]
    public void Text_that_is_not_a_value_is_refused_while_parsing_naming_the_option()
    {
        var (command, _) = Quality();
        Assert.Equal("--quality takes a whole number, not 'abc'.", Assert.Single(command.Parse("denoise --quality abc").Errors).Message);
        var lr = new Opt<double>("--lr", "Adam learning rate") { Default = 1e-3, Rule = Rule.Positive<double>() };
        var train = new Command("train") { lr };
        Assert.Equal("--lr takes a number, not 'NaN'.", Assert.Single(train.Parse("--lr NaN").Errors).Message);
        Assert.Equal(0.5, lr.Get(train.Parse("--lr 0.5"))); // the invariant culture's point
    }

    [Theory]
    [InlineData("--epochs", "0", "--epochs must be at least 1")]
    [InlineData("--threads", "-1", "--threads must be 0 (one per core) or more")]
    [InlineData("--lr", "0", "--lr must be a positive number")]
    [InlineData("--noise", "blur:2", "--noise: noise 'blur:2': unknown kind 'blur'")]
    public void A_setting_read_from_configuration_is_refused_as_the_command_line_refuses_it(string name, string text, string expected)
    {
        var e = Assert.Throws<FormatException>(() => Setting.Named(name).Read(new TrainSettings(), text));
        Assert.StartsWith(expected, e.Message);
    }

    /// <summary>Each line of TrainSettings.Options reads and writes its own property, under its own key: no line copied from another.</summary>
    [Fact]
    public void Every_training_setting_is_one_declaration_bound_to_its_own_property()
    {
        var defaults = new TrainSettings();
        var other = new TrainSettings
        {
            Model = "unet", Dataset = "cifar10", Crop = 5, Patch = 6, PatchesPerEpoch = 7, Epochs = 8, BatchSize = 9, LearningRate = 0.5,
            LrSchedule = LrSchedule.Parse("cosine"), Loss = Loss.Parse("l1"), Target = TargetKind.Parse("blind-spot"), CleanDir = "c",
            Noise = Noise.Parse("gaussian:0.1"), RealPairs = "r", RealShare = 0.5, RealDrift = 16, Seed = 9, Device = "cpu", Threads = 3, DataDir = "d",
            ModelsDir = "m", RunDir = "rd", TrainSize = 4, TestSize = 5, ClipGrad = 1, TensorBoard = true, InitFrom = "i",
        };
        static Dictionary<string, string> Json(TrainSettings s) =>
            JsonSerializer.SerializeToElement(s).EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetRawText());
        var before = Json(defaults);
        Assert.All(Json(other), p => Assert.NotEqual(before[p.Key], p.Value)); // every property differs

        Assert.Equal(before.Keys.Order(), TrainSettings.Options.Select(s => s.Key).Order()); // every property has its option
        Assert.Equal(TrainSettings.Options.Count, TrainSettings.Options.Select(s => s.Name).Distinct().Count());
        foreach (var setting in TrainSettings.Options)
        {
            var changed = Json(setting.Copy(other, defaults)).Where(p => before[p.Key] != p.Value).Select(p => p.Key);
            Assert.Equal(new[] { setting.Key }, changed);
            Assert.False(setting.Same(other, defaults), setting.Name);
        }
    }
}
