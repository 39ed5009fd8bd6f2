"""Alternating fixes: a national network from the LP in two easy MIPs, taken in turn (issue 19).

On national single-sourced models HiGHS finds few networks in the restricted MIP's
neighbourhood: deciding the links w and the whole assignments z together is what makes it
hard (benchmarks/README.md, "Where the 200 x 2,000 gap lies"). Each half alone is easy. So,
from the LP relaxation's solution (or the last restricted LP's, when the column generation
stopped early):

1. **leads** (:func:`round_leads`): the k leads of largest u, k the number at u >= 1/2
   held within the lead band;
2. **assignments** (:func:`round_assignments`): each CCG wholly with one open lead, at the
   LP's prices, within each network's volume window (a small assignment MIP);
3. **the structure MIP**: u and z fixed, every a, every w to an open lead and every x free:
   who partners whom, and who delivers what, for the networks' fixed demand;
4. **the assignment MIP**: u, a and w fixed at 3's network, each CCG free among the open
   leads: where each CCG goes, for the networks' fixed membership;
5. 3 and 4 again from the better network, until a round gains less than ROUND_GAIN or the
   time runs out.

Every solution of either MIP is a whole network of the full model (only bounds change), so
each is an incumbent. Measured on a generated 200 x 2,000 x 5 (one thread, 30 s per MIP):
747,567.59 after the first structure MIP, 746,353.14 after the first assignment MIP (7 s,
optimal), 745,661.00 after the second round; the third gained nothing. The restricted MIP
over the LP's neighbourhood, with relax and fix, had 750,350.70 in 360 s; the LP bound is
744,303.72.
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
#: Rounds at most (the 200 x 2,000 measurement above gained nothing in its third).
MAX_ROUNDS = 4
#: Share of the alternation's time the first structure MIP may use; every later MIP gets an
#: equal share of what is left.
FIRST_SHARE = 0.25
#: The rounding of the assignments (:func:`round_assignments`): each CCG's candidates are
#: the open leads the LP gives it a share of and its ALTERNATIVES others of least reduced
#: cost; each lead able to deliver NEED_MARGIN times its minimum volume itself and its
#: self-delivery share with 1 / MOST_MARGIN to spare; TIE prefers larger LP shares among
#: equal reduced costs; ROUNDING_SHARE of the time.
ALTERNATIVES = 3
NEED_MARGIN = 1.1
MOST_MARGIN = 0.9
TIE = 1e-3
ROUNDING_SHARE = 0.05
STAGE = "restricted MIP, alternating"


@dataclass(frozen=True)
class Shape:
    """What the roundings need beyond the matrix: each assignment column's CCG and lead,
    each link column's lead (positions), each CCG's demand and each lead's capacity by
    line, each lead's minimum volume v, and the self-delivery share ρ."""

    ccg_of_z: np.ndarray
    lead_of_z: np.ndarray
    lead_of_w: np.ndarray
    demand: np.ndarray  # (CCGs, lines)
    cap: np.ndarray  # (leads, lines)
    need: np.ndarray
    rho: float


def shape_of(ix: ModelIndex, demand_scale: float = 1.0) -> Shape:
    """The :class:`Shape` of ``ix``'s model (demand times ``demand_scale``)."""
    cd = index_codes(ix)
    demand = np.zeros((cd.nC, cd.nS))
    np.add.at(demand, (cd.dem_c, cd.dem_s), ix.demand["d"].to_numpy(dtype=float) * demand_scale)
    cap = np.zeros((cd.nP, cd.nS))
    cap[cd.elig_p, cd.elig_s] = ix.eligible["cap"].to_numpy(dtype=float)
    need = ix.providers["v"].to_numpy(dtype=float)[cd.lead_prov]
    return Shape(cd.z_c, cd.z_l, cd.link_l, demand, cap[cd.lead_prov], need, float(ix.self_share))


@dataclass
class Alternation:
    """What the alternation found (layout order)."""

    network: np.ndarray | None = None
    objective: float | None = None
    rounds: int = 0
    leads: int = 0
    interrupted: bool = False

    def record(self, seconds: float) -> dict[str, object]:
        """As written to summary.json (solver.reduction.alternating_fixes)."""
        return {
            "leads": self.leads,
            "rounds": self.rounds,
            "network": self.objective,
            "time_s": round(seconds, 3),
        }


def round_leads(u: np.ndarray, band: tuple[float, float]) -> np.ndarray:
    """0/1 per lead: the k of largest u, k = #(u >= 1/2) held within the band."""
    lo, hi = band
    k = int(np.clip((u >= 0.5).sum(), np.ceil(lo - 1e-9), np.floor(hi + 1e-9)))
    out = np.zeros(len(u))
    out[np.argsort(-u, kind="stable")[:k]] = 1.0
    return out


def candidates(
    share: np.ndarray, reduced_cost: np.ndarray, open_z: np.ndarray, ccg_of_z: np.ndarray
) -> np.ndarray:
    """Assignment columns a CCG may take in the rounding: to an open lead, with a positive
    LP share or among its ALTERNATIVES of least reduced cost."""
    score = np.where(open_z, reduced_cost, np.inf)
    order = np.lexsort((score, ccg_of_z))
    first = np.searchsorted(ccg_of_z[order], ccg_of_z[order], side="left")
    rank = np.empty(len(share), np.int64)
    rank[order] = np.arange(len(share)) - first
    return np.flatnonzero(open_z & ((share > ZERO_TOL) | (rank < ALTERNATIVES)))


