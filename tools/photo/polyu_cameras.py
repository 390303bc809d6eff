#!/usr/bin/python3
"""PolyU by camera: each camera's mean PSNR (RGB, 8 bits, real against mean) for the noisy input, for each folder of
denoised outputs given (NAME_real.png as `denoiser denoise in/*_real.JPG -o out/` names them), and OpenCV's coloured
non-local means at the h best for that camera (template 7, search 21; h from --nlm), with how many of the camera's
photographs each folder loses to it. `evaluate --images polyu` prints the same table for one model; this compares runs.

Usage: /usr/bin/python3 tools/photo/polyu_cameras.py POLYU_DIR NAME=DENOISED_DIR... [--nlm 3,4,5,6,7]
"""
import glob
import os
import sys
from collections import defaultdict

import cv2
import numpy as np


def psnr(a, b):
    return 10 * np.log10(255.0 ** 2 / np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--") and "," not in a]
    hs = [float(h) for h in (sys.argv[sys.argv.index("--nlm") + 1].split(",") if "--nlm" in sys.argv else "3,4,5,6,7".split(","))]
    polyu, runs = args[0], dict(a.split("=", 1) for a in args[1:])
    scores = defaultdict(lambda: defaultdict(list))  # camera -> column -> per-photo PSNR
    for real in sorted(glob.glob(os.path.join(polyu, "*_real.*"))):
        stem = os.path.basename(real).rsplit("_real", 1)[0]
        camera = stem.split("_")[0]
        noisy, clean = cv2.imread(real), cv2.imread(glob.glob(os.path.join(polyu, stem + "_mean.*"))[0])
        scores[camera]["noisy"].append(psnr(noisy, clean))
        name = os.path.splitext(os.path.basename(real))[0]
        for run, folder in runs.items():
            found = [p for p in (os.path.join(folder, name + e) for e in (".png", ".denoised.png")) if os.path.exists(p)]
            scores[camera][run].append(psnr(cv2.imread(found[0]), clean))
        for h in hs:
            scores[camera][f"h{h:g}"].append(psnr(cv2.fastNlMeansDenoisingColored(noisy, None, h, h, 7, 21), clean))
    header = ["camera", "photos", "noisy"] + list(runs) + ["OpenCV best h"] + [f"{r} lost" for r in runs]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    totals = defaultdict(list)
    for camera, cols in sorted(scores.items()):
        best = max(hs, key=lambda h: np.mean(cols[f"h{h:g}"]))
        nlm = cols[f"h{best:g}"]
        row = [camera, str(len(nlm)), f"{np.mean(cols['noisy']):.2f}"] + [f"{np.mean(cols[r]):.2f}" for r in runs]
        row += [f"{np.mean(nlm):.2f} (h {best:g})"] + [str(sum(a < b for a, b in zip(cols[r], nlm))) for r in runs]
        print("| " + " | ".join(row) + " |")
        for key, values in cols.items():
            totals[key] += values
    best = max(hs, key=lambda h: np.mean(totals[f"h{h:g}"]))
    print("| all | %d | %.2f | %s | %.2f (h %g) | |" % (len(totals["noisy"]), np.mean(totals["noisy"]),
                                                      " | ".join(f"{np.mean(totals[r]):.2f}" for r in runs), np.mean(totals[f"h{best:g}"]), best))


if __name__ == "__main__":
    main()
