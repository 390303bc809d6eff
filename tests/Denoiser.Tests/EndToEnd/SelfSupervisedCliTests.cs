// Training without clean images through the real program: a folder made noisy once by add-noise, then Noise2Void
// (blind-spot) and Noise2Noise (noisy-pairs), each resumed exactly after a kill, and every bad folder refused up front.
using Denoiser.Data;
using Denoiser.Training;
using Xunit;
using static Denoiser.Tests.EndToEnd.Cli;

namespace Denoiser.Tests.EndToEnd;

public class SelfSupervisedCliTests
{
    static readonly string[] Recipe = { "--model", "resunet", "--patch", "16", "--patches-per-epoch", "48", "--batch-size", "16", "--threads", "2" };

    static TempDir CleanFolder()
    {
        var dir = new TempDir();
        for (int i = 0; i < 12; i++) TestFiles.WritePng(dir[$"clean/{i:D2}.png"], 40 + 3 * i, 36);
        return dir;
    }

    static string[] Train(string run, params string[] args) => new[] { "train", "--run-dir", run }.Concat(Recipe).Concat(args).ToArray();

    static void AssertSameWeights(string a, string b)
    {
        using var x = new Denoiser.Models.ResUNet();
        using var y = new Denoiser.Models.ResUNet();
        Checkpoint.Read(a).LoadWeights(x);
        Checkpoint.Read(b).LoadWeights(y);
        foreach (var (p, q) in x.parameters().Zip(y.parameters())) Assert.True(p.allclose(q, rtol: 0, atol: 0), $"{a} and {b} hold different weights");
    }

    /// <summary>Runs 1 epoch, SIGKILLs the resumed run the moment its next epoch line appears, resumes to 3: as a straight 3-epoch run.</summary>
    static void AssertKilledRunResumesExactly(TempDir dir, string[] args)
    {
        var straight = Run(dir.Path, Train("runs/straight", args.Append("--epochs").Append("3").ToArray()));
        Assert.True(straight.ExitCode == 0, straight.Err);
        var first = Run(dir.Path, Train("runs/killed", args.Append("--epochs").Append("1").ToArray()));
        Assert.True(first.ExitCode == 0, first.Err);
        using (var p = Start(dir.Path, "train", "--resume", "--run-dir", "runs/killed", "--epochs", "3"))
        {
            _ = p.StandardError.ReadToEndAsync();
            string? line;
            while ((line = p.StandardOutput.ReadLine()) != null)
                if (line.Contains("train_loss")) { p.Kill(); break; } // SIGKILL: no handler runs, mid-write perhaps
            p.WaitForExit();
        }
        var finish = Run(dir.Path, "train", "--resume", "--run-dir", "runs/killed", "--epochs", "3");
        Assert.True(finish.ExitCode == 0, finish.Err);
        AssertSameWeights(dir["runs/straight/last.ckpt"], dir["runs/killed/last.ckpt"]);
    }

