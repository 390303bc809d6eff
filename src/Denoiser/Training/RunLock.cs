// One trainer per run folder: an exclusive OS lock on RUN/.lock, held open for the whole run, which dies with its process.
namespace Denoiser.Training;

/// <summary>
/// .NET opens a file with FileShare.None under an exclusive flock() on Linux and macOS (and a share mode on Windows),
/// so of any number of trainers started at once exactly one gets it, and a killed trainer's lock is gone with it:
/// no stale lock to judge. The file itself is never deleted (deleting it would let a second trainer lock a new file
/// while the first still holds the old one); RUN/.trainer says which process holds it, for the message.
/// </summary>
public sealed class RunLock : IDisposable
{
    readonly FileStream file;
    readonly string owner;

    RunLock(FileStream file, string owner) => (this.file, this.owner) = (file, owner);

    /// <summary>Takes the lock of <paramref name="runDir"/>, or throws naming the process that holds it.</summary>
    public static RunLock Acquire(string runDir)
    {
        Directory.CreateDirectory(runDir);
        string path = Path.Combine(runDir, ".lock"), owner = Path.Combine(runDir, ".trainer");
        try
        {
            var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            Data.AtomicFile.WriteAllText(owner, Environment.ProcessId.ToString());
            return new RunLock(file, owner);
        }
        catch (IOException e) when (File.Exists(path) && e is not (FileNotFoundException or DirectoryNotFoundException))
        {
            string holder = "";
            try { holder = File.ReadAllText(owner).Trim(); } catch (IOException) { }
            throw new UserException($"{runDir} is in use by another trainer{(holder == "" ? "" : $" (process {holder})")}; wait for it to finish or choose another --run-dir.", ExitCodes.Usage);
        }
    }

    public void Dispose()
    {
        try { File.Delete(owner); } catch (IOException) { }
        file.Dispose(); // releases the lock
    }
}
