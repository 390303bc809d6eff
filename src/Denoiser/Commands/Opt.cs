// One command-line option, declared once: its name, help, default and rule. The System.CommandLine option, its help
// line with the default, the reading of its text and the rule's one-line error all follow from the declaration.
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;

namespace Denoiser.Commands;

/// <summary>
/// An option of a command: <c>new Opt&lt;int&gt;("--quality", "JPEG and WebP quality, 1-100") { Default = 90, Rule = Rule.Between(1, 100) }</c>.
/// It is added to its command as it is (it converts to its <see cref="Option"/>), and its value is read with
/// <see cref="Get"/>, which holds it to the rule.
/// </summary>
/// <remarks>
/// The rule is checked when the command reads the value, not while the line is parsed, so a failure is the command's:
/// `denoise --report` records it like any other. Text that is not a value at all is refused while parsing.
/// </remarks>
public sealed class Opt<T>(string name, string help, params string[] aliases)
{
    T fallback = default!;
    bool hasDefault;
    Option<T>? option;

    public string Name { get; } = name;
    public string Help { get; } = help;

    /// <summary>The value when the option is not given, shown in help as [default: ...]; null or unset: none.</summary>
    public T Default
    {
        get => fallback;
        init => (fallback, hasDefault) = (value, value is not null);
    }

    /// <summary>What a value must be: checked when the command reads it, and when configuration gives it.</summary>
    public Rule<T>? Rule { get; init; }
    /// <summary>How text becomes a value for a type that parses itself (<c>Noise.Parse</c>); numbers are read in the invariant culture.</summary>
    public Func<string, T>? Parse { get; init; }
    /// <summary>The only texts accepted (System.CommandLine refuses others while parsing, naming them).</summary>
    public string[]? Choices { get; init; }
    public bool Required { get; init; }
    public bool Hidden { get; init; }
    /// <summary>For a list: several values after one name (--noise a b c).</summary>
    public bool Many { get; init; }

    /// <summary>The System.CommandLine option, made once, when first added to a command.</summary>
    public Option<T> Option => option ??= Create();

    public static implicit operator Option(Opt<T> declared) => declared.Option;

    /// <summary>The value given, or the default; a value that breaks the rule is a usage error naming the rule.</summary>
    public T Get(ParseResult p)
    {
        var value = p.GetValue(Option)!; // null only where T allows it (or for an option with neither default nor Required)
        return Rule?.Problem(Name, value) is { } problem ? throw new UserException($"{problem}. {Usage.Hint(p)}", ExitCodes.Usage) : value;
    }

    /// <summary>Whether the option was typed on the command line (not its default).</summary>
    public bool Given(ParseResult p) => p.GetResult(Option) is { Implicit: false };

    /// <summary>A value from text (configuration), held to the rule.</summary>
    /// <exception cref="FormatException">Saying what is wrong, as "--epochs must be at least 1".</exception>
    public T Read(string text)
    {
        var value = FromText(text);
        return Rule?.Problem(Name, value) is { } problem ? throw new FormatException(problem) : value;
    }

    Option<T> Create()
    {
        var created = new Option<T>(Name, aliases) { Description = Help, Required = Required, Hidden = Hidden, AllowMultipleArgumentsPerToken = Many };
        if (hasDefault)
        {
            var value = fallback;
            created.DefaultValueFactory = _ => value;
        }
        if (Choices != null) created.AcceptOnlyFromAmong(Choices);
        else if (typeof(T) != typeof(bool) && !typeof(T).IsArray) // a flag has no text to read, a list is read item by item
            created.CustomParser = result =>
            {
                if (result.Tokens.Count == 0) return fallback;
                try { return FromText(result.Tokens[^1].Value); }
                catch (FormatException e)
                {
                    result.AddError(e.Message + ".");
                    return default!;
                }
            };
        return created;
    }

    T FromText(string text)
    {
        if (Parse != null)
        {
            try { return Parse(text); }
            catch (FormatException e) { throw new FormatException($"{Name}: {e.Message}"); }
        }
        var type = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
        object value =
            type == typeof(string) ? text :
            type == typeof(bool) ? bool.TryParse(text, out bool b) ? (object)b : throw Bad(text, "true or false") :
            type == typeof(int) ? int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i) ? (object)i : throw Bad(text, "a whole number") :
            type == typeof(long) ? long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long l) ? (object)l : throw Bad(text, "a whole number") :
            type == typeof(double) ? double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d) ? (object)d : throw Bad(text, "a number") :
            throw new InvalidOperationException($"{Name}: declare how a {type.Name} is read from text (Parse)");
        return (T)value;
    }

    FormatException Bad(string text, string expected) => new($"{Name} takes {expected}, not '{text}'");
}

/// <summary>The pointer every usage error ends with: "Run `denoiser shapes conv --help`."</summary>
public static class Usage
{
    public static string Hint(ParseResult p)
    {
        var names = new List<string>();
        for (var c = p.CommandResult; c.Parent is CommandResult parent; c = parent) names.Insert(0, c.Command.Name);
        return $"Run `{string.Join(' ', ["denoiser", .. names])} --help`.";
    }
}

/// <summary>What an option's value must be, said as the option's rule: "--epochs must be at least 1".</summary>
/// <param name="Must">The rule's words after "must be".</param>
/// <param name="SaysValue">Whether the error ends with the value refused (", not 70000").</param>
public sealed record Rule<T>(Func<T, bool> Holds, string Must, bool SaysValue = false)
{
    /// <summary>The rule broken by <paramref name="value"/>, as one sentence without its full stop; null when it holds.</summary>
    public string? Problem(string name, T value) =>
        Holds(value) ? null : $"{name} must be {Must}" + (SaysValue ? string.Create(CultureInfo.InvariantCulture, $", not {value}") : "");
}

/// <summary>The usual rules for numbers.</summary>
public static class Rule
{
    /// <param name="zero">What 0 means, when the least is 0 and 0 is special ("all", "one per core"); said in the error.</param>
    public static Rule<T> AtLeast<T>(T min, string? zero = null) where T : INumber<T> =>
        new(v => v >= min, zero != null ? $"0 ({zero}) or more" : $"at least {Say(min)}");

    public static Rule<T> Above<T>(T min) where T : INumber<T> => new(v => v > min, $"above {Say(min)}");

    public static Rule<T> Positive<T>() where T : INumber<T> => new(v => v > T.Zero, "a positive number");

    public static Rule<T> Between<T>(T min, T max) where T : INumber<T> =>
        new(v => v >= min && v <= max, $"between {Say(min)} and {Say(max)}");

    static string Say<T>(T value) where T : INumber<T> => value.ToString(null, CultureInfo.InvariantCulture);
}
