"""The national LP's two methods side by side (issue 19, section 2): column generation against
HiGHS's first-order LP (PDLP), each followed by the Lagrangian ascent.

Generates a market (``csu_opt.instance.generate``, 5 lines) and, one thread each, one after
the other:

* ``colgen``: ``lp.network_lp`` from the greedy start for ``--lp-limit`` seconds, its best
  round's bound, then ``lagrange.ascend`` from that round's multipliers for ``--ascent``
  seconds towards the lower of the last restricted LP's objective and the greedy start's cost;
* ``first-order``: ``first_order.first_order_lp`` (its worker process) within the same limit,
  the bound at its duals, then the same ascent towards the lower of its objective (when above
  that bound) and the greedy start's cost.

Prints, per method: the LP's seconds and status, the bound at its duals, the bound after the
ascent and the whole time. Every bound is the Lagrangian's, valid at any multipliers. Usage::

    python benchmarks/first_order.py --size 200x2000 [--seed 0] [--lp-limit 900] [--ascent 180]
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
from csu_opt.solver.first_order import first_order_lp
from csu_opt.solver.lagrange import ascend, bound_from_duals
from csu_opt.solver.lp import network_lp
from csu_opt.solver.start import greedy_start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="200x2000", help="providers x CCGs, e.g. 500x7000")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lp-limit", type=float, default=900.0, help="each LP's seconds")
    ap.add_argument("--ascent", type=float, default=180.0, help="the ascent's seconds")
    args = ap.parse_args()
    p, c = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        path = generate_to_folder(Path(tmp), p, c, lines=5, seed=args.seed)
        ix = build_index(csu_opt.load_instance(path))
    mm = build_matrix(ix)
    bounds = bound_from_duals(ix, mm)
    start = greedy_start(ix, mm)
    assert start is not None, "the greedy start found no network"
    cap = mm.cost(start)
    print(f"{args.size} seed {args.seed}: {mm.nnz:,} nonzeros, greedy start {cap:,.2f}")
    rows: list[str] = []

    def row(
        name: str, t0: float, status: str, found: float | None, y: np.ndarray | None, target: float
    ) -> None:
        lp_s = time.perf_counter() - t0
        if found is None or y is None:
            rows.append(f"| {name} | {lp_s:.1f} | {status} | none | none | {lp_s:.1f} |")
            return
        up = ascend(bounds.data, bounds.best_of(y)[1], target, seconds=args.ascent)
        whole = time.perf_counter() - t0
        rows.append(
            f"| {name} | {lp_s:.1f} | {status} | {found:,.2f} | {up.bound:,.2f} | {whole:.1f} |"
        )
        print(rows[-1], flush=True)

    t0 = time.perf_counter()
    best: list[tuple[float, np.ndarray]] = []

    def kept(y: np.ndarray) -> float:
        found = bounds(y)
        if not best or found > best[0][0]:
            best[:] = [(found, y)]
        return found

    lp = network_lp(
        mm, time_limit=args.lp_limit, highs_options={"threads": 1}, start=start, bound_of=kept
    )
    restricted = lp.objective if lp.objective is not None else lp.partial_objective
    target = cap if restricted is None else min(restricted, cap)
    value, y = best[0] if best else (None, None)
    row("colgen", t0, f"{lp.status}, {lp.rounds} rounds", value, y, target)

    t0 = time.perf_counter()
    fo = first_order_lp(mm, time_limit=args.lp_limit)
    value = None if fo.row_dual is None else bounds(fo.row_dual)
    above = [v for v in (fo.objective, cap) if v is not None and (value is None or v > value)]
    status = f"{fo.status}, {fo.iterations} iterations"
    row("first-order", t0, status, value, fo.row_dual, min(above))

    print("\n| method | LP s | LP | bound at its duals | after the ascent | whole s |")
    print("|---|---:|---|---:|---:|---:|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
