#!/usr/bin/python3
"""A row per PolyU photograph, four crops side by side: the noisy shot, OpenCV's coloured non-local means at the set's
best h (4), Denoiser's output, and the mean of many shots; each captioned with its PSNR on the crop (RGB, 8-bit).
Usage: /usr/bin/python3 tools/photo/polyu_crops.py POLYU_DIR DENOISED_DIR OUT.png NAME:X,Y[,SIDE]...
NAME is the part before _real.JPG; DENOISED_DIR holds NAME_real.png (`denoiser denoise POLYU_DIR/*_real.JPG -o DIR/`).
Crops are shown at 2x (nearest), so the noise is visible on a screen. Needs python3-opencv and python3-pil."""
import os
import sys

import cv2
import numpy as np
from PIL import Image, ImageDraw


def psnr(a, b):
    return 10 * np.log10(255.0 ** 2 / np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))


def main():
    polyu, denoised, out, specs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    rows = []
    for spec in specs:
        name, box = spec.split(":")
        x, y, *rest = (int(v) for v in box.split(","))
        side = rest[0] if rest else 128
        noisy = cv2.imread(os.path.join(polyu, name + "_real.JPG"))
        clean = cv2.imread(os.path.join(polyu, name + "_mean.JPG"))
        ours = cv2.imread(os.path.join(denoised, name + "_real.png"))
        nlm = cv2.fastNlMeansDenoisingColored(noisy, None, 4, 4, 7, 21)  # on the whole photograph, as a user runs it
        cells = []
        for label, img in [("noisy shot", noisy), ("OpenCV NL-means, h 4", nlm), ("Denoiser photo-rgb", ours), ("mean of many shots", clean)]:
            crop, ref = img[y:y + side, x:x + side], clean[y:y + side, x:x + side]
            caption = label if img is clean else f"{label}: {psnr(crop, ref):.2f} dB"
            tile = Image.fromarray(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)).resize((2 * side, 2 * side), Image.NEAREST)
            cell = Image.new("RGB", (2 * side, 2 * side + 18), "white")
            cell.paste(tile, (0, 18))
            ImageDraw.Draw(cell).text((4, 3), caption, fill="black")
            cells.append(cell)
        row = Image.new("RGB", (sum(c.width for c in cells) + 6 * (len(cells) - 1), cells[0].height + 16), "white")
        ImageDraw.Draw(row).text((4, 2), name, fill="black")
        for k, cell in enumerate(cells):
            row.paste(cell, (k * (cell.width + 6), 16))
        rows.append(row)
    sheet = Image.new("RGB", (max(r.width for r in rows), sum(r.height for r in rows)), "white")
    top = 0
    for r in rows:
        sheet.paste(r, (0, top))
        top += r.height
    sheet.save(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
