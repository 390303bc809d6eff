// One setting of TrainSettings: its property, read and set by lambdas, with its option and configuration key. The list
// of them all, TrainSettings.Options, gives train's options, configuration's keys and what --resume may change.
using System.CommandLine;
using Denoiser.Training;

namespace Denoiser.Commands;

public abstract class Setting
{
    /// <summary>The option, "--epochs".</summary>
    public abstract string Name { get; }
    /// <summary>The configuration key under "Train" (appsettings.json, DENOISER_Train__KEY): the property's name.</summary>
    public abstract string Key { get; }
    /// <summary>May change when a run resumes (how it continues, not its recipe).</summary>
    public abstract bool Resumable { get; }

    /// <summary>A setting, declared: TrainSettings' property <paramref name="key"/> as option <paramref name="name"/>.</summary>
    public static Setting<T> Of<T>(string key, string name, string help, Func<TrainSettings, T> get, Func<TrainSettings, T, TrainSettings> with,
                                   Rule<T>? rule = null, Func<string, T>? parse = null, bool resumable = false) =>
        new(key, name, help, get, with, rule, parse, resumable);

    public static Setting Named(string name) => TrainSettings.Options.Single(s => s.Name == name);

    public static Setting<T> Named<T>(string name) => (Setting<T>)Named(name);

    /// <summary><paramref name="settings"/> with this setting read from <paramref name="text"/> (configuration), as the command line reads it.</summary>
    /// <exception cref="FormatException">Saying what is wrong, as "--epochs must be at least 1".</exception>
    public abstract TrainSettings Read(TrainSettings settings, string text);

    public abstract bool Same(TrainSettings a, TrainSettings b);

    /// <summary><paramref name="to"/> with this setting's value in <paramref name="from"/>.</summary>
    public abstract TrainSettings Copy(TrainSettings from, TrainSettings to);

    /// <summary>The option for one command, its default the value in <paramref name="defaults"/>; and how to apply what was given.</summary>
    public abstract Bound Bind(TrainSettings defaults);

    public sealed record Bound(string Name, Option Option, Func<ParseResult, bool> Given, Func<TrainSettings, ParseResult, TrainSettings> Apply);
}

public sealed class Setting<T>(string key, string name, string help, Func<TrainSettings, T> get, Func<TrainSettings, T, TrainSettings> with,
                               Rule<T>? rule, Func<string, T>? parse, bool resumable) : Setting
{
    public override string Name => name;
    public override string Key => key;
    public override bool Resumable => resumable;

    /// <summary>This setting as a command's option, its default the value in <paramref name="defaults"/> (for `evaluate --test-size`, `--threads`...).</summary>
    public Opt<T> Declare(TrainSettings defaults) => new(name, help) { Default = get(defaults), Rule = rule, Parse = parse };

    public override TrainSettings Read(TrainSettings settings, string text) => with(settings, Declare(settings).Read(text));

    public override bool Same(TrainSettings a, TrainSettings b) => Equals(get(a), get(b));

    public override TrainSettings Copy(TrainSettings from, TrainSettings to) => with(to, get(from));

    public override Bound Bind(TrainSettings defaults)
    {
        var option = Declare(defaults);
        return new(name, option, option.Given, (settings, p) => with(settings, option.Get(p)));
    }
}
