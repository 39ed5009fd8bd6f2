"""Network exchange from a given start (issue 19): how far two-network sub-MIPs take a
network, pair by pair.

Builds the instance's matrix, takes a start (HiGHS on the whole model for
``--highs-seconds``, one thread; or, with ``--highs-seconds 0``, the greedy start), then runs
``csu_opt.solver.exchange.exchange`` for ``--seconds`` and prints one line per sub-MIP (its free
columns, seconds, whether it found a cheaper solution) and a closing table: the start, the
network after the exchange, groups tried and improving by kind, passes, seconds, and the
largest row or bound violation of the final network. ``--start FILE.npy`` starts from a saved
network (layout order) instead; ``--workers N`` runs N sub-MIPs at once on worker processes
(no per-sub-MIP lines then). Each better network is printed with its time. Usage::

    python benchmarks/exchange.py instances/england-2013.yaml --highs-seconds 60 --seconds 120
    python benchmarks/exchange.py instances/england-2013.yaml --start net.npy --workers 2
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

import csu_opt
from csu_opt.model.index import build_index
from csu_opt.model.matrix import build_matrix
from csu_opt.solver import alternate, exchange
from csu_opt.solver.highs import pass_to_highs, quiet_highs
from csu_opt.solver.start import greedy_start
from csu_opt.solver.submip import SubEnd, SubMIP, SubPool


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("instance", type=Path)
    ap.add_argument("--highs-seconds", type=float, default=60.0, help="0: the greedy start")
    ap.add_argument("--seconds", type=float, default=120.0, help="the exchange's time limit")
    ap.add_argument("--start", type=Path, help="a saved network (.npy, layout order)")
    ap.add_argument("--save", type=Path, help="save the start network here (.npy)")
    ap.add_argument("--workers", type=int, default=1, help="sub-MIPs at once")
    args = ap.parse_args()
    ix = build_index(csu_opt.load_instance(args.instance))
    mm = build_matrix(ix)
    if args.start is not None:
        start = np.load(args.start)
    elif args.highs_seconds > 0:
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
    if args.save is not None:
        np.save(args.save, start)
    print(f"start {mm.cost(start):,.2f}", flush=True)
    inner = exchange.solve_sub

    def shown(sub: SubMIP, *a: Any) -> SubEnd:
        t = time.perf_counter()
        end = inner(sub, *a)
        found = "-" if end.values is None else "cheaper"
        print(f"  sub-MIP: {sub.n_cols:,} free columns, {time.perf_counter() - t:.2f} s, {found}")
        return end

    exchange.solve_sub = shown  # type: ignore[assignment]
    shape = alternate.shape_of(ix, mm.demand_scale)
    t = time.perf_counter()

    def better(cost: float) -> None:
        print(f"  {time.perf_counter() - t:7.1f} s: network {cost:,.2f}", flush=True)

    if args.workers > 1:
        with SubPool(args.workers) as pool:
            out = exchange.exchange(mm, shape, start, args.seconds, on_better=better, pool=pool)
    else:
        out = exchange.exchange(mm, shape, start, args.seconds, on_better=better)
    seconds = time.perf_counter() - t
    kinds = "/".join(exchange.KINDS)
    print(
        f"\n| workers | start | after | tried ({kinds}) | improving | passes | seconds "
        "| stale | violation |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {out.workers} | {mm.cost(start):,.2f} | {out.objective:,.2f} "
        f"| {'/'.join(str(out.tried[k]) for k in exchange.KINDS)} "
        f"| {'/'.join(str(out.improved[k]) for k in exchange.KINDS)} "
        f"| {out.passes} | {seconds:.1f} | {out.stale} | {mm.violation(out.network):.1e} |"
    )


if __name__ == "__main__":
    main()