def round_assignments(
    share: np.ndarray,
    reduced_cost: np.ndarray,
    open_z: np.ndarray,
    shape: Shape,
    leads: np.ndarray,
    seconds: float,
) -> np.ndarray | None:
    """0/1 per assignment column, each CCG wholly with one open lead (None: no such
    rounding found in ``seconds``). A small MIP over the :func:`candidates` z[j] and each
    open lead's own delivery y[l,s] in [0, cap[l,s]]:

        min Σ (rc[j] − TIE·share[j]) z[j]
        Σ_{j of c} z[j] = 1                                  every CCG c
        y[l,s] <= Σ_{j of l} d[c(j),s] z[j]                  every open l, line s
        Σ_s y[l,s] >= NEED_MARGIN·v[l]                       (C11 for the lead)
        Σ_s y[l,s] >= (ρ / MOST_MARGIN) Σ_{j of l} D[c(j)] z[j]    (C10)

    At the LP's prices each CCG goes where it costs least (rc[j] plus the CCG's own dual is
    t[l,c] plus its demand priced at l's network duals; the LP's own placements have
    rc = 0, their larger share first), so long as each lead can still deliver its minimum
    volume and its share of its network itself (partners deliver the rest)."""
    import scipy.sparse as sp  # noqa: PLC0415 (heavy optional dependency, loaded when used)

    cols = candidates(share, reduced_cost, open_z, shape.ccg_of_z)
    ccgs, c_row = np.unique(shape.ccg_of_z[cols], return_inverse=True)
    if len(ccgs) < len(shape.demand):
        return None  # some CCG has no open lead to go to
    opened = np.flatnonzero(leads > 0.5)
    k, n_s = len(opened), shape.demand.shape[1]
    nc, n = len(ccgs), len(cols)
    lead = np.searchsorted(opened, shape.lead_of_z[cols])  # 0..k-1
    dem = shape.demand[shape.ccg_of_z[cols]]  # (n, S)
    z_part = sp.vstack(
        [
            sp.csr_matrix((np.ones(n), (c_row, np.arange(n))), shape=(nc, n)),
            sp.csr_matrix(
                (
                    -dem.ravel(),
                    (
                        np.repeat(lead * n_s, n_s) + np.tile(np.arange(n_s), n),
                        np.repeat(np.arange(n), n_s),
                    ),
                ),
                shape=(k * n_s, n),
            ),
            sp.csr_matrix((k, n)),
            sp.csr_matrix(
                (-dem.sum(axis=1) * shape.rho / MOST_MARGIN, (lead, np.arange(n))), shape=(k, n)
            ),
        ]
    )
    y_sum = sp.kron(sp.identity(k), np.ones((1, n_s)))
    y_part = sp.vstack([sp.csr_matrix((nc, k * n_s)), sp.identity(k * n_s), y_sum, y_sum])
    matrix = sp.hstack([z_part, y_part]).tocsr()
    matrix.eliminate_zeros()
    inf = HIGHS_INFINITE
    row_lower = np.r_[
        np.ones(nc), np.full(k * n_s, -inf), NEED_MARGIN * shape.need[opened], np.zeros(k)
    ]
    row_upper = np.r_[np.ones(nc), np.zeros(k * n_s), np.full(2 * k, inf)]
    h = quiet_highs({"threads": 1, "mip_rel_gap": 1e-3, "time_limit": float(max(seconds, 0.01))})
    h.passModel(
        n + k * n_s,
        len(row_lower),
        matrix.nnz,
        2,  # row-wise
        1,  # minimise
        0.0,
        np.r_[reduced_cost[cols] - TIE * share[cols], np.zeros(k * n_s)],
        np.zeros(n + k * n_s),
        np.r_[np.ones(n), shape.cap[opened].ravel()],
        row_lower,
        row_upper,
        matrix.indptr.astype(np.int32),
        matrix.indices.astype(np.int32),
        matrix.data,
        np.r_[np.ones(n, np.int32), np.zeros(k * n_s, np.int32)],
    )
    with stops.deferred():
        h.run()
    if objective_of(h) is None:
        return None
    out = np.zeros(len(share))
    out[cols] = np.round(np.asarray(h.getSolution().col_value)[:n])
    return out


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
    runs HiGHS for that long. ``h`` is left with the model's own
    bounds. The best network found is ``network``, whether or not it beats the caller's."""
    lay = mm.layout
    hc = mm.highs_col
    t0 = time.perf_counter()
    out = Alternation()
    leads = round_leads(value[lay.U : lay.A], mm.lead_band())
    out.leads = int(leads.sum())
    open_z = leads[shape.lead_of_z] > 0.5
    z = round_assignments(
        value[lay.Z : lay.X],
        reduced_cost[lay.Z : lay.X],
        open_z,
        shape,
        leads,
        ROUNDING_SHARE * seconds,
    )
    if z is None:
        return out
    free_lower, free_upper = mm.col_lower.copy(), mm.col_upper.copy()
    free_upper[lay.U : lay.A] = free_lower[lay.U : lay.A] = leads
    free_upper[lay.Z : lay.X] = np.where(open_z, free_upper[lay.Z : lay.X], 0.0)
    w_closed = leads[shape.lead_of_w] < 0.5
    free_upper[lay.W : lay.Z] = np.where(w_closed, 0.0, free_upper[lay.W : lay.Z])
    first = True
    while out.rounds < MAX_ROUNDS:
        before = out.objective
        for half in ("structure", "assignment"):
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
            run(h, FIRST_SHARE * seconds if first else left / 2 if half == "structure" else left)
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
    _bounds(h, hc, mm.col_lower, mm.col_upper)
    return out


def _bounds(h: Highs, hc: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
    """Set every column's bounds (layout order) in ``h`` (HiGHS order)."""
    n = len(hc)
    lo_h, up_h = np.empty(n), np.empty(n)
    lo_h[hc], up_h[hc] = lower, upper
    h.changeColsBounds(n, np.arange(n, dtype=np.int32), lo_h, up_h)
