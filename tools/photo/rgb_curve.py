#!/usr/bin/python3
"""photo-rgb's PSNR against training minutes: PolyU (through `denoise`, no options) and CBSD68 sigma 25 (told sigma) at
the checkpoints measured, and the held-out validation PSNR of every epoch from the runs' metrics.csv.
Usage: /usr/bin/python3 tools/photo/rgb_curve.py POINTS.csv OUT.png STAGE_METRICS.csv[=OFFSET_MINUTES]...
POINTS.csv: label,minutes,polyu_db,cbsd68_db (one row per checkpoint); a metrics.csv's OFFSET is the minutes of training
before that run started (its stage's start). Reference lines: OpenCV's best h on PolyU, CBM3D on CBSD68."""
import csv
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

points, out, runs = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = list(csv.DictReader(open(points)))
fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
for ax, key, title, ref, ref_label in [
        (axes[0], "polyu_db", "PolyU, 100 real photographs (denoise, no options)", 37.47, "OpenCV coloured NL-means, best h (4): 37.47"),
        (axes[1], "cbsd68_db", "CBSD68, Gaussian sigma 25, told sigma", 30.71, "CBM3D (published): 30.71")]:
    xs, ys = [float(r["minutes"]) for r in rows], [float(r[key]) for r in rows]
    ax.plot(xs, ys, "o-", color="tab:blue", label="photo-rgb")
    for r, x, y in zip(rows, xs, ys):
        ax.annotate(f"{y:.2f}\n{r['label']}", (x, y), textcoords="offset points", xytext=(0, 8), ha="center", fontsize=8)
    ax.axhline(ref, color="tab:red", ls="--", label=ref_label)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("training minutes (2 CPU cores)")
    ax.set_ylabel("PSNR (dB)")
    ax.set_xlim(0, max(xs) * 1.1)
    lo, hi = min(ys + [ref]), max(ys + [ref])
    ax.set_ylim(lo - 0.3, hi + 0.3)
    ax.legend(loc="lower right", fontsize=8)
for k, spec in enumerate(runs):
    path, offset = (spec.split("=") + ["0"])[:2]
    minutes, psnr = float(offset), []
    xs = []
    for r in csv.DictReader(open(path)):
        minutes += float(r["seconds"]) / 60
        xs.append(minutes)
        psnr.append(float(r["test_psnr_db"]))
    axes[2].plot(xs, psnr, ".-", label=f"stage {k + 1} (its own validation noise)")
axes[2].set_title("held-out CBSD432 crops (mixed noise), every epoch", fontsize=10)
axes[2].set_xlabel("training minutes (2 CPU cores)")
axes[2].set_ylabel("PSNR (dB)")
axes[2].legend(loc="lower right", fontsize=8)
fig.tight_layout()
fig.savefig(out, dpi=90)
print(f"wrote {out}")
