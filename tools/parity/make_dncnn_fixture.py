#!/usr/bin/python3
"""Writes tests/Denoiser.Tests/Fixtures/dncnn-parity.safetensors: the DnCNN authors' PyTorch model with seeded
weights, its forward pass in train and eval mode, the MSE loss, gradients, the BatchNorm running statistics after
one training step, and the weights after Adam steps, for Denoiser's C# parity test of `--model dncnn`.

Needs Debian's python3-torch (apt-get install -y python3-torch); run with /usr/bin/python3. To keep the fixture
small, gradients and stepped weights are stored whole for six tensors (first, middle and last layers) and as
[sum, sum of |x|] for every tensor; the initial weights and all running statistics are stored whole.
"""
import sys
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
from make_fixture import save_safetensors  # noqa: E402  (the same hand-written safetensors writer)

FIXTURE = Path(__file__).resolve().parents[2] / "tests" / "Denoiser.Tests" / "Fixtures" / "dncnn-parity.safetensors"
WHOLE = ["dncnn.0.weight", "dncnn.0.bias", "dncnn.2.weight", "dncnn.3.weight", "dncnn.3.bias", "dncnn.47.weight"]


class DnCNN(nn.Module):
    """The authors' class (cszn/DnCNN, TrainingCodes/dncnn_pytorch/main_train.py), without their custom init."""

    def __init__(self, depth=17, n_channels=64, image_channels=1, kernel_size=3):
        super().__init__()
        layers = [nn.Conv2d(image_channels, n_channels, kernel_size, padding=1, bias=True), nn.ReLU(inplace=True)]
        for _ in range(depth - 2):
            layers += [nn.Conv2d(n_channels, n_channels, kernel_size, padding=1, bias=False),
                       nn.BatchNorm2d(n_channels, eps=0.0001, momentum=0.95), nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(n_channels, image_channels, kernel_size, padding=1, bias=False))
        self.dncnn = nn.Sequential(*layers)

    def forward(self, x):
        return x - self.dncnn(x)


def sums(t):
    return torch.tensor([t.double().sum().item(), t.double().abs().sum().item()])


def main():
    torch.manual_seed(20261201)
    model = DnCNN()
    out = {f"init.{k}": v.clone() for k, v in model.state_dict().items()}
    x = torch.rand(2, 1, 12, 12)
    target = torch.rand(2, 1, 12, 12)
    out["input"], out["target"] = x, target

    model.eval()
    with torch.no_grad():
        out["eval_output"] = model(x)
    model.train()
    y = model(x)
    out["train_output"] = y.detach()
    loss = F.mse_loss(y, target)
    out["loss"] = loss.detach().reshape(1)
    loss.backward()
    for name, p in model.named_parameters():
        out[f"gradsum.{name}"] = sums(p.grad)
        if name in WHOLE:
            out[f"grad.{name}"] = p.grad.clone()
    # That forward pass in train mode updated the running statistics once: the state after one training step.
    for name, b in model.named_buffers():
        out[f"step1.{name}"] = b.clone()

    model.zero_grad()
    # eps 1e-3, not the default 1e-8: Adam's first step moves each weight by lr * g / (|g| + eps), about lr * sign(g),
    # so with eps 1e-8 a gradient within float rounding of zero (which two CPUs' kernels round differently) moves its
    # weight by a whole +-lr either way. An error d in g changes the step by at most lr * d / eps: with eps 1e-3, by d.
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-3)  # betas 0.9/0.999
    for step in range(1, 4):
        optimizer.zero_grad()
        F.mse_loss(model(x), target).backward()
        optimizer.step()
        if step in (1, 3):
            for name, p in model.named_parameters():
                out[f"adam{step}.sum.{name}"] = sums(p)
                if name in WHOLE:
                    out[f"adam{step}.{name}"] = p.detach().clone()
    model.eval()
    with torch.no_grad():
        out["adam3.eval_output"] = model(x)
    save_safetensors(FIXTURE, out, {"made_by": "tools/parity/make_dncnn_fixture.py", "torch": torch.__version__, "seed": "20261201"})
    print(f"wrote {FIXTURE} ({FIXTURE.stat().st_size:,} bytes, {len(out)} tensors)")


if __name__ == "__main__":
    main()
