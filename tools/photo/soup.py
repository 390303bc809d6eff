#!/usr/bin/python3
"""The mean of two weights files of one model (a "model soup", Wortsman et al. 2022): B's share t, A's 1 - t.
Both must come from one training lineage (B a fine-tune of A), or the mean of their weights means nothing.
Float32 safetensors as `denoiser export` writes them; A's metadata (the model's name) is kept.

Usage: /usr/bin/python3 tools/photo/soup.py A.safetensors B.safetensors T OUT.safetensors
Then `denoiser denoise ... --weights OUT.safetensors`.
"""
import json
import struct
import sys

import numpy as np


def read(path):
    with open(path, "rb") as f:
        blob = f.read()
    (size,) = struct.unpack("<Q", blob[:8])
    return json.loads(blob[8:8 + size]), blob[8 + size:]


def tensor(header, data, name):
    entry = header[name]
    if entry["dtype"] != "F32":
        sys.exit(f"{name}: {entry['dtype']}, not float32; export the weights again with `denoiser export`.")
    start, end = entry["data_offsets"]
    return np.frombuffer(data[start:end], np.float32)


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    a_path, b_path, t, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    (ha, da), (hb, db) = read(a_path), read(b_path)
    model_a, model_b = (h.get("__metadata__", {}).get("denoiser.model") for h in (ha, hb))
    if model_a != model_b:
        sys.exit(f"{a_path} holds {model_a} and {b_path} {model_b}: not the same model.")
    names = [k for k in ha if k != "__metadata__"]
    if sorted(names) != sorted(k for k in hb if k != "__metadata__"):
        sys.exit(f"{a_path} and {b_path} hold different tensors: not the same model.")
    header, blobs, offset = {"__metadata__": ha.get("__metadata__", {})}, [], 0
    for name in names:
        if ha[name]["shape"] != hb[name]["shape"]:
            sys.exit(f"{name}: shapes {ha[name]['shape']} and {hb[name]['shape']}: not the same model.")
        blob = ((1 - t) * tensor(ha, da, name) + t * tensor(hb, db, name)).astype(np.float32).tobytes()
        header[name] = {"dtype": "F32", "shape": ha[name]["shape"], "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(out, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    print(f"{out}: {len(names)} tensors, {t:g} of {b_path} and {1 - t:g} of {a_path}")


if __name__ == "__main__":
    main()