    [Fact]
    public void Add_noise_makes_a_repeatable_noisy_folder_and_pairs_of_independent_draws()
    {
        using var dir = CleanFolder();
        var made = Run(dir.Path, "add-noise", "clean", "-o", "noisy", "--noise", "gaussian:25/255", "--seed", "3");
        Assert.True(made.ExitCode == 0, made.Err);
        Assert.Contains("wrote 12 noisy PNGs (gaussian:25/255, seed 3)", made.Out);
        Assert.Equal(0, Run(dir.Path, "add-noise", "clean", "-o", "again", "--noise", "gaussian:25/255", "--seed", "3").ExitCode);
        Assert.Equal(File.ReadAllBytes(dir["noisy/05.png"]), File.ReadAllBytes(dir["again/05.png"]));

        var clean = TestFiles.ReadGrey(dir["clean/05.png"]).Pixels;
        var noisy = TestFiles.ReadGrey(dir["noisy/05.png"]).Pixels;
        double rms = Math.Sqrt(clean.Zip(noisy, (c, n) => (double)(n - c) * (n - c)).Average());
        Assert.InRange(rms, 19, 27); // sigma 25, less where 0 and 255 clip it

        Assert.Equal(0, Run(dir.Path, "add-noise", "clean", "-o", "pairs", "--noise", "gaussian:25/255", "--pairs").ExitCode);
        Assert.Equal(24, Directory.GetFiles(dir["pairs"]).Length);
        Assert.NotEqual(File.ReadAllBytes(dir["pairs/05_a.png"]), File.ReadAllBytes(dir["pairs/05_b.png"]));

        AssertOneLineFailure(Run(dir.Path, "add-noise", "clean", "-o", "noisy", "--noise", "gaussian:25/255"), 2, "already holds files");
        AssertOneLineFailure(Run(dir.Path, "add-noise", "clean", "-o", "clean/inside", "--noise", "gaussian:25/255"), 2, "is inside clean");
        AssertOneLineFailure(Run(dir.Path, "add-noise", "clean", "-o", "x", "--noise", "none"), 2, "adds nothing");
        File.WriteAllText(dir["clean/07.png"], "not a png");
        Assert.Equal(1, Run(dir.Path, "add-noise", "clean", "-o", "broken", "--noise", "gaussian:25/255").ExitCode);
        Assert.False(Directory.Exists(dir["broken"])); // nothing half-made
        Assert.Empty(Directory.GetDirectories(dir.Path, "broken*"));
    }

    [Fact]
    public void Blind_spot_trains_on_noisy_images_alone_and_resumes_exactly_after_a_kill()
    {
        using var dir = CleanFolder();
        Assert.Equal(0, Run(dir.Path, "add-noise", "clean", "-o", "noisy", "--noise", "gaussian:25/255").ExitCode);

        var alone = Run(dir.Path, Train("runs/alone", "--target", "blind-spot", "--data-dir", "noisy", "--epochs", "1"));
        Assert.True(alone.ExitCode == 0, alone.Err);
        Assert.Contains("target: blind spots (Noise2Void): 1 pixel in 64", alone.Out);
        Assert.Contains("test_psnr -  noisy_psnr -", alone.Out);
        Assert.Equal("none", Checkpoint.Read(dir["runs/alone/last.ckpt"]).Header.Settings.Noise.Spec); // nothing added
        Assert.True(File.Exists(dir["runs/alone/loss.png"]));
        Assert.False(File.Exists(dir["runs/alone/psnr.png"]));

        var measured = Run(dir.Path, Train("runs/measured", "--target", "blind-spot", "--data-dir", "noisy", "--clean-dir", "clean", "--epochs", "1"));
        Assert.True(measured.ExitCode == 0, measured.Err);
        Assert.Matches(@"test_psnr \d+\.\d\d dB  noisy_psnr (19|20|21)\.\d\d dB", measured.Out);

        AssertKilledRunResumesExactly(dir, new[] { "--target", "blind-spot", "--data-dir", "noisy" });

        // denoise --posterior: the blind-spot prediction combined with each noisy pixel, at the estimated or a given sigma.
        Assert.Equal(0, Run(dir.Path, "denoise", "noisy/03.png", "--checkpoint", "runs/alone/last.ckpt", "-o", "plain.png").ExitCode);
        var estimated = Run(dir.Path, "denoise", "noisy/03.png", "--checkpoint", "runs/alone/last.ckpt", "-o", "estimated.png", "--posterior");
        Assert.True(estimated.ExitCode == 0, estimated.Err);
        Assert.Matches(@"blind-spot posterior at sigma \d+\.\d/255 \(estimated\)", estimated.Out);
        var given = Run(dir.Path, "denoise", "noisy/03.png", "--checkpoint", "runs/alone/last.ckpt", "-o", "given.png", "--posterior-sigma", "8");
        Assert.True(given.ExitCode == 0, given.Err);
        Assert.Contains("blind-spot posterior at sigma 8.0/255", given.Out); // far below the noise's 25, so more is kept of each noisy pixel
        Assert.DoesNotContain("(estimated)", given.Out);
        var plain = TestFiles.ReadGrey(dir["plain.png"]).Pixels;
        Assert.NotEqual(plain, TestFiles.ReadGrey(dir["estimated.png"]).Pixels);
        Assert.NotEqual(TestFiles.ReadGrey(dir["given.png"]).Pixels, TestFiles.ReadGrey(dir["estimated.png"]).Pixels);
        AssertOneLineFailure(Run(dir.Path, "denoise", "noisy/03.png", "--checkpoint", "runs/alone/last.ckpt", "-o", "bad.png", "--posterior-sigma", "0"), 2,
                             "--posterior-sigma must be a noise level above 0");
        Assert.False(File.Exists(dir["bad.png"]));
        TestFiles.WritePng(dir["tiny.png"], 4, 9);
        AssertOneLineFailure(Run(dir.Path, "denoise", "tiny.png", "--checkpoint", "runs/alone/last.ckpt", "-o", "tiny-out.png", "--posterior"), 1,
                             "tiny.png: is 4x9; the blind-spot posterior needs at least 5x5 pixels");
        Assert.False(File.Exists(dir["tiny-out.png"]));

        AssertOneLineFailure(Run(dir.Path, Train("runs/e1", "--target", "blind-spot", "--data-dir", "noisy", "--noise", "gaussian:25/255")), 2, "adds none; drop --noise");
        AssertOneLineFailure(Run(dir.Path, Train("runs/e2", "--target", "blind-spot", "--data-dir", "noisy", "--clean-dir", "nowhere")), 2, "--clean-dir nowhere: folder not found");
        File.Delete(dir["clean/03.png"]);
        AssertOneLineFailure(Run(dir.Path, Train("runs/e3", "--target", "blind-spot", "--data-dir", "noisy", "--clean-dir", "clean")), 1, "has no clean version");
        AssertOneLineFailure(Run(dir.Path, Train("runs/e4", "--target", "void", "--data-dir", "noisy")), 2, "--target: 'void' is not a target; use clean, noisy-pairs or blind-spot");
        AssertOneLineFailure(Run(dir.Path, Train("runs/e5", "--data-dir", "noisy", "--clean-dir", "clean")), 2, "--clean-dir is for --target noisy-pairs or blind-spot");
        AssertOneLineFailure(Run(dir.Path, Train("runs/e6", "--data-dir", "noisy", "--noise", "none")), 2, "--noise none: supervised training");
        AssertOneLineFailure(Run(dir.Path, "evaluate", "--checkpoint", "runs/alone/last.ckpt", "--images", "clean", "--noise", "none"), 2, "--noise none: evaluate adds");
        foreach (var run in new[] { "e1", "e2", "e3", "e4", "e5", "e6" }) Assert.False(Directory.Exists(dir[$"runs/{run}"]), run);
    }

