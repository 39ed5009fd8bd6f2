"""Link flow-cover cuts on an instance's LP (issue 19, section 3): measured, not built in.

For a subcontracted flow x[p,l,s], any set S of CCGs and w[p,l] binary,

    x[p,l,s] <= min(cap[p,s], Σ_{c∈S} d[c,s]) w[p,l] + Σ_{c∉S} d[c,s] z[l,c]

is valid (w = 0 forces x = 0; with w = 1 it follows from x <= cap and C5). Separated from the
LP relaxation (the model with V1-V5) by the best prefix of l's CCGs sorted by z, in rounds of
re-solves; then, with ``--mip-seconds``, HiGHS's MIP on the model with the cuts (compare with
``--rounds 0``). Prints the LP bound per round and the MIP's end. Usage::

    python benchmarks/link_cuts.py instances/england-2013.yaml --rounds 10 [--mip-seconds 300]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import highspy
import numpy as np

import csu_opt
from csu_opt.model.blocks import index_codes
from csu_opt.model.index import build_index
from csu_opt.model.matrix import build_matrix
from csu_opt.solver.highs import pass_to_highs, quiet_highs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("instance", type=Path)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--mip-seconds", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    ix = build_index(csu_opt.load_instance(args.instance))
    mm, cd = build_matrix(ix), index_codes(ix)
    lay, hc, n = mm.layout, mm.highs_col, mm.n_cols
    h = quiet_highs({"threads": 1, "random_seed": args.seed})
    pass_to_highs(h, mm)
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.zeros(n, np.int32))
    dem = np.zeros((cd.nC, cd.nS))
    d_all = ix.demand["d"].to_numpy(float) * mm.demand_scale
    np.add.at(dem, (cd.dem_c, cd.dem_s), d_all)
    z_of = np.full((cd.nL, cd.nC), -1)
    z_of[cd.z_l, cd.z_c] = np.arange(lay.n_z)
    sub = np.flatnonzero(~cd.flow_self)
    link = cd.link_of[cd.flow_p[sub], cd.flow_l[sub]]
    h.run()
    lp0 = h.getInfo().objective_function_value
    print(f"{args.instance.stem}: LP {lp0:,.2f}; {len(sub)} subcontracted flows")
    cuts = 0
    for r in range(args.rounds):
        v = np.asarray(h.getSolution().col_value)[hc]
        x, w = v[lay.X + sub], v[lay.W + link]
        found = 0
        for i in np.flatnonzero((x > 1e-6) & (w < 1 - 1e-6)):
            f, l, s = sub[i], cd.flow_l[sub[i]], cd.flow_s[sub[i]]
            cs = np.flatnonzero((z_of[l] >= 0) & (dem[:, s] > 0))
            zv = v[lay.Z + z_of[l, cs]]
            order = np.argsort(-zv)
            zv, d, cs = zv[order], dem[cs[order], s], cs[order]
            prefix = np.r_[0.0, np.cumsum(d)]  # d(S) for S the first k CCGs
            rest = np.r_[np.cumsum((d * zv)[::-1])[::-1], 0.0]
            rhs = np.minimum(cd.flow_cap[f], prefix) * w[i] + rest
            k = int(np.argmin(rhs))
            if x[i] > rhs[k] + 1e-6 * max(1.0, x[i]):
                cols = np.r_[lay.X + f, lay.W + link[i], lay.Z + z_of[l, cs[k:]]]
                vals = np.r_[1.0, -min(cd.flow_cap[f], prefix[k]), -d[k:]]
                h.addRow(-highspy.kHighsInf, 0.0, len(cols), hc[cols].astype(np.int32), vals)
                found += 1
        if not found:
            print("  no violated cut")
            break
        cuts += found
        h.run()
        lp = h.getInfo().objective_function_value
        print(f"  round {r + 1}: {found} cuts, LP {lp:,.2f} (+{(lp - lp0) / lp0:.3%})")
    if args.mip_seconds:
        integral = mm.integrality[np.argsort(hc)].astype(np.int32)
        h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), integral)
        h.setOptionValue("time_limit", args.mip_seconds)
        h.setOptionValue("mip_rel_gap", 1e-4)
        t = time.perf_counter()
        h.run()
        info = h.getInfo()
        print(
            f"MIP with {cuts} cuts: {h.modelStatusToString(h.getModelStatus())}, "
            f"{info.objective_function_value:,.2f}, bound {info.mip_dual_bound:,.2f}, "
            f"{info.mip_node_count} nodes, {time.perf_counter() - t:.1f} s"
        )


if __name__ == "__main__":
    main()
