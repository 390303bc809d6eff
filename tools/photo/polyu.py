#!/usr/bin/python3
"""PSNR on PolyU's real noisy photographs (RGB, 8 bits, real against mean, per image, averaged): the noisy input,
a folder of denoised outputs (NAME_real.png, as `denoiser denoise in/ -o out/` names them, or NAME_real.denoised.png), and OpenCV's coloured
non-local means at the given h (template 7, search 21), on the same images.

Usage: /usr/bin/python3 tools/photo/polyu.py POLYU_DIR [DENOISED_DIR] [--nlm 3,4,5]
Needs python3-opencv (Debian 12). Until `evaluate` scores real pairs itself, this is how the figures are made.
"""
import glob
import os
import sys

import cv2
import numpy as np


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(255.0 ** 2 / mse)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    hs = [float(h) for h in (sys.argv[sys.argv.index("--nlm") + 1].split(",") if "--nlm" in sys.argv else [])]
    polyu, denoised = args[0], args[1] if len(args) > 1 else None
    reals = sorted(glob.glob(os.path.join(polyu, "*_real.*")))
    rows = {"noisy input": []}
    if denoised:
        rows["denoised"] = []
    for h in hs:
        rows[f"OpenCV coloured NL-means, h {h:g}"] = []
    for real in reals:
        stem = os.path.basename(real).rsplit("_real", 1)[0]
        mean = glob.glob(os.path.join(polyu, stem + "_mean.*"))[0]
        noisy, clean = cv2.imread(real), cv2.imread(mean)  # B, G, R: PSNR does not care about the order
        rows["noisy input"].append(psnr(noisy, clean))
        if denoised:
            name = os.path.splitext(os.path.basename(real))[0]
            found = [p for p in (os.path.join(denoised, name + e) for e in (".png", ".denoised.png")) if os.path.exists(p)]
            out = cv2.imread(found[0])
            rows["denoised"].append(psnr(out, clean))
        for h in hs:
            rows[f"OpenCV coloured NL-means, h {h:g}"].append(psnr(cv2.fastNlMeansDenoisingColored(noisy, None, h, h, 7, 21), clean))
    print(f"{len(reals)} pairs from {polyu}")
    for name, values in rows.items():
        print(f"{name:40s} {np.mean(values):.2f} dB")


if __name__ == "__main__":
    main()