    [Fact]
    public void Noisy_pairs_train_from_a_folder_of_pairs_or_from_clean_images_and_resume_exactly_after_a_kill()
    {
        using var dir = CleanFolder();
        Assert.Equal(0, Run(dir.Path, "add-noise", "clean", "-o", "pairs", "--noise", "gaussian:25/255", "--pairs").ExitCode);

        var stored = Run(dir.Path, Train("runs/stored", "--target", "noisy-pairs", "--data-dir", "pairs", "--epochs", "1"));
        Assert.True(stored.ExitCode == 0, stored.Err);
        Assert.Contains("target: noisy pairs (Noise2Noise)", stored.Out);
        Assert.Contains("48 patches of 16x16x1 per epoch", stored.Out);
        Assert.Contains("test_psnr -", stored.Out);
        var measured = Run(dir.Path, Train("runs/measured", "--target", "noisy-pairs", "--data-dir", "pairs", "--clean-dir", "clean", "--epochs", "1"));
        Assert.True(measured.ExitCode == 0, measured.Err);
        Assert.Matches(@"test_psnr \d+\.\d\d dB", measured.Out);

        var drawn = Run(dir.Path, Train("runs/drawn", "--target", "noisy-pairs", "--data-dir", "clean", "--noise", "gaussian:25/255", "--epochs", "1"));
        Assert.True(drawn.ExitCode == 0, drawn.Err);
        Assert.Contains("two independent draws of gaussian:25/255", drawn.Out);
        Assert.Matches(@"test_psnr \d+\.\d\d dB", drawn.Out);

        AssertKilledRunResumesExactly(dir, new[] { "--target", "noisy-pairs", "--data-dir", "pairs" });

        AssertOneLineFailure(Run(dir.Path, Train("runs/e1", "--target", "noisy-pairs", "--data-dir", "pairs", "--noise", "gaussian:25/255")), 2, "holds noisy pairs, and --noise");
        AssertOneLineFailure(Run(dir.Path, Train("runs/e2", "--target", "noisy-pairs", "--data-dir", "clean")), 2, "holds no noisy pairs");
        AssertOneLineFailure(Run(dir.Path, Train("runs/e3", "--target", "noisy-pairs", "--data-dir", "clean", "--noise", "gaussian:25/255", "--clean-dir", "clean")), 2, "drop --clean-dir");
        AssertOneLineFailure(Run(dir.Path, "train", "--resume", "--run-dir", "runs/stored", "--epochs", "2", "--target", "blind-spot"), 2, "--target cannot change");
        File.Delete(dir["pairs/04_b.png"]);
        AssertOneLineFailure(Run(dir.Path, Train("runs/e4", "--target", "noisy-pairs", "--data-dir", "pairs")), 1, "04_a.png: has no partner");
        foreach (var run in new[] { "e1", "e2", "e3", "e4" }) Assert.False(Directory.Exists(dir[$"runs/{run}"]), run);
    }

