#!/usr/bin/python3
"""The seed recipe in PyTorch (Debian's python3-torch), scored exactly as `denoiser train` scores it: mean over test
images of 10*log10(1/MSE) (MSE floored at 1e-10), the test set's noise drawn once. Reads the same IDX files.

    /usr/bin/python3 tools/parity/train_reference.py [--epochs 5] [--seed 1] [--data-dir data/mnist]
"""
import argparse
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from make_fixture import ConvDenoiser


def idx(path, header):
    data = Path(path).read_bytes()
    return np.frombuffer(data, dtype=np.uint8, offset=header)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data-dir", default="data/mnist")
    args = ap.parse_args()
    d = Path(args.data_dir)
    train = torch.from_numpy(idx(d / "train-images-idx3-ubyte", 16).reshape(-1, 1, 28, 28).astype(np.float32) / 255)
    test = torch.from_numpy(idx(d / "t10k-images-idx3-ubyte", 16).reshape(-1, 1, 28, 28).astype(np.float32) / 255)

    torch.manual_seed(args.seed)
    model = ConvDenoiser()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(args.seed + 1000)
    test_noisy = (test + 0.5 * torch.randn(test.shape, generator=gen)).clamp(0, 1)

    def psnr(a, b):
        mse = ((a - b) ** 2).mean(dim=(1, 2, 3)).clamp_min(1e-10)
        return (-10 * torch.log10(mse)).mean().item()

    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads; noisy test PSNR {psnr(test_noisy, test):.2f} dB")
    for epoch in range(1, args.epochs + 1):
        start = time.time()
        model.train()
        for batch in torch.randperm(len(train), generator=gen).split(20):
            clean = train[batch]
            noisy = (clean + 0.5 * torch.randn(clean.shape, generator=gen)).clamp(0, 1)
            optimizer.zero_grad()
            F.mse_loss(model(noisy), clean).backward()
            optimizer.step()
        seconds = time.time() - start
        model.eval()
        with torch.no_grad():
            out = torch.cat([model(x) for x in test_noisy.split(200)])
        print(f"epoch {epoch}  test_psnr {psnr(out, test):.2f} dB  {len(train) / seconds:.0f} img/s", flush=True)


if __name__ == "__main__":
    main()
