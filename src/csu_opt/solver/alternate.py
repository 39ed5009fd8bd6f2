"""Alternating fixes: a national network from the LP in two easy MIPs, taken in turn (issue 19).

On national single-sourced models HiGHS finds few networks in the restricted MIP's
neighbourhood: deciding the links w and the whole assignments z together is what makes it
hard (benchmarks/README.md, "Where the 200 x 2,000 gap lies"). Each half alone is easy. So,
from the LP relaxation's solution (or the last restricted LP's, when the column generation
stopped early):

1. **leads** (:func:`round_leads`): those with u >= 1/2 that can head a network
   (:func:`able_leads`), at most the band's maximum;
2. **assignments** (:func:`round_network`): each CCG wholly with one open lead, at the LP's
   prices, each lead able to deliver its minimum volume and its self-delivery share itself;
   more leads opened where the band's minimum asks (a small MIP);
3. **the structure MIP**: u and z fixed, every a, every w to an open lead and every x free:
   who partners whom, and who delivers what, for the networks' fixed demand;
4. **the assignment MIP**: u, a and w fixed at 3's network, each CCG free among the open
   leads: where each CCG goes, for the networks' fixed membership;
5. 3 and 4 again from the better network, until a round gains less than ROUND_GAIN or the
   time runs out.

:func:`alternate_from` runs 4, 3, 4, ... from a whole network instead (for when the
rounding gives none). Every solution of either MIP is a whole network of the full model
(only bounds change), so each is an incumbent. Measured on a generated 200 x 2,000 x 5 (seed
0, one thread, 30 s per MIP; the first version, which rounded each CCG to its largest
share): 747,567.59 after the first structure MIP, 746,353.14 after the first assignment MIP
(7 s, optimal), 745,661.00 after the second round; the third gained nothing. The restricted
MIP over the LP's neighbourhood, with relax and fix, had 750,350.70 in 360 s; the LP bound
is 744,303.72. Where it fails: at 500 x 7,000 the structure MIP (16,727 binaries) found no
solution in 350 s; on seed 1 at 200 x 2,000 the rounded structure MIP is infeasible.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from csu_opt import stops
from csu_opt.model.blocks import MatrixModel, index_codes
from csu_opt.model.index import ModelIndex
from csu_opt.solver.highs import Highs, is_interrupted, objective_of, quiet_highs
from csu_opt.solver.tolerances import HIGHS_INFINITE, IMPROVE_TOL, ZERO_TOL

#: A round (structure MIP, then assignment MIP) that gains less than this share of the
#: incumbent's cost ends the alternation.
ROUND_GAIN = 1e-5
#: HiGHS's heuristic effort in both MIPs (default 0.05). Measured on a generated
#: 200 x 2,000 x 5 (seed 0, 180 s): 745,887.16 at 0.5 and at 1.0, 747,104.12 at the default
#: (its first structure MIP: 746,813.95 against 748,678.08 in 45 s).
HEURISTIC_EFFORT = 0.5
#: Rounds at most (the 200 x 2,000 measurement above gained nothing in its third).
MAX_ROUNDS = 4
#: Share of the alternation's time the first MIP may use; later, each round's first MIP
#: gets half of what is left and its second the rest.
FIRST_SHARE = 0.25
#: The rounding of the assignments (:func:`round_network`): each CCG's candidates are the
#: open leads the LP gives it a share of and its ALTERNATIVES others of least reduced cost
#: (and as many among the spare leads); each lead able to deliver NEED_MARGIN times its
#: minimum volume itself and its self-delivery share with 1 / MOST_MARGIN to spare; TIE
#: prefers larger LP shares among equal reduced costs; ROUNDING_SHARE of the time.
ALTERNATIVES = 3
NEED_MARGIN = 1.1
MOST_MARGIN = 0.9
TIE = 1e-3
ROUNDING_SHARE = 0.05
#: Above this many assignment columns to open leads, the assignment MIP keeps each CCG to
#: its rounding candidates and its current lead.
ASSIGN_FREE_MAX = 50_000
STAGE = "restricted MIP, alternating"


@dataclass(frozen=True)
class Shape:
    """What the roundings need beyond the matrix: each assignment column's CCG and lead,
    each link column's lead (positions), each CCG's demand and each lead's capacity by
    line, each lead's minimum volume v, and the self-delivery share ρ; network exchange
    also each link's provider, each flow's lead and each lead's provider."""

    ccg_of_z: np.ndarray
    lead_of_z: np.ndarray
    lead_of_w: np.ndarray
    demand: np.ndarray  # (CCGs, lines)
    cap: np.ndarray  # (leads, lines)
    need: np.ndarray
    rho: float
    prov_of_w: np.ndarray  # network exchange (csu_opt.solver.exchange) from here on
    lead_of_x: np.ndarray
    prov_of_lead: np.ndarray


