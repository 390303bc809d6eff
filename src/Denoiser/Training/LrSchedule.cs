// The learning rate over a run: constant (the seed's), cosine annealing, or steps; set before every batch.
using System.Globalization;

namespace Denoiser.Training;

/// <summary>
/// constant; cosine (from --lr down to 0 at the end of the last epoch, Loshchilov and Hutter 2017, per batch);
/// step:EVERY:FACTOR (times FACTOR every EVERY epochs, as DnCNN's 1e-3 to 1e-4).
/// </summary>
[System.Text.Json.Serialization.JsonConverter(typeof(Data.SpecJsonConverter<LrSchedule>))]
public sealed record LrSchedule(string Kind, int Every = 0, double Factor = 1) : Data.ISpec<LrSchedule>
{
    public const string Kinds = "constant, cosine or step:EVERY:FACTOR (for example step:30:0.1)";

    public static readonly LrSchedule Constant = new("constant");

    public string Spec => Kind == "step" ? $"step:{Every}:{Factor.ToString(CultureInfo.InvariantCulture)}" : Kind;

    public override string ToString() => Spec;

    /// <summary>Throws FormatException saying what is accepted.</summary>
    public static LrSchedule Parse(string spec)
    {
        string[] parts = spec.Trim().ToLowerInvariant().Split(':');
        return parts switch
        {
            ["constant"] => Constant,
            ["cosine"] => new("cosine"),
            ["step", var every, var factor] when int.TryParse(every, NumberStyles.None, CultureInfo.InvariantCulture, out int e) && e > 0 &&
                                                  double.TryParse(factor, NumberStyles.Float, CultureInfo.InvariantCulture, out double f) && f > 0 && f <= 1
                => new("step", e, f),
            _ => throw new FormatException($"'{spec}' is not a schedule; use {Kinds}"),
        };
    }

    /// <summary>The rate after <paramref name="epochsDone"/> epochs (fractional within one) of <paramref name="epochs"/>.</summary>
    public double At(double baseRate, double epochsDone, int epochs) => Kind switch
    {
        "cosine" => baseRate * 0.5 * (1 + Math.Cos(Math.PI * Math.Clamp(epochsDone / epochs, 0, 1))),
        "step" => baseRate * Math.Pow(Factor, Math.Floor(epochsDone / Every)),
        _ => baseRate,
    };
}
