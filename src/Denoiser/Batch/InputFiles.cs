// Expands denoise's arguments (files, folders, glob patterns) into image files, each with the path to mirror.
using Denoiser.Data;
using Microsoft.Extensions.FileSystemGlobbing;

namespace Denoiser.Batch;

/// <param name="Relative">The path below the folder or pattern root it came from; the file name for a plain file.</param>
/// <param name="Root">The folder it was found in, or null for a file named directly.</param>
public sealed record InputFile(string Path, string Relative, string? Root);

public static class InputFiles
{
    public static List<InputFile> Expand(IEnumerable<string> args, bool recursive)
    {
        var files = new List<InputFile>();
        foreach (string arg in args)
        {
            if (Directory.Exists(arg))
            {
                var found = Directory.EnumerateFiles(arg, "*", recursive ? SearchOption.AllDirectories : SearchOption.TopDirectoryOnly)
                    .Where(IsSourceImage).OrderBy(f => f, StringComparer.Ordinal)
                    .Select(f => new InputFile(f, Path.GetRelativePath(arg, f), arg)).ToList();
                if (found.Count == 0)
                    throw new UserException($"{arg}: holds no images ({string.Join(", ", ImageFile.Extensions)}){(recursive ? "" : "; add --recursive to look in subfolders")}.");
                files.AddRange(found);
            }
            else if (arg.IndexOfAny(new[] { '*', '?' }) >= 0)
            {
                // The pattern's root is the part before its first wildcard segment: a/b/*.png -> a/b.
                var segments = arg.Split('/');
                int first = Array.FindIndex(segments, s => s.IndexOfAny(new[] { '*', '?' }) >= 0);
                string root = first == 0 ? "." : string.Join('/', segments[..first]);
                if (root == "") root = "/";
                var matcher = new Matcher(StringComparison.Ordinal);
                matcher.AddInclude(string.Join('/', segments[first..]));
                var found = matcher.GetResultsInFullPath(root).Where(IsSourceImage).OrderBy(f => f, StringComparer.Ordinal)
                    .Select(f => new InputFile(Path.GetRelativePath(Environment.CurrentDirectory, f), Path.GetRelativePath(root, f), root)).ToList();
                if (found.Count == 0) throw new UserException($"{arg}: matches no images.");
                files.AddRange(found);
            }
            else files.Add(new InputFile(arg, Path.GetFileName(arg), null));
        }
        return files;
    }

    /// <summary>An image by its ending, and not one of denoise's own outputs (so running twice does not feed on itself).</summary>
    static bool IsSourceImage(string path)
    {
        string name = Path.GetFileName(path).ToLowerInvariant();
        return ImageFile.Extensions.Any(name.EndsWith) && !name.Contains(".denoised.") && !name.Contains(".compare.");
    }
}