def shape_of(ix: ModelIndex, demand_scale: float = 1.0) -> Shape:
    """The :class:`Shape` of ``ix``'s model (demand times ``demand_scale``)."""
    cd = index_codes(ix)
    demand = np.zeros((cd.nC, cd.nS))
    np.add.at(demand, (cd.dem_c, cd.dem_s), ix.demand["d"].to_numpy(dtype=float) * demand_scale)
    cap = np.zeros((cd.nP, cd.nS))
    cap[cd.elig_p, cd.elig_s] = ix.eligible["cap"].to_numpy(dtype=float)
    need = ix.providers["v"].to_numpy(dtype=float)[cd.lead_prov]
    return Shape(
        cd.z_c,
        cd.z_l,
        cd.link_l,
        demand,
        cap[cd.lead_prov],
        need,
        float(ix.self_share),
        cd.link_p,
        cd.flow_l,
        cd.lead_prov,
    )


@dataclass
class Alternation:
    """What the alternation found (layout order)."""

    network: np.ndarray | None = None
    objective: float | None = None
    rounds: int = 0
    leads: int = 0
    interrupted: bool = False
    source: str = "rounding"  # or "incumbent": the rounding found none

    def record(self, seconds: float) -> dict[str, object]:
        """As written to summary.json (solver.reduction.alternating_fixes)."""
        return {
            "from": self.source,
            "leads": self.leads,
            "rounds": self.rounds,
            "network": self.objective,
            "time_s": round(seconds, 3),
        }


def round_leads(u: np.ndarray, band: tuple[float, float], able: np.ndarray) -> np.ndarray:
    """0/1 per lead: the ``able`` leads with u >= 1/2, at most the band's maximum (those of
    largest u). Too few for the band's minimum are made up by :func:`round_network`."""
    k = int(min((able & (u >= 0.5)).sum(), np.floor(band[1] + 1e-9)))
    out = np.zeros(len(u))
    out[np.lexsort((-u, ~able))[:k]] = 1.0
    return out


def able_leads(shape: Shape) -> np.ndarray:
    """Leads that can head a network with volume: some capacity of their own, or no
    self-delivery share and no minimum volume. (The LP opens others, e.g. a lead-capable
    provider eligible in no line, at u = 1 with no CCG, to save its exit cost; whole, such a
    network needs a partner in every line, and no partner's minimum volume can be met.)"""
    own = shape.cap.sum(axis=1) > 0
    return own | ((shape.rho == 0) & (shape.need == 0))


def candidates(reduced_cost: np.ndarray, among: np.ndarray, ccg_of_z: np.ndarray) -> np.ndarray:
    """Rank of every assignment column among its CCG's columns with ``among`` true, by
    reduced cost (0: the cheapest); columns outside ``among`` rank last (also the
    restricted MIP's neighbourhood, :func:`csu_opt.solver.reduce._z_outside_neighbourhood`)."""
    score = np.where(among, reduced_cost, np.inf)
    order = np.lexsort((score, ccg_of_z))
    first = np.searchsorted(ccg_of_z[order], ccg_of_z[order], side="left")
    rank = np.empty(len(reduced_cost), np.int64)
    rank[order] = np.arange(len(reduced_cost)) - first
    return np.where(among, rank, len(reduced_cost))


