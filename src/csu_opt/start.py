"""A greedy feasible network, handed to HiGHS as its first incumbent (issue 7).

Large instances spend a long time in HiGHS's presolve and root before its own heuristics find
a solution, so a time-limited solve could stop with none. This builds one in a fraction of a
second, and only hands it over when it satisfies every row of the model:

1. candidate leads: lead-capable providers eligible in every line, with quality at least the
   network target Q[s] in every demanded line, so that a lead delivering everything itself
   satisfies C7-C10 on its own (no subcontractors, every other provider exits);
2. open candidates in increasing order of fixed cost per unit of capacity until, in every
   line, they hold the demand with 10% to spare, and at least N_min of them (at most N_max);
3. place each CCG, largest first, wholly in the open network that serves it cheapest
   (t[l,c] + Σ_s c[l,s] d[c,s]) with room left in every line; when none has room, open the
   candidate that would (fixed cost included); under split demand a CCG too big for any one
   network is spread over several, cheapest first;
4. close empty leads (down to N_min); x[l,l,s] is the placed demand. A lead below its
   minimum volume (C11) is struck off the candidates and the greedy run again (3 tries).

The result is checked against the model's rows (:meth:`MatrixModel.violation`); ``None``
when no check passes.
"""

from __future__ import annotations

import numpy as np

from csu_opt.indices import ModelIndex
from csu_opt.matrix import IndexCodes, Layout, MatrixModel, index_codes

#: Capacity opened beyond the demand, per line, before CCGs are placed.
HEADROOM = 1.1
#: Largest row or bound violation accepted (relative to the largest demand).
FEAS_TOL = 1e-9


def greedy_start(ix: ModelIndex, mm: MatrixModel, tries: int = 3) -> np.ndarray | None:
    """Column values (u|a|w|z|x layout of ``mm``) of a feasible network, or None."""
    cd = index_codes(ix)
    nP, nL, nS, nC = cd.nP, cd.nL, cd.nS, cd.nC
    if nL == 0 or nC == 0 or nS == 0:
        return None
    lay = mm.layout
    cap = np.zeros((nP, nS))
    cap[cd.elig_p, cd.elig_s] = ix.eligible["cap"].to_numpy(dtype=float)
    qual = np.zeros((nP, nS))
    qual[cd.elig_p, cd.elig_s] = ix.eligible["q"].to_numpy(dtype=float)
    unit = np.zeros((nP, nS))
    unit[cd.elig_p, cd.elig_s] = ix.eligible["c"].to_numpy(dtype=float)
    dem = np.zeros((nC, nS))
    np.add.at(dem, (cd.dem_c, cd.dem_s), ix.demand["d"].to_numpy(dtype=float) * mm.demand_scale)
    total = dem.sum(axis=0)
    t = np.full((nL, nC), np.inf)
    t[cd.z_l, cd.z_c] = ix.assign["t"].to_numpy(dtype=float)
    fixed = ix.providers["F"].to_numpy(dtype=float)[cd.lead_prov]
    v = ix.providers["v"].to_numpy(dtype=float)[cd.lead_prov]
    lo, hi = mm.lead_band()
    target = ix.lines["Q"].to_numpy(dtype=float)

    split = not ix.single_sourcing
    lp = cd.lead_prov
    ok = cd.eligible[lp].all(axis=1) & ((qual[lp] >= target) | (total == 0)).all(axis=1)
    banned = np.zeros(nL, dtype=bool)
    for _ in range(tries):
        cand = np.flatnonzero(ok & ~banned)
        if len(cand) == 0 or len(cand) < lo:
            return None
        placed = _place(cap[lp[cand]], unit[lp[cand]], fixed[cand], t[cand], dem, lo, hi, split)
        if placed is None:
            return None
        opened, sc, si, sf = placed
        load = np.zeros((len(cand), nS))
        np.add.at(load, si, sf[:, None] * dem[sc])
        low = opened & (load.sum(axis=1) < v[cand] - 1e-9)
        if low.any():
            banned[cand[low]] = True
            continue
        col = _columns(cd, lay, cand, opened, (sc, si, sf), load)
        if mm.violation(col) <= FEAS_TOL * max(1.0, float(dem.max(initial=0.0))):
            return col
        return None
    return None


