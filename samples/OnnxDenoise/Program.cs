// Denoise a grey image with a model from `denoiser export --format onnx`: ONNX Runtime only, no libtorch.
// Usage: OnnxDenoise MODEL.onnx NOISY.png OUT.png [LEVEL] (LEVEL: the noise's RMS on the 0-255 scale, for a model told it)
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using StbImageSharp;
using StbImageWriteSharp;

var image = ImageResult.FromMemory(File.ReadAllBytes(args[1]), StbImageSharp.ColorComponents.Grey);
using var session = new InferenceSession(args[0]);
int planes = session.InputMetadata.Values.First().Dimensions[1]; // 2: the model is told the noise level, as a second plane
var values = image.Data.Select(b => b / 255f).Concat(Enumerable.Repeat(planes == 2 ? float.Parse(args[3]) / 255 : 0, (planes - 1) * image.Data.Length));
var input = new DenseTensor<float>(values.ToArray(), [1, planes, image.Height, image.Width]);
using var results = session.Run([NamedOnnxValue.CreateFromTensor(session.InputNames[0], input)]);
byte[] pixels = results[0].AsEnumerable<float>().Select(v => (byte)Math.Round(Math.Clamp(v, 0f, 1f) * 255)).ToArray();
using var output = File.Create(args[2]);
new ImageWriter().WritePng(pixels, image.Width, image.Height, StbImageWriteSharp.ColorComponents.Grey, output);
