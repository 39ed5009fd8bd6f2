"""The search split in two by a piercing cut, once a restricted MIP is proven (issue 19).

Cut-and-solve (Climer and Zhang 2006; for the single-source facility-location problem Yang,
Chu and Chen 2012) divides the networks into two sets: those using only the columns a
restricted MIP left free (its neighbourhood N), and the rest. When HiGHS proves the
restricted MIP optimal (within the gap), N is done: its best network is known, and so is
its bound b_N. Every network cheaper than that one uses a column fixed to 0 in N, so the rest
of the search needs only the model with the *piercing cut*

    Σ_{j fixed to 0 in N} x_j >= 1

and an *objective cutoff* c·x + offset <= UB (1 - gap / 2), UB the best network known. That
model (the complement) is smaller in the sense that matters: when the LP's closed leads cost
more than UB to open, its LP bound is above the cutoff and HiGHS proves it infeasible at the
root; otherwise HiGHS searches only what is left. The two together are exact:

- the best network is the cheaper of N's and the complement's;
- the whole model's bound is min(b_N, b_C), where b_C is the complement's bound, or the cutoff
  when HiGHS proves the complement infeasible (no network there costs less than the cutoff);
  and never below the bound HiGHS had on the whole model when it was stopped.

:mod:`csu_opt.solver.late` stops HiGHS's search on the whole model once the reduction run
after its root proves its neighbourhood, and :func:`search_complement` runs HiGHS again on the
same object with the two rows added (removed after, so a session's model is unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from csu_opt.results.solution import Status
from csu_opt.solver.highs import INF, Highs, RunEnd, read_end
from csu_opt.solver.outcome import Outcome, Values

#: The complement's cutoff lies this share of the requested gap below the best network: a
#: network between the cutoff and UB is within the gap of UB (so the proof holds), while the
#: complement need not prove the last part of the gap.
CUTOFF_SHARE = 0.5


#: The complement's search gets at most SPLIT_FACTOR times the reduction's time, and at least
#: SPLIT_MIN_S; unproven then, the whole model is searched again from the best network (a
#: complement holding a network cheaper than the neighbourhood's may take longer than the
#: whole search: tune-euclid-single 40 x 100 seed 1, 108.6 s unproven against 63 s whole).
SPLIT_FACTOR = 2.0
SPLIT_MIN_S = 5.0


def split_budget(reduction_s: float) -> float:
    """The complement's time budget after a reduction that took ``reduction_s``."""
    return max(SPLIT_MIN_S, SPLIT_FACTOR * reduction_s)


@dataclass
class Complement:
    """What the complement's search did (summary.json's ``solver.late_reduction.split``)."""

    columns: int  # the binaries in the piercing cut
    cutoff: float  # the objective cutoff (model terms, with the offset)
    end: RunEnd
    time_s: float

    @property
    def bound(self) -> float | None:
        """b_C: the complement's bound; the cutoff when HiGHS proved it infeasible."""
        if self.end.infeasible:
            return self.cutoff
        if self.end.optimal and self.end.bound is None:
            return self.end.objective
        return self.end.bound

    def as_record(self) -> dict[str, object]:
        return {
            "columns": self.columns,
            "cutoff": self.cutoff,
            "status": self.end.model_status,
            "objective": self.end.objective,
            "bound": self.bound,
            "nodes": self.end.nodes,
            "time_s": round(self.time_s, 3),
        }


def cutoff_of(best: float, mip_gap: float) -> float:
    """UB (1 - gap / 2) for a positive UB (UB - |UB| gap / 2 in general)."""
    return best - CUTOFF_SHARE * mip_gap * abs(best)


def search_complement(h: Highs, out_cols: np.ndarray, best: float, mip_gap: float) -> Complement:
    """Run ``h`` (its time limit already set) on its model with the piercing cut over HiGHS's
    columns ``out_cols`` and the objective cutoff below ``best``; the two rows are removed
    after the run, once its end is read."""
    lp = h.getLp()
    cost = np.asarray(lp.col_cost_, dtype=float)
    offset = float(lp.offset_)
    cutoff = cutoff_of(best, mip_gap)
    cols = np.asarray(out_cols, dtype=np.int32)
    first = h.getNumRow()
    h.addRow(1.0, INF, len(cols), cols, np.ones(len(cols)))
    priced = np.flatnonzero(cost).astype(np.int32)
    h.addRow(-INF, cutoff - offset, len(priced), priced, cost[priced])
    run0 = float(h.getRunTime())
    try:
        h.run()
        end = read_end(h)
        time_s = float(h.getRunTime()) - run0
    finally:
        h.deleteRows(2, np.array([first, first + 1], dtype=np.int32))
    return Complement(len(cols), cutoff, end, time_s)


def split_outcome(
    whole: Outcome,
    network: tuple[float, Values] | None,
    proven_bound: float,
    complement: Complement,
    complement_values: Values | None,
    mip_gap: float,
) -> Outcome:
    """The whole model's outcome from the stopped search (``whole``), the neighbourhood's
    proven network (``network``: cost and values) and bound, and the complement's search."""
    found: list[tuple[float, Values]] = []
    if whole.objective is not None and whole.solution is not None:
        found.append((whole.objective, whole.solution))
    if network is not None:
        found.append(network)
    end = complement.end
    if end.objective is not None and complement_values is not None and not end.fault:
        found.append((end.objective, complement_values))
    b_c = complement.bound
    bound = whole.bound
    if b_c is not None:
        split_bound = min(proven_bound, b_c)
        bound = split_bound if bound is None else max(bound, split_bound)
    if not found:
        return Outcome(Status.NO_SOLUTION, end.message, None, bound, None)
    objective, values = min(found, key=lambda f: f[0])
    where = "the complement's search" if b_c is not None and end.optimal else "its search"
    message = (
        "stopped with the search split by a piercing cut "
        f"(the restricted MIP proven, {where} ended: {end.message})"
    )
    out = Outcome(Status.FEASIBLE, message, objective, bound, values)
    return out.judged(
        mip_gap, "proven optimal within the requested gap (restricted MIP and its complement)"
    )
