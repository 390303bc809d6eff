#!/usr/bin/python3
"""Real noisy photographs (RNI15, no clean version) before and after Denoiser's models, as one JPEG for the docs: a row
per image, the input first and then one column per model, each captioned with the noise level `denoise` estimated.
Usage: /usr/bin/python3 tools/photo/rni15.py DENOISER RNI15_DIR OUT.jpg NAME... [--column "LABEL=DENOISE OPTIONS"]...
Without --column: one column, "photo model=--pretrained photo". {stem} in a column's options is each image's name
without its extension, e.g. --column "adapted=--checkpoint runs/{stem}/best.ckpt"."""
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

args = sys.argv[1:]
columns = []
while "--column" in args:
    i = args.index("--column")
    label, options = args[i + 1].split("=", 1)
    columns.append((label, shlex.split(options)))
    del args[i:i + 2]
columns = columns or [("photo model", ["--pretrained", "photo"])]
denoiser, folder, out, names = args[0], Path(args[1]), args[2], args[3:]
rows = []
with tempfile.TemporaryDirectory() as tmp:
    for name in names:
        outputs, level = [], None
        for k, (label, options) in enumerate(columns):
            target = Path(tmp) / f"{Path(name).stem}-{k}.png"
            # {stem} in a column's options is the image's name without its extension (a model adapted to each image).
            run = subprocess.run([denoiser, "denoise", str(folder / name), "-o", str(target)] + [o.replace("{stem}", Path(name).stem) for o in options],
                                 capture_output=True, text=True, check=True)
            # A blind model's line gives the white-noise estimate ("noise ~L/255"); a model told the level, the level it was given.
            found = re.search(r"noise ~([0-9.]+)/255", run.stdout) or re.search(r"noise level ([0-9.]+)/255", run.stdout)
            level = level or found.group(1)
            outputs.append(Image.open(target).convert("RGB"))
        rows.append((f"{name}: noise ~{level}/255 estimated", Image.open(folder / name).convert("RGB"), outputs))
gap = 8
width = max(b.width * (1 + len(columns)) + gap * len(columns) for _, b, _ in rows)
height = sum(b.height + 24 for _, b, _ in rows)
sheet = Image.new("RGB", (width, height), "white")
draw = ImageDraw.Draw(sheet)
y = 0
legend = "input, " + ", ".join(label for label, _ in columns)
for caption, before, outputs in rows:
    draw.text((4, y + 5), f"{caption}   (left to right: {legend})", fill="black")
    for k, image in enumerate([before] + outputs):
        sheet.paste(image, (k * (before.width + gap), y + 24))
    y += before.height + 24
sheet.save(out, quality=88)
