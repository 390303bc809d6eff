#!/usr/bin/python3
"""What --strength does to real photographs: for folders of `denoise --strength S` outputs of the same PolyU crops,
one row each, the RMS taken away from the noisy shot, the total variation (mean absolute difference of neighbours)
over the whole picture and over its flat half (where the first folder's result has its smaller gradients), the
2x2 checkerboard component (the trace a 2x2 fold leaves when it errs), and the mean brightness shift; 0-255 scale,
averaged over the photographs.

Usage: /usr/bin/python3 tools/photo/strength_measures.py POLYU_DIR S=DIR...
e.g. for S in 0.5 1 2 3 4; do denoiser denoise $(ls POLYU/*_real.JPG | awk 'NR%10==1') --strength $S -o out-$S/; done
"""
import glob
import os
import sys

import cv2
import numpy as np


def variation(x, mask=None):
    dx, dy = np.abs(np.diff(x, axis=1)).mean(2), np.abs(np.diff(x, axis=0)).mean(2)
    if mask is None:
        return (dx.mean() + dy.mean()) / 2
    return (dx[mask[:, :-1]].mean() + dy[mask[:-1, :]].mean()) / 2


def checker(x):
    h, w = x.shape[0] // 2 * 2, x.shape[1] // 2 * 2
    x = x[:h, :w]
    return np.sqrt((((x[0::2, 0::2] + x[1::2, 1::2] - x[1::2, 0::2] - x[0::2, 1::2]) / 4) ** 2).mean())


def read(path):
    image = cv2.imread(path)
    if image is None:
        sys.exit(f"{path}: missing or unreadable")
    return image.astype(float)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    polyu, runs = sys.argv[1], [a.split("=", 1) for a in sys.argv[2:]]
    names = sorted(os.path.basename(f)[:-4] for f in glob.glob(os.path.join(runs[0][1], "*_real.png")))
    if not names:
        sys.exit(f"{runs[0][1]}: holds no NAME_real.png outputs")
    flat = {}
    for n in names:
        grey = cv2.cvtColor(read(os.path.join(runs[0][1], n + ".png")).astype(np.uint8), cv2.COLOR_BGR2GRAY).astype(float)
        gradient = np.hypot(*np.gradient(cv2.GaussianBlur(grey, (0, 0), 2)))
        flat[n] = gradient < np.median(gradient)
    print(f"{len(names)} photographs; the flat half from {runs[0][0]}")
    print(f"{'strength':>8} {'taken away':>10} {'variation':>9} {'flat half':>9} {'2x2 checker':>11} {'mean shift':>10}")
    for label, folder in runs:
        rows = []
        for n in names:
            noisy, out = read(os.path.join(polyu, n + ".JPG")), read(os.path.join(folder, n + ".png"))
            rows.append((np.sqrt(((noisy - out) ** 2).mean()), variation(out), variation(out, flat[n]), checker(out), (out - noisy).mean()))
        r = np.mean(rows, axis=0)
        print(f"{label:>8} {r[0]:10.3f} {r[1]:9.4f} {r[2]:9.4f} {r[3]:11.4f} {r[4]:10.3f}")


if __name__ == "__main__":
    main()
