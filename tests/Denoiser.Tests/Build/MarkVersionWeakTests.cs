// The Debian 12 fix: libLibTorchSharp.so's GLIBCXX_3.4.32 requirement is made weak in the output copy only.
using System.Reflection;
using TorchSharp;
using Xunit;

namespace Denoiser.Tests.Build;

public class MarkVersionWeakTests
{
    const string Version = "GLIBCXX_3.4.32";
    const ushort Weak = 0x2;

    static string CacheCopy()
    {
        string root = typeof(MarkVersionWeakTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "NuGetPackageRoot").Value!;
        return Path.Combine(root, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
    }

    static string OutputCopy() => Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    [Fact]
    public void TorchSharp_initialises_in_the_test_host()
    {
        using var a = torch.ones(3, 3);
        using var b = a.matmul(a);
        Assert.Equal(27f, b.sum().item<float>()); // each of the 9 entries is 1+1+1
    }

    [Fact]
    public void Marking_sets_the_weak_flag_once_and_is_idempotent()
    {
        using var dir = new TempDir();
        string copy = dir["libLibTorchSharp.so"];
        File.Copy(CacheCopy(), copy);
        Assert.Equal(new ushort[] { 0 }, ElfVersionNeeds.RequirementFlags(copy, Version));

        Assert.Equal(ElfVersionNeeds.Outcome.Marked, ElfVersionNeeds.MarkWeak(copy, Version));
        byte[] once = File.ReadAllBytes(copy);
        Assert.Equal(ElfVersionNeeds.Outcome.AlreadyWeak, ElfVersionNeeds.MarkWeak(copy, Version));

        Assert.Equal(once, File.ReadAllBytes(copy));
        Assert.Equal(new[] { Weak }, ElfVersionNeeds.RequirementFlags(copy, Version));
        // Only that one flag changed: every other byte is as shipped.
        Assert.Equal(1, File.ReadAllBytes(CacheCopy()).Zip(once).Count(p => p.First != p.Second));
        Assert.Equal(ElfVersionNeeds.Outcome.NotRequired, ElfVersionNeeds.MarkWeak(copy, "GLIBCXX_9.9.9"));
    }

    [Fact]
    public void The_build_patches_the_output_copy_only_where_the_system_lacks_the_version()
    {
        string? system = ElfVersionNeeds.FindSystemLibstdcxx();
        bool needed = system == null || !ElfVersionNeeds.DefinesVersion(system, Version);

        ushort expected = needed ? Weak : (ushort)0;
        Assert.Equal(new[] { expected }, ElfVersionNeeds.RequirementFlags(OutputCopy(), Version));
        Assert.Equal(new ushort[] { 0 }, ElfVersionNeeds.RequirementFlags(CacheCopy(), Version)); // cache untouched
    }

    [Fact]
    public void A_file_that_is_not_ELF_is_refused()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["x.so"], "not an ELF file at all, just text");
        Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.MarkWeak(dir["x.so"], Version));
    }
}
