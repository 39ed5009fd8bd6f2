"""Alternating fixes: a national network from the LP in two easy MIPs, taken in turn (issue 19).

On national single-sourced models HiGHS finds few networks in the restricted MIP's
neighbourhood: deciding the links w and the whole assignments z together is what makes it
hard (benchmarks/README.md, "Where the 200 x 2,000 gap lies"). Each half alone is easy. So,
from the LP relaxation's solution (or the last restricted LP's, when the column generation
stopped early):

1. **leads** (:func:`round_leads`): the k leads of largest u, k the number at u >= 1/2
   held within the lead band;
2. **assignments** (:func:`round_assignments`): each CCG wholly with the open lead the LP
   gives the largest share of it (ties: the smaller reduced cost);
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

from csu_opt.model.blocks import MatrixModel
from csu_opt.solver.highs import Highs, is_interrupted, objective_of
from csu_opt.solver.tolerances import IMPROVE_TOL

#: A round (structure MIP, then assignment MIP) that gains less than this share of the
#: incumbent's cost ends the alternation.
ROUND_GAIN = 1e-5
#: Rounds at most (the 200 x 2,000 measurement above gained nothing in its third).
MAX_ROUNDS = 4
#: Share of the alternation's time the first structure MIP may use; every later MIP gets an
#: equal share of what is left.
FIRST_SHARE = 0.25
STAGE = "restricted MIP, alternating"


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


def round_assignments(
    share: np.ndarray,
    reduced_cost: np.ndarray,
    open_z: np.ndarray,
    ccg_of_z: np.ndarray,
) -> np.ndarray:
    """0/1 per assignment column: each CCG with the open lead of its largest LP share, ties
    (among them every share of 0) by the smaller reduced cost; a CCG no open lead may serve
    gets none."""
    order = np.lexsort((reduced_cost, -share, ~open_z, ccg_of_z))
    first = np.r_[True, ccg_of_z[order][1:] != ccg_of_z[order][:-1]]
    pick = order[first]
    out = np.zeros(len(share))
    out[pick[open_z[pick]]] = 1.0
    return out


def alternate(
    h: Highs,
    mm: MatrixModel,
    value: np.ndarray,
    reduced_cost: np.ndarray,
    ccg_of_z: np.ndarray,
    lead_of_z: np.ndarray,
    lead_of_w: np.ndarray,
    seconds: float,
    run: Callable[[Highs, float], None],
) -> Alternation:
    """Steps 1-5 on ``h`` (the model as passed, its own bounds and integrality), from the LP
    solution ``value`` and its reduced costs, for at most ``seconds``. ``ccg_of_z``,
    ``lead_of_z`` and ``lead_of_w`` give each assignment's CCG and lead and each link's
    lead; ``run(h, seconds)`` runs HiGHS for that long. ``h`` is left with the model's own
    bounds. The best network found is ``network``, whether or not it beats the caller's."""
    lay = mm.layout
    hc = mm.highs_col
    t0 = time.perf_counter()
    out = Alternation()
    leads = round_leads(value[lay.U : lay.A], mm.lead_band())
    out.leads = int(leads.sum())
    open_z = leads[lead_of_z] > 0.5
    z = round_assignments(value[lay.Z : lay.X], reduced_cost[lay.Z : lay.X], open_z, ccg_of_z)
    if z.sum() < len(np.unique(ccg_of_z)):
        return out  # some CCG has no open lead to go to
    free_lower, free_upper = mm.col_lower.copy(), mm.col_upper.copy()
    free_upper[lay.U : lay.A] = free_lower[lay.U : lay.A] = leads
    free_upper[lay.Z : lay.X] = np.where(open_z, free_upper[lay.Z : lay.X], 0.0)
    w_closed = leads[lead_of_w] < 0.5
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
