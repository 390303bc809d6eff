#!/usr/bin/python3
"""Writes tests/Denoiser.Tests/Fixtures/ssim.safetensors: image pairs and their SSIM computed by scikit-image's
structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1), the definition
Denoiser's SSIM must match, and the classic baselines (scipy.ndimage median_filter size 3 and gaussian_filter
sigma 1, mode 'reflect') on one image. Needs Debian's python3-skimage; run with /usr/bin/python3.
"""
from scipy import ndimage
import numpy as np
from skimage.metrics import structural_similarity

from make_fixture import FIXTURES, save_safetensors
import torch

rng = np.random.default_rng(20261126)


def digit(h, w):
    y, x = np.mgrid[0:h, 0:w]
    ring = np.abs(np.hypot(x - w / 2, y - h / 2) - min(h, w) / 3.5) < 1.6
    return ring.astype(np.float32) * 0.9


pairs = {}
for name, (h, w) in {"square28": (28, 28), "wide20x33": (20, 33), "tiny11": (11, 11), "tall40x13": (40, 13)}.items():
    clean = rng.random((h, w), dtype=np.float32)
    noisy = np.clip(clean + 0.3 * rng.standard_normal((h, w)).astype(np.float32), 0, 1).astype(np.float32)
    pairs[name] = (clean, noisy)
d = digit(28, 28)
pairs["digit_noisy"] = (d, np.clip(d + 0.5 * rng.standard_normal(d.shape).astype(np.float32), 0, 1).astype(np.float32))
pairs["digit_shifted"] = (d, np.roll(d, 1, axis=1))
pairs["identical"] = (d, d.copy())
pairs["constant"] = (np.full((16, 16), 0.25, np.float32), np.full((16, 16), 0.75, np.float32))

tensors, expected = {}, []
for name, (a, b) in pairs.items():
    tensors[f"{name}.a"] = torch.from_numpy(a)
    tensors[f"{name}.b"] = torch.from_numpy(b)
    s = structural_similarity(a.astype(np.float64), b.astype(np.float64), gaussian_weights=True, sigma=1.5,
                              use_sample_covariance=False, data_range=1)
    tensors[f"{name}.ssim"] = torch.tensor([s], dtype=torch.float32)
    expected.append(f"{name}={s!r}")

noisy = pairs["wide20x33"][1]
tensors["filters.input"] = torch.from_numpy(noisy)
tensors["filters.median3"] = torch.from_numpy(ndimage.median_filter(noisy, size=3, mode="reflect"))
tensors["filters.gauss1"] = torch.from_numpy(ndimage.gaussian_filter(noisy.astype(np.float64), sigma=1, mode="reflect").astype(np.float32))

import skimage
save_safetensors(FIXTURES / "ssim.safetensors", tensors, {"skimage": skimage.__version__, "ssim": ";".join(expected)})
print("\n".join(expected))