def round_network(
    share: np.ndarray,
    reduced_cost: np.ndarray,
    fixed: np.ndarray,
    spare: np.ndarray,
    shape: Shape,
    band: tuple[float, float],
    seconds: float,
    open_cost: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Leads (0/1 per lead) and assignments (0/1 per column), each CCG wholly with one open
    lead; None when no such rounding is found in ``seconds``. The ``fixed`` leads are open;
    ``spare`` ones open as needed for the band's minimum (at most its maximum). A small MIP
    over each CCG's candidates z[j] (to a fixed lead it has an LP share with, or among its
    ALTERNATIVES fixed and ALTERNATIVES spare leads of least reduced cost), each lead's own
    delivery y[l,s] and its opening o[l] (1 for the fixed):

        min Σ (rc[j] − TIE·share[j]) z[j] + Σ open_cost[l] o[l]
        Σ_{j of c} z[j] = 1                                   every CCG c
        y[l,s] <= Σ_{j of l} d[c(j),s] z[j],  y[l,s] <= cap[l,s] o[l]
        Σ_s y[l,s] >= NEED_MARGIN·v[l] o[l]                   (C11 for the lead)
        Σ_s y[l,s] >= (ρ / MOST_MARGIN) Σ_{j of l} D[c(j)] z[j]   (C10)
        Σ_{j of l} z[j] <= |j of l| o[l];   N_min <= Σ_l o[l] <= N_max

    At the LP's prices each CCG goes where it costs least (rc[j] plus the CCG's own dual is
    t[l,c] plus its demand priced at l's network duals; the LP's own placements have
    rc = 0, their larger share first), so long as each lead can still deliver its minimum
    volume and its share of its network itself (partners deliver the rest)."""
    import scipy.sparse as sp  # noqa: PLC0415 (heavy optional dependency, loaded when used)

    lo, hi = band
    need_more = max(0, int(np.ceil(lo - 1e-9)) - int(fixed.sum()))
    spare = spare & ~fixed if need_more else np.zeros_like(fixed)
    on_fixed = fixed[shape.lead_of_z]
    on_spare = spare[shape.lead_of_z]
    rank_fixed = candidates(reduced_cost, on_fixed, shape.ccg_of_z)
    rank_spare = candidates(reduced_cost, on_spare, shape.ccg_of_z)
    cols = np.flatnonzero(
        (on_fixed & ((share > ZERO_TOL) | (rank_fixed < ALTERNATIVES)))
        | (on_spare & (rank_spare < ALTERNATIVES))
    )
    ccgs, c_row = np.unique(shape.ccg_of_z[cols], return_inverse=True)
    if len(ccgs) < len(shape.demand):
        return None  # some CCG has no lead to go to
    pool = np.flatnonzero(fixed | spare)
    k, n_s, nc, n = len(pool), shape.demand.shape[1], len(ccgs), len(cols)
    lead = np.searchsorted(pool, shape.lead_of_z[cols])  # position in the pool
    dem = shape.demand[shape.ccg_of_z[cols]]  # (n, S)
    ls = np.arange(k * n_s)  # (pool lead, line) pairs, lead-major
    y0, o0 = n, n + k * n_s  # first y and first o column
    r_ls, r_cap, r_need = nc, nc + k * n_s, nc + 2 * k * n_s
    r_self = r_need + k
    r_link = r_self + k
    r_count = r_link + k
    j = np.arange(n)
    blocks = [
        (c_row, j, np.ones(n)),  # Σ z = 1
        (
            r_ls + np.repeat(lead * n_s, n_s) + np.tile(np.arange(n_s), n),
            np.repeat(j, n_s),
            -dem.ravel(),
        ),  # y - Σ d z <= 0
        (r_ls + ls, y0 + ls, np.ones(k * n_s)),
        (r_cap + ls, y0 + ls, np.ones(k * n_s)),  # y - cap o <= 0
        (r_cap + ls, o0 + ls // n_s, -shape.cap[pool].ravel()),
        (r_need + ls // n_s, y0 + ls, np.ones(k * n_s)),  # Σ y - 1.1 v o >= 0
        (r_need + np.arange(k), o0 + np.arange(k), -NEED_MARGIN * shape.need[pool]),
        (r_self + ls // n_s, y0 + ls, np.ones(k * n_s)),  # Σ y - (ρ/0.9) Σ D z >= 0
        (r_self + lead, j, -dem.sum(axis=1) * shape.rho / MOST_MARGIN),
        (r_link + lead, j, np.ones(n)),  # Σ z - M o <= 0
        (r_link + np.arange(k), o0 + np.arange(k), -np.bincount(lead, minlength=k).astype(float)),
        (np.full(k, r_count), o0 + np.arange(k), np.ones(k)),  # lo <= Σ o <= hi
    ]
    rows, cols_, vals = (np.concatenate(part) for part in zip(*blocks, strict=True))
    n_rows, n_cols = r_count + 1, o0 + k
    matrix = sp.csr_matrix((vals, (rows, cols_)), shape=(n_rows, n_cols))
    matrix.eliminate_zeros()
    inf = HIGHS_INFINITE
    row_lower = np.r_[
        np.ones(nc), np.full(2 * k * n_s, -inf), np.zeros(2 * k), np.full(k, -inf), lo
    ]
    row_upper = np.r_[np.ones(nc), np.zeros(2 * k * n_s), np.full(2 * k, inf), np.zeros(k), hi]
    cost_o = np.zeros(k) if open_cost is None else np.maximum(open_cost[pool], 0.0)
    h = quiet_highs({"threads": 1, "mip_rel_gap": 1e-3, "time_limit": float(max(seconds, 0.01))})
    h.passModel(
        n_cols,
        n_rows,
        matrix.nnz,
        2,  # row-wise
        1,  # minimise
        0.0,
        np.r_[reduced_cost[cols] - TIE * share[cols], np.zeros(k * n_s), cost_o],
        np.r_[np.zeros(n + k * n_s), fixed[pool].astype(float)],
        np.r_[np.ones(n), shape.cap[pool].ravel(), np.ones(k)],
        row_lower,
        row_upper,
        matrix.indptr.astype(np.int32),
        matrix.indices.astype(np.int32),
        matrix.data,
        np.r_[np.ones(n, np.int32), np.zeros(k * n_s, np.int32), np.ones(k, np.int32)],
    )
    with stops.deferred():
        h.run()
    if objective_of(h) is None:
        return None
    sol = np.round(np.asarray(h.getSolution().col_value))
    leads = np.zeros(len(fixed))
    leads[pool] = sol[o0:]
    z = np.zeros(len(share))
    z[cols] = sol[:n]
    return leads, z


def alternate(
    h: Highs,
    mm: MatrixModel,
    value: np.ndarray,
    reduced_cost: np.ndarray,
    shape: Shape,
    seconds: float,
    run: Callable[[Highs, float], None],
) -> Alternation:
    """Steps 1-5 on ``h`` (the model as passed, its own bounds and integrality), from the LP
    solution ``value`` and its reduced costs, for at most ``seconds``; ``run(h, seconds)``
    runs HiGHS for that long. ``h`` is left with the model's own bounds. The best network
    found is ``network``, whether or not it beats the caller's."""
    lay = mm.layout
    out = Alternation()
    able, band = able_leads(shape), mm.lead_band()
    fixed = round_leads(value[lay.U : lay.A], band, able) > 0.5
    got = round_network(
        value[lay.Z : lay.X],
        reduced_cost[lay.Z : lay.X],
        fixed,
        able,
        shape,
        band,
        ROUNDING_SHARE * seconds,
        reduced_cost[lay.U : lay.A],
    )
    if got is not None:
        out = _alternate_from(h, mm, value, reduced_cost, shape, *got, None, seconds, run)
    _bounds(h, mm.highs_col, mm.col_lower, mm.col_upper)
    return out


