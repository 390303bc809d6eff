#!/usr/bin/python3
"""The two constants that turn the colour model's noise estimate into numbers, fixed on training images only.

1. NoiseLevel.Calibration: `denoise` prints its estimate of each photograph's noise level (the RMS of picture minus the
   model's smooth copy, over the flatter half, times the constant compiled in). On training images made noisy with
   synthetic camera noise and with Gaussian noise, the RMS of noisy minus clean is known; the constant should be
   multiplied by the median of true / printed.
2. ClassicalStrengths.RealNlMeans: OpenCV's coloured non-local means on real photographs gets h = factor x the
   estimate; the factor is the one of a grid that scores best on the camera-noise training images.

Usage: /usr/bin/python3 tools/photo/calibrate.py DENOISER CBSD432_DIR WORK_DIR [denoise options, e.g. --checkpoint C]
It takes the first 100 CBSD432 images by name (training images: the held-out 10% of a run is chosen by hash, and these
constants never see PolyU or CBSD68). Needs python3-opencv (Debian 12).
"""
import glob
import os
import re
import shutil
import subprocess
import sys

import cv2
import numpy as np


def rms(a, b):
    return float(np.sqrt(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)))


def psnr(a, b):
    return 10 * np.log10(255.0 ** 2 / np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))


def main():
    denoiser, cbsd432, work = sys.argv[1:4]
    options = sys.argv[4:]
    clean_dir = os.path.join(work, "clean")
    if not os.path.isdir(clean_dir):
        os.makedirs(clean_dir)
        for f in sorted(glob.glob(os.path.join(cbsd432, "*.jpg")))[:100]:
            shutil.copy(f, clean_dir)
    sets = {"camera": "camera", "gaussian": "gaussian:3-50/255,8bit"}
    estimates = {}
    for name, spec in sets.items():
        noisy_dir, out_dir = os.path.join(work, name), os.path.join(work, name + "-out")
        if not os.path.isdir(noisy_dir):
            subprocess.run([denoiser, "add-noise", clean_dir, "-o", noisy_dir, "--noise", spec, "--seed", "3"], check=True)
        shutil.rmtree(out_dir, ignore_errors=True)
        log = subprocess.run([denoiser, "denoise", noisy_dir, "-o", out_dir + "/"] + options, check=True, capture_output=True, text=True).stdout
        for line in log.splitlines():
            m = re.search(r"/([^/ ]+\.png) -> .*noise level ([0-9.]+)/255 estimated", line)
            if m:
                estimates[(name, m.group(1))] = float(m.group(2))
    ratios = {name: [] for name in sets}
    for (name, file), estimate in estimates.items():
        noisy = cv2.imread(os.path.join(work, name, file))
        clean = cv2.imread(os.path.join(clean_dir, file.replace(".png", ".jpg")))
        ratios[name].append(rms(noisy, clean) / estimate)
    every = np.concatenate([np.array(r) for r in ratios.values()])
    for name, r in ratios.items():
        r = np.array(r)
        print(f"{name}: {len(r)} images, true RMS / estimate: median {np.median(r):.3f}, within 35%: {np.mean(np.abs(1 / r - 1) <= 0.35):.0%}")
    print(f"multiply NoiseLevel.Calibration by {np.median(every):.3f}")

    factors = [0.3, 0.4, 0.5, 0.6, 0.8, 1.0]
    scores = {f: [] for f in factors}
    for (name, file), estimate in estimates.items():
        if name != "camera":
            continue
        noisy = cv2.imread(os.path.join(work, name, file))
        clean = cv2.imread(os.path.join(clean_dir, file.replace(".png", ".jpg")))
        for f in factors:
            h = f * estimate
            scores[f].append(psnr(cv2.fastNlMeansDenoisingColored(noisy, None, h, h, 7, 21), clean))
    for f in factors:
        print(f"non-local means, h = {f} x estimate: {np.mean(scores[f]):.2f} dB on the camera-noise images")
    print(f"ClassicalStrengths.RealNlMeans = {max(factors, key=lambda f: np.mean(scores[f]))}")


if __name__ == "__main__":
    main()
