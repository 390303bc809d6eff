#!/usr/bin/python3
"""Writes tests/Denoiser.Tests/Fixtures/parity.safetensors: the seed's PyTorch ConvDenoiser, its forward pass,
MSE loss, gradients and Adam steps, for Denoiser's C# parity tests. With --check FILE, loads a .safetensors file
exported by `denoiser export` into the same PyTorch model (strict) and checks that it reproduces the output recorded
for the fixture's initial weights (see the README for the round trip).

Needs Debian's python3-torch (apt-get install -y python3-torch) and runs with /usr/bin/python3. Debian 12 has no
safetensors module, so the format is written and read here by hand (it is an 8-byte length, JSON, raw bytes).
"""
import json
import struct
import sys
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "Denoiser.Tests" / "Fixtures"
FIXTURE = FIXTURES / "parity.safetensors"            # everything the C# parity tests compare against
INIT = FIXTURES / "parity-init.safetensors"          # just the initial state_dict, as PyTorch users would save it


class ConvDenoiser(nn.Module):
    """The seed model, exactly as the tutorials define it."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 16, 3, padding=1)
        self.conv3 = nn.Conv2d(16, 8, 3, padding=1)
        self.pool = nn.MaxPool2d(2, 2)
        self.t_conv1 = nn.ConvTranspose2d(8, 8, 3, stride=2)
        self.t_conv2 = nn.ConvTranspose2d(8, 16, 2, stride=2)
        self.t_conv3 = nn.ConvTranspose2d(16, 32, 2, stride=2)
        self.conv_out = nn.Conv2d(32, 1, 3, padding=1)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = self.pool(F.relu(self.conv3(x)))
        x = F.relu(self.t_conv1(x))
        x = F.relu(self.t_conv2(x))
        x = F.relu(self.t_conv3(x))
        return torch.sigmoid(self.conv_out(x))


def save_safetensors(path, tensors, metadata):
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name, t in tensors.items():
        t = t.detach().contiguous()  # int64 (a BatchNorm's num_batches_tracked) as I64, all else as F32
        dtype, data = ("I64", t.numpy().tobytes()) if t.dtype == torch.int64 else ("F32", t.float().numpy().tobytes())
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    raw = json.dumps(header).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"".join(blobs))


def load_safetensors(path):
    blob = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        assert entry["dtype"] == "F32", f"{name}: {entry['dtype']}"
        begin, end = entry["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32).reshape(entry["shape"])
    return out


def make_fixture():
    torch.manual_seed(20261126)
    model = ConvDenoiser()
    x = torch.rand(4, 1, 28, 28)
    target = torch.rand(4, 1, 28, 28)
    odd = torch.rand(2, 1, 20, 36)  # another size: 20 -> 20, 36 -> 36 (both 4 mod 8)
    tensors = {f"init.{k}": v.clone() for k, v in model.state_dict().items()}
    tensors.update(input=x, target=target, odd_input=odd)

    out = model(x)
    loss = F.mse_loss(out, target)
    loss.backward()
    tensors.update(output=out, loss=loss.reshape(1), odd_output=model(odd))
    tensors.update({f"grad.{k}": p.grad.clone() for k, p in model.named_parameters()})

    # Adam(lr=1e-3) with PyTorch's defaults (betas 0.9/0.999, eps 1e-8), three steps on the same batch.
    model.zero_grad()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for step in range(1, 4):
        optimizer.zero_grad()
        F.mse_loss(model(x), target).backward()
        optimizer.step()
        if step in (1, 3):
            tensors.update({f"step{step}.{k}": v.clone() for k, v in model.state_dict().items()})

    save_safetensors(FIXTURE, tensors, {"torch": torch.__version__, "seed": "20261126"})
    save_safetensors(INIT, {k[len("init."):]: v for k, v in tensors.items() if k.startswith("init.")}, {"format": "pt"})
    for f in (FIXTURE, INIT):
        print(f"wrote {f} ({f.stat().st_size} bytes) with PyTorch {torch.__version__}")


def check(exported):
    """Loads Denoiser's export of parity-init.safetensors (imported, then exported again by the CLI) into the
    PyTorch model and compares its output with the one PyTorch recorded for those weights."""
    fixture = load_safetensors(FIXTURE)
    model = ConvDenoiser()
    model.load_state_dict(load_safetensors(exported), strict=True)
    with torch.no_grad():
        diff = (model(fixture["input"]) - fixture["output"]).abs().max().item()
    print(f"{exported}: loaded strictly into PyTorch {torch.__version__}; max |output difference| = {diff:.3g}")
    sys.exit(0 if diff <= 1e-5 else 1)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        check(sys.argv[2])
    elif len(sys.argv) == 1:
        make_fixture()
    else:
        sys.exit("usage: make_fixture.py [--check exported.safetensors]")
