#!/usr/bin/python3
"""Writes tests/Denoiser.Tests/Fixtures/pt/: PyTorch 1.13's own torch.save files of the tutorials' ConvDenoiser, for
the C# tests of `denoiser import FILE.pt` and `export --format pt`:

  convdenoiser.pt          torch.save(model.state_dict()), the zip format; conv1.weight is a view at an offset into a
                           larger storage and conv_out.weight is not contiguous, as real state dicts can be
  convdenoiser-module.pt   torch.save(model): the whole module pickled, zip format
  convdenoiser-legacy.pth  torch.save(model, _use_new_zipfile_serialization=False): the legacy format of old repositories
  checkpoint.pt            a training checkpoint dict {"epoch": 3, "state_dict": ...}
  expected.safetensors     the same weights, contiguous, plus "input" and the model's "output" on it
  evil.pt, evil-legacy.pth state dicts whose pickle calls os.system("touch pwned-marker") when torch.load runs it
                           (checked here: Python does create the marker); Denoiser must refuse both and run nothing
  huge.pt, extent.pt,      hand-made archives a reader must refuse before allocating: 2^29 elements declared over
  short.pt, bomb.pt        16 stored bytes; a tensor reaching past its storage; a storage with fewer bytes than it
                           declares; a data.pkl that inflates to 80 MB from 80 kB

With --check EXPORTED.pt, loads a .pt written by `denoiser export --format pt` into the PyTorch model (strict) and
prints the largest difference between its output and that of convdenoiser.pt's weights (the round trip: 0 expected).
Needs Debian's python3-torch and runs with /usr/bin/python3.
"""
import collections
import io
import os
import pickle
import zipfile
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
import torch.nn as nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_fixture import ConvDenoiser, save_safetensors, FIXTURES  # noqa: E402

OUT = FIXTURES / "pt"


def model_with_views():
    torch.manual_seed(7)
    model = ConvDenoiser()
    with torch.no_grad():
        big = torch.randn(5 + 288 + 11)
        model.conv1.weight = nn.Parameter(big[5:5 + 288].view(32, 1, 3, 3))  # offset 5 into a 304-element storage
        w = torch.randn(3, 3, 32, 1)
        model.conv_out.weight = nn.Parameter(w.permute(3, 2, 0, 1))  # (1, 32, 3, 3), strides of another layout
    assert model.conv1.weight.storage_offset() == 5 and not model.conv_out.weight.is_contiguous()
    return model


class Payload:
    def __reduce__(self):
        return os.system, ("touch pwned-marker",)


class FakeStorage:
    def __init__(self, numel):
        self.numel = numel


class FakeTensor:
    """Pickles as torch.save pickles a tensor: _rebuild_tensor_v2 over a storage kept outside the pickle."""

    def __init__(self, storage, shape, offset=0):
        self.storage, self.shape, self.offset = storage, shape, offset

    def __reduce__(self):
        stride = tuple(int(torch.tensor(self.shape[i + 1:]).prod()) for i in range(len(self.shape)))
        return torch._utils._rebuild_tensor_v2, (self.storage, self.offset, self.shape, stride, False, collections.OrderedDict())


class StoragePickler(pickle.Pickler):
    def persistent_id(self, obj):
        return ("storage", torch.FloatStorage, "0", "cpu", obj.numel) if isinstance(obj, FakeStorage) else None


def handmade(path, state, data0, pickle_tail=b""):
    buffer = io.BytesIO()
    StoragePickler(buffer, protocol=2).dump(collections.OrderedDict(state))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("archive/data.pkl", buffer.getvalue() + pickle_tail)
        z.writestr("archive/data/0", data0)
        z.writestr("archive/version", "3\n")


def check_payload_is_real(path):
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([sys.executable, "-c", f"import torch; torch.load({str(path)!r})"], cwd=d, capture_output=True)
        assert os.path.exists(os.path.join(d, "pwned-marker")), f"{path}: the payload did not run in PyTorch"


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        model, exported = ConvDenoiser(), ConvDenoiser()
        model.load_state_dict(torch.load(OUT / "convdenoiser.pt"))
        exported.load_state_dict(torch.load(sys.argv[2]))
        x = torch.rand(2, 1, 28, 28, generator=torch.Generator().manual_seed(3))
        with torch.no_grad():
            print(f"max difference {(model(x) - exported(x)).abs().max().item()}")
        return

    OUT.mkdir(parents=True, exist_ok=True)
    model = model_with_views().eval()
    state = model.state_dict()
    torch.save(state, OUT / "convdenoiser.pt")
    torch.save(model, OUT / "convdenoiser-module.pt")
    torch.save(model, OUT / "convdenoiser-legacy.pth", _use_new_zipfile_serialization=False)
    torch.save({"epoch": 3, "state_dict": state}, OUT / "checkpoint.pt")
    x = torch.rand(2, 1, 28, 28, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        y = model(x)
    save_safetensors(OUT / "expected.safetensors", {**state, "input": x, "output": y}, {"torch": torch.__version__})

    evil = {"conv1.weight": Payload()}
    torch.save(evil, OUT / "evil.pt")
    torch.save(evil, OUT / "evil-legacy.pth", _use_new_zipfile_serialization=False)
    for path in (OUT / "evil.pt", OUT / "evil-legacy.pth"):
        check_payload_is_real(path)

    handmade(OUT / "huge.pt", {"w": FakeTensor(FakeStorage(1 << 29), (1 << 29,))}, bytes(16))
    handmade(OUT / "extent.pt", {"w": FakeTensor(FakeStorage(4), (2, 2), offset=2)}, bytes(16))
    handmade(OUT / "short.pt", {"w": FakeTensor(FakeStorage(8), (8,))}, bytes(16))
    handmade(OUT / "bomb.pt", {"w": FakeTensor(FakeStorage(4), (4,))}, bytes(16), pickle_tail=bytes(80 << 20))
    for path in sorted(OUT.iterdir()):
        print(f"{path.name}: {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
