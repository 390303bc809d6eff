// `adapt` through the real program: a small folder of one "camera's" JPEGs (noise correlated along rows and across
// channels, as demosaicing and in-camera processing leave it) adapted in a minute and used by denoise, runs and serve;
// the path where adapting does not help and the base weights are kept; and every bad input refused with one line,
// nothing written to the run folder.
using Denoiser.Data;
using Denoiser.Training;
using Xunit;
using static Denoiser.Tests.EndToEnd.Cli;

namespace Denoiser.Tests.EndToEnd;

public class AdaptCliTests
{
    /// <summary>
    /// Writes <paramref name="count"/> noisy colour JPEGs of scenes into <paramref name="dir"/>: Gaussian noise of
    /// <paramref name="sigma"/> (0-255) averaged over 5 pixels along each row, then half of it shared by R, G and B.
    /// </summary>
    static void WritePhotos(string dir, int count, int width = 448, int height = 384, double sigma = 40, bool grey = false)
    {
        Directory.CreateDirectory(dir);
        var random = new Random(7);
        for (int i = 0; i < count; i++)
        {
            var scene = TestFiles.Scene(width, height, seed: i);
            int n = width * height;
            var white = new double[4 * n];
            for (int j = 0; j < white.Length; j++) white[j] = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            double Streak(int plane, int y, int x)
            {
                double sum = 0;
                for (int d = -2; d <= 2; d++) sum += white[plane * n + y * width + Math.Clamp(x + d, 0, width - 1)];
                return sum / Math.Sqrt(5);
            }
            var planes = new float[3 * n];
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < height; y++)
                    for (int x = 0; x < width; x++)
                    {
                        double noise = sigma / 255 * (Math.Sqrt(0.5) * Streak(c, y, x) + Math.Sqrt(0.5) * Streak(3, y, x));
                        planes[(c * height + y) * width + x] = (float)Math.Clamp(scene.Planes[(c * height + y) * width + x] + noise, 0, 1);
                    }
            var photo = new Picture(width, height, 3, planes);
            // Grey as PNG: stb's JPEG writer always writes three channels.
            if (grey) ImageFile.Write(Path.Combine(dir, $"IMG_{i:D4}.png"), photo.As(1));
            else ImageFile.Write(Path.Combine(dir, $"IMG_{i:D4}.jpg"), photo, "jpg", quality: 92);
        }
    }

    [Fact]
    public void Adapting_for_a_minute_keeps_weights_that_help_and_denoise_runs_and_serve_take_the_run()
    {
        using var dir = new TempDir();
        WritePhotos(dir["photos"], 4);
        var adapt = Run(dir.Path, "adapt", "photos", "--run-dir", "models/mycam", "--minutes", "1", "--lr", "1e-4");
        Assert.True(adapt.ExitCode == 0, adapt.Err);
        var record = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir["models/mycam/adapted.json"])).RootElement;
        Assert.Equal("photo-rgb", record.GetProperty("From").GetString());
        Assert.True(record.GetProperty("Kept").GetBoolean(), adapt.Out);
        Assert.True(record.GetProperty("AdaptedPsnr").GetDouble() - record.GetProperty("BasePsnr").GetDouble() >= 0.05);
        Assert.Contains("adapted weights kept", adapt.Out);
        Assert.True(File.Exists(dir["models/mycam/adapt.png"]));
        Assert.Equal("resunet-rgb", Checkpoint.ModelOf(dir["models/mycam/best.ckpt"]));

        // denoise takes the run, and its picture differs from the shipped model's.
        var mine = Run(dir.Path, "denoise", "photos/IMG_0000.jpg", "-o", "mine.png", "--checkpoint", "models/mycam/best.ckpt");
        Assert.True(mine.ExitCode == 0, mine.Err);
        var shipped = Run(dir.Path, "denoise", "photos/IMG_0000.jpg", "-o", "shipped.png", "--pretrained", "photo-rgb");
        Assert.True(shipped.ExitCode == 0, shipped.Err);
        Assert.NotEqual(File.ReadAllBytes(dir["mine.png"]), File.ReadAllBytes(dir["shipped.png"]));
        // --strength keeps its meaning: more smooths more.
        var gentle = Run(dir.Path, "denoise", "photos/IMG_0000.jpg", "-o", "gentle.png", "--checkpoint", "models/mycam/best.ckpt", "--strength", "0.5");
        Assert.True(gentle.ExitCode == 0, gentle.Err);
        var noisy = ImageFile.Read(dir["photos/IMG_0000.jpg"]);
        Assert.True(Distance(ImageFile.Read(dir["gentle.png"]), noisy) < Distance(ImageFile.Read(dir["mine.png"]), noisy));

        var runs = Run(dir.Path, "runs");
        Assert.Contains("adapted", runs.Out); // the table may wrap "resunet-rgb, adapted from photo-rgb" in its cell
        var served = Denoiser.Serving.Server.Catalogue(dir["models"], _ => throw new InvalidOperationException(), _ => throw new InvalidOperationException());
        Assert.Contains(served, m => m.Name == "run:mycam" && m.Kind == "run adapted from photo-rgb");
    }

    [Fact]
    public void When_adapting_does_not_help_the_base_weights_are_kept_and_said_so()
    {
        using var dir = new TempDir();
        WritePhotos(dir["photos"], 3);
        // A rate so small the weights cannot move: no gain on the held-out crops.
        var adapt = Run(dir.Path, "adapt", "photos", "--run-dir", "run", "--minutes", "0.25", "--lr", "1e-12");
        Assert.True(adapt.ExitCode == 0, adapt.Err);
        Assert.Contains("adapting did not help", adapt.Out);
        Assert.Contains("base weights are kept", adapt.Out);
        Assert.False(System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir["run/adapted.json"])).RootElement.GetProperty("Kept").GetBoolean());
        var (shipped, _) = TestFiles.Shipped("photo-rgb");
        using var kept = Denoiser.Models.Registry.Get("resunet-rgb").Create();
        Checkpoint.Read(dir["run/best.ckpt"]).LoadWeights(kept);
        foreach (var (p, q) in shipped.parameters().Zip(kept.parameters())) Assert.True(p.allclose(q, rtol: 0, atol: 0), "the kept weights are not the base's");
        shipped.Dispose();
    }

    [Fact]
    public void Grey_photographs_adapt_the_grey_default()
    {
        using var dir = new TempDir();
        WritePhotos(dir["photos"], 3, grey: true);
        var adapt = Run(dir.Path, "adapt", "photos", "--run-dir", "run", "--minutes", "0.25");
        Assert.True(adapt.ExitCode == 0, adapt.Err);
        Assert.Equal("photo", System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir["run/adapted.json"])).RootElement.GetProperty("From").GetString());
        Assert.Equal("resunet-told", Checkpoint.ModelOf(dir["run/best.ckpt"]));
    }

    [Fact]
    public void Bad_inputs_get_one_line_a_nonzero_exit_and_nothing_in_the_run_folder()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir["empty"]);
        WritePhotos(dir["few"], 1, 200, 200);
        WritePhotos(dir["mixed"], 2);
        WritePhotos(dir["mixed-grey"], 1, grey: true);
        File.Move(dir["mixed-grey/IMG_0000.png"], dir["mixed/IMG_0009.png"]);
        WritePhotos(dir["good"], 3);
        Directory.CreateDirectory(dir["corrupt"]);
        File.Copy(dir["good/IMG_0000.jpg"], dir["corrupt/a.jpg"]);
        File.WriteAllBytes(dir["corrupt/b.jpg"], File.ReadAllBytes(dir["good/IMG_0001.jpg"]).Take(300).ToArray());

        void Refused(int code, string expected, params string[] args)
        {
            var r = Run(dir.Path, new[] { "adapt" }.Concat(args).Concat(new[] { "--run-dir", "out", "--minutes", "0.25" }).ToArray());
            AssertOneLineFailure(r, code, expected);
            Assert.False(Directory.Exists(dir["out"]), $"adapt {string.Join(' ', args)} wrote into the run folder");
        }
        Refused(ExitCodes.Failure, "holds no images", "empty");
        Refused(ExitCodes.Failure, "file not found", "missing.jpg");
        Refused(ExitCodes.Failure, "b.jpg", "corrupt");
        Refused(ExitCodes.Usage, "too little to adapt to", "few");
        Refused(ExitCodes.Usage, "adapt one kind of photograph at a time", "mixed");
        Refused(ExitCodes.Usage, "is a grey model", "good", "--from", "photo");
        Refused(ExitCodes.Usage, "no such file, run folder or shipped model", "good", "--from", "nonesuch");
        Refused(ExitCodes.Usage, "--minutes", "good", "--minutes", "0");

        // A run already there is neither replaced nor touched without --overwrite.
        Directory.CreateDirectory(dir["out"]);
        File.WriteAllText(dir["out/best.ckpt"], "an earlier run");
        var again = Run(dir.Path, "adapt", "good", "--run-dir", "out", "--minutes", "0.25");
        AssertOneLineFailure(again, ExitCodes.Usage, "already holds a run");
        Assert.Equal("an earlier run", File.ReadAllText(dir["out/best.ckpt"]));
    }

    static double Distance(Picture a, Picture b) => a.Planes.Zip(b.Planes, (x, y) => Math.Abs((double)x - y)).Average();
}
