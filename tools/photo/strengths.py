#!/usr/bin/python3
"""One photograph at several `denoise --strength` values, cropped and side by side with the clean reference, each
captioned with its strength, the level `denoise` gave the model, and its PSNR on the crop.
Usage: /usr/bin/python3 tools/photo/strengths.py DENOISER NOISY CLEAN X,Y[,SIDE] OUT.png STRENGTH...
Needs python3-opencv and python3-pil."""
import re
import subprocess
import sys
import tempfile

import cv2
import numpy as np
from PIL import Image, ImageDraw

denoiser, noisy_path, clean_path, box, out, strengths = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:]
x, y, *rest = (int(v) for v in box.split(","))
side = rest[0] if rest else 160
clean = cv2.imread(clean_path)


def cell(img, caption):
    crop = img[y:y + side, x:x + side]
    tile = Image.fromarray(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)).resize((2 * side, 2 * side), Image.NEAREST)
    c = Image.new("RGB", (2 * side, 2 * side + 18), "white")
    c.paste(tile, (0, 18))
    ImageDraw.Draw(c).text((4, 3), caption, fill="black")
    return c


def psnr(img):
    a, b = img[y:y + side, x:x + side].astype(np.float64), clean[y:y + side, x:x + side].astype(np.float64)
    return 10 * np.log10(255.0 ** 2 / np.mean((a - b) ** 2))


noisy = cv2.imread(noisy_path)
cells = [cell(noisy, f"noisy: {psnr(noisy):.2f} dB")]
with tempfile.TemporaryDirectory() as tmp:
    for s in strengths:
        target = f"{tmp}/out-{s}.png"
        run = subprocess.run([denoiser, "denoise", noisy_path, "-o", target, "--strength", s], capture_output=True, text=True, check=True)
        level = re.search(r"noise level ([0-9.]+)/255", run.stdout).group(1)
        img = cv2.imread(target)
        cells.append(cell(img, f"--strength {s} (level {level}): {psnr(img):.2f} dB"))
cells.append(cell(clean, "mean of many shots"))
sheet = Image.new("RGB", (sum(c.width for c in cells) + 6 * (len(cells) - 1), cells[0].height), "white")
for k, c in enumerate(cells):
    sheet.paste(c, (k * (c.width + 6), 0))
sheet.save(out)
print(f"wrote {out}")
