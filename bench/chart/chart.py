#!/usr/bin/env python3
"""Draws docs/benchmarks.svg from BenchmarkDotNet's CSV report of the allocator suite.

    python3 bench/chart/chart.py [REPORT.csv] [OUT.svg]

Defaults: BenchmarkDotNet.Artifacts/results/FastBuddy.Benchmarks.Suite.AllocatorSuite-report.csv and
docs/benchmarks.svg. One group of bars per block size (the categories "order-0 pair (4 KiB)", "order-4 pair
(64 KiB)", "order-8 pair (1 MiB)"), one bar per allocator (the method name's prefix: FastBuddy_4KiB ->
FastBuddy), height = mean ns per alloc+free pair on a logarithmic axis. Standard library only.
"""
import csv
import html
import math
import os
import re
import sys

SIZES = [("4 KiB", "order-0 pair (4 KiB)"), ("64 KiB", "order-4 pair (64 KiB)"), ("1 MiB", "order-8 pair (1 MiB)")]
# Allocator order and colours; allocators not listed here are appended in grey.
ALLOCATORS = [
    ("FastBuddy", "#d62728"),
    ("NativeMemory", "#1f77b4"),
    ("AlignedAlloc", "#6baed6"),
    ("ArrayPool", "#9467bd"),
    ("Mimalloc", "#2ca02c"),
    ("Jemalloc", "#ff7f0e"),
    ("Tcmalloc", "#8c564b"),
]
LABELS = {
    "FastBuddy": "FastBuddy AllocPages/FreePages",
    "NativeMemory": "NativeMemory.Alloc (glibc)",
    "AlignedAlloc": "NativeMemory.AlignedAlloc",
    "ArrayPool": "ArrayPool<byte>.Shared",
    "Mimalloc": "mimalloc",
    "Jemalloc": "jemalloc",
    "Tcmalloc": "tcmalloc",
}
UNITS = {"ns": 1.0, "us": 1e3, "μs": 1e3, "µs": 1e3, "ms": 1e6, "s": 1e9}


def parse_ns(text):
    m = re.match(r"^\s*([0-9][0-9,]*\.?[0-9]*)\s*(ns|us|μs|µs|ms|s)\s*$", text or "")
    if not m:
        return None
    return float(m.group(1).replace(",", "")) * UNITS[m.group(2)]


def read(path):
    """{(size label, allocator): ns} from the CSV."""
    data = {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            category = row.get("Categories", "")
            size = next((s for s, key in SIZES if key in category), None)
            ns = parse_ns(row.get("Mean", ""))
            method = row.get("Method", "")
            if size is None or ns is None or "_" not in method:
                continue
            data[(size, method.split("_", 1)[0])] = ns
    return data


def nice_ticks(lo, hi):
    ticks = []
    decade = 10 ** math.floor(math.log10(lo))
    while decade <= hi * 10:
        for m in (1, 2, 5):
            v = m * decade
            if lo <= v <= hi:
                ticks.append(v)
        decade *= 10
    return ticks


def fmt(ns):
    return f"{ns:.0f}" if ns >= 100 else f"{ns:.1f}"


def draw(data, title):
    names = [a for a, _ in ALLOCATORS if any((s, a) in data for s, _ in SIZES)]
    extra = sorted({a for (_, a) in data} - {a for a, _ in ALLOCATORS})
    names += extra
    colours = dict(ALLOCATORS)
    values = [v for v in data.values() if v > 0]
    lo = 10 ** math.floor(math.log10(min(values)))
    hi = 10 ** math.ceil(math.log10(max(values) * 1.3))

    width, height = 960, 470
    left, right, top, bottom = 70, 260, 50, 60
    plot_w, plot_h = width - left - right, height - top - bottom

    def y(v):
        return top + plot_h - (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="DejaVu Sans, Arial, sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="24" font-size="15" font-weight="bold">{html.escape(title)}</text>',
        f'<text x="{left}" y="40" font-size="11" fill="#555">mean ns per alloc + free pair, one thread, log scale '
        '(lower is better); BenchmarkDotNet, same run</text>',
    ]
    for t in nice_ticks(lo, hi):
        ty = y(t)
        out.append(f'<line x1="{left}" y1="{ty:.1f}" x2="{left + plot_w}" y2="{ty:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end" fill="#333">{t:g}</text>')
    out.append(f'<text x="18" y="{top + plot_h / 2:.0f}" transform="rotate(-90 18 {top + plot_h / 2:.0f})" '
               'text-anchor="middle" fill="#333">ns per pair</text>')
    out.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#333"/>')

    group_w = plot_w / len(SIZES)
    bar_w = min(26, (group_w - 20) / max(len(names), 1))
    for gi, (size, _) in enumerate(SIZES):
        gx = left + gi * group_w + (group_w - bar_w * len(names)) / 2
        for ai, name in enumerate(names):
            v = data.get((size, name))
            bx = gx + ai * bar_w
            if v is None or v <= 0:
                out.append(f'<text x="{bx + bar_w / 2:.1f}" y="{top + plot_h - 4}" text-anchor="middle" '
                           'font-size="9" fill="#999">n/a</text>')
                continue
            by = y(v)
            colour = colours.get(name, "#999999")
            out.append(f'<rect x="{bx + 1:.1f}" y="{by:.1f}" width="{bar_w - 2:.1f}" height="{top + plot_h - by:.1f}" '
                       f'fill="{colour}"><title>{html.escape(LABELS.get(name, name))}, {size}: {v:.2f} ns</title></rect>')
            out.append(f'<text x="{bx + bar_w / 2:.1f}" y="{by - 3:.1f}" text-anchor="middle" font-size="9" '
                       f'fill="#222">{fmt(v)}</text>')
        out.append(f'<text x="{left + gi * group_w + group_w / 2:.1f}" y="{top + plot_h + 20}" text-anchor="middle" '
                   f'font-size="13">{size}</text>')
    lx, ly = left + plot_w + 20, top + 10
    for i, name in enumerate(names):
        out.append(f'<rect x="{lx}" y="{ly + i * 20}" width="12" height="12" fill="{colours.get(name, "#999999")}"/>')
        out.append(f'<text x="{lx + 18}" y="{ly + i * 20 + 10}">{html.escape(LABELS.get(name, name))}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv):
    csv_path = argv[1] if len(argv) > 1 else "BenchmarkDotNet.Artifacts/results/FastBuddy.Benchmarks.Suite.AllocatorSuite-report.csv"
    svg_path = argv[2] if len(argv) > 2 else "docs/benchmarks.svg"
    data = read(csv_path)
    if not data:
        print(f"chart: no pair rows (4 KiB / 64 KiB / 1 MiB categories) in {csv_path}", file=sys.stderr)
        return 1
    svg = draw(data, "FastBuddy vs allocators: one block, allocated and freed")
    os.makedirs(os.path.dirname(os.path.abspath(svg_path)), exist_ok=True)
    with open(svg_path, "w", encoding="utf-8") as f:
        f.write(svg)
    print(f"chart: wrote {svg_path} ({len(data)} bars)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
