"""A Lagrangian bound that scales: prices between the CCGs' side and the providers' side (issue 19).

The LP relaxation of a national model (500 x 7,000 x 5: 770,000 assignments, 7.2 million
nonzeros) does not finish within half an hour, so its only bound was the aggregate one
(:mod:`csu_opt.solver.bounds`), 11% below the best network. This bound relaxes the rows that
tie the market together and keeps, with whole numbers, every rule that lives in one place:

* the **leads** (u[l], z[l,c]): C1's lead band, C4's z[l,c] <= u[l], and the lead's own role:
  u[l] = 1 makes provider l a lead (C2);
* **each provider** p (a[p], w[p,·], x[p,·,·]): C2 (exit, lead when u[p] = 1, or
  subcontractor to at most m leads when not), C6 (capacity; x <= cap·w, x <= cap·u) and
  C11 (viability);

and prices with multipliers every row that joins leads or providers:

| row | multiplier | sign |
|---|---|---|
| C5  Σ_c d[c,s] z[l,c] - Σ_p x[p,l,s] = 0              | π[l,s] | free |
| C4  1 - Σ_l z[l,c] = 0                                | μ[c]   | free |
| C3  u[l] - w[p,l] >= 0                                | τ[p,l] | >= 0 |
| C8  Σ_{p eligible in s} w[p,l] - u[l] >= 0            | κ[l,s] | >= 0 |
| C9  Σ_p (q[p,s] - Q[s]) x[p,l,s] >= 0                 | η[l,s] | >= 0 |
| C10 (1-ρ) Σ_s x[l,l,s] - ρ Σ_{p≠l,s} x[p,l,s] >= 0    | ζ[l]   | >= 0 |

(L adds multiplier x row for each equality row and subtracts it for each ">= 0" row). Left
out altogether (a relaxation: fewer rules, never a higher optimum): C12 (free choice), M1
(mergers) and the valid inequalities V1-V5.

For any multipliers with the signs above (others count as 0), the Lagrangian

    L(μ, π, τ, κ, η, ζ) = Σ X + Σ_c μ[c] + Σ_p O[p] + min_{N_min <= Σ u <= N_max} Σ_l u[l] g[l]

is at most the cost of every network (weak duality: at a feasible point each priced row is 0
or has the sign that makes its term non-positive), where

* each volume x[p,l,s] has the price c[p,s] - π[l,s] - η[l,s] (q[p,s] - Q[s])
  - ζ[l]·(1-ρ if p = l else -ρ), and a provider's best volumes for a role are a continuous
  knapsack: in [0, cap[p,s]], totalling at least v[p]; every negative price at capacity, then
  the cheapest others until v[p] is reached (inf where the capacities cannot);
* O[p] = min(0 [exit], subcontracting): a_cost[p] + G[p] + k[p,l] + τ[p,l]
  - Σ_{s: C8 row (l, s)} κ[l,s] plus the best volumes over x[p,l,·], at the best lead l (with
  m > 1 leads per subcontractor the leads are decoupled: each line at its cheapest lead's price,
  the cheapest link plus any further negative ones up to m, a lower bound, so L stays valid);
* g[l] = F[l] - Σ_p τ[p,l] + Σ_s κ[l,s] + Σ_c min(0, t[l,c] - μ[c] + Σ_s π[l,s] d[c,s])
  + (a_cost[l] plus l's best own volumes) - O[l]: opening l takes the CCGs with negative reduced
  cost and makes l a lead instead of its best other role. Sorting g gives the best band.

Every part is solved exactly by sorting, so one evaluation costs a few passes over the
assignments and flows (under a second at 500 x 7,000). At an LP relaxation's optimal duals,
read as multipliers by :func:`read_duals`, L is at least that LP's optimum when the LP has no
valid inequalities (their duals have no place here) and a subcontractor serves one lead; with
them it may be a little lower. Its use is the column generation of
:func:`csu_opt.solver.lp.network_lp`: the duals of every restricted LP give a valid bound on the
whole model, long before the column generation ends.

``tests/solver/test_lagrange.py`` checks that L never exceeds the brute-force oracle's optimum,
at random multipliers, at the LP's duals and at every round of the column generation, and that
it reaches the LP bound at the LP's optimal duals.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from csu_opt.model.blocks import Layout, MatrixModel, index_codes
from csu_opt.model.families import family
from csu_opt.model.index import ModelIndex
from csu_opt.model.rows import objective


@dataclass(frozen=True)
class LagrangeData:
    """The model's data as the two sides see it (positions as in :func:`index_codes`)."""

    offset: float
    F: np.ndarray  # (nL) lead fixed costs
    lead_prov: np.ndarray  # (nL) provider of lead i
    a_cost: np.ndarray  # (nP)
    v: np.ndarray  # (nP) minimum volume
    can_sub: np.ndarray  # (nP) bool: p in B
    m: int  # leads per subcontractor
    lead_min: int
    lead_max: int
    z_l: np.ndarray  # (nZ)
    z_c: np.ndarray
    t: np.ndarray
    demand: np.ndarray  # (nC, nS) d[c,s]
    link_p: np.ndarray  # (nK)
    link_l: np.ndarray
    link_cost: np.ndarray
    link_cover: np.ndarray  # (nK, nS) bool: p eligible in s and l's C8 row (l, s) exists
    need: np.ndarray  # (nL, nS) bool: C8 row (l, s) exists
    # options: 0..nL-1 lead i delivering itself, nL + k link k; volumes by (option, line)
    opt_p: np.ndarray  # (nO) provider
    opt_l: np.ndarray  # (nO) lead (network)
    cap: np.ndarray  # (nO, nS), 0 where no flow
    has: np.ndarray  # (nO, nS) bool: the flow exists
    cost: np.ndarray  # (nO, nS) c[p,s]
    slack: np.ndarray  # (nO, nS) q[p,s] - Q[s] where (l, s) has a C9 row, else 0
    quality_row: np.ndarray  # (nL, nS) bool: C9 row exists
    rho: float

    @property
    def nL(self) -> int:
        return len(self.F)

    @property
    def nP(self) -> int:
        return len(self.a_cost)

    @property
    def nK(self) -> int:
        return len(self.link_p)

    @property
    def nC(self) -> int:
        return self.demand.shape[0]

    @property
    def nS(self) -> int:
        return self.demand.shape[1]


