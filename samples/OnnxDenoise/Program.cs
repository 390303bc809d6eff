// Denoise a grey image with a model from `denoiser export --format onnx`: ONNX Runtime only, no libtorch.
// Usage: OnnxDenoise MODEL.onnx NOISY.png OUT.png (sides the model keeps: `denoiser shapes --model NAME`)
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using StbImageSharp;
using StbImageWriteSharp;

var image = ImageResult.FromMemory(File.ReadAllBytes(args[1]), StbImageSharp.ColorComponents.Grey);
var input = new DenseTensor<float>(image.Data.Select(b => b / 255f).ToArray(), [1, 1, image.Height, image.Width]);
using var session = new InferenceSession(args[0]);
using var results = session.Run([NamedOnnxValue.CreateFromTensor(session.InputNames[0], input)]);
byte[] pixels = results[0].AsEnumerable<float>().Select(v => (byte)Math.Round(Math.Clamp(v, 0f, 1f) * 255)).ToArray();
using var output = File.Create(args[2]);
new ImageWriter().WritePng(pixels, image.Width, image.Height, StbImageWriteSharp.ColorComponents.Grey, output);
