// Writes files so that a reader (or a crash) never sees a half-written one: temporary name, flush, rename.
namespace Denoiser.Data;

public static class AtomicFile
{
    /// <summary>
    /// Calls <paramref name="write"/> on a temporary file beside <paramref name="path"/>, flushes it to disk and
    /// renames it over <paramref name="path"/>. On any failure the temporary file is removed and the previous
    /// content of <paramref name="path"/>, if any, is left untouched.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        try { Directory.CreateDirectory(dir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{path}: cannot create its folder ({e.Message}); choose a writable location.", e);
        }
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
            SyncDirectory(dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new IOException($"{path}: cannot be written ({e.Message}); choose a writable location with free space.", e);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    public static void WriteAllText(string path, string text) =>
        Write(path, s => { using var w = new StreamWriter(s, leaveOpen: true); w.Write(text); });

    /// <summary>Moves an already complete file into place (same file system), replacing any old one.</summary>
    public static void MoveInto(string completeFile, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.Move(completeFile, path, overwrite: true);
    }

    /// <summary>
    /// fsync(2) on the folder, so the rename itself survives a power cut (POSIX leaves directory entries to the
    /// folder's own sync). Best effort: where it cannot be done, the file is still complete under one of its names.
    /// </summary>
    static void SyncDirectory(string dir)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        int fd = Open(dir, 0 /* O_RDONLY */);
        if (fd < 0) return;
        Fsync(fd);
        Close(fd);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "open", SetLastError = true)]
    static extern int Open(string path, int flags);
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    static extern int Fsync(int fd);
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "close")]
    static extern int Close(int fd);

    static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
