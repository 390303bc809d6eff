// Marks one symbol-version requirement of an ELF64 shared library as weak (see LibTorchSharpCompat.targets).
//
// libLibTorchSharp.so 0.107 was linked against GCC 13's libstdc++ and so requires the version GLIBCXX_3.4.32, which
// older systems (Debian 12: GCC 12, up to 3.4.30) lack. The only symbol bound to it, std::ios_base_library_init(),
// is referenced to pin the library version and never called (no relocation uses it). Setting VER_FLG_WEAK on that
// one entry of .gnu.version_r makes the dynamic loader accept a libstdc++ without it instead of refusing to load.
// The file is compiled twice: by MSBuild's RoslynCodeTaskFactory as a build task, and (with ELF_ONLY defined) into
// the tests, which exercise the ELF logic on a copy of the real library. MSBuild compiles task code against
// netstandard2.0, hence no spans and no newer file APIs here.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;

#if !ELF_ONLY
public sealed class MarkVersionWeak : Microsoft.Build.Utilities.Task
{
    /// <summary>The copies of the library in the build or publish output.</summary>
    [Microsoft.Build.Framework.Required] public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

    /// <summary>The version requirement to relax, e.g. GLIBCXX_3.4.32.</summary>
    [Microsoft.Build.Framework.Required] public string Version { get; set; } = "";

    public override bool Execute()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux) || Files.Length == 0) return true;
        string? libstdcxx = ElfVersionNeeds.FindSystemLibstdcxx();
        if (libstdcxx != null && ElfVersionNeeds.DefinesVersion(libstdcxx, Version))
        {
            Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low, $"{libstdcxx} provides {Version}: libLibTorchSharp.so left as shipped.");
            return true;
        }
        foreach (var item in Files)
        {
            string path = item.ItemSpec;
            var result = ElfVersionNeeds.MarkWeak(path, Version);
            if (result == ElfVersionNeeds.Outcome.Marked)
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High,
                    $"{path}: marked the {Version} requirement weak, since {libstdcxx ?? "no system libstdc++.so.6"} lacks it.");
        }
        return !Log.HasLoggedErrors;
    }
}
#endif

public static class ElfVersionNeeds
{
    public enum Outcome { Marked, AlreadyWeak, NotRequired }

    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlgWeak = 0x2;

    /// <summary>The libstdc++ the dynamic loader would pick on this machine, or null when none is found.</summary>
    public static string? FindSystemLibstdcxx()
    {
        string arch = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.Arm64 => "aarch64-linux-gnu",
            _ => "x86_64-linux-gnu",
        };
        string[] candidates =
        {
            $"/usr/lib/{arch}/libstdc++.so.6", $"/lib/{arch}/libstdc++.so.6",
            "/usr/lib64/libstdc++.so.6", "/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
        };
        foreach (var c in candidates) if (File.Exists(c)) return c;
        return null;
    }

    /// <summary>Whether a library's version strings include <paramref name="version"/> (NUL-terminated, as in .dynstr).</summary>
    public static bool DefinesVersion(string library, string version)
    {
        byte[] needle = Encoding.ASCII.GetBytes(version + "\0");
        byte[] hay = File.ReadAllBytes(library);
        for (int i = Array.IndexOf(hay, needle[0]); i >= 0 && i <= hay.Length - needle.Length; i = Array.IndexOf(hay, needle[0], i + 1))
        {
            int k = 1;
            while (k < needle.Length && hay[i + k] == needle[k]) k++;
            if (k == needle.Length) return true;
        }
        return false;
    }

    /// <summary>
    /// Sets VER_FLG_WEAK on every requirement of <paramref name="version"/> in the file's .gnu.version_r section.
    /// Writes a new file and renames it over the old one, so a hard link into a package cache is never modified.
    /// </summary>
    public static Outcome MarkWeak(string path, string version)
    {
        byte[] elf = File.ReadAllBytes(path);
        var flagOffsets = FindRequirementFlags(elf, version, path);
        if (flagOffsets.Count == 0) return Outcome.NotRequired;

        bool changed = false;
        foreach (int at in flagOffsets)
        {
            ushort flags = BitConverter.ToUInt16(elf, at);
            if ((flags & VerFlgWeak) != 0) continue;
            flags |= VerFlgWeak;
            elf[at] = (byte)(flags & 0xff);
            elf[at + 1] = (byte)(flags >> 8);
            changed = true;
        }
        if (!changed) return Outcome.AlreadyWeak;

        // Copy (keeps the file mode), rewrite the copy, rename it over the original: a new inode, never a write
        // through a hard link that might point into the NuGet cache.
        string temp = path + ".weak-tmp";
        File.Copy(path, temp, overwrite: true);
        File.WriteAllBytes(temp, elf);
        File.Replace(temp, path, destinationBackupFileName: null);
        return Outcome.Marked;
    }

    /// <summary>Reads the vna_flags of each requirement of <paramref name="version"/> (for tests and diagnostics).</summary>
    public static List<ushort> RequirementFlags(string path, string version)
    {
        byte[] elf = File.ReadAllBytes(path);
        var result = new List<ushort>();
        foreach (int at in FindRequirementFlags(elf, version, path)) result.Add(BitConverter.ToUInt16(elf, at));
        return result;
    }

    // Offsets of vna_flags for each Elf64_Vernaux naming `version`. Layouts from the System V gABI / LSB:
    // Elf64_Shdr is 64 bytes; Elf64_Verneed {u16 version, u16 cnt, u32 file, u32 aux, u32 next};
    // Elf64_Vernaux {u32 hash, u16 flags, u16 other, u32 name, u32 next}.
    static List<int> FindRequirementFlags(byte[] elf, string version, string path)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException($"{path}: not an ELF file");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException($"{path}: only little-endian ELF64 is supported");

        long shoff = BitConverter.ToInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A);
        int shnum = BitConverter.ToUInt16(elf, 0x3C);
        var offsets = new List<int>();
        for (int i = 0; i < shnum; i++)
        {
            int sh = checked((int)(shoff + (long)i * shentsize));
            if (BitConverter.ToUInt32(elf, sh + 4) != ShtGnuVerneed) continue;
            int secOffset = checked((int)BitConverter.ToInt64(elf, sh + 0x18));
            int link = (int)BitConverter.ToUInt32(elf, sh + 0x28);
            int count = (int)BitConverter.ToUInt32(elf, sh + 0x2C);
            int strtab = checked((int)BitConverter.ToInt64(elf, checked((int)(shoff + (long)link * shentsize)) + 0x18));

            int need = secOffset;
            for (int n = 0; n < count; n++)
            {
                int auxCount = BitConverter.ToUInt16(elf, need + 2);
                int aux = need + (int)BitConverter.ToUInt32(elf, need + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    int name = strtab + (int)BitConverter.ToUInt32(elf, aux + 8);
                    int end = Array.IndexOf(elf, (byte)0, name);
                    if (Encoding.ASCII.GetString(elf, name, end - name) == version) offsets.Add(aux + 4);
                    aux += (int)BitConverter.ToUInt32(elf, aux + 12);
                }
                need += (int)BitConverter.ToUInt32(elf, need + 12);
            }
        }
        return offsets;
    }
}
