"""A lower bound in a second: the aggregate relaxation (issue 7).

The root reduction's LP bound (:mod:`csu_opt.solver.reduce`) takes minutes on the largest models
(500 x 7,000 x 5: 7.2 million nonzeros) and may not finish within a time limit; a planner
must still see a gap. This LP forgets which network each unit flows in and keeps only what
every network together must do. With y[p,s] = Σ_l x[p,l,s] (p's volume of line s over all
networks) and a[p] in [0, 1]:

    min  Σ_{(p,s)∈E} c[p,s] y[p,s] + Σ_p X[p] (1 - a[p]) + T + Φ
    s.t. Σ_p y[p,s] = D[s]                      every line s with demand   (C5 summed over l)
         y[p,s] <= cap[p,s] a[p]                 (p,s) ∈ E                  (C6)
         Σ_s y[p,s] >= v[p] a[p]                 every p                    (C11)
         Σ_p (q[p,s] - Q[s]) y[p,s] >= 0         every line s with demand   (C9 summed over l)
         a[p] = 0 for a provider that can neither lead nor subcontract       (C2)

where D[s] = Σ_c d[c,s] (times the demand scale), T = Σ_c min_l t[l,c] (C4: Σ_l z[l,c] = 1,
so c's assignment costs at least its cheapest lead's) and Φ = the sum of the max(N_min, 1)
smallest lead fixed costs (C1 with u in [0, 1]; at least one lead when there is demand).
Subcontracting and partnership costs (>= 0) and C3, C8, C10 are dropped. Every constraint
is implied by the model's LP relaxation and every objective term bounds the model's from
below there, so the optimum of this LP is at most the LP bound, itself at most the optimum:
a valid bound (``tests/solver/test_reduce.py`` checks both on random instances).

Instances with mergers are left out (None): a member and its merged body share capacity
in a way this aggregate does not express.
"""

from __future__ import annotations

import numpy as np

from csu_opt import stops
from csu_opt.model.blocks import index_codes
from csu_opt.model.index import ModelIndex
from csu_opt.solver.highs import is_optimal, objective_of, pass_arrays, quiet_highs


def aggregate_bound(ix: ModelIndex, demand_scale: float = 1.0) -> float | None:
    """The aggregate relaxation's optimum (a lower bound on every network), or None when it
    does not apply (mergers) or HiGHS does not solve it."""
    if len(ix.merger_pairs):
        return None
    cd = index_codes(ix)
    nP, nS = cd.nP, cd.nS
    prov = ix.providers
    D = np.zeros(nS)
    np.add.at(D, cd.dem_s, ix.demand["d"].to_numpy(dtype=float) * demand_scale)
    if D.sum() <= 0:
        return None
    X = prov["X"].to_numpy(dtype=float)
    v = prov["v"].to_numpy(dtype=float)
    Q = ix.lines["Q"].to_numpy(dtype=float)
    cap = ix.eligible["cap"].to_numpy(dtype=float)
    q = ix.eligible["q"].to_numpy(dtype=float)
    c = ix.eligible["c"].to_numpy(dtype=float)
    ep, es = cd.elig_p, cd.elig_s
    nE = len(ep)

    # constants: assignments at each CCG's cheapest lead, the cheapest lead fixed costs
    t = np.full(cd.nC, np.inf)
    np.minimum.at(t, cd.z_c, ix.assign["t"].to_numpy(dtype=float))
    if not np.isfinite(t).all():
        return None  # a CCG no lead may serve: the model is infeasible, no bound needed
    lead_F = np.sort(prov["F"].to_numpy(dtype=float)[cd.lead_prov])
    n_min = max(int(ix.lead_min or 0), 1)
    if len(lead_F) < n_min:
        return None
    constant = float(t.sum() + lead_F[:n_min].sum() + X.sum())

    # columns: y (nE) | a (nP); rows: balance (nS) | capacity (nE) | viability (nP) | quality (nS)
    role = prov["can_lead"].to_numpy(dtype=bool) | prov["can_subcontract"].to_numpy(dtype=bool)
    col_cost = np.r_[c, -X]
    col_upper = np.r_[np.full(nE, np.inf), role.astype(float)]
    y, a = np.arange(nE), nE + np.arange(nP)
    rows_r = [es, nS + np.arange(nE), nS + np.arange(nE), nS + nE + ep, nS + nE + np.arange(nP)]
    rows_c = [y, y, a[ep], y, a]
    rows_v = [np.ones(nE), np.ones(nE), -cap, np.ones(nE), -v]
    demanded = D > 0
    if demanded.any():  # quality over the lines with demand
        rows_r.append(nS + nE + nP + es)
        rows_c.append(y)
        rows_v.append(q - Q[es])
    r, col, val = np.concatenate(rows_r), np.concatenate(rows_c), np.concatenate(rows_v)
    n_rows = nS + nE + nP + nS
    lower = np.r_[D, np.full(nE, -np.inf), np.zeros(nP), np.where(demanded, 0.0, -np.inf)]
    upper = np.r_[D, np.zeros(nE), np.full(nP, np.inf), np.full(nS, np.inf)]
    order = np.lexsort((col, r))
    start = np.zeros(n_rows + 1, dtype=np.int32)
    np.cumsum(np.bincount(r, minlength=n_rows), out=start[1:])
    h = quiet_highs()
    pass_arrays(
        h,
        offset=constant,
        col_cost=col_cost,
        col_lower=np.zeros(nE + nP),
        col_upper=col_upper,
        row_lower=lower,
        row_upper=upper,
        start=start,
        index=col[order].astype(np.int32),
        value=val[order],
        integrality=np.zeros(nE + nP, dtype=np.int32),
    )
    with stops.deferred():
        h.run()
    return objective_of(h) if is_optimal(h) else None
