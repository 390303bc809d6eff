// `denoiser adapt PHOTO...`: fit the shipped model to the noise of the user's own camera from its noisy photographs alone.
using System.CommandLine;
using Denoiser.Adapting;
using Denoiser.Reporting;

namespace Denoiser.Commands;

public static class AdaptCommand
{
    public static Command Create(AppConfig config)
    {
        var inputs = new Argument<string[]>("images") { Description = "Noisy photographs of one camera or phone (files, folders or glob patterns; JPEG, PNG, TIFF, any size)", Arity = ArgumentArity.OneOrMore };
        var recursive = new Opt<bool>("--recursive", "Look for images in subfolders of folder arguments too", "-r");
        var runDir = new Opt<string>("--run-dir", "Folder to write the adapted run to (best.ckpt, adapted.json, adapt.png)") { Required = true };
        var minutes = new Opt<double>("--minutes", "Wall time for the whole adaptation, reading included") { Default = 10, Rule = Rule.Between(0.25, 600.0) };
        var from = new Opt<string?>("--from", $"The model to adapt: a shipped model's name, a run folder, a checkpoint or a weights file [default: {ModelPicker.Colour} for colour photographs, {ModelPicker.Grey} for grey]");
        var overwrite = new Opt<bool>("--overwrite", "Replace a run already in --run-dir");
        var lr = new Opt<double>("--lr", "Adam's learning rate at the start (down to 0 by a cosine)") { Default = new AdaptPlan(1).LearningRate, Rule = new(v => v > 0 && v < 1, "above 0 and below 1", SaysValue: true) };
        var method = new Opt<string>("--method", "How to learn the noise: cloned-noise (noise from the photographs' flat regions on clean versions) or neighbor2neighbor (Huang et al. 2021; measured worse, docs/adapt.md)")
            { Default = AdaptPlan.Cloned, Choices = [AdaptPlan.Cloned, AdaptPlan.Neighbours] };
        var keep = new Opt<string>("--keep", "better: keep the adapted weights only when they do better on the held-out crops; always: keep them anyway (to measure a method)")
            { Default = "better", Choices = ["better", "always"] };
        var seed = new Opt<int>("--seed", "Seed of the crops and patches drawn") { Default = 1 };
        var devices = new DeviceOptions(config);
        var command = new Command("adapt", "Fine-tune the denoiser to your camera's noise from its noisy photographs alone (noise cloned from their flat regions); keeps the base weights when that does not help.")
        {
            inputs, recursive, runDir, minutes, from, overwrite, lr, method, keep, seed,
        };
        foreach (var o in devices.Options) command.Options.Add(o);
        command.SetAction(p =>
        {
            var request = new AdaptRequest(p.GetValue(inputs)!, recursive.Get(p), runDir.Get(p), from.Get(p), overwrite.Get(p), new AdaptPlan(minutes.Get(p), LearningRate: lr.Get(p), Seed: seed.Get(p), Method: method.Get(p), KeepAlways: keep.Get(p) == "always"));
            var observer = new ConsoleAdaptObserver();
            return observer.Run(() => AdaptRun.Start(request, devices.Apply(p), colour => colour ? ModelPicker.Colour : ModelPicker.Grey, observer));
        });
        return command;
    }
}
