#!/usr/bin/python3
"""How close the noise levels `denoise` printed for PolyU's photographs are to the RMS of real minus mean.
Usage: denoiser denoise POLYU_DIR/*_real.JPG -o OUT/ > LOG; /usr/bin/python3 tools/photo/polyu_levels.py LOG
Prints how many of the estimates are within 35% of that RMS (the issue's bar: 80 of 100), the median ratio and range."""
import re
import sys

import cv2
import numpy as np

ratios = []
for line in open(sys.argv[1]):
    m = re.search(r"(/\S+_real\.\w+) -> .*noise level ([0-9.]+)/255 estimated", line)
    if m:
        real = m.group(1)
        noisy, mean = cv2.imread(real).astype(np.float64), cv2.imread(real.replace("_real", "_mean")).astype(np.float64)
        ratios.append(float(m.group(2)) / np.sqrt(np.mean((noisy - mean) ** 2)))
r = np.array(ratios)
print(f"{len(r)} photographs: {int(np.sum(np.abs(r - 1) <= 0.35))} estimates within 35% of the RMS of real minus mean; "
      f"estimate / RMS median {np.median(r):.2f}, range {r.min():.2f}-{r.max():.2f}")
