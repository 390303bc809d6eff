// The committed corpus of bad inputs (tools/corpus/make_corpus.py), each run through the real program as a process.
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Xunit;

namespace Denoiser.Tests.EndToEnd;

public class BadInputCorpusTests
{
    sealed record Case(string Name, string[] Args, int Exit, string Expect, Dictionary<string, string> Env);

    static readonly string Corpus = Path.Combine(AppContext.BaseDirectory, "Corpus");
    static readonly Dictionary<string, Case> Cases =
        JsonSerializer.Deserialize<List<Case>>(File.ReadAllText(Path.Combine(Corpus, "cases.json")),
            new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!.ToDictionary(c => c.Name);

    public static TheoryData<string> Names() => new(Cases.Keys);

    static Dictionary<string, string> Snapshot(string dir) =>
        Directory.GetFiles(dir, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(dir, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));

    [Fact]
    public void The_corpus_has_at_least_40_cases() => Assert.True(Cases.Count >= 40, $"{Cases.Count} cases");

    [Theory]
    [MemberData(nameof(Names))]
    public void Each_bad_input_gets_one_line_a_non_zero_exit_and_changes_nothing(string name)
    {
        var c = Cases[name];
        using var dir = new TempDir();
        foreach (var file in Directory.GetFiles(Corpus, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(dir.Path, Path.GetRelativePath(Corpus, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        var before = Snapshot(dir.Path);

        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = dir.Path, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "denoiser.dll"));
        foreach (var a in c.Args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in c.Env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        string stderr = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(2)));

        Assert.True(p.ExitCode == c.Exit, $"exit {p.ExitCode}, expected {c.Exit}: {stderr}");
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.StartsWith("error: ", line);
        Assert.Contains(c.Expect, line);
        Assert.DoesNotContain("   at ", stderr);
        Assert.Equal(before, Snapshot(dir.Path)); // no new or changed file
    }
}
