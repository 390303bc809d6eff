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

    /// <summary>The command-line option, its default shown in help being <paramref name="defaults"/>' value.</summary>
    public Option Create(TrainSettings defaults)
    {
        string help = Declared.Help.Replace("{models}", Models.Registry.Names);
        var option = (Option)Activator.CreateInstance(typeof(Option<>).MakeGenericType(Type), Name, Array.Empty<string>())!;
        option.Description = help;
        var value = Get(defaults);
        var generic = typeof(Option<>).MakeGenericType(Type);
        if (value != null)
            generic.GetProperty("DefaultValueFactory")!.SetValue(option, MakeFactory(value));
        if (Type != typeof(bool))
            generic.GetProperty("CustomParser")!.SetValue(option, MakeParser());
        return option;
    }

    /// <summary>The option's value in a parse (System.CommandLine's typed GetValue, for this setting's type).</summary>
    public object? ValueIn(ParseResult parse, Option option) =>
        typeof(ParseResult).GetMethods().Single(m => m.Name == nameof(ParseResult.GetValue) && m.IsGenericMethod &&
                                                    m.GetParameters()[0].ParameterType.IsGenericType &&
                                                    m.GetParameters()[0].ParameterType.GetGenericTypeDefinition() == typeof(Option<>))
            .MakeGenericMethod(Type).Invoke(parse, new object[] { option });

    // System.CommandLine takes typed delegates: Func<ArgumentResult, T>.
    Delegate MakeFactory(object value) => Typed(nameof(Constant), value);
    Delegate MakeParser() => Typed(nameof(ParseToken), this);

    Delegate Typed(string method, object state) =>
        typeof(Setting).GetMethod(method, BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(Type).Invoke(null, new[] { state }) as Delegate
        ?? throw new InvalidOperationException(method);

    static Func<System.CommandLine.Parsing.ArgumentResult, T> Constant<T>(object value) => _ => (T)value;

    static Func<System.CommandLine.Parsing.ArgumentResult, T?> ParseToken<T>(object state)
    {
        var setting = (Setting)state;
        return result =>
        {
            if (result.Tokens.Count == 0) return default;
            try { return (T?)setting.Parse(result.Tokens[^1].Value); }
            catch (FormatException e)
            {
                result.AddError(e.Message + ".");
                return default;
            }
        };
    }
}
