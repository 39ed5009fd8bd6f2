"""Network exchange from a given start (issue 19): how far two-network sub-MIPs take a
network, pair by pair.

Builds the instance's matrix, takes a start (HiGHS on the whole model for
``--highs-seconds``, one thread; or, with ``--highs-seconds 0``, the greedy start), then runs
``csu_opt.solver.exchange.exchange`` for ``--seconds`` and prints one line per pair (its free
columns, seconds, the network after it) and a closing table: the start, the network after
the exchange, pairs tried and improving, passes, seconds, and the largest row or bound
violation of the final network. Usage::

    python benchmarks/exchange.py instances/england-2013.yaml --highs-seconds 60 --seconds 120
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import csu_opt
from csu_opt.model.index import build_index
from csu_opt.model.matrix import build_matrix
from csu_opt.solver import alternate, exchange
from csu_opt.solver.highs import pass_to_highs, quiet_highs
from csu_opt.solver.start import greedy_start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("instance", type=Path)
    ap.add_argument("--highs-seconds", type=float, default=60.0, help="0: the greedy start")
    ap.add_argument("--seconds", type=float, default=120.0, help="the exchange's time limit")
    args = ap.parse_args()
    ix = build_index(csu_opt.load_instance(args.instance))
    mm = build_matrix(ix)
    if args.highs_seconds > 0:
        h = quiet_highs({"threads": 1, "time_limit": args.highs_seconds})
        pass_to_highs(h, mm)
        h.run()
        start = np.asarray(h.getSolution().col_value)[mm.highs_col]
        print(f"HiGHS, {args.highs_seconds:.0f} s: bound {h.getInfo().mip_dual_bound:,.2f}")
    else:
        got = greedy_start(ix, mm)
        if got is None:
            raise SystemExit("no greedy start: give --highs-seconds")
        start = got
    print(f"start {mm.cost(start):,.2f}", flush=True)
    inner = exchange.solve_free

    def shown(*a: object, **k: object) -> tuple[np.ndarray | None, bool]:
        t = time.perf_counter()
        got, stopped = inner(*a, **k)  # type: ignore[arg-type]
        cost = "-" if got is None else f"{mm.cost(got):,.2f}"
        print(f"  pair: {len(a[3]):,} free columns, {time.perf_counter() - t:.2f} s, {cost}")  # type: ignore[arg-type]
        return got, stopped

    exchange.solve_free = shown  # type: ignore[assignment]
    t = time.perf_counter()
    out = exchange.exchange(mm, alternate.shape_of(ix, mm.demand_scale), start, args.seconds)
    seconds = time.perf_counter() - t
    kinds = "/".join(exchange.KINDS)
    print(f"\n| start | after | tried ({kinds}) | improving | passes | seconds | violation |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {mm.cost(start):,.2f} | {out.objective:,.2f} "
        f"| {'/'.join(str(out.tried[k]) for k in exchange.KINDS)} "
        f"| {'/'.join(str(out.improved[k]) for k in exchange.KINDS)} "
        f"| {out.passes} | {seconds:.1f} | {mm.violation(out.network):.1e} |"
    )


if __name__ == "__main__":
    main()
