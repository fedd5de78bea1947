"""Summarises the ncu CSVs of scripts/gpu-bench.sh: kernels of one decoding step, by name.

Usage: python3 scripts/ncu-summary.py FILE.csv ...
(ncu --csv --page raw --metrics gpu__time_duration.sum; one file per model.)
"""

import collections
import csv
import sys


def summarise(path):
    header, rows = None, []
    for r in csv.reader(open(path)):
        if not r:
            continue
        if r[0] == "ID":
            header = r
        elif header and r[0].isdigit():
            rows.append(r)
    name = header.index("Kernel Name")
    time = header.index("gpu__time_duration.sum")
    ns = lambda s: float(s.replace(",", ""))
    by_name = collections.defaultdict(lambda: [0, 0.0])
    for r in rows:
        k = by_name[r[name][:70]]
        k[0] += 1
        k[1] += ns(r[time])
    print(f"{path}: {len(rows)} kernels, {sum(ns(r[time]) for r in rows) / 1000:.1f} us of device time")
    for n, (count, t) in sorted(by_name.items(), key=lambda x: -x[1][1]):
        print(f"  {count:4d} {t / 1000:8.1f} us  {n}")


for p in sys.argv[1:]:
    summarise(p)