def _place(
    cap: np.ndarray,
    unit: np.ndarray,
    fixed: np.ndarray,
    t: np.ndarray,
    dem: np.ndarray,
    lo: float,
    hi: float,
    split: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Open candidates and place every CCG: (opened, ccg, candidate, share) or None.

    Under split demand a CCG that fits in no single network is spread over several,
    cheapest first.
    """
    k = len(fixed)
    total = dem.sum(axis=0)
    score = fixed / np.maximum(cap.sum(axis=1), 1e-9)
    opened = np.zeros(k, dtype=bool)
    held = np.zeros(cap.shape[1])
    for i in np.argsort(score, kind="stable"):
        if opened.sum() >= hi or (opened.sum() >= lo and (held >= HEADROOM * total).all()):
            break
        opened[i] = True
        held += cap[i]
    price = t.T + dem @ unit.T  # (CCGs, candidates): cost of placing c with candidate i
    room = cap.copy()
    out_c: list[int] = []
    out_i: list[int] = []
    out_f: list[float] = []
    for c in np.argsort(-dem.sum(axis=1), kind="stable"):
        need, d = 1.0, dem[c]
        while need > 1e-12:
            with np.errstate(divide="ignore", invalid="ignore"):
                share = np.where(d > 0, room / d, np.inf).min(axis=1)  # share that fits
            share = np.minimum(share, need) if split else np.where(share >= need - 1e-9, need, 0)
            ok = (share > 1e-12) & np.isfinite(price[c])
            pick = np.flatnonzero(ok & opened)
            if len(pick):
                i = int(pick[np.argmin(price[c, pick])])
            else:
                pick = np.flatnonzero(ok & ~opened)
                if len(pick) == 0 or opened.sum() >= hi:
                    return None
                i = int(pick[np.argmin(fixed[pick] + price[c, pick] * share[pick])])
                opened[i] = True
            take = float(share[i])
            room[i] -= take * d
            need -= take
            out_c.append(int(c))
            out_i.append(i)
            out_f.append(take)
    si = np.array(out_i, dtype=np.int64)
    used = np.bincount(si, minlength=k) > 0
    for i in np.flatnonzero(opened & ~used)[::-1]:
        if opened.sum() <= lo:
            break
        opened[i] = False
    if opened.sum() < lo:
        return None
    return opened, np.array(out_c, dtype=np.int64), si, np.array(out_f)


def _columns(
    cd: IndexCodes,
    lay: Layout,
    cand: np.ndarray,
    opened: np.ndarray,
    shares: tuple[np.ndarray, np.ndarray, np.ndarray],
    load: np.ndarray,
) -> np.ndarray:
    """u, a, z, x of the greedy network (w = 0: nobody subcontracts; the rest exit)."""
    col = np.zeros(lay.n_cols)
    leads = cand[opened]
    col[lay.U + leads] = 1.0
    col[lay.A + cd.lead_prov[leads]] = 1.0
    z_of = np.full((cd.nL, cd.nC), -1)
    z_of[cd.z_l, cd.z_c] = np.arange(lay.n_z)
    sc, si, sf = shares
    np.add.at(col, lay.Z + z_of[cand[si], sc], sf)
    own = np.flatnonzero(cd.flow_self)
    cand_of_lead = np.full(cd.nL, -1)
    cand_of_lead[cand] = np.arange(len(cand))
    ci = cand_of_lead[cd.flow_l[own]]
    has = ci >= 0
    col[lay.X + own[has]] = load[ci[has], cd.flow_s[own[has]]]
    return col
