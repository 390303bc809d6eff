// `denoiser evaluate`: PSNR and SSIM of the model beside the noisy input and classic filters, as tables, CSV and JSON.
using System.CommandLine;
using Denoiser.Data;
using Denoiser.Evaluation;

namespace Denoiser.Commands;

public static class EvaluateCommand
{
    public static Command Create(AppConfig config)
    {
        var source = new ModelSource(config);
        var noise = new Opt<string[]>("--noise", $"One or more noises to evaluate under: {Noise.Kinds}") { Default = [config.Train.Noise.Spec], Many = true };
        var dataDir = new Opt<string?>("--data-dir", "Test data: MNIST (fetched when missing), CIFAR-10 or a folder of images [default: the checkpoint's own]");
        var dataset = new Opt<string?>("--dataset", $"What --data-dir holds: {Datasets.Names} [default: the checkpoint's own, else auto]");
        var testSize = Setting.Named<int>("--test-size").Declare(config.Train);
        var images = new Opt<string[]?>("--images",
            "Score on these folders of clean images (a set each: any size, searched recursively), whole, as the papers score, instead of test crops") { Many = true };
        var seed = new Opt<long>("--seed", "Seed for the noise") { Default = config.Train.Seed };
        var outputDir = new Opt<string?>("--output-dir", "Where evaluation.csv and evaluation.json go [default: an evaluation folder beside the checkpoint or weights]");
        var overwrite = new Opt<bool>("--overwrite", "Replace the results of an earlier evaluation in --output-dir");
        var nlm = new Opt<double>("--nlm-h-factor", "Non-local means' h = this x sigma (0-255 scale); tuned on Train400") { Default = ClassicalStrengths.Tuned.NlMeans, Rule = Rule.Positive<double>() };
        var bilateral = new Opt<double>("--bilateral-factor", "The bilateral filter's range sigma = this x the noise's sigma; tuned on Train400")
            { Default = ClassicalStrengths.Tuned.Bilateral, Rule = Rule.Positive<double>() };
        var ensemble = new Opt<bool>("--ensemble", $"With --images: also score the model averaged over each image's 8 flips and rotations (\"{Evaluator.ModelEnsemble}\"; 8 times the model's time)");
        var posterior = new Opt<bool>("--posterior",
            $"With --images and Gaussian noise: also score a blind-spot (Noise2Void) model's prediction combined with each noisy pixel, sigma known (\"{Evaluator.ModelPosterior}\"; 64 times the model's time)");
        var posteriorWindow = new Opt<int>("--posterior-window", "Side of the window --posterior measures the prediction's error over (odd; 0 = the whole image)")
            { Default = Inference.BlindSpotPosterior.DefaultWindow, Rule = new(w => w == 0 || w > 0 && w % 2 == 1, "an odd side or 0 (the whole image)", SaysValue: true) };
        var devices = new DeviceOptions(config);

        var command = new Command("evaluate", "Score a model against the noisy input and classic filters (median, Gaussian blur) on the test set it was trained for.")
        {
            noise, dataDir, dataset, testSize, images, seed, outputDir, overwrite, nlm, bilateral, ensemble, posterior, posteriorWindow,
        };
        foreach (var o in source.Options.Concat(devices.Options)) command.Options.Add(o);
        command.SetAction(p => EvaluationRun.Run(
            new EvaluationRequest(noise.Get(p), dataDir.Get(p), dataset.Get(p), testSize.Get(p), images.Get(p) ?? [], seed.Get(p), outputDir.Get(p), overwrite.Get(p),
                                  ClassicalStrengths.Tuned with { NlMeans = nlm.Get(p), Bilateral = bilateral.Get(p) }, ensemble.Get(p), posterior.Get(p),
                                  posteriorWindow.Get(p), posteriorWindow.Given(p), source.Weights.Get(p)),
            () => source.LoadOn(p, devices), config, dir => DataCommand.EnsureMnist(dir, config.Data)));
        return command;
    }
}
