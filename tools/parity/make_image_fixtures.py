#!/usr/bin/python3
"""Writes small image fixtures made by another codec (Pillow): a JPEG whose EXIF orientation says "rotate 90 degrees
clockwise" with the picture a viewer shows as PNG beside it, and a lossless WebP. Run with /usr/bin/python3."""
import numpy as np
from PIL import Image, ImageOps

from make_fixture import FIXTURES

stored = np.zeros((20, 30), np.uint8)        # 30 wide, 20 high as stored
stored[:10, :15] = 250                       # a bright top-left quadrant
stored[10:, 15:] = 120                       # a grey bottom-right quadrant
image = Image.fromarray(stored, "L")
exif = Image.Exif()
exif[0x0112] = 6                             # Orientation: RightTop (rotate 90 CW to view)
image.save(FIXTURES / "exif-orientation-6.jpg", quality=100, exif=exif)
ImageOps.exif_transpose(Image.open(FIXTURES / "exif-orientation-6.jpg")).save(FIXTURES / "exif-orientation-6.expected.png")

rgba = np.zeros((12, 16, 4), np.uint8)
rgba[..., 0] = np.arange(16) * 15
rgba[..., 1] = np.arange(12)[:, None] * 20
rgba[..., 2] = 90
rgba[..., 3] = 200
Image.fromarray(rgba, "RGBA").save(FIXTURES / "pillow-lossless.webp", lossless=True)
print("wrote exif-orientation-6.jpg, exif-orientation-6.expected.png, pillow-lossless.webp")
