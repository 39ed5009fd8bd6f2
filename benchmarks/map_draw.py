"""How long the map of England's 211 CCGs takes to draw (issue 18): reading the boundaries,
building the figure, writing PNG and SVG.

The map is of the 211 real CCGs of April 2013 (instances/data/nhs-england-2013), placed in
``--networks`` networks by a k-means of their shapes' centres (deterministic), so that the
borders between networks are many and irregular, as in a solved England instance; no solve
is involved, only drawing. Each step is timed ``--repeat`` times (reading the file with an
empty cache each time); the minimum and median are printed. The SVG is checked to hold one
shape per CCG.

    .venv/bin/python benchmarks/map_draw.py --out /tmp/england-map.png
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

from csu_opt.instance.boundaries import Boundaries
from csu_opt.instance.geo import clear_cache, read_shapes
from csu_opt.present.plots_map import MapData, ccg_map_figure

DATA = Path(__file__).resolve().parents[1] / "instances/data/nhs-england-2013"
ATTRIBUTION = (DATA / "README.md").read_text(encoding="utf-8").split("\n\n")[1]


def england(networks: int) -> MapData:
    with (DATA / "ccg_apr_2013.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    path = DATA / "ccg2013_boundaries.topojson"
    shapes = read_shapes(path)
    centre = np.array(
        [np.concatenate(shapes.rings[shapes.index[r["CCG13CD"]]]).mean(0) for r in rows]
    )
    # k-means (Lloyd), started from CCGs spread along the list, 30 rounds
    means = centre[np.linspace(0, len(centre) - 1, networks).astype(int)]
    for _ in range(30):
        label = np.argmin(((centre[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
        means = np.array([centre[label == k].mean(0) for k in range(networks)])
    leads = [f"L{k + 1:02d}" for k in range(networks)]
    ccgs = pd.DataFrame(
        {
            "ccg": [r["CCG13CDH"] for r in rows],
            "name": [r["CCG13NM"] for r in rows],
            "region": "England",
            "lead": [leads[k] for k in label],
            "split": False,
        }
    )
    bounds = Boundaries(
        path=str(path.resolve()),
        feature_of={r["CCG13CDH"]: r["CCG13CD"] for r in rows},
        attribution=ATTRIBUTION,
    )
    return MapData(ccgs, leads, {lead: f"Network {lead}" for lead in leads}, bounds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--networks", type=int, default=12)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--dpi", type=int, default=110)
    ap.add_argument("--out", type=Path, help="also save the map here (PNG or SVG)")
    args = ap.parse_args()
    data = england(args.networks)
    blocks = [("Subcontractors (0), by network:", ["none"]), ("Exits (0; 0 staff):", ["none"])]
    times: dict[str, list[float]] = {"read": [], "figure": [], "png": [], "svg": []}
    svg = ""
    for _ in range(args.repeat):
        clear_cache()
        t0 = time.perf_counter()
        data.boundaries.shapes()  # type: ignore[union-attr]
        t1 = time.perf_counter()
        fig = ccg_map_figure(data, "England's 211 CCGs in networks (k-means)", blocks, ATTRIBUTION)
        t2 = time.perf_counter()
        fig.savefig(io.BytesIO(), format="png", dpi=args.dpi)
        t3 = time.perf_counter()
        buf = io.StringIO()
        fig.savefig(buf, format="svg")
        t4 = time.perf_counter()
        svg = buf.getvalue()
        for key, dt in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            times[key].append(dt)
    shapes = len(re.findall(r'<g id="ccg:', svg))
    print(f"{len(data.ccgs)} CCGs, {args.networks} networks, {args.repeat} repeats (s)")
    for key, ts in times.items():
        print(f"  {key:<7} min {min(ts):.3f}  median {statistics.median(ts):.3f}")
    total = [sum(t) for t in zip(*times.values(), strict=True)]
    print(f"  total   min {min(total):.3f}  median {statistics.median(total):.3f}")
    print(f"SVG: {len(svg) / 1e6:.2f} MB, {shapes} CCG shapes")
    if args.out:
        ccg_map_figure(
            data, "England's 211 CCGs in networks (k-means)", blocks, ATTRIBUTION
        ).savefig(args.out, dpi=args.dpi)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
