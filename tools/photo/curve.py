#!/usr/bin/python3
"""PSNR on BSD68 at sigma 25 against training minutes, one line per run, from tools/photo/snapshots.sh's CSV.
Usage: /usr/bin/python3 tools/photo/curve.py curve.csv docs/photo-psnr-minutes.png [MAX_MINUTES]
(with MAX_MINUTES, only the points up to that time: the equal-time comparison's window)"""
import csv
import sys
from collections import defaultdict

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

limit = float(sys.argv[3]) if len(sys.argv) > 3 else float("inf")
runs = defaultdict(list)
with open(sys.argv[1]) as f:
    for label, epoch, minutes, psnr in csv.reader(f):
        if float(minutes) <= limit:
            runs[label].append((float(minutes), float(psnr)))
fig, ax = plt.subplots(figsize=(7.2, 4.2), dpi=100)
for label, points in runs.items():
    points.sort()
    ax.plot([m for m, _ in points], [p for _, p in points], marker="o", label=label)
for name, value, style in [("BM3D (published) 28.57", 28.57, ":"), ("the bar: 29.0", 29.0, "-."), ("DnCNN-S (published) 29.23", 29.23, "--")]:
    ax.axhline(value, color="grey", linestyle=style, linewidth=1)
    ax.text(min(m for points in runs.values() for m, _ in points), value + 0.03, name, color="grey", fontsize=8)
if limit == float("inf"):
    ax.axvline(120, color="grey", linestyle="-.", linewidth=1)
    ax.text(119, 29.08, "2 hours", color="grey", fontsize=8, ha="right")
ax.set_xlabel("training wall time on 2 CPU cores (minutes)")
ax.set_ylabel("BSD68 PSNR at sigma 25 (dB)")
ax.grid(alpha=0.3)
ax.legend(loc="lower right" if limit == float("inf") else "center right")
fig.tight_layout()
fig.savefig(sys.argv[2])
