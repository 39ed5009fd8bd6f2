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
   minimum volume (C11) is struck off the candidates and the greedy run again (3 tries);
   Under free choice (C12) every CCG then goes, wholly, to its most preferred open lead
   (leads nobody chose are closed); a network that no longer fits is not handed over;
5. attach subcontractors (:func:`attach_subcontractors`): a provider that would exit joins
   the open network where that saves most (its exit cost and cheaper delivery against the
   link's cost), taking over part of the lead's own delivery within every rule.

The result is checked against the model's rows (:meth:`MatrixModel.violation`); ``None``
when no check passes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from csu_opt.model.blocks import IndexCodes, Layout, MatrixModel, index_codes
from csu_opt.model.index import ModelIndex
from csu_opt.solver.tolerances import FEAS_TOL, START_EPS, START_SLACK

#: Capacity opened beyond the demand, per line, before CCGs are placed.
HEADROOM = 1.1


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
        if ix.free_choice:  # C12: every CCG to its most preferred open lead instead
            opened, sc, si, sf = _first_choices(ix, cand, opened, lo)
        load = np.zeros((len(cand), nS))
        np.add.at(load, si, sf[:, None] * dem[sc])
        low = opened & (load.sum(axis=1) < v[cand] - START_SLACK)
        if low.any():
            banned[cand[low]] = True
            continue
        col = _columns(cd, lay, cand, opened, (sc, si, sf), load)
        tol = FEAS_TOL * max(1.0, float(dem.max(initial=0.0)))
        if mm.violation(col) > tol:
            return None
        better = attach_subcontractors(ix, cd, mm, col)
        return better if mm.violation(better) <= tol else col
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
    score = fixed / np.maximum(cap.sum(axis=1), START_SLACK)
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
        while need > START_EPS:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                share = np.where(d > 0, room / d, np.inf).min(axis=1)  # share that fits
            share = (
                np.minimum(share, need) if split else np.where(share >= need - START_SLACK, need, 0)
            )
            ok = (share > START_EPS) & np.isfinite(price[c])
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


def _first_choices(
    ix: ModelIndex, cand: np.ndarray, opened: np.ndarray, lo: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Free choice (C12): each CCG wholly with its most preferred open candidate; open
    candidates nobody chose are closed (down to N_min). Capacities are not looked at: a
    network that no longer fits fails the final check and is not handed over."""
    assert ix.preference is not None
    order = ix.preference
    pos = np.full((len(ix.ccgs), len(ix.leads)), np.iinfo(np.int64).max, dtype=np.int64)
    c_idx = pd.Index(ix.ccgs).get_indexer(order["ccg"])
    l_idx = pd.Index(ix.leads).get_indexer(order["lead"])
    ok = (c_idx >= 0) & (l_idx >= 0)
    pos[c_idx[ok], l_idx[ok]] = order["position"].to_numpy(dtype=np.int64)[ok]
    open_i = np.flatnonzero(opened)
    si = open_i[np.argmin(pos[:, cand[open_i]], axis=1)]
    chosen = np.bincount(si, minlength=len(cand)) > 0
    opened = opened.copy()
    for i in open_i[::-1]:
        if opened.sum() <= lo:
            break
        if not chosen[i]:
            opened[i] = False
    n = len(ix.ccgs)
    return opened, np.arange(n, dtype=np.int64), si.astype(np.int64), np.ones(n)


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


def attach_subcontractors(
    ix: ModelIndex, cd: IndexCodes, mm: MatrixModel, col: np.ndarray
) -> np.ndarray:
    """Step 5: exiting providers join open networks as subcontractors where that saves.

    ``col`` is a network in which only leads are active and each delivers its whole network
    itself (steps 1-4). Providers that may subcontract and are in no merger are taken in
    decreasing order of exit cost; for each, every open lead it may partner is priced: in
    each line s the provider takes over y[s] of the lead's own delivery, most
    cost-saving lines first (c[l,s] - c[p,s] > 0), then, if its volume is still below its
    minimum v[p] (C11), the least costly others until it reaches it, within

    - its capacity left in s (C6),
    - the lead's own delivery in s and the line's quality slack Σ_p (q[p,s] - Q[s]) x[p,l,s]
      (C9: a provider below the lead's quality may take at most slack / (q[l,s] - q[p,s])),
    - and, over the lines, own - ρ·network volume (C10) and own - v[l] (the lead's C11).

    Saving = X[p] (its exit cost, -a_cost) - G[p] - k[p,l] + Σ_s (c[l,s] - c[p,s]) y[s];
    the provider joins the lead with the largest positive saving, in one network (at most
    m, C2, hold). The caller checks the result against every row.
    """
    lay = mm.layout
    x = col.copy()
    leads = np.flatnonzero(x[lay.U : lay.A] > 0.5)
    if len(leads) == 0 or lay.n_w == 0 or cd.nS == 0:
        return x
    nP, nS = cd.nP, cd.nS
    prov = ix.providers
    flow_of = np.full((nP, cd.nL, nS), -1, dtype=np.int64)
    flow_of[cd.flow_p, cd.flow_l, cd.flow_s] = np.arange(lay.n_x)
    cap = np.zeros((nP, nS))
    unit = np.zeros((nP, nS))
    qual = np.zeros((nP, nS))
    cap[cd.elig_p, cd.elig_s] = ix.eligible["cap"].to_numpy(dtype=float)
    unit[cd.elig_p, cd.elig_s] = ix.eligible["c"].to_numpy(dtype=float)
    qual[cd.elig_p, cd.elig_s] = ix.eligible["q"].to_numpy(dtype=float)
    target = ix.lines["Q"].to_numpy(dtype=float)
    v = prov["v"].to_numpy(dtype=float)
    a_cost = prov["a_cost"].to_numpy(dtype=float)
    link_cost = ix.links["cost"].to_numpy(dtype=float)
    rho = ix.self_share

    lp = cd.lead_prov[leads]  # provider position of each open lead
    own_idx = flow_of[lp, leads, :]  # (open leads, S): x[l,l,s], -1 where none
    own = np.where(own_idx >= 0, x[lay.X + np.maximum(own_idx, 0)], 0.0)
    network = own.sum(axis=1)  # network volume: fixed, only who delivers it changes
    slack = (qual[lp] - target) * own  # C9 slack per (lead, line)
    left = cap.copy()

    in_merger = set(ix.merger_pairs["body"]) | set(ix.merger_pairs["member"])
    may_sub = prov["can_subcontract"].to_numpy(dtype=bool) & ~prov.index.isin(list(in_merger))
    exiting = np.flatnonzero(may_sub & (x[lay.A : lay.W] < 0.5))
    for p in exiting[np.argsort(a_cost[exiting], kind="stable")]:
        links = cd.link_of[p, leads]
        ok = links >= 0
        if not ok.any():
            continue
        cand = np.flatnonzero(ok)  # positions in ``leads``
        fl = flow_of[p, leads[cand], :]  # (cand, S)
        room = np.where(fl >= 0, np.minimum(left[p], own[cand]), 0.0)
        worse = qual[p] < qual[lp[cand]]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            q_room = np.where(worse, slack[cand] / (qual[lp[cand]] - qual[p]), np.inf)
        room = np.maximum(np.minimum(room, q_room), 0.0)
        budget = np.minimum(own[cand].sum(axis=1) - rho * network[cand], own[cand].sum(axis=1))
        budget = np.maximum(np.minimum(budget, own[cand].sum(axis=1) - v[lp[cand]]), 0.0)
        adv = unit[lp[cand]] - unit[p]  # saving per unit moved, (cand, S)
        take = np.zeros_like(room)
        rows = np.arange(len(cand))
        order = np.argsort(-adv, axis=1, kind="stable")
        for r in range(nS):  # saving lines first, as much as fits
            s = order[:, r]
            y = np.where(adv[rows, s] > 0, np.minimum(room[rows, s], budget), 0.0)
            take[rows, s] = y
            budget = budget - y
        for r in range(nS):  # then the least costly others, up to the minimum volume
            s = order[:, r]
            short = np.maximum(v[p] - take.sum(axis=1), 0.0)
            y = np.minimum(np.minimum(room[rows, s] - take[rows, s], budget), short)
            take[rows, s] += y
            budget = budget - y
        vol = take.sum(axis=1)
        saving = -a_cost[p] - link_cost[links[cand]] + (adv * take).sum(axis=1)
        feasible = (vol > 0) & (vol >= v[p] - START_SLACK)
        if not (feasible & (saving > START_SLACK)).any():
            continue
        best = int(np.argmax(np.where(feasible, saving, -np.inf)))
        i, y = cand[best], take[best]
        x[lay.A + p] = 1.0
        x[lay.W + links[i]] = 1.0
        moved = y > 0
        x[lay.X + fl[best, moved]] = y[moved]
        x[lay.X + own_idx[i, moved]] -= y[moved]
        own[i] -= y
        slack[i] += (qual[p] - qual[lp[i]]) * y
        left[p] -= y
    return x
