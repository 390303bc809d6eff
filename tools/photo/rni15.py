#!/usr/bin/python3
"""Real noisy photographs (RNI15, no clean version) before and after the shipped photo model, as one JPEG for the docs:
a row per image, the input left and Denoiser's output right, captioned with the noise level `denoise` estimated.
Usage: /usr/bin/python3 tools/photo/rni15.py DENOISER RNI15_DIR OUT.jpg NAME... [-- DENOISE_OPTIONS...]"""
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

args = sys.argv[1:]
extra = args[args.index("--") + 1:] if "--" in args else []
args = args[:args.index("--")] if "--" in args else args
denoiser, folder, out, names = args[0], Path(args[1]), args[2], args[3:]
rows = []
with tempfile.TemporaryDirectory() as tmp:
    for name in names:
        target = Path(tmp) / (Path(name).stem + ".png")
        run = subprocess.run([denoiser, "denoise", str(folder / name), "-o", str(target), "--pretrained", "photo"] + extra,
                             capture_output=True, text=True, check=True)
        level = re.search(r"noise ~([0-9.]+)/255", run.stdout).group(1)
        before, after = Image.open(folder / name).convert("RGB"), Image.open(target).convert("RGB")
        rows.append((f"{name}: noise ~{level}/255 estimated", before, after))
width = max(b.width * 2 + 8 for _, b, _ in rows)
height = sum(b.height + 24 for _, b, _ in rows)
sheet = Image.new("RGB", (width, height), "white")
draw = ImageDraw.Draw(sheet)
y = 0
for caption, before, after in rows:
    draw.text((4, y + 5), caption + "   (left: input, right: Denoiser's photo model)", fill="black")
    sheet.paste(before, (0, y + 24))
    sheet.paste(after, (before.width + 8, y + 24))
    y += before.height + 24
sheet.save(out, quality=88)
