// The train command's options, its configuration keys and its resume rules, derived from TrainSettings' declarations.
using System.CommandLine;
using System.Globalization;
using System.Reflection;
using Denoiser.Training;

namespace Denoiser.Commands;

/// <summary>One setting of <see cref="TrainSettings"/>: its property and its <see cref="OptionAttribute"/>.</summary>
public sealed class Setting
{
    readonly PropertyInfo property;

    Setting(PropertyInfo property, OptionAttribute option) => (this.property, Declared) = (property, option);

    public OptionAttribute Declared { get; }
    public string Name => Declared.Name;
    /// <summary>The configuration key under "Train" (appsettings.json, DENOISER_Train__KEY).</summary>
    public string Key => property.Name;
    public Type Type => property.PropertyType;

    /// <summary>Every setting, in declaration order.</summary>
    public static readonly IReadOnlyList<Setting> All = typeof(TrainSettings).GetProperties()
        .Select(p => p.GetCustomAttribute<OptionAttribute>() is { } o ? new Setting(p, o) : null).OfType<Setting>()
        .OrderBy(s => s.property.MetadataToken).ToList();

    public static Setting Named(string name) => All.Single(s => s.Name == name);

    public object? Get(TrainSettings settings) => property.GetValue(settings);

    /// <summary>A copy of <paramref name="settings"/> with this setting set (records' init setters are settable by reflection on a copy).</summary>
    public TrainSettings With(TrainSettings settings, object? value)
    {
        var copy = settings with { };
        property.SetValue(copy, value);
        return copy;
    }

    /// <summary>The text of a value parsed: numbers in the invariant culture, specs by their own Parse; then its range.</summary>
    /// <exception cref="FormatException">Saying what is wrong, as "--epochs must be at least 1".</exception>
    public object? Parse(string text)
    {
        var type = Nullable.GetUnderlyingType(Type) ?? Type;
        object? value;
        if (type == typeof(string)) value = text;
        else if (type == typeof(bool)) value = bool.TryParse(text, out bool b) ? b : throw Bad(text, "true or false");
        else if (type == typeof(int)) value = int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i) ? i : throw Bad(text, "a whole number");
        else if (type == typeof(long)) value = long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long l) ? l : throw Bad(text, "a whole number");
        else if (type == typeof(double))
            value = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d) ? d : throw Bad(text, "a number");
        else
        {
            var parse = type.GetMethod("Parse", BindingFlags.Public | BindingFlags.Static, new[] { typeof(string) })
                        ?? throw new InvalidOperationException($"{Name}: {type.Name} has no Parse(string)");
            try { value = parse.Invoke(null, new object[] { text }); }
            catch (TargetInvocationException e) when (e.InnerException is FormatException f) { throw new FormatException($"{Name}: {f.Message}"); }
        }
        return RangeProblem(value) is { } problem ? throw new FormatException(problem) : value;
    }

    FormatException Bad(string text, string expected) => new($"{Name} takes {expected}, not '{text}'");

    /// <summary>The declared range broken by <paramref name="value"/>, said as the option's rule; null when it holds.</summary>
    public string? RangeProblem(object? value)
    {
        if (double.IsNaN(Declared.Min) || value is not (int or long or double)) return null;
        double v = Convert.ToDouble(value, CultureInfo.InvariantCulture), min = Declared.Min;
        if (Declared.AboveMin ? v > min : v >= min) return null;
        return Declared.AboveMin ? (min == 0 ? $"{Name} must be a positive number" : $"{Name} must be above {min.ToString(CultureInfo.InvariantCulture)}")
             : Declared.Zero != null ? $"{Name} must be 0 ({Declared.Zero}) or more"
             : $"{Name} must be at least {min.ToString(CultureInfo.InvariantCulture)}";
    }

    /// <summary>
    /// The command-line option, its help showing <paramref name="defaults"/>' value as the default, and how to read its
    /// value back from a parse; the text of a value goes through <see cref="Parse"/>, as configuration's does.
    /// </summary>
    public (Option Option, Func<ParseResult, object?> Read) Create(TrainSettings defaults) =>
        ((Option, Func<ParseResult, object?>))typeof(Setting).GetMethod(nameof(Create), BindingFlags.NonPublic | BindingFlags.Instance)!
            .MakeGenericMethod(Type).Invoke(this, new object[] { defaults })!;

    // The typed half: System.CommandLine's options, defaults and parsers are generic in the value's type.
    (Option, Func<ParseResult, object?>) Create<T>(TrainSettings defaults)
    {
        var option = new Option<T>(Name) { Description = Declared.Help.Replace("{models}", Models.Registry.Names) };
        if (Get(defaults) is T value) option.DefaultValueFactory = _ => value;
        if (typeof(T) != typeof(bool)) // a flag has no text to parse
            option.CustomParser = result =>
            {
                try { return (T)Parse(result.Tokens[^1].Value)!; }
                catch (FormatException e)
                {
                    result.AddError(e.Message + ".");
                    return default!;
                }
            };
        return (option, parse => parse.GetValue(option));
    }
}