def lagrange_data(ix: ModelIndex, demand_scale: float = 1.0) -> LagrangeData:
    """The arrays :func:`lagrangian_value` reads, from the model's index frames."""
    cd = index_codes(ix)
    lay = Layout(len(ix.leads), len(ix.providers), len(ix.links), len(ix.assign), len(ix.flows))
    col_cost, offset = objective(ix, lay)
    nL, nS, nC, nK = cd.nL, cd.nS, cd.nC, len(ix.links)
    prov = ix.providers
    demand = np.zeros((nC, nS))
    demand[cd.dem_c, cd.dem_s] = ix.demand["d"].to_numpy(dtype=float) * demand_scale
    need = ~cd.eligible[cd.lead_prov] if nL else np.zeros((0, nS), bool)
    link_cover = cd.eligible[cd.link_p] & need[cd.link_l] if nK else np.zeros((0, nS), bool)

    nO = nL + nK
    f = ix.flows
    opt = np.where(cd.flow_self, cd.flow_l, nL + cd.link_of[cd.flow_p, cd.flow_l])
    cap = np.zeros((nO, nS))
    has = np.zeros((nO, nS), bool)
    cost = np.zeros((nO, nS))
    slack = np.zeros((nO, nS))
    cap[opt, cd.flow_s] = cd.flow_cap
    has[opt, cd.flow_s] = True
    cost[opt, cd.flow_s] = col_cost[lay.X :]
    fslack = f["q"].to_numpy(dtype=float) - ix.lines["Q"].to_numpy(dtype=float)[cd.flow_s]
    quality_row = np.zeros((nL, nS), bool)
    quality_row[cd.flow_l[fslack < 0], cd.flow_s[fslack < 0]] = True
    slack[opt, cd.flow_s] = np.where(quality_row[cd.flow_l, cd.flow_s], fslack, 0.0)

    return LagrangeData(
        offset=offset,
        F=col_cost[lay.U : lay.A],
        lead_prov=cd.lead_prov.astype(np.int64),
        a_cost=col_cost[lay.A : lay.W],
        v=prov["v"].to_numpy(dtype=float),
        can_sub=prov["can_subcontract"].to_numpy(dtype=bool),
        m=int(ix.max_leads_per_sub),
        lead_min=int(ix.lead_min or 0),
        lead_max=int(ix.lead_max) if ix.lead_max is not None else nL,
        z_l=cd.z_l.astype(np.int64),
        z_c=cd.z_c.astype(np.int64),
        t=col_cost[lay.Z : lay.X],
        demand=demand,
        link_p=cd.link_p.astype(np.int64),
        link_l=cd.link_l.astype(np.int64),
        link_cost=col_cost[lay.W : lay.Z],
        link_cover=link_cover,
        need=need,
        opt_p=np.r_[cd.lead_prov, cd.link_p].astype(np.int64),
        opt_l=np.r_[np.arange(nL), cd.link_l].astype(np.int64),
        cap=cap,
        has=has,
        cost=cost,
        slack=slack,
        quality_row=quality_row,
        rho=float(ix.self_share),
    )


