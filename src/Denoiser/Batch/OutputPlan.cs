// Where each of denoise's inputs is written, decided for all of them before any work, so that a clash is one error.

namespace Denoiser.Batch;

/// <param name="Compare">The side-by-side picture (--compare), or null.</param>
public sealed record Job(string Input, string Output, string? Compare);

public static class OutputPlan
{
    /// <summary>
    /// Decides every output first (and with --compare its side-by-side picture), so that a clash is reported before any
    /// work or any write; then this shard's jobs, less those whose outputs exist when --skip-existing is given. The
    /// clash check covers all inputs, the existence checks only this shard's: other tasks may be writing theirs.
    /// </summary>
    public static (List<Job> Jobs, List<string> Skipped) Make(List<InputFile> files, string? output, bool overwrite, bool skipExisting,
                                                             string extension, bool recursive, bool compare, Shard? shard)
    {
        bool toFolder = output != null && (files.Count > 1 || files.Any(f => f.Root != null) || output.EndsWith('/') || Directory.Exists(output));
        if (toFolder)
            foreach (var root in files.Select(f => f.Root).Where(r => r != null).Distinct())
            {
                string outFull = Path.GetFullPath(output!).TrimEnd('/') + "/", rootFull = Path.GetFullPath(root!).TrimEnd('/') + "/";
                if (recursive && outFull.StartsWith(rootFull, StringComparison.Ordinal))
                    throw new UserException($"{output}: lies inside the input folder {root}, which --recursive reads; choose an output folder outside it.", ExitCodes.Usage);
            }
        var jobs = files.Select(f =>
        {
            string target = toFolder ? Path.Combine(output!, Path.ChangeExtension(f.Relative, extension))
                : output ?? Path.Combine(Path.GetDirectoryName(f.Path) ?? "", Path.GetFileNameWithoutExtension(f.Path) + ".denoised" + extension);
            string? side = compare ? Path.Combine(Path.GetDirectoryName(target) ?? "", Path.GetFileNameWithoutExtension(target) + ".compare.png") : null;
            return new Job(f.Path, target, side);
        }).ToList();
        var inputs = jobs.Select(j => Path.GetFullPath(j.Input)).ToHashSet();
        if (jobs.SelectMany(j => new[] { (j.Input, File: j.Output), (j.Input, File: j.Compare) }).Where(w => w.File != null)
                .GroupBy(w => Path.GetFullPath(w.File!)).FirstOrDefault(g => g.Count() > 1) is { } clash)
            throw new UserException($"{clash.Key}: would be written for both {string.Join(" and ", clash.Select(j => j.Input).Take(2))}; rename one of them.", ExitCodes.Usage);
        if (shard != null) jobs = shard.Take(jobs, j => j.Input);
        var skipped = new List<string>();
        foreach (var job in jobs)
        {
            if (!File.Exists(job.Input)) throw new UserException($"{job.Input}: file not found.");
            foreach (var written in new[] { job.Output, job.Compare }.OfType<string>())
                if (inputs.Contains(Path.GetFullPath(written)))
                    throw new UserException($"{written}: is {(Path.GetFullPath(written) == Path.GetFullPath(job.Input) ? "the input itself" : "one of the inputs")}; " +
                                            "choose another --output (inputs are never overwritten).", ExitCodes.Usage);
            if (skipExisting && File.Exists(job.Output) && (job.Compare == null || File.Exists(job.Compare)))
            {
                skipped.Add(job.Input); // an input that is an output was refused above, --skip-existing or not
                continue;
            }
            foreach (var written in new[] { job.Output, job.Compare }.OfType<string>())
            {
                if (File.Exists(written) && !overwrite && !skipExisting)
                    throw new UserException($"{written}: already exists; pass --overwrite to replace it, --skip-existing to leave it, or choose another --output.", ExitCodes.Usage);
            }
        }
        var done = skipped.ToHashSet();
        return (jobs.Where(j => !done.Contains(j.Input)).ToList(), skipped);
    }
}
