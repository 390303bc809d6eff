// What a model was trained on, and whether a picture is far from it: denoise says so on the picture's line.
using Denoiser.Data;
using Denoiser.Models;
using Denoiser.Training;

namespace Denoiser.Inference;

/// <param name="Name">The training data, as a user would call it.</param>
/// <param name="Side">The side of the training images or crops.</param>
/// <param name="SparseLightOnDark">MNIST-like: mostly black, with light strokes; other content is far from it.</param>
public sealed record TrainingDomain(string Name, int Side, bool SparseLightOnDark)
{
    /// <summary>
    /// Pixels between 15% and 85% grey above this fraction make a picture unlike MNIST, whose digits have few (stroke
    /// edges): measured over the 10,000 test digits, 7.2% on average and 13.3% at most; a photograph has most.
    /// </summary>
    public const double MaxMidTones = 0.4;

    /// <summary>From the run's settings (a checkpoint, or the settings a weights file carries); else from the model's design size.</summary>
    public static TrainingDomain Of(ModelInfo info, TrainSettings? trained)
    {
        string kind = trained?.Dataset ?? "auto";
        if (kind == "auto") kind = info.Channels == 1 && info.Side == 28 ? "mnist" : info.Channels == 3 && info.Side == 32 ? "cifar10" : "images";
        int side = trained is { Crop: > 0 } ? trained.Crop : info.Side;
        return kind switch
        {
            "mnist" => new("MNIST digits: 28x28, light strokes on black", 28, true),
            "fashionmnist" => new("Fashion-MNIST clothing: 28x28, light on black", 28, false),
            "cifar10" => new("CIFAR-10 photographs: 32x32", 32, false),
            _ => new($"{side}x{side} crops of the pictures in {trained?.DataDir ?? "its training folder"}", side, false),
        };
    }

    /// <summary>From the run settings a safetensors or ONNX file carries (denoiser.settings), when it carries them.</summary>
    public static TrainingDomain Of(ModelInfo info, IReadOnlyDictionary<string, string> metadata)
    {
        TrainSettings? trained = null;
        if (metadata.TryGetValue(Interchange.WeightsFile.SettingsKey, out var json))
            try { trained = System.Text.Json.JsonSerializer.Deserialize<TrainSettings>(json); }
            catch (System.Text.Json.JsonException) { } // settings of another version: fall back to the model's design size
        return Of(info, trained);
    }

    /// <summary>Why <paramref name="luma"/> (one plane in [0, 1], as the model will see it, after any inversion) is far from the training data; null when it is not.</summary>
    public string? Warning(Data.Picture luma)
    {
        var (plane, width, height) = (luma.Planes, luma.Width, luma.Height);
        if (!SparseLightOnDark) return null;
        var why = new List<string>();
        double mid = plane.Count(v => Grey(v) is > 38 and < 217) / (double)plane.Length;
        if (mid > MaxMidTones) why.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{mid * 100:F0}% of its pixels are mid-tones"));
        if (Median(plane) > 127) why.Add("its background is light (try --invert auto)");
        if (Math.Min(width, height) > 8 * Side) why.Add($"it is {width}x{height}, strokes of another scale");
        return why.Count == 0 ? null
            : $"warning: far from what this model was trained on ({Name}): {string.Join("; ", why)}. Expect artefacts; a model trained on pictures like it will do better";
    }

    /// <summary>The median of a plane in [0, 1], as a grey level 0-255.</summary>
    public static int Median(float[] plane)
    {
        var histogram = new int[256];
        foreach (float v in plane) histogram[Grey(v)]++;
        for (int v = 0, seen = 0; v < 256; v++)
            if ((seen += histogram[v]) * 2 >= plane.Length) return v;
        return 255;
    }

    static int Grey(float v) => (int)Math.Clamp(Math.Round(v * 255.0), 0, 255);
}