@dataclass
class Multipliers:
    """One value per priced row (see the module's table)."""

    mu: np.ndarray  # (nC) free
    pi: np.ndarray  # (nL, nS) free
    tau: np.ndarray  # (nK) >= 0
    kappa: np.ndarray  # (nL, nS) >= 0, only where need
    eta: np.ndarray  # (nL, nS) >= 0, only where quality_row
    zeta: np.ndarray  # (nL) >= 0

    FIELDS = ("mu", "pi", "tau", "kappa", "eta", "zeta")

    def copy(self) -> Multipliers:
        return Multipliers(*(getattr(self, f).copy() for f in self.FIELDS))


def _knapsack_x(price: np.ndarray, cap: np.ndarray, need: np.ndarray) -> np.ndarray:
    """Row by row, the minimiser of Σ_s price·x over 0 <= x <= cap with Σ_s x >= need: every
    negative price at capacity, then the cheapest others until ``need`` is reached (every
    volume at capacity where the capacity cannot reach it)."""
    x = np.where(price < 0, cap, 0.0)
    short = need - x.sum(axis=1)
    rows = np.flatnonzero(short > 0)
    if len(rows):
        p, c = price[rows], np.where(price[rows] < 0, 0.0, cap[rows])
        order = np.argsort(p, axis=1, kind="stable")
        cs = np.take_along_axis(c, order, axis=1)
        before = np.cumsum(cs, axis=1) - cs
        take = np.clip(short[rows, None] - before, 0.0, cs)
        extra = np.zeros_like(take)
        np.put_along_axis(extra, order, take, axis=1)
        x[rows] += extra
    return x


