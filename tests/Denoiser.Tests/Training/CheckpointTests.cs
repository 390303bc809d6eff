// Checkpoints: what goes in comes out, and every kind of wrong file is one clear refusal.
using Denoiser.Models;
using Denoiser.Training;
using TorchSharp;
using Xunit;

namespace Denoiser.Tests.Training;

public class CheckpointTests
{
    static CheckpointHeader Header(string model = ConvDenoiser.Kind) => new(
        model, 3, 4, new TrainSettings { Epochs = 5, Seed = 9 },
        new[] { new EpochMetrics(1, 0.1, 0.09, 15.1, 9.4, 10, 1000) }, 0.09, DateTimeOffset.UnixEpoch);

    static byte[] Bytes(string model = ConvDenoiser.Kind)
    {
        torch.manual_seed(5);
        using var m = new ConvDenoiser();
        using var opt = torch.optim.Adam(m.parameters(), lr: 1e-3);
        return Checkpoint.Serialize(Header(model), m, opt);
    }

    static void AdamStep(torch.nn.Module<torch.Tensor, torch.Tensor> model, torch.optim.Optimizer opt)
    {
        torch.manual_seed(8);
        using var scope = torch.NewDisposeScope();
        var x = torch.rand(4, 1, 28, 28);
        opt.zero_grad();
        torch.nn.functional.mse_loss(model.call(x), x).backward();
        opt.step();
    }

    [Fact]
    public void Round_trips_header_weights_and_an_optimizer_state_that_steps_on_exactly()
    {
        // Adam after 3 steps: its moments and step count decide the 4th step, so a lost or default state shows.
        torch.manual_seed(5);
        using var original = new ConvDenoiser();
        using var originalOpt = torch.optim.Adam(original.parameters(), lr: 1e-3);
        for (int i = 0; i < 3; i++) AdamStep(original, originalOpt);
        using var dir = new TempDir();
        Checkpoint.Save(dir["c.ckpt"], Checkpoint.Serialize(Header(), original, originalOpt));

        var loaded = Checkpoint.Read(dir["c.ckpt"]);
        Assert.Equal(Header() with { History = loaded.Header.History }, loaded.Header);
        Assert.Equal(Header().History, loaded.Header.History);
        torch.manual_seed(6);
        using var other = new ConvDenoiser();
        loaded.LoadWeights(other);
        foreach (var (a, b) in original.parameters().Zip(other.parameters())) Assert.True(a.allclose(b, rtol: 0, atol: 0));
        using var opt = torch.optim.Adam(other.parameters(), lr: 1e-3);
        loaded.LoadOptimizer(opt);

        AdamStep(original, originalOpt);
        AdamStep(other, opt);
        foreach (var (a, b) in original.parameters().Zip(other.parameters())) Assert.True(a.allclose(b, rtol: 0, atol: 0), "the 4th step differs");
    }

    public static TheoryData<string, Func<byte[], byte[]>, string> Damage => new()
    {
        { "truncated", b => b[..(b.Length - 100)], "checksum does not match" },
        { "one byte flipped", b => { var c = (byte[])b.Clone(); c[c.Length / 2] ^= 1; return c; }, "checksum does not match" },
        { "empty", _ => Array.Empty<byte>(), "the file is empty" },
        { "not a checkpoint", _ => "PK\u0003\u0004 some zip"u8.ToArray(), "signature" },
        { "future format", b => { var c = (byte[])b.Clone(); c[8] = 9; return c; }, "newer Denoiser" },
    };

    [Theory]
    [MemberData(nameof(Damage))]
    public void Damaged_files_are_refused_in_one_line(string _, Func<byte[], byte[]> damage, string expected)
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir["c.ckpt"], damage(Bytes()));
        var e = Assert.Throws<UserException>(() => Checkpoint.Read(dir["c.ckpt"]));
        Assert.Contains(expected, e.Message);
        Assert.Contains(dir["c.ckpt"], e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_checkpoint_of_another_model_is_refused_by_name()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir["c.ckpt"], Bytes("conv-autoencoder"));
        var e = Assert.Throws<UserException>(() => Checkpoint.Read(dir["c.ckpt"], expectedModel: "conv-denoiser"));
        Assert.Contains("'conv-autoencoder', not 'conv-denoiser'", e.Message);
        File.WriteAllBytes(dir["d.ckpt"], Bytes("resnet-denoiser"));
        e = Assert.Throws<UserException>(() => Checkpoint.Read(dir["d.ckpt"]));
        Assert.Contains("'resnet-denoiser', which this Denoiser does not know", e.Message);
    }

    [Fact]
    public void Weights_of_another_shape_are_refused_when_applied()
    {
        using var dir = new TempDir();
        using var wrong = torch.nn.Linear(3, 2);
        File.WriteAllBytes(dir["c.ckpt"], Checkpoint.Serialize(Header(), wrong, null));
        var loaded = Checkpoint.Read(dir["c.ckpt"]);
        using var model = new ConvDenoiser();
        Assert.Contains("do not fit", Assert.Throws<UserException>(() => loaded.LoadWeights(model)).Message);
        using var opt = torch.optim.Adam(model.parameters(), lr: 1e-3);
        Assert.Contains("no optimizer state", Assert.Throws<UserException>(() => loaded.LoadOptimizer(opt)).Message);
    }

    [Fact]
    public void A_missing_checkpoint_says_how_to_get_one()
    {
        var e = Assert.Throws<UserException>(() => Checkpoint.Read("/nonexistent/best.ckpt"));
        Assert.Contains("denoiser train", e.Message);
    }

    /// <summary>
    /// Format 1 wrote gaussian:SIGMA for clipped noise; read now, such a run resumes with the noise it was trained on,
    /// said as gaussian:SIGMA,clip. The same spec in a format-2 file is unclipped noise, as written.
    /// </summary>
    [Fact]
    public void A_format_1_checkpoints_noise_keeps_its_clipping()
    {
        using var dir = new TempDir();
        torch.manual_seed(5);
        using var m = new ConvDenoiser();
        var header = Header() with { Settings = new TrainSettings { Noise = Denoiser.Data.Noise.Parse("gaussian:0.5") } };
        byte[] current = Checkpoint.Serialize(header, m, null);
        byte[] old = (byte[])current.Clone();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(old.AsSpan(8), 1); // the format version
        System.Security.Cryptography.SHA256.HashData(old.AsSpan(0, old.Length - 32)).CopyTo(old.AsSpan(old.Length - 32));
        File.WriteAllBytes(dir["old.ckpt"], old);
        File.WriteAllBytes(dir["new.ckpt"], current);

        Assert.Equal("gaussian:0.5,clip", Checkpoint.Read(dir["old.ckpt"]).Header.Settings.Noise.Spec);
        Assert.Equal("gaussian:0.5", Checkpoint.Read(dir["new.ckpt"]).Header.Settings.Noise.Spec);
    }
}
