#!/usr/bin/python3
"""Writes tests/Denoiser.Tests/Fixtures/dncnn-steps.safetensors: three Adam steps (lr 1e-3, PyTorch's defaults, as
`train`) of the DnCNN authors' PyTorch model on one batch big enough that Denoiser's CPU batch split would take it in
two parts (issue 44), for the C# test that runs the same steps through Trainer.Step.

In float64: at this size float32 itself is far off. The gradients of the first layers come out 0.5-2% from the exact
ones in PyTorch's own float32 (BatchNorm's backward, 15 times over, sums of 12,544 pixels that nearly cancel), even
for uniformly random images, against 2e-5 for make_dncnn_fixture.py's two 12x12 images; Adam then amplifies it, to a
loss 2% from float64's by the third step. In float64 both sides agree far inside the 1e-5 the tests hold DnCNN to,
so the test checks what is computed, not rounding. (Stored as float32, which rounds by 6e-8.)

The batch is 4 noisy 56x56 patches (sigma 25/255, not clipped, as the DnCNN authors train) with their clean versions:
4 x 56 x 56 = 12,544 pixels, two parts of BatchParts.MinPixelsPerPart (6,272). The first two patches are dark and
the last two bright, so the statistics of either half differ from the whole batch's: a model that normalised each part
by its own statistics, or updated the running statistics once per part, lies far from PyTorch.

The initial weights are make_dncnn_fixture.py's (the same seed), and are checked against dncnn-parity.safetensors;
the C# test takes them from there. Stored: the input and target, the loss of each step (before its update), the
parameters and buffers after steps 1 and 3 as [sum, sum of |x|] each, and a few tensors whole.

Needs Debian's python3-torch (apt-get install -y python3-torch); run with /usr/bin/python3.
"""
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
from make_dncnn_fixture import DnCNN, FIXTURE as PARITY, sums  # noqa: E402
from make_fixture import save_safetensors  # noqa: E402

FIXTURE = PARITY.parent / "dncnn-steps.safetensors"
WHOLE = ["dncnn.0.weight", "dncnn.3.weight", "dncnn.3.bias", "dncnn.3.running_mean", "dncnn.3.running_var",
         "dncnn.45.running_mean", "dncnn.45.running_var", "dncnn.45.num_batches_tracked"]


def main():
    torch.manual_seed(20261201)
    model = DnCNN()
    # load_safetensors reads F32 only: the num_batches_tracked counters (I64, all 0) are left out of the check.
    init = {k[len("init."):]: v for k, v in load_safetensors_f32(PARITY).items() if k.startswith("init.")}
    for name, t in model.state_dict().items():
        if name in init:
            assert torch.equal(init[name], t), f"{name} differs from {PARITY.name}'s initial weights"

    gen = torch.Generator().manual_seed(20261207)
    brightness = torch.tensor([0.15, 0.25, 0.65, 0.75]).reshape(4, 1, 1, 1)  # two dark patches, then two bright
    clean = (brightness + 0.2 * (torch.rand(4, 1, 56, 56, generator=gen) - 0.5)).clamp(0, 1)
    noisy = clean + 25 / 255 * torch.randn(4, 1, 56, 56, generator=gen)
    out = {"input": noisy, "target": clean}

    model.double().train()
    noisy, clean = noisy.double(), clean.double()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)  # betas 0.9/0.999, eps 1e-8
    losses = []
    for step in range(1, 4):
        optimizer.zero_grad()
        loss = F.mse_loss(model(noisy), clean)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if step in (1, 3):
            for name, t in model.state_dict().items():
                out[f"step{step}.sum.{name}"] = sums(t)
                if name in WHOLE:
                    out[f"step{step}.{name}"] = t.detach().clone()
    out["losses"] = torch.tensor(losses)
    save_safetensors(FIXTURE, out, {"made_by": "tools/parity/make_dncnn_steps_fixture.py", "torch": torch.__version__,
                                    "seed": "20261201 (weights), 20261207 (batch)", "dtype": "float64, stored as F32"})
    print(f"wrote {FIXTURE} ({FIXTURE.stat().st_size:,} bytes, {len(out)} tensors); losses {losses}")


def load_safetensors_f32(path):
    """make_fixture.load_safetensors without the I64 tensors it refuses."""
    import json
    import struct
    blob = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    out = {}
    for name, entry in header.items():
        if name == "__metadata__" or entry["dtype"] != "F32":
            continue
        begin, end = entry["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32).reshape(entry["shape"])
    return out


if __name__ == "__main__":
    main()
