"""The Lagrangian ascent against the column generation's rounds (issue 19, section 2).

Generates a national-scale market (``csu_opt.instance.generate``, seed 0, 5 lines), runs the
column generation of the LP relaxation (``lp.network_lp``, one thread) and keeps each round's
duals and bound; then, from each round's multipliers (raw or repaired, whichever is better),
runs the subgradient ascent (``lagrange.ascend``) for the given seconds towards the last
restricted LP's objective and prints, per round: when it ended, its bound, the ascent's bound
and steps. Usage::

    python benchmarks/ascent.py --size 200x2000 --seconds 40 [--lp-limit 900]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

import csu_opt
from csu_opt.instance.generate import generate_to_folder
from csu_opt.model.index import build_index
from csu_opt.model.matrix import build_matrix
from csu_opt.solver.lagrange import ascend, bound_from_duals
from csu_opt.solver.lp import network_lp
from csu_opt.solver.start import greedy_start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="200x2000", help="providers x CCGs, e.g. 500x7000")
    ap.add_argument("--seconds", type=float, default=40.0, help="the ascent's time per round")
    ap.add_argument("--lp-limit", type=float, default=900.0, help="the column generation's")
    args = ap.parse_args()
    p, c = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        path = generate_to_folder(Path(tmp), p, c, lines=5, seed=0)
        ix = build_index(csu_opt.load_instance(path))
    mm = build_matrix(ix)
    bounds = bound_from_duals(ix, mm)
    t0 = time.perf_counter()
    rounds: list[tuple[float, float, np.ndarray]] = []

    def kept(y: np.ndarray) -> float:
        found = bounds(y)
        rounds.append((time.perf_counter() - t0, found, y.copy()))
        print(f"round {len(rounds)} at {rounds[-1][0]:.1f} s: bound {found:,.2f}", flush=True)
        return found

    lp = network_lp(
        mm,
        time_limit=args.lp_limit,
        highs_options={"threads": 1},
        start=greedy_start(ix, mm),
        bound_of=kept,
    )
    target = lp.objective if lp.objective is not None else lp.partial_objective
    print(f"LP: {lp.status}, last restricted LP {target}, {time.perf_counter() - t0:.1f} s")
    if target is None:
        return
    print(f"\n| round | ended (s) | bound | ascent ({args.seconds:.0f} s) | steps |")
    print("|---:|---:|---:|---:|---:|")
    for i, (at, found, y) in enumerate(rounds, start=1):
        got = ascend(bounds.data, bounds.best_of(y)[1], target, seconds=args.seconds)
        print(f"| {i} | {at:.1f} | {found:,.2f} | {got.bound:,.2f} | {got.steps:,} |", flush=True)


if __name__ == "__main__":
    main()
