// One task of a job array (Kubernetes Indexed Job, Slurm array, CI matrix): which of the inputs this process takes.

namespace Denoiser.Batch;

/// <summary>Task <see cref="Index"/> (from 0) of <see cref="Count"/>: every Count-th input of the sorted list.</summary>
public sealed record Shard(int Index, int Count)
{
    /// <summary>
    /// "K/N", or "N" with the index from the scheduler: JOB_COMPLETION_INDEX (Kubernetes, from 0), else
    /// SLURM_ARRAY_TASK_ID less SLURM_ARRAY_TASK_MIN (Slurm arrays may start at 1).
    /// </summary>
    public static Shard Parse(string value, Func<string, string?> environment)
    {
        const string Form = "--shard takes K/N (task K of N, from 0) or N (the task's index from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID)";
        string[] parts = value.Split('/');
        if (parts.Length > 2 || !int.TryParse(parts[^1], out int count) || count < 1)
            throw new UserException($"--shard {value}: {Form}.", ExitCodes.Usage);
        int index;
        if (parts.Length == 2)
        {
            if (!int.TryParse(parts[0], out index)) throw new UserException($"--shard {value}: {Form}.", ExitCodes.Usage);
        }
        else if (environment("JOB_COMPLETION_INDEX") is { } k8s)
        {
            if (!int.TryParse(k8s, out index)) throw new UserException($"JOB_COMPLETION_INDEX is '{k8s}', not a whole number.", ExitCodes.Usage);
        }
        else if (environment("SLURM_ARRAY_TASK_ID") is { } slurm)
        {
            string min = environment("SLURM_ARRAY_TASK_MIN") ?? "0";
            if (!int.TryParse(slurm, out int id) || !int.TryParse(min, out int first))
                throw new UserException($"SLURM_ARRAY_TASK_ID is '{slurm}' (SLURM_ARRAY_TASK_MIN '{min}'), not whole numbers.", ExitCodes.Usage);
            index = id - first;
        }
        else throw new UserException($"--shard {value}: neither JOB_COMPLETION_INDEX nor SLURM_ARRAY_TASK_ID is set, so the task's index is unknown; pass --shard K/{count}.", ExitCodes.Usage);
        if (index < 0 || index >= count)
            throw new UserException($"--shard: task {index} is not one of 0..{count - 1}.", ExitCodes.Usage);
        return new Shard(index, count);
    }

    /// <summary>
    /// This task's share of <paramref name="items"/>, sorted by <paramref name="key"/> (ordinal) so that every task,
    /// on any machine, sees the same list: items 0, N, 2N, ... go to task 0, and so on, balanced to within one.
    /// </summary>
    public List<T> Take<T>(IEnumerable<T> items, Func<T, string> key) =>
        items.OrderBy(key, StringComparer.Ordinal).Where((_, i) => i % Count == Index).ToList();

    public override string ToString() => $"{Index}/{Count}";
}
