// `denoiser runs`: the runs under models/ with their epochs, best test PSNR, date and size; then the shipped models.
using System.CommandLine;
using Denoiser.Reporting;

namespace Denoiser.Commands;

public static class RunsCommand
{
    public static Command Create(AppConfig config)
    {
        var modelsDir = new Opt<string>("--models-dir", "Where runs are looked for") { Default = config.Train.ModelsDir };
        var command = new Command("runs", "List the runs under --models-dir (epochs, best test PSNR, date and size) and the models shipped with Denoiser.") { modelsDir };
        command.SetAction(p => RunTable.Print(modelsDir.Get(p)));
        return command;
    }
}