def alternate_from(
    h: Highs,
    mm: MatrixModel,
    value: np.ndarray,
    reduced_cost: np.ndarray,
    shape: Shape,
    network: np.ndarray,
    seconds: float,
    run: Callable[[Highs, float], None],
) -> Alternation:
    """Steps 3-5 from a whole ``network`` (layout order; its leads stay open), assignment
    MIP first, as :func:`alternate`: for when the rounding gave none."""
    lay = mm.layout
    leads, z = np.round(network[lay.U : lay.A]), np.round(network[lay.Z : lay.X])
    out = _alternate_from(h, mm, value, reduced_cost, shape, leads, z, network, seconds, run)
    out.source = "incumbent"
    _bounds(h, mm.highs_col, mm.col_lower, mm.col_upper)
    return out


def _alternate_from(
    h: Highs,
    mm: MatrixModel,
    value: np.ndarray,
    reduced_cost: np.ndarray,
    shape: Shape,
    leads: np.ndarray,
    z: np.ndarray,
    network: np.ndarray | None,
    seconds: float,
    run: Callable[[Highs, float], None],
) -> Alternation:
    """Steps 3-5 with ``leads`` open, from the assignments ``z`` (structure MIP first) or
    from ``network`` (a whole network with those leads and assignments: assignment MIP
    first)."""
    lay = mm.layout
    hc = mm.highs_col
    t0 = time.perf_counter()
    out = Alternation(leads=int(leads.sum()))
    effort = h.getOptionValue("mip_heuristic_effort")[1]
    h.setOptionValue("mip_heuristic_effort", max(float(effort), HEURISTIC_EFFORT))
    halves = ("structure", "assignment")
    if network is not None:
        out.network, out.objective = network, mm.cost(network)
        halves = ("assignment", "structure")
    free_lower, free_upper = _free_bounds(mm, value, reduced_cost, shape, leads, z)
    first = True
    while out.rounds < MAX_ROUNDS:
        before = out.objective
        for half in halves:
            left = seconds - (time.perf_counter() - t0)
            if left <= 0:
                break
            lower, upper = free_lower.copy(), free_upper.copy()
            if half == "structure":
                lower[lay.Z : lay.X] = upper[lay.Z : lay.X] = z
            else:
                assert out.network is not None
                fixed = np.round(out.network[: lay.Z])
                lower[: lay.Z] = upper[: lay.Z] = fixed
            _bounds(h, hc, lower, upper)
            if out.network is not None:
                h.setSolution(mm.n_cols, hc.astype(np.int32), out.network.astype(float))
            run(h, FIRST_SHARE * seconds if first else left / 2 if half == halves[0] else left)
            first = False
            out.interrupted = is_interrupted(h)
            found = objective_of(h)
            if found is not None and (out.objective is None or found < out.objective - IMPROVE_TOL):
                out.network = np.asarray(h.getSolution().col_value)[hc]
                out.objective = mm.cost(out.network)
                z = np.round(out.network[lay.Z : lay.X])
            if out.interrupted or out.network is None:
                break
        out.rounds += 1
        if out.interrupted or out.network is None or time.perf_counter() - t0 >= seconds:
            break
        assert out.objective is not None
        if before is not None and before - out.objective < ROUND_GAIN * abs(out.objective):
            break
    h.setOptionValue("mip_heuristic_effort", effort)
    return out


