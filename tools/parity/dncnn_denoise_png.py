#!/usr/bin/python3
"""Denoises a PNG with the DnCNN authors' sigma-25 weights in PyTorch, to compare with `denoiser denoise`.

Usage: /usr/bin/python3 tools/parity/dncnn_denoise_png.py make CLEAN.png NOISY.png   (adds sigma-25 noise, 8-bit PNG)
       /usr/bin/python3 tools/parity/dncnn_denoise_png.py run NOISY.png OUT.png [WEIGHTS.safetensors]
       /usr/bin/python3 tools/parity/dncnn_denoise_png.py compare A.png B.png           (max |difference| in grey levels)
Needs python3-torch and python3-skimage (Debian 12).
"""
import json
import struct
import sys
from pathlib import Path

import numpy as np
import torch
from skimage import io

sys.path.insert(0, str(Path(__file__).parent))
from make_dncnn_fixture import DnCNN  # noqa: E402

ANCHOR = Path(__file__).resolve().parents[3] / "shared" / "anchors" / "dncnn-sigma25.safetensors"


def load_safetensors(path):
    raw = Path(path).read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header, data = json.loads(raw[8:8 + n]), raw[8 + n:]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        dtype = {"F32": np.float32, "I64": np.int64}[e["dtype"]]
        out[name] = torch.from_numpy(np.frombuffer(data[b:end], dtype=dtype).copy().reshape(e["shape"]))
    return out


def main():
    cmd = sys.argv[1]
    if cmd == "make":
        clean = io.imread(sys.argv[2]).astype(np.float64) / 255
        rng = np.random.RandomState(0)
        noisy = np.clip(np.round((clean + rng.randn(*clean.shape) * 25 / 255) * 255), 0, 255).astype(np.uint8)
        io.imsave(sys.argv[3], noisy, check_contrast=False)
    elif cmd == "run":
        model = DnCNN()
        model.load_state_dict(load_safetensors(sys.argv[4] if len(sys.argv) > 4 else ANCHOR), strict=True)
        model.eval()
        x = torch.from_numpy(io.imread(sys.argv[2]).astype(np.float32) / 255)[None, None]
        with torch.no_grad():
            y = model(x).clamp(0, 1)[0, 0].numpy()
        io.imsave(sys.argv[3], np.round(y * 255).astype(np.uint8), check_contrast=False)
    elif cmd == "compare":
        a, b = (io.imread(p).astype(np.int32) for p in sys.argv[2:4])
        d = np.abs(a - b)
        print(f"max |difference| {d.max()} grey levels; {np.mean(d > 0) * 100:.3f}% of pixels differ")


if __name__ == "__main__":
    main()