    [Fact]
    public void Float_tiffs_keep_the_noise_as_drawn_unclipped_and_both_modes_train_on_them()
    {
        using var dir = CleanFolder();
        var made = Run(dir.Path, "add-noise", "clean", "-o", "floats", "--noise", "gaussian:25/255", "--pairs", "--float", "--seed", "3");
        Assert.True(made.ExitCode == 0, made.Err);
        Assert.Contains("wrote 24 noisy float TIFFs (gaussian:25/255, seed 3, two per image)", made.Out);
        Assert.Equal(0, Run(dir.Path, "add-noise", "clean", "-o", "bytes", "--noise", "gaussian:25/255", "--pairs", "--seed", "3").ExitCode);

        var clean = ImageFile.Read(dir["clean/05.png"]).As(1).Planes;
        var floats = ImageFile.Read(dir["floats/05_a.tiff"]);
        Assert.Equal(32, floats.Bits);
        var a = floats.As(1).Planes;
        var b = ImageFile.Read(dir["floats/05_b.tiff"]).As(1).Planes;
        // The very draw of the 8-bit PNG of the same seed, before the PNG's clipping and rounding.
        var png = ImageFile.Read(dir["bytes/05_a.png"]).As(1).Bytes();
        Assert.Equal(png, a.Select(v => (byte)Math.Clamp(MathF.Round(v * 255f, MidpointRounding.ToEven), 0, 255)));
        Assert.Contains(a, v => v < 0); // the clean gradient runs from 0 to 255: the noise goes past both ends
        Assert.Contains(a, v => v > 1);
        double rms = 255 * Math.Sqrt(a.Zip(clean, (n, c) => (double)(n - c) * (n - c)).Average());
        Assert.InRange(rms, 23, 27); // sigma 25 everywhere, where the PNG's is less at 0 and 255
        Assert.NotEqual(a, b);

        var pairs = Run(dir.Path, Train("runs/pairs", "--target", "noisy-pairs", "--data-dir", "floats", "--clean-dir", "clean", "--epochs", "1"));
        Assert.True(pairs.ExitCode == 0, pairs.Err);
        Assert.Matches(@"test_psnr \d+\.\d\d dB  noisy_psnr (19|20)\.\d\d dB", pairs.Out);
        AssertKilledRunResumesExactly(dir, new[] { "--target", "noisy-pairs", "--data-dir", "floats" });

        Assert.Equal(0, Run(dir.Path, "add-noise", "clean", "-o", "single", "--noise", "gaussian:25/255", "--float").ExitCode);
        var single = Run(dir.Path, Train("runs/single", "--target", "blind-spot", "--data-dir", "single", "--epochs", "1"));
        Assert.True(single.ExitCode == 0, single.Err);
        Assert.Contains("target: blind spots (Noise2Void)", single.Out);
    }
}
