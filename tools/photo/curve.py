#!/usr/bin/python3
"""PSNR on BSD68 at sigma 25 against training minutes, one line per run, from tools/photo/snapshots.sh's CSVs.
Usage: /usr/bin/python3 tools/photo/curve.py CURVE.csv... OUT.png [--max-minutes M] [--run LABEL]... [--line "TEXT=DB"]...
--max-minutes: only the points up to that time (the equal-time comparison's window); --run: only these runs (default
all; "LABEL -> SHOWN" draws it as SHOWN); --line: the reference lines drawn (default BM3D, the 29.0 bar and DnCNN-S, the supervised photo model's)."""
import argparse
import csv
from collections import defaultdict

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

parser = argparse.ArgumentParser()
parser.add_argument("files", nargs="+")
parser.add_argument("--max-minutes", type=float, default=float("inf"))
parser.add_argument("--run", action="append", default=[])
parser.add_argument("--line", action="append", default=[])
args = parser.parse_args()
*inputs, out = args.files
if len(args.files) < 2 or any("=" not in line for line in args.line):
    parser.error("give at least one CSV and the output picture, and each --line as TEXT=DB")
lines = [(text, float(value)) for text, value in (line.rsplit("=", 1) for line in args.line)] or \
        [("BM3D (published) 28.57", 28.57), ("the bar: 29.0", 29.0), ("DnCNN-S (published) 29.23", 29.23)]
shown = dict(run.split(" -> ", 1) if " -> " in run else (run, run) for run in args.run)
runs = defaultdict(list)
for name in inputs:
    with open(name) as f:
        for label, epoch, minutes, psnr in csv.reader(f):
            if float(minutes) <= args.max_minutes and (not args.run or label in shown):
                runs[shown.get(label, label)].append((float(minutes), float(psnr)))
# Beyond four runs the legend would cover the lines it names: it goes below the plot instead.
below = len(runs) > 4
fig, ax = plt.subplots(figsize=(7.2, 4.2 + (0.22 * ((len(runs) + 1) // 2) + 0.3 if below else 0)), dpi=100)
for label, points in runs.items():
    points.sort()
    ax.plot([m for m, _ in points], [p for _, p in points], marker="o", label=label)
if not runs:
    parser.error("no points: no CSV row matches --run and --max-minutes")
left = min(m for points in runs.values() for m, _ in points)
for (text, value), style in zip(lines, [":", "-.", "--", (0, (1, 3)), (0, (5, 1))]):
    ax.axhline(value, color="grey", linestyle=style, linewidth=1)
    ax.text(left, value + 0.03, text, color="grey", fontsize=8)
if args.max_minutes == float("inf"):
    ax.axvline(120, color="grey", linestyle="-.", linewidth=1)
    ax.text(119, max(v for _, v in lines) + 0.08, "2 hours", color="grey", fontsize=8, ha="right")
ax.set_xlabel("training wall time on 2 CPU cores (minutes)")
ax.set_ylabel("BSD68 PSNR at sigma 25 (dB)")
ax.grid(alpha=0.3)
if below:
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=7.5, frameon=False)
else:
    ax.legend(loc="lower right" if args.max_minutes == float("inf") else "center right")
fig.tight_layout()
fig.savefig(out, bbox_inches="tight" if below else None)
