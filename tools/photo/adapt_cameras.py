#!/usr/bin/python3
"""adapt by camera on PolyU: for each camera, `denoiser adapt` on its noisy crops for MINUTES, then `denoise` the same
crops with the adapted run and with the shipped default, and score both against the clean versions (RGB, 8 bits).
Prints one markdown row per camera and the mean over cameras; the adapted runs stay in OUT/CAMERA/run.

Usage: /usr/bin/python3 tools/photo/adapt_cameras.py POLYU_DIR OUT [--minutes 4] [--cameras Canon5D2,Sony] [--denoiser PATH] [-- ADAPT_OPTIONS...]
"""
import glob
import json
import os
import subprocess
import sys

import cv2
import numpy as np


def psnr(a, b):
    return 10 * np.log10(255.0 ** 2 / np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))


def option(name, default):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def main():
    polyu, out = sys.argv[1], sys.argv[2]
    extra = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    minutes = option("--minutes", "4")
    denoiser = option("--denoiser", "src/Denoiser/bin/Release/net10.0/denoiser")
    reals = sorted(glob.glob(os.path.join(polyu, "*_real.*")))
    cameras = sorted({os.path.basename(r).split("_")[0] for r in reals})
    if "--cameras" in sys.argv:
        cameras = option("--cameras", "").split(",")
    print("| camera | photos | noisy | shipped default | adapted | gain | held-out verdict (base -> adapted) | kept |")
    print("|---|---|---|---|---|---|---|---|")
    gains = []
    for camera in cameras:
        folder = os.path.join(out, camera)
        photos = os.path.join(folder, "photos")
        os.makedirs(photos, exist_ok=True)
        mine = [r for r in reals if os.path.basename(r).split("_")[0] == camera]
        for r in mine:
            link = os.path.join(photos, os.path.basename(r))
            if not os.path.exists(link):
                os.symlink(os.path.abspath(r), link)
        run = os.path.join(folder, "run")
        subprocess.run([denoiser, "adapt", photos, "--run-dir", run, "--minutes", minutes, "--overwrite"] + extra, check=True, stdout=subprocess.DEVNULL)
        for name, model in (("shipped", ["--pretrained", "photo-rgb"]), ("adapted", ["--checkpoint", os.path.join(run, "best.ckpt")])):
            subprocess.run([denoiser, "denoise", photos, "-o", os.path.join(folder, name), "--overwrite"] + model, check=True, stdout=subprocess.DEVNULL)
        scores = {"noisy": [], "shipped": [], "adapted": []}
        for r in mine:
            stem = os.path.basename(r).rsplit("_real", 1)[0]
            clean = cv2.imread(glob.glob(os.path.join(polyu, stem + "_mean.*"))[0])
            scores["noisy"].append(psnr(cv2.imread(r), clean))
            for name in ("shipped", "adapted"):
                scores[name].append(psnr(cv2.imread(os.path.join(folder, name, os.path.splitext(os.path.basename(r))[0] + ".png")), clean))
        record = json.load(open(os.path.join(run, "adapted.json")))
        m = {k: float(np.mean(v)) for k, v in scores.items()}
        gains.append(m["adapted"] - m["shipped"])
        print(f"| {camera} | {len(mine)} | {m['noisy']:.2f} | {m['shipped']:.2f} | {m['adapted']:.2f} | {m['adapted'] - m['shipped']:+.2f} | "
              f"{record['BasePsnr']:.2f} -> {record['AdaptedPsnr']:.2f} ({record['Steps']} steps) | {'yes' if record['Kept'] else 'no'} |", flush=True)
    print(f"\nmean gain over {len(gains)} cameras: {np.mean(gains):+.2f} dB; worst camera: {min(gains):+.2f} dB")


if __name__ == "__main__":
    main()
