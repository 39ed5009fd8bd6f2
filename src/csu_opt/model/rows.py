"""The constraint families as row blocks: one ``rows_*`` function per family of
``model/formulation.md``, each docstring holding its formula, registered once in
:mod:`csu_opt.model.families`. Each returns one :class:`~csu_opt.model.blocks.RowBlock` per
Pyomo component of that family, in order, with the index key of each row (``keys``): the
matrix backend assembles the blocks, and :func:`csu_opt.model.pyomo_model.build_model`
generates its constraints from them (``tests/model/test_matrix.py`` checks the two row for
row); :func:`objective` gives the column costs and the offset.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from csu_opt.model.blocks import (
    INDEX,
    INF,
    IndexCodes,
    Layout,
    RowBlock,
    first_seen,
    name_rank,
    pair_keys,
    positions_of,
    row_block,
    row_numbers,
)
from csu_opt.model.index import ModelIndex, cover_counts, free_choice_rows, quality_covers

if TYPE_CHECKING:
    pass


# --------------------------------------------------------------------------- families


def rows_lead_count(ix: ModelIndex, lay: Layout, mutable: bool = False) -> list[RowBlock]:
    """(C1) N_min <= Σ_l u[l] <= N_max (each side only where set, or always when mutable)."""
    n = lay.n_u
    if mutable:
        lo = float(ix.lead_min or 0)
        hi = float(ix.lead_max if ix.lead_max is not None else n)
    else:
        if not ix.lead_min and ix.lead_max is None:
            return []
        lo = float(ix.lead_min) if ix.lead_min else -INF
        hi = float(ix.lead_max) if ix.lead_max is not None else INF
    part = (np.zeros(n, INDEX), lay.U + np.arange(n), 1.0)
    params = ("lead_min", "lead_max") if mutable else None
    return [row_block("lead_count", 1, [part], lo, hi, scalar=True, param_bounds=params)]


def rows_one_role(ix: ModelIndex, lay: Layout, cd: IndexCodes) -> list[RowBlock]:
    """(C2) Σ_l w[p,l] <= m(1 - u[p]); u[p] <= a[p]; w[p,l] <= a[p]; a[p] <= u[p] + Σ_l w[p,l].

    The first row exists for every provider with a possible link, written
    Σ_l w[p,l] + m u[p] <= m (the u term only when p may lead).
    """
    mm = float(ix.max_leads_per_sub)
    nW, nL, nP = lay.n_w, lay.n_u, lay.n_a
    wcols = lay.W + np.arange(nW)
    codes, uniq = first_seen(cd.link_p)
    lead_of_prov = row_numbers(cd.lead_prov, nP)
    ul = lead_of_prov[uniq]
    one_role = row_block(
        "one_role",
        len(uniq),
        [(codes, wcols, 1.0), (np.flatnonzero(ul >= 0), lay.U + ul[ul >= 0], mm)],
        -INF,
        mm,
        keys=lambda: ix.providers.index[uniq].tolist(),
    )
    lead_active = row_block(
        "lead_active",
        nL,
        [(np.arange(nL), lay.U + np.arange(nL), 1.0), (np.arange(nL), lay.A + cd.lead_prov, -1.0)],
        -INF,
        0.0,
    )
    sub_active = row_block(
        "sub_active",
        nW,
        [(np.arange(nW), wcols, 1.0), (np.arange(nW), lay.A + cd.link_p, -1.0)],
        -INF,
        0.0,
    )
    active_has_role = row_block(
        "active_has_role",
        nP,
        [
            (np.arange(nP), lay.A + np.arange(nP), 1.0),
            (cd.link_p, wcols, -1.0),
            (cd.lead_prov, lay.U + np.arange(nL), -1.0),
        ],
        -INF,
        0.0,
    )
    return [one_role, lead_active, sub_active, active_has_role]


def rows_subcontract_to_lead(ix: ModelIndex, lay: Layout, cd: IndexCodes) -> list[RowBlock]:
    """(C3) w[p,l] <= u[l]."""
    k = np.arange(lay.n_w)
    parts = [(k, lay.W + k, 1.0), (k, lay.U + cd.link_l, -1.0)]
    return [row_block("subcontract_to_lead", lay.n_w, parts, -INF, 0.0)]


def rows_ccg_assignment(ix: ModelIndex, lay: Layout, cd: IndexCodes) -> list[RowBlock]:
    """(C4) Σ_l z[l,c] = 1 for every CCG; z[l,c] <= u[l]."""
    k = np.arange(lay.n_z)
    once = row_block(
        "assign_once", cd.nC, [(cd.z_c, lay.Z + k, 1.0)], 1.0, 1.0, keys=lambda: list(ix.ccgs)
    )
    to_lead = row_block(
        "assign_to_lead", lay.n_z, [(k, lay.Z + k, 1.0), (k, lay.U + cd.z_l, -1.0)], -INF, 0.0
    )
    return [once, to_lead]


def rows_network_balance(
    ix: ModelIndex, lay: Layout, cd: IndexCodes, demand_scale: float = 1.0
) -> list[RowBlock]:
    """(C5) Σ_p x[p,l,s] = Σ_c d[c,s] z[l,c] for every lead l and line s.

    Rows are the (l, s) pairs with a flow or a demand term, in sorted (l, s) order; the
    d[c,s] z[l,c] entries are marked as scaled by the demand scale.
    """
    nS = max(cd.nS, 1)
    flow_key = cd.flow_l * nS + cd.flow_s
    z_of = np.full((max(cd.nL, 1), max(cd.nC, 1)), -1, INDEX)
    z_of[cd.z_l, cd.z_c] = np.arange(lay.n_z)
    zk = z_of[:, cd.dem_c]  # (nL, n_demand): z column of lead l for demand row j
    dl, dj = np.nonzero(zk >= 0)
    dem_key = dl * nS + cd.dem_s[dj]
    keys = np.union1d(flow_key, dem_key)
    lead_rank, line_rank = name_rank(ix.leads), name_rank(ix.lines.index)
    keys = keys[np.argsort(lead_rank[keys // nS] * nS + line_rank[keys % nS], kind="stable")]
    row_of = row_numbers(keys, cd.nL * nS)
    d = ix.demand["d"].to_numpy(dtype=float)
    parts = [
        (row_of[flow_key], lay.X + np.arange(lay.n_x), 1.0),
        (row_of[dem_key], lay.Z + zk[dl, dj], -d[dj] * demand_scale),
    ]
    leads, lines = pd.Index(ix.leads), ix.lines.index
    return [
        row_block(
            "network_balance",
            len(keys),
            parts,
            0.0,
            0.0,
            scaled_part=1,
            keys=lambda: pair_keys(leads, lines, keys, nS),
        )
    ]


def provider_lines(cd: IndexCodes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (provider, line) pairs with a flow, in order of first appearance: each flow's pair
    number, the pairs' keys p * nS + s, and each pair's capacity cap[p,s] (C6, V5)."""
    codes, uniq = first_seen(cd.flow_p * max(cd.nS, 1) + cd.flow_s)
    cap = np.zeros(len(uniq))
    cap[codes] = cd.flow_cap
    return codes, uniq, cap


