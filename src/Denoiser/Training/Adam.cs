// TorchSharp's Adam with the numbers of its update held until libtorch has returned (docs/native-lifetimes.md).
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using TorchAdam = TorchSharp.Modules.Adam;

namespace Denoiser.Training;

/// <summary>
/// torch.optim.Adam whose step is TorchSharp 0.107's Adam.step line for line, the same ops on the same values (so the
/// same weights bit for bit, and the same state in a checkpoint), but with its Scalars held. TorchSharp's own passes
/// beta1, 1 - beta1, eps, the step size, ... as temporary Scalars, six per parameter and step, that a collection
/// started by another thread (a batch part, the next epoch's patches) can finalize while libtorch still reads them.
/// Named Adam, as TorchSharp's: a saved optimizer state records its type's name and loads only into that name, so
/// checkpoints from either load into the other.
/// </summary>
public sealed class Adam(IEnumerable<Parameter> parameters, double lr) : TorchAdam(parameters, lr)
{
    public override Tensor step(Func<Tensor>? closure = null) => _step<TorchAdam.ParamGroup>(group =>
    {
        var options = (TorchAdam.Options)group.Options;
        double beta1 = options.beta1!.Value, beta2 = options.beta2!.Value, weightDecay = options.weight_decay!.Value;
        double eps = options.eps!.Value, rate = options.LearningRate!.Value;
        bool amsgrad = options.amsgrad!.Value, maximize = options.maximize!.Value;
        using Scalar keep1 = beta1, take1 = 1 - beta1, keep2 = beta2, take2 = 1 - beta2, epsilon = eps, one = 1, decay = weightDecay;

        foreach (var param in group.Parameters)
        {
            var state = (TorchAdam.State)_state[param.Handle];
            var grad = param.grad;
            if (grad is null) continue;
            if (maximize) grad = -grad;
            state.step += 1;
            double biasCorrection1 = 1 - Math.Pow(beta1, state.step);
            double biasCorrection2 = 1 - Math.Pow(beta2, state.step);
            if (weightDecay != 0) grad = grad.add(param, decay);

            state.exp_avg.mul_(keep1).add_(grad, take1);
            state.exp_avg_sq.mul_(keep2).addcmul_(grad, grad.conj(), take2);
            using Scalar root = Math.Sqrt(biasCorrection2), stepSize = -(rate / biasCorrection1);
            Tensor denom;
            if (amsgrad)
            {
                var previous = state.max_exp_avg_sq;
                state.max_exp_avg_sq = torch.maximum(previous, state.exp_avg_sq).DetachFromDisposeScope();
                previous.Dispose();
                denom = state.max_exp_avg_sq.sqrt().div(root).add_(epsilon, one);
            }
            else denom = state.exp_avg_sq.sqrt().div(root).add_(epsilon, one);
            param.addcdiv_(state.exp_avg, denom, stepSize);
        }
    }, closure);
}
