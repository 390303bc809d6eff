// safetensors in and out: exact round trips, PyTorch-made files, and a clear refusal of every malformed file.
using System.Buffers.Binary;
using System.Text;
using Denoiser.Data;
using Denoiser.Interchange;
using Denoiser.Models;
using TorchSharp;
using Xunit;

namespace Denoiser.Tests.Interchange;

public class WeightsFileTests
{
    [Fact]
    public void Export_then_load_gives_the_same_weights_and_pytorch_keys()
    {
        using var dir = new TempDir();
        torch.manual_seed(11);
        using var a = new ConvDenoiser();
        WeightsFile.Export(a, dir["w.safetensors"], new Dictionary<string, string> { [WeightsFile.ModelKey] = ConvDenoiser.Kind });

        var (tensors, metadata) = SafeTensorsFile.Read(dir["w.safetensors"]);
        Assert.Equal(a.state_dict().Keys.OrderBy(k => k), tensors.Keys.OrderBy(k => k));
        Assert.Equal("pt", metadata["format"]);
        Assert.Equal(0, (new FileInfo(dir["w.safetensors"]).Length - 8 - tensors.Values.Sum(t => 4L * t.Data.Length)) % 8);

        torch.manual_seed(12);
        using var b = new ConvDenoiser();
        WeightsFile.LoadInto(b, ConvDenoiser.Kind, dir["w.safetensors"]);
        foreach (var (x, y) in a.parameters().Zip(b.parameters())) Assert.True(x.allclose(y, rtol: 0, atol: 0));
    }

    [Fact]
    public void Loads_the_state_dict_pytorch_saved()
    {
        using var model = new ConvDenoiser();
        WeightsFile.LoadInto(model, ConvDenoiser.Kind, TestFiles.Fixture("parity-init.safetensors"));
        var init = SafeTensorsFile.Read(TestFiles.Fixture("parity.safetensors")).Tensors["init.conv1.weight"];
        Assert.Equal(init.Data, model.state_dict()["conv1.weight"].data<float>().ToArray());
    }

    static byte[] File(string header, int dataBytes)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        return bytes;
    }

    public static TheoryData<string, byte[], string> Malformed => new()
    {
        { "empty", Array.Empty<byte>(), "fewer than the 8-byte header length" },
        { "header longer than file", File("{}", 0)[..9], "the header claims 2 bytes" },
        { "huge header length", BitConverter.GetBytes(ulong.MaxValue), "the header claims" },
        { "not JSON", File("{not json", 0), "not valid JSON" },
        { "JSON array", File("[1,2]", 0), "not a JSON object" },
        { "half precision", File("""{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}""", 4), "only F32" },
        { "shape and bytes disagree", File("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8), "shape [3] (12 bytes) but 8 bytes" },
        { "offsets past the end", File("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", 8), "lie outside the 8 data bytes" },
        { "overlap", File("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8), "overlap or hole" },
        { "trailing bytes", File("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 12), "cover 4 of 12 data bytes" },
        { "negative dimension", File("""{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}""", 0), "bad dimension -1" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_files_are_refused_before_allocating(string _, byte[] content, string expected)
    {
        using var dir = new TempDir();
        System.IO.File.WriteAllBytes(dir["w.safetensors"], content);
        using var model = new ConvDenoiser();
        var e = Assert.Throws<UserException>(() => WeightsFile.LoadInto(model, ConvDenoiser.Kind, dir["w.safetensors"]));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Weights_of_another_model_are_refused_with_what_differs()
    {
        using var dir = new TempDir();
        using var linear = torch.nn.Linear(4, 2);
        WeightsFile.Export(linear, dir["linear.safetensors"], new Dictionary<string, string>());
        WeightsFile.Export(linear, dir["tagged.safetensors"], new Dictionary<string, string> { [WeightsFile.ModelKey] = "conv-autoencoder" });
        using var model = new ConvDenoiser();

        var e = Assert.Throws<UserException>(() => WeightsFile.LoadInto(model, ConvDenoiser.Kind, dir["linear.safetensors"]));
        Assert.Contains("missing conv1.weight", e.Message);
        Assert.Contains("another model's weights", e.Message);
        Assert.Contains("'conv-autoencoder', not 'conv-denoiser'",
            Assert.Throws<UserException>(() => WeightsFile.LoadInto(model, ConvDenoiser.Kind, dir["tagged.safetensors"])).Message);
    }
}