def rows_capacity(ix: ModelIndex, lay: Layout, cd: IndexCodes) -> list[RowBlock]:
    """(C6) capacity and the strong links to the role variables.

    Σ_l x[p,l,s] <= cap[p,s] a[p];  x[p,l,s] <= cap[p,s] w[p,l];  x[l,l,s] <= cap[l,s] u[l].
    """
    nS = max(cd.nS, 1)
    cap = cd.flow_cap
    xk = np.arange(lay.n_x)
    codes, uniq, cap_g = provider_lines(cd)
    capacity = row_block(
        "capacity",
        len(uniq),
        [(codes, lay.X + xk, 1.0), (np.arange(len(uniq)), lay.A + uniq // nS, -cap_g)],
        -INF,
        0.0,
        keys=lambda: pair_keys(ix.providers.index, ix.lines.index, uniq, nS),
    )
    sub = np.flatnonzero(~cd.flow_self)
    j = np.arange(len(sub))
    link = cd.link_of[cd.flow_p[sub], cd.flow_l[sub]]
    link_sub = row_block(
        "capacity_link_sub",
        len(sub),
        [(j, lay.X + sub, 1.0), (j, lay.W + link, -cap[sub])],
        -INF,
        0.0,
    )
    own = np.flatnonzero(cd.flow_self)
    j = np.arange(len(own))
    link_self = row_block(
        "capacity_link_self",
        len(own),
        [(j, lay.X + own, 1.0), (j, lay.U + cd.flow_l[own], -cap[own])],
        -INF,
        0.0,
    )
    return [capacity, link_sub, link_self]


def rows_full_coverage(ix: ModelIndex, lay: Layout, cd: IndexCodes) -> list[RowBlock]:
    """(C8) Σ_{p eligible in s} w[p,l] >= u[l] for every l and s with (l, s) not eligible.

    (Trivial, and not written, where the lead is itself eligible in s.)
    """
    need = ~cd.eligible[cd.lead_prov]  # (nL, nS): a row for (l, s)
    row_of = np.full(need.shape, -1, INDEX)
    row_of[need] = np.arange(int(need.sum()))
    k, s = np.nonzero(cd.eligible[cd.link_p] & need[cd.link_l])  # links of p eligible in s
    rl, rs = np.nonzero(need)
    parts = [
        (row_of[cd.link_l[k], s], lay.W + k, 1.0),
        (row_of[rl, rs], lay.U + rl, -1.0),
    ]
    leads, lines = pd.Index(ix.leads), ix.lines.index
    return [
        row_block(
            "full_coverage",
            int(need.sum()),
            parts,
            0.0,
            INF,
            keys=lambda: list(zip(leads[rl].tolist(), lines[rs].tolist(), strict=True)),
        )
    ]


def rows_network_quality(ix: ModelIndex, lay: Layout, cd: IndexCodes) -> list[RowBlock]:
    """(C9) Σ_p (q[p,s] - Q[s]) x[p,l,s] >= 0 for every l, s (only where some q < Q)."""
    f = ix.flows
    nS = max(cd.nS, 1)
    slack = f["q"].to_numpy(dtype=float) - ix.lines["Q"].to_numpy(dtype=float)[cd.flow_s]
    key = cd.flow_l * nS + cd.flow_s
    below = pd.unique(key[slack < 0])
    row_of = row_numbers(below, cd.nL * nS)
    ks = np.flatnonzero(row_of[key] >= 0)
    parts = [(row_of[key[ks]], lay.X + ks, slack[ks])]
    leads, lines = pd.Index(ix.leads), ix.lines.index
    return [
        row_block(
            "network_quality",
            len(below),
            parts,
            0.0,
            INF,
            keys=lambda: pair_keys(leads, lines, below, nS),
        )
    ]


def rows_self_delivery(ix: ModelIndex, lay: Layout, cd: IndexCodes) -> list[RowBlock]:
    """(C10) Σ_s x[l,l,s] >= ρ Σ_{p,s} x[p,l,s], i.e. (1-ρ)·own - ρ·others >= 0."""
    rho = ix.self_share
    if rho <= 0:
        return []
    codes, uniq = first_seen(cd.flow_l)
    coef = np.where(cd.flow_self, 1.0 - rho, -rho)
    parts = [(codes, lay.X + np.arange(lay.n_x), coef)]
    keys = lambda: pd.Index(ix.leads)[uniq].tolist()  # noqa: E731
    return [row_block("self_delivery", len(uniq), parts, 0.0, INF, keys=keys)]


def rows_viability(ix: ModelIndex, lay: Layout, cd: IndexCodes) -> list[RowBlock]:
    """(C11) Σ_{l,s} x[p,l,s] >= v[p] a[p] for every provider with v[p] > 0."""
    v = ix.providers["v"].to_numpy(dtype=float)
    keep = np.flatnonzero(v > 0)
    row_of = row_numbers(keep, cd.nP)
    ks = np.flatnonzero(row_of[cd.flow_p] >= 0)
    parts = [
        (row_of[cd.flow_p[ks]], lay.X + ks, 1.0),
        (np.arange(len(keep)), lay.A + keep, -v[keep]),
    ]
    keys = lambda: ix.providers.index[keep].tolist()  # noqa: E731
    return [row_block("viability", len(keep), parts, 0.0, INF, keys=keys)]


def rows_mergers(ix: ModelIndex, lay: Layout, cd: IndexCodes) -> list[RowBlock]:
    """(M1) a[p] + Σ_{M ∋ p} a[M] <= 1 for every provider p that is a member of a merger.

    A provider stays itself or is absorbed into at most one formed merged body M. One row
    per member, in provider order.
    """
    pairs = ix.merger_pairs
    if pairs.empty:
        return []
    prov = ix.providers.index
    member = positions_of(prov, pairs["member"])
    body = positions_of(prov, pairs["body"])
    keys = np.unique(member)  # provider order
    row_of = row_numbers(keys, cd.nP)
    parts = [
        (np.arange(len(keys)), lay.A + keys, 1.0),
        (row_of[member], lay.A + body, 1.0),
    ]
    members = lambda: prov[keys].tolist()  # noqa: E731
    return [row_block("merger_exclusive", len(keys), parts, -INF, 1.0, keys=members)]


def rows_free_choice(ix: ModelIndex, lay: Layout, cd: IndexCodes) -> list[RowBlock]:
    """(C12, free choice only) Σ_{l' ≽_c l} z[l',c] >= u[l] for every CCG c and lead l.

    l' ≽_c l: c ranks l' at or above l (``ix.preference``). The row of c's last choice (C4's
    Σ_l z[l,c] = 1) is left out; rows by CCG, then c's preference (``free_choice_rows``).
    """
    if not ix.free_choice:
        return []
    keys, rows, zpos = free_choice_rows(ix)
    n = len(keys)
    lead = np.asarray(pd.Index(ix.leads).get_indexer(keys["l"]), dtype=INDEX)
    parts = [(rows, lay.Z + zpos, 1.0), (np.arange(n), lay.U + lead, -1.0)]
    return [row_block("free_choice", n, parts, 0.0, INF)]


def rows_capacity_cover(ix: ModelIndex, lay: Layout, cd: IndexCodes) -> list[RowBlock]:
    """(V1, valid) cardinality cover: Σ_{p eligible in s} a[p] >= k[s] for every line s.

    k[s] from ``indices.cover_counts``; one row per line with demand, in sorted line order.
    Left out of a mutable model (its demand scale would change k), as in model.py.
    """
    counts = cover_counts(ix)
    lines = ix.lines.index
    row_of = np.full(cd.nS, -1, INDEX)
    row_of[lines.get_indexer(counts["s"])] = np.arange(len(counts))
    js = np.flatnonzero(row_of[cd.elig_s] >= 0)
    parts = [(row_of[cd.elig_s[js]], lay.A + cd.elig_p[js], np.ones(len(js)))]
    lower = counts["k"].to_numpy(dtype=float)
    keys = lambda: counts["s"].tolist()  # noqa: E731
    return [row_block("capacity_cover", len(counts), parts, lower, INF, keys=keys)]


def rows_capacity_aggregate(ix: ModelIndex, lay: Layout, cd: IndexCodes) -> list[RowBlock]:
    """(V5, valid) aggregate capacity: Σ_{p eligible in s} min(cap[p,s], D[s]) a[p] >= D[s].

    D[s] = Σ_c d[c,s], the line's whole demand. Implied by C4 + C5 + C6 (every unit of D[s]
    flows from an active eligible provider, at most cap[p,s] from each), and the coefficient
    capped at D[s] keeps it valid (one active provider of capacity >= D[s] meets it alone).
    One row per line with demand, in sorted line order; only (p, s) with a flow count. Left
    out of a mutable model (its demand scale would change D and the capped coefficients).
    """
    nS = max(cd.nS, 1)
    D = np.bincount(cd.dem_s, weights=ix.demand["d"].to_numpy(dtype=float), minlength=nS)
    _, uniq, cap = provider_lines(cd)
    lines = np.flatnonzero(D > 0)
    lines = lines[np.argsort(name_rank(ix.lines.index)[lines], kind="stable")]
    row_of = row_numbers(lines, nS)
    p, s = uniq // nS, uniq % nS
    js = np.flatnonzero(row_of[s] >= 0)
    parts = [(row_of[s[js]], lay.A + p[js], np.minimum(cap[js], D[s[js]]))]
    keys = lambda: ix.lines.index[lines].tolist()  # noqa: E731
    return [row_block("capacity_aggregate", len(lines), parts, D[lines], INF, keys=keys)]


def rows_quality_cover(ix: ModelIndex, lay: Layout, cd: IndexCodes) -> list[RowBlock]:
    """(V2, valid) Σ_{p: q[p,s] >= Q[s]} w[p,l] >= u[l] for the (l, s) of ``quality_covers``."""
    keys, members = quality_covers(ix)
    lead = pd.Index(ix.leads).get_indexer(keys["l"])
    parts = [
        (members["row"].to_numpy(), lay.W + members["link"].to_numpy(), 1.0),
        (np.arange(len(keys)), lay.U + lead, -1.0),
    ]
    return [row_block("quality_cover", len(keys), parts, 0.0, INF)]


def rows_role_split(ix: ModelIndex, lay: Layout, cd: IndexCodes) -> list[RowBlock]:
    """(V3, V4, valid) C11 and C6 split by role, for providers that may lead and subcontract.

    Σ_s x[p,p,s] >= v[p] u[p];  Σ_{l≠p,s} x[p,l,s] >= v[p] (a[p] - u[p])  (v[p] > 0);
    Σ_{l≠p} x[p,l,s] <= cap[p,s] (a[p] - u[p]) for every s with such flows.
    Providers in provider order; capacity rows by provider, then line.
    """
    nP, nS = cd.nP, max(cd.nS, 1)
    lead_of = np.full(nP, -1, INDEX)
    lead_of[cd.lead_prov] = np.arange(cd.nL)
    sub = ~cd.flow_self
    split = np.zeros(nP, dtype=bool)
    split[cd.flow_p[sub]] = True
    split &= lead_of >= 0
    v = ix.providers["v"].to_numpy(dtype=float)
    vp = np.flatnonzero(split & (v > 0))
    row_of = np.full(nP, -1, INDEX)
    row_of[vp] = np.arange(len(vp))
    n = np.arange(len(vp))
    own = np.flatnonzero(cd.flow_self & (row_of[cd.flow_p] >= 0))
    other = np.flatnonzero(sub & (row_of[cd.flow_p] >= 0))
    viability_lead = row_block(
        "viability_lead",
        len(vp),
        [(row_of[cd.flow_p[own]], lay.X + own, 1.0), (n, lay.U + lead_of[vp], -v[vp])],
        0.0,
        INF,
        keys=lambda: ix.providers.index[vp].tolist(),
    )
    viability_sub = row_block(
        "viability_sub",
        len(vp),
        [
            (row_of[cd.flow_p[other]], lay.X + other, 1.0),
            (n, lay.A + vp, -v[vp]),
            (n, lay.U + lead_of[vp], v[vp]),
        ],
        0.0,
        INF,
        keys=lambda: ix.providers.index[vp].tolist(),
    )
    ks = np.flatnonzero(sub & split[cd.flow_p])
    key = cd.flow_p[ks].astype(np.int64) * nS + cd.flow_s[ks]
    uniq, first, row = np.unique(key, return_index=True, return_inverse=True)
    pu = (uniq // nS).astype(INDEX)
    cap = cd.flow_cap[ks[first]]
    m = np.arange(len(uniq))
    capacity_sub = row_block(
        "capacity_sub",
        len(uniq),
        [(row, lay.X + ks, 1.0), (m, lay.A + pu, -cap), (m, lay.U + lead_of[pu], cap)],
        -INF,
        0.0,
        keys=lambda: pair_keys(ix.providers.index, ix.lines.index, uniq, nS),
    )
    return [viability_lead, viability_sub, capacity_sub]


def objective(ix: ModelIndex, lay: Layout) -> tuple[np.ndarray, float]:
    """min Σ F u + Σ (G + k) w + Σ c x + Σ t z + Σ X (1 - a)
    + Σ_M (merger_cost[M] - Σ_{p ∈ M} X[p]) a[M]: column costs and the constant Σ X.

    The coefficient of a[p] is ``ix.providers["a_cost"]`` (-X[p], or a merged body's cost).
    """
    prov = ix.providers
    X = prov["X"].to_numpy(dtype=float)
    a_cost = prov["a_cost"].to_numpy(dtype=float) if "a_cost" in prov else -X
    cost = np.concatenate(
        [
            prov.loc[ix.leads, "F"].to_numpy(dtype=float),
            a_cost,
            ix.links["cost"].to_numpy(dtype=float),
            ix.assign["t"].to_numpy(dtype=float),
            ix.flows["c"].to_numpy(dtype=float),
        ]
    )
    return cost, float(X.sum())