def _free_bounds(
    mm: MatrixModel,
    value: np.ndarray,
    reduced_cost: np.ndarray,
    shape: Shape,
    leads: np.ndarray,
    z: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Bounds (layout order) of what either MIP may change: ``leads`` fixed; links only to
    them; each CCG among them (above ASSIGN_FREE_MAX columns, among its rounding candidates
    and its current lead)."""
    lay = mm.layout
    lower, upper = mm.col_lower.copy(), mm.col_upper.copy()
    upper[lay.U : lay.A] = lower[lay.U : lay.A] = leads
    movable = leads[shape.lead_of_z] > 0.5
    if movable.sum() > ASSIGN_FREE_MAX:
        share, rc_z = value[lay.Z : lay.X], reduced_cost[lay.Z : lay.X]
        rank = candidates(rc_z, movable, shape.ccg_of_z)
        movable &= (share > ZERO_TOL) | (rank < ALTERNATIVES) | (z > 0.5)
    upper[lay.Z : lay.X] = np.where(movable, upper[lay.Z : lay.X], 0.0)
    w_closed = leads[shape.lead_of_w] < 0.5
    upper[lay.W : lay.Z] = np.where(w_closed, 0.0, upper[lay.W : lay.Z])
    return lower, upper


def _bounds(h: Highs, hc: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
    """Set every column's bounds (layout order) in ``h`` (HiGHS order)."""
    n = len(hc)
    lo_h, up_h = np.empty(n), np.empty(n)
    lo_h[hc], up_h[hc] = lower, upper
    h.changeColsBounds(n, np.arange(n, dtype=np.int32), lo_h, up_h)
