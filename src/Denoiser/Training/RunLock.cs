// One trainer per run folder: a lock file holding the owner's process id, taken over when that process is gone.
using System.Diagnostics;

namespace Denoiser.Training;

public sealed class RunLock : IDisposable
{
    readonly string path;

    RunLock(string path) => this.path = path;

    /// <summary>Takes the lock of <paramref name="runDir"/>, or throws naming the process that holds it.</summary>
    public static RunLock Acquire(string runDir)
    {
        Directory.CreateDirectory(runDir);
        string path = Path.Combine(runDir, ".lock");
        for (int attempt = 0; attempt < 2; attempt++)
        {
            try
            {
                using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
                using var writer = new StreamWriter(file);
                writer.Write(Environment.ProcessId);
                return new RunLock(path);
            }
            catch (IOException) when (File.Exists(path))
            {
                int.TryParse(SafeRead(path), out int holder);
                if (holder > 0 && holder != Environment.ProcessId && IsAlive(holder))
                    throw new UserException($"{runDir} is in use by another trainer (process {holder}); wait for it to finish or choose another --run-dir.", ExitCodes.Usage);
                File.Delete(path); // stale: its process is gone (killed, crashed); take the lock over
            }
        }
        throw new UserException($"{runDir}: could not take its lock file {path}; another trainer may be starting there.", ExitCodes.Usage);
    }

    static bool IsAlive(int pid)
    {
        try { using var p = Process.GetProcessById(pid); return !p.HasExited; }
        catch (ArgumentException) { return false; } // no such process
    }

    static string SafeRead(string path)
    {
        try { return File.ReadAllText(path).Trim(); }
        catch (IOException) { return ""; }
    }

    public void Dispose()
    {
        try { File.Delete(path); } catch (IOException) { }
    }
}
