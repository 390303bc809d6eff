// Entry point: builds the command line from the resolved configuration and maps known failures to exit codes.
using System.CommandLine;
using Denoiser;
using Denoiser.Commands;

NativeRuntime.TuneMalloc();
try
{
    var config = AppConfig.Load();
    var root = new RootCommand("Denoiser: train and use convolutional denoising autoencoders (TorchSharp / libtorch).")
    {
        TrainCommand.Create(config),
        DenoiseCommand.Create(config),
        EvaluateCommand.Create(config),
        DataCommand.Create(config),
        AddNoiseCommand.Create(),
        ExportCommand.Create(config),
        ImportCommand.Create(config),
        RunsCommand.Create(config),
        ShapesCommand.Create(),
        AdaptCommand.Create(config),
        BenchCommand.Create(),
        ServeCommand.Create(config),
    };
    var parse = root.Parse(args);
    if (parse.Errors.Count > 0)
    {
        // All of them: "unknown command" comes second, after "required command was not provided".
        string message = System.Text.RegularExpressions.Regex.Replace(
            string.Join(" ", parse.Errors.Select(e => e.Message).Distinct()), @"\s+", " ").Trim();
        Console.Error.WriteLine($"error: {message} {Usage.Hint(parse)}");
        return ExitCodes.Usage;
    }
    int code = parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    Denoiser.Benchmarks.SelfProcess.ReportPeakIfAsked();
    return code;
}
catch (UserException e)
{
    return Fail(e.Message, e.ExitCode);
}
catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
{
    return Fail(e.Message, ExitCodes.Failure);
}
catch (Exception e) when (Environment.GetEnvironmentVariable("DENOISER_DEBUG") != "1")
{
    return Fail($"unexpected {e.GetType().Name}: {e.Message} (set DENOISER_DEBUG=1 for the stack trace, and please report it)", ExitCodes.Internal);
}

static int Fail(string message, int code)
{
    Console.Out.Flush();
    Console.Error.WriteLine("error: " + message.ReplaceLineEndings(" "));
    return code;
}
