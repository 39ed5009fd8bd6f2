"""How far is a hard instance's best network from optimal? The Dantzig-Wolfe bound by network.

HiGHS's bound on england-2013 stalls about 0.24% below the best network known
(instances/README.md). This script measures a stronger relaxation, the Dantzig-Wolfe
decomposition with one block per lead (``dw``): it first runs HiGHS on the whole
model for ``--start-time`` seconds (its network seeds the master; its bound is printed for
comparison), then column generation for ``--time-limit`` seconds, printing every
``--every``-th round (the Lagrangian bound at that round's duals, the best so far, the
restricted master's value and its artificial activity) and a summary; then, for
``--master-mip`` seconds, the master with whole λ over the networks found (price-and-branch:
a feasible network, often a good one).

    python benchmarks/dw_bound.py instances/england-2013.yaml --time-limit 1800   # 30 min
    python benchmarks/dw_bound.py instances/demo.yaml --time-limit 60

The bound is valid at every round; the master's value is not a bound while artificials are
active (it is the value of a box-restricted master).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from csu_opt.instance.load import load_instance
from csu_opt.model.index import build_index
from csu_opt.model.matrix import build_matrix
from csu_opt.solver.highs import pass_to_highs, quiet_highs
from dw import Iteration, dw_bound


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("instance", type=Path)
    ap.add_argument("--time-limit", type=float, default=600.0, help="column generation, s")
    ap.add_argument("--start-time", type=float, default=30.0, help="HiGHS's seed run, s")
    ap.add_argument("--box", type=float, default=0.002, help="stabilisation half-width")
    ap.add_argument("--every", type=int, default=5)
    ap.add_argument(
        "--master-mip", type=float, default=120.0, help="price-and-branch afterwards, s (0: off)"
    )
    args = ap.parse_args()

    ix = build_index(load_instance(args.instance))
    mm = build_matrix(ix)
    h = quiet_highs({"threads": 1, "time_limit": args.start_time})
    pass_to_highs(h, mm)
    h.run()
    info = h.getInfo()
    has = info.primal_solution_status == 2
    start = np.asarray(h.getSolution().col_value)[mm.highs_col] if has else None
    best = info.objective_function_value
    network = f"network {best:,.1f}" if has else "no network"
    print(f"HiGHS, {args.start_time:.0f} s: {network}, bound {info.mip_dual_bound:,.1f}")
    head = ["round", "time s", "L(pi)", "bound", "master", "artif.", "networks"]
    widths = [6, 8, 14, 14, 14, 8, 9]
    print(" ".join(f"{h:>{w}}" for h, w in zip(head, widths, strict=True)))

    def show(r: Iteration) -> None:
        if r.iteration % args.every == 0:
            print(
                f"{r.iteration:>6} {r.time_s:>8.0f} {r.lagrangian:>14,.1f} {r.bound:>14,.1f}"
                f" {r.master:>14,.1f} {r.artificial:>8.3g} {r.columns:>9}",
                flush=True,
            )

    t0 = time.perf_counter()
    res = dw_bound(
        ix,
        time_limit=args.time_limit,
        box=args.box,
        start=start,
        on_iteration=show,
        master_mip_time=args.master_mip,
    )
    versus = f"; gap to HiGHS's network {100 * (best - res.bound) / best:.3f}%" if has else ""
    print(
        f"LP bound {res.lp_bound:,.1f}; Dantzig-Wolfe bound {res.bound:,.1f} "
        f"({'converged' if res.converged else 'not converged'}, {len(res.history)} rounds, "
        f"{time.perf_counter() - t0:.0f} s); master {res.master:,.1f}{versus}"
    )
    if args.master_mip > 0:
        found = res.history[-1].columns if res.history else 0
        if res.network is None:
            print(f"price-and-branch over the {found} networks: none in {args.master_mip:.0f} s")
        else:
            print(
                f"price-and-branch over the {found} networks: {res.network_cost:,.1f} "
                f"(largest violation {mm.violation(res.network):.1e})"
            )


if __name__ == "__main__":
    main()