def _knapsack(
    price: np.ndarray, cap: np.ndarray, need: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_knapsack_x` and its value, row by row (inf where the capacity cannot reach
    ``need``)."""
    x = _knapsack_x(price, cap, need)
    value = (price * x).sum(axis=1)
    short = need - np.where(price < 0, cap, 0.0).sum(axis=1)
    reach = np.where(price < 0, 0.0, cap).sum(axis=1)
    # out of reach only when clearly so: rounding must never exclude a feasible option
    value[(short > 0) & (reach < short - 1e-9 * (1.0 + np.abs(short)))] = np.inf
    return value, x


def _first_per(group: np.ndarray, key: np.ndarray, size: int) -> np.ndarray:
    """For each group 0..size-1 the position of its smallest ``key`` (-1: none; key inf
    counts as none)."""
    best = np.full(size, -1, dtype=np.int64)
    ok = np.flatnonzero(np.isfinite(key))
    if len(ok):
        order = ok[np.lexsort((key[ok], group[ok]))]
        g = group[order]
        first = np.r_[True, g[1:] != g[:-1]]
        best[g[first]] = order[first]
    return best


@dataclass
class _Subcontracting:
    """Each provider's best value as a subcontractor (inf without a link) and its minimiser:
    the links taken (bool, nK) and the volumes of each option (nK, nS, at its links)."""

    value: np.ndarray
    taken: np.ndarray
    x: np.ndarray


def _subcontracting(d: LagrangeData, link_own: np.ndarray, price: np.ndarray) -> _Subcontracting:
    """With one lead per subcontractor, the best link with its cheapest volumes; with m > 1 a
    lower bound: each line at its cheapest link's price (up to the largest capacity among
    the provider's links), the cheapest link plus any further negative ones up to m (the
    leads decoupled)."""
    nK, nL = d.nK, d.nL
    value, taken, x = np.full(d.nP, np.inf), np.zeros(nK, bool), np.zeros((nK, d.nS))
    if nK == 0:
        return _Subcontracting(value, taken, x)
    if d.m <= 1:
        volumes, vx = _knapsack(price, d.cap[nL:], d.v[d.link_p])
        per_link = link_own + volumes
        best = _first_per(d.link_p, per_link, d.nP)
        has = best >= 0
        value[has] = per_link[best[has]] + d.a_cost[has]
        taken[best[has]] = True
        x[best[has]] = vx[best[has]]
        return _Subcontracting(value, taken, x)
    best_price = np.full((d.nP, d.nS), np.inf)
    line_link = np.full((d.nP, d.nS), -1, dtype=np.int64)
    for s in range(d.nS):
        key = np.where(d.has[nL:, s], price[:, s], np.inf)
        line_link[:, s] = _first_per(d.link_p, key, d.nP)
        found = line_link[:, s] >= 0
        best_price[found, s] = key[line_link[found, s]]
    cap = np.zeros((d.nP, d.nS))
    np.maximum.at(cap, d.link_p, d.cap[nL:])
    finite = np.isfinite(best_price)
    volumes, px = _knapsack(np.where(finite, best_price, 0.0), np.where(finite, cap, 0.0), d.v)
    order = np.lexsort((link_own, d.link_p))
    ps, ls = d.link_p[order], link_own[order]
    rank = np.arange(len(ps)) - np.searchsorted(ps, ps, side="left")
    take = (rank == 0) | ((rank < d.m) & (ls < 0))
    taken[order[take]] = True
    links = np.full(d.nP, np.inf)
    links[ps[rank == 0]] = 0.0
    np.add.at(links, ps[take], ls[take])
    for s in range(d.nS):
        p_s = np.flatnonzero(line_link[:, s] >= 0)
        x[line_link[p_s, s], s] = px[p_s, s]
    return _Subcontracting(d.a_cost + links + volumes, taken, x)


def signed(data: LagrangeData, mult: Multipliers) -> Multipliers:
    """``mult`` with the sign rules of the module's table applied (and 0 where no row)."""
    out = mult.copy()
    out.tau = np.maximum(out.tau, 0.0)
    out.kappa = np.where(data.need, np.maximum(out.kappa, 0.0), 0.0)
    out.eta = np.where(data.quality_row, np.maximum(out.eta, 0.0), 0.0)
    out.zeta = np.maximum(out.zeta, 0.0)
    return out


@dataclass
class LagrangePoint:
    """L at some multipliers, with a supergradient: ``step`` holds, for each multiplier, the
    priced row's activity at the minimiser (signed as L uses it), so that
    L(m + d) <= value + Σ step·d for every direction d (L is concave)."""

    value: float
    step: Multipliers
    leads: np.ndarray  # bool (nL): the leads the minimiser opens


def lagrangian_value(data: LagrangeData, mult: Multipliers) -> float:
    """L(multipliers): both sides minimised exactly (module docstring). Multipliers of the
    wrong sign are taken as 0, so any values give a valid bound."""
    return lagrangian_point(data, mult).value


def lagrangian_point(data: LagrangeData, mult: Multipliers) -> LagrangePoint:
    """L at ``mult`` (:func:`lagrangian_value`) with its minimiser's rows: a supergradient.
    With m > 1 the minimiser is that of the decoupled subcontracting."""
    d = data
    nL, nS = d.nL, d.nS
    kept = signed(d, mult)  # wrong signs count as 0
    kappa, eta, tau, zeta = kept.kappa, kept.eta, kept.tau, kept.zeta

    # the providers' side: each option (lead itself, or a link) with its cheapest volumes
    own = np.zeros(len(d.opt_p), bool)
    own[:nL] = True
    price = d.cost - mult.pi[d.opt_l] - eta[d.opt_l] * d.slack
    price -= (zeta[d.opt_l] * np.where(own, 1.0 - d.rho, -d.rho))[:, None]
    price = np.where(d.has, price, 0.0)
    link_own = d.link_cost + tau - (d.link_cover * kappa[d.link_l]).sum(axis=1)
    lead_volumes, lead_x = _knapsack(price[:nL], d.cap[:nL], d.v[d.lead_prov])
    lead_own = d.a_cost[d.lead_prov] + lead_volumes
    sub = _subcontracting(d, link_own, price[nL:])
    sub.value[~d.can_sub] = np.inf
    other = np.minimum(0.0, sub.value)  # each provider's best role other than lead

    # the CCGs' side, with each lead's own role decided with u[l]
    zc = d.t - mult.mu[d.z_c] + np.einsum("ij,ij->i", d.demand[d.z_c], mult.pi[d.z_l])
    g = d.F + kappa.sum(axis=1) + lead_own - other[d.lead_prov]
    np.subtract.at(g, d.link_l, tau)
    np.add.at(g, d.z_l, np.minimum(zc, 0.0))
    order = np.argsort(g, kind="stable")
    k = int(np.clip((g < 0).sum(), d.lead_min, d.lead_max))
    value = d.offset + float(mult.mu.sum()) + float(g[order[:k]].sum()) + float(other.sum())

    # the minimiser: the chosen leads deliver themselves and take their CCGs of negative
    # reduced cost; every other provider subcontracts when that pays, else exits
    u = np.zeros(nL, bool)
    u[order[:k]] = True
    is_lead = np.zeros(d.nP, bool)
    is_lead[d.lead_prov[u]] = True
    subcontracts = (sub.value < 0) & ~is_lead
    w = (sub.taken & subcontracts[d.link_p]).astype(float)
    X = np.zeros((len(d.opt_p), nS))
    X[:nL][u] = lead_x[u]
    X[nL:] = sub.x * subcontracts[d.link_p][:, None]  # (m > 1: at each line's cheapest link)
    z = u[d.z_l] & (zc < 0)

    # the priced rows there, as L uses them
    cover = np.zeros((nL, nS))
    np.add.at(cover, d.link_l, d.link_cover * w[:, None])
    quality = np.zeros((nL, nS))
    np.add.at(quality, d.opt_l, d.slack * X)
    others = np.zeros(nL)
    np.add.at(others, d.opt_l[nL:], X[nL:].sum(axis=1))
    pi = np.zeros((nL, nS))
    np.add.at(pi, d.z_l[z], d.demand[d.z_c[z]])
    np.subtract.at(pi, d.opt_l, X)
    step = Multipliers(
        mu=1.0 - np.bincount(d.z_c[z], minlength=d.nC).astype(float),
        pi=pi,
        tau=-(u[d.link_l].astype(float) - w),
        kappa=np.where(d.need, -(cover - u[:, None]), 0.0),
        eta=np.where(d.quality_row, -quality, 0.0),
        zeta=-((1.0 - d.rho) * X[:nL].sum(axis=1) - d.rho * others),
    )
    return LagrangePoint(value=value, step=step, leads=u)


@dataclass(frozen=True)
class DualMap:
    """Where each multiplier's row sits in the matrix: rows of a component and the (lead,
    line) position, lead position or CCG of each (computed once per model)."""

    shape: tuple[int, int, int, int]  # nC, nL, nS, nK
    mu_rows: np.ndarray
    tau_rows: np.ndarray
    pairs: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]  # rows, lead, line
    zeta: tuple[np.ndarray, np.ndarray]  # rows, lead


def dual_map(ix: ModelIndex, mm: MatrixModel) -> DualMap:
    """Where the duals of the priced rows sit in ``mm``, from the row builders' keys."""
    cd = index_codes(ix)
    lay = mm.layout
    lead_pos = {k: i for i, k in enumerate(ix.leads)}
    line_pos = {k: i for i, k in enumerate(ix.lines.index)}
    blocks = {
        b.name: b
        for name in ("network_balance", "full_coverage", "network_quality", "self_delivery")
        for b in family(name).rows(ix, lay, cd, False)
    }

    def rows_of(name: str) -> np.ndarray:
        return np.arange(*mm.components.get(name, (0, 0)), dtype=np.int64)

    pairs = {}
    for name in ("network_balance", "full_coverage", "network_quality"):
        keys_of = blocks[name].keys if name in blocks else None
        keys = keys_of() if keys_of is not None and name in mm.components else []
        pairs[name] = (
            rows_of(name),
            np.array([lead_pos[k[0]] for k in keys], dtype=np.int64),
            np.array([line_pos[k[1]] for k in keys], dtype=np.int64),
        )
    own = blocks["self_delivery"].keys if "self_delivery" in blocks else None
    zeta_keys = own() if own is not None and "self_delivery" in mm.components else []
    return DualMap(
        shape=(cd.nC, cd.nL, cd.nS, len(ix.links)),
        mu_rows=rows_of("assign_once"),
        tau_rows=rows_of("subcontract_to_lead"),
        pairs=pairs,
        zeta=(rows_of("self_delivery"), np.array([lead_pos[k] for k in zeta_keys], np.int64)),
    )


def read_duals(dm: DualMap, row_dual: np.ndarray) -> Multipliers:
    """Multipliers read from an LP's row duals (HiGHS's sign: rc = c - Aᵀy), full length:
    μ from C4's Σ z = 1, π from C5, τ from C3, κ from C8, η from C9, ζ from C10.
    Any duals give a valid bound; an LP's optimal ones a good one."""
    nC, nL, nS, nK = dm.shape
    mult = Multipliers(
        mu=np.zeros(nC),
        pi=np.zeros((nL, nS)),
        tau=np.zeros(nK),
        kappa=np.zeros((nL, nS)),
        eta=np.zeros((nL, nS)),
        zeta=np.zeros(nL),
    )
    if len(dm.mu_rows):
        mult.mu = row_dual[dm.mu_rows].copy()
    if len(dm.tau_rows):
        mult.tau = np.maximum(-row_dual[dm.tau_rows], 0.0)  # a <= row: HiGHS's dual <= 0
    for name, target in (
        ("network_balance", mult.pi),
        ("full_coverage", mult.kappa),
        ("network_quality", mult.eta),
    ):
        rows, li, si = dm.pairs[name]
        target[li, si] = row_dual[rows]
    rows, li = dm.zeta
    mult.zeta[li] = row_dual[rows]
    return mult


def multipliers_from_duals(ix: ModelIndex, mm: MatrixModel, row_dual: np.ndarray) -> Multipliers:
    """:func:`read_duals` with the map of ``mm`` built on the spot."""
    return read_duals(dual_map(ix, mm), row_dual)


#: A network whose multipliers reach beyond this many times the dearest unit cost (π, ζ) is
#: taken as one a restricted LP left undetermined: :func:`repaired` gives it typical ones.
EXTREME = 2.0


def repaired(data: LagrangeData, mult: Multipliers) -> Multipliers | None:
    """Other multipliers, as valid as any: every lead whose π[l,·] or ζ[l] is extreme (beyond
    EXTREME times the dearest unit cost) gets each line's median π over the other leads and
    τ, κ, η, ζ = 0; None when no lead, or every lead, is extreme.

    Why: a restricted LP (column generation's first rounds) leaves the duals of a network it
    barely uses free within wide limits, and the values it picks pair a huge π on one line
    with a huge ζ, which the LP holds together through the network's whole mix of lines but L,
    which prices each CCG on its own, does not. Measured on a generated 500 x 7,000 x 5
    (issue 19): round 2's duals (the third LP's) gave L = 344,290, repaired 739,218 (15 of
    110 leads), against the aggregate bound 719,967."""
    top = float(np.max(data.cost[data.has], initial=0.0))
    extreme = (np.abs(mult.pi) > EXTREME * top).any(axis=1) | (mult.zeta > EXTREME * top)
    if not extreme.any() or extreme.all():
        return None
    out = mult.copy()
    out.pi[extreme] = np.median(mult.pi[~extreme], axis=0)
    out.zeta[extreme] = 0.0
    out.eta[extreme] = 0.0
    out.kappa[extreme] = 0.0
    out.tau[extreme[data.link_l]] = 0.0
    return out


class DualBounds:
    """The valid bound at any row duals of ``mm`` (the rows' order), for
    :func:`csu_opt.solver.lp.network_lp`: calling it with duals gives the better of L at the
    multipliers they give and at their :func:`repaired` form; :meth:`best_of` also returns
    those multipliers (a start for :func:`ascend`). The arrays are built at first use."""

    def __init__(self, ix: ModelIndex, mm: MatrixModel) -> None:
        self.ix, self.mm = ix, mm

    @functools.cached_property
    def prepared(self) -> tuple[LagrangeData, DualMap]:  # on first use: only large models ask
        low, high = self.mm.lead_band()  # the model's C1 band (a sweep's may differ)
        data = replace(
            lagrange_data(self.ix, self.mm.demand_scale),
            lead_min=int(np.ceil(low - 1e-9)),
            lead_max=int(np.floor(high + 1e-9)),
        )
        return data, dual_map(self.ix, self.mm)

    def best_of(self, y: np.ndarray) -> tuple[float, Multipliers]:
        """L at the multipliers ``y`` gives or at their repaired form, whichever is higher."""
        data, dm = self.prepared
        mult = read_duals(dm, y)
        value = lagrangian_value(data, mult)
        other = repaired(data, mult)
        if other is not None:
            fixed = lagrangian_value(data, other)
            if fixed > value:
                return fixed, other
        return value, mult

    def __call__(self, y: np.ndarray) -> float:
        return self.best_of(y)[0]

    @property
    def data(self) -> LagrangeData:
        """The arrays L reads (the model's lead band in place)."""
        return self.prepared[0]


def bound_from_duals(ix: ModelIndex, mm: MatrixModel) -> DualBounds:
    """:class:`DualBounds` of ``mm`` (nothing is built until it is first called)."""
    return DualBounds(ix, mm)


#: The subgradient ascent (:func:`ascend`): the step's share θ of the distance to the target
#: starts here and is halved after ASCENT_STALL steps without a better bound.
ASCENT_THETA = 0.5
ASCENT_STALL = 30
#: ... and it ends once θ falls below this (steps too short to matter: about 270 steps in a
#: row without a better bound).
ASCENT_MIN_THETA = 1e-3
#: A step counts as no better unless it raises the bound by this share.
ASCENT_RISE = 1e-7


@dataclass
class Ascent:
    """What :func:`ascend` reached: the best bound, its multipliers and the steps taken."""

    bound: float
    multipliers: Multipliers
    steps: int


def ascend(
    data: LagrangeData,
    start: Multipliers,
    target: float,
    *,
    seconds: float,
    should_stop: Callable[[], bool] | None = None,
    on_better: Callable[[float], None] | None = None,
    max_steps: int | None = None,
) -> Ascent:
    """Raise L by subgradient steps from ``start`` for at most ``seconds``: each step moves
    the multipliers along the supergradient of :func:`lagrangian_point` by
    θ (target - L) / |g|² (Polyak's step; ``target`` an upper estimate of max L, such as a
    restricted LP's objective or a network's cost), θ halved after ASCENT_STALL steps
    without a better bound (the ascent ends once it is below ASCENT_MIN_THETA),
    ``on_better(bound)`` called at each better one; at most ``max_steps`` steps. Every L
    is a valid bound; the best is returned."""
    t0 = time.perf_counter()
    mult = signed(data, start)
    point = lagrangian_point(data, mult)
    best = Ascent(point.value, mult, 0)
    theta, since = ASCENT_THETA, 0
    while time.perf_counter() - t0 < seconds and not (should_stop is not None and should_stop()):
        if max_steps is not None and best.steps >= max_steps:
            break
        norm = sum(float(np.square(getattr(point.step, f)).sum()) for f in Multipliers.FIELDS)
        if norm == 0.0 or target <= point.value:
            break  # L is maximal here (a zero supergradient) or at the target
        t = theta * (target - point.value) / norm
        mult = signed(
            data,
            Multipliers(
                *(getattr(mult, f) + t * getattr(point.step, f) for f in Multipliers.FIELDS)
            ),
        )
        point = lagrangian_point(data, mult)
        best.steps += 1
        if point.value > best.bound:
            rise = point.value - best.bound
            best.bound, best.multipliers = point.value, mult
            if on_better is not None:
                on_better(point.value)
        else:
            rise = 0.0
        if rise > ASCENT_RISE * max(1.0, abs(best.bound)):
            since = 0
        else:
            since += 1
            if since >= ASCENT_STALL:
                theta, since = theta / 2, 0
                if theta < ASCENT_MIN_THETA:
                    break
    return best
