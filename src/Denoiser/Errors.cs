// The failures a user can cause and fix, and the exit codes they map to (one place: Program.Main).
namespace Denoiser;

public static class ExitCodes
{
    public const int Ok = 0;
    public const int Failure = 1;     // bad data, checkpoint or image; I/O errors
    public const int Usage = 2;       // bad options or configuration
    public const int Internal = 70;   // a bug: EX_SOFTWARE
}

/// <summary>A known failure with a message that says what is wrong and what to do.</summary>
public sealed class UserException(string message, int exitCode = ExitCodes.Failure) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
