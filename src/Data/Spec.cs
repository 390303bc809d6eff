// Values written as one short text (a noise "gaussian:25/255,clip", a schedule "step:30:0.1"): parsed once, written back as they were read.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Denoiser.Data;

/// <summary>A value with one canonical text: <see cref="Spec"/> is what <c>Parse</c> reads back to an equal value.</summary>
public interface ISpec<TSelf> where TSelf : ISpec<TSelf>
{
    /// <summary>Parses the text, or throws FormatException saying what is accepted.</summary>
    static abstract TSelf Parse(string spec);

    string Spec { get; }
}

/// <summary>Stores such a value in JSON as its spec (settings.json, checkpoint headers).</summary>
public sealed class SpecJsonConverter<T> : JsonConverter<T> where T : ISpec<T>
{
    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        // A number is read as its text: the first checkpoints stored a noise as a bare sigma, which Noise.Parse takes.
        string text = reader.TokenType == JsonTokenType.Number
            ? reader.GetDouble().ToString(System.Globalization.CultureInfo.InvariantCulture)
            : reader.GetString() ?? throw new JsonException($"a {typeof(T).Name} is null");
        try { return T.Parse(text); }
        catch (FormatException e) { throw new JsonException(e.Message, e); }
    }

    // Relaxed escaping: "camera,8bit+gaussian:0-55/255" reads as written in settings.json, not with + as \u002B (these
    // files are read by people and by JSON parsers, never pasted into HTML).
    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
        writer.WriteStringValue(JsonEncodedText.Encode(value.Spec, System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping));
}
