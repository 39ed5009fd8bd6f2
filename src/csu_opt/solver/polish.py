"""Polishing: the last share of the time limit searches the incumbent's lead set only.

When HiGHS's search stops at its share of the time limit without a proof, the network it
found can often be bettered by keeping its lead set and choosing everything else again:
which partners join which networks, which CCG buys from which, who exits. That is the same
model with u[l] fixed to the incumbent's values, a much smaller search (a large-neighbourhood
search in the sense of Shaw 1998; Gurobi's ``ImproveStartTime`` plays the same role). The
polish starts from the incumbent, so it never returns a worse network; its own bound holds
for that lead set only and is reported as such, never as the bound of the whole model.

Measured on england-2013 in benchmarks/README.md, "Polishing".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from csu_opt import stops
from csu_opt.solver.highs import Highs, default_option, finite_or_none, read_end
from csu_opt.solver.tolerances import IMPROVE_TOL

#: HiGHS limits that end the main search early; the polish runs under its time budget only,
#: so they are reset to HiGHS's defaults for it (and restored afterwards).
SEARCH_LIMITS = ("mip_max_nodes", "mip_max_leaves", "mip_max_improving_sols")

#: Below this many seconds left, polishing is not started.
MIN_POLISH_S = 1.0


@dataclass
class PolishResult:
    """What the polish did: its lead set, the objective before and after, its own bound."""

    ran: bool
    reason: str
    leads_fixed: int = 0
    objective_before: float | None = None
    objective_after: float | None = None
    lead_set_bound: float | None = None  # HiGHS's bound for the lead set, not the model
    time_s: float = 0.0
    col: np.ndarray | None = None  # the better solution (HiGHS's column order), if improved

    @property
    def improved(self) -> bool:
        return self.col is not None

    def as_record(self) -> dict[str, Any]:
        """The record written to summary.json (``solver.polish``)."""
        return {
            "ran": self.ran,
            "reason": self.reason,
            "leads_fixed": self.leads_fixed,
            "objective_before": self.objective_before,
            "objective_after": self.objective_after,
            "lead_set_bound": self.lead_set_bound,
            "improved": self.improved,
            "time_s": round(self.time_s, 3),
        }


def polish_lead_set(
    h: Highs,
    u_cols: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    start: np.ndarray,
    start_objective: float,
    time_limit: float,
    on_progress: Callable[[float | None], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> PolishResult:
    """Search the networks with the lead set of ``start``, from ``start``, for ``time_limit`` s.

    ``h`` holds the whole model; ``u_cols`` are the u[l] columns in HiGHS's order and
    ``lower``/``upper`` their bounds, restored afterwards (the kept model is the whole model
    again). ``start`` is a feasible solution in HiGHS's column order. ``on_progress`` receives
    the polish's incumbent (None before it has one); ``should_stop`` returning True interrupts
    it. Returns the better solution, if any (one whose cost HiGHS's objective confirms).
    """
    t0 = time.perf_counter()
    u = np.round(start[u_cols])
    cols = u_cols.astype(np.int32)
    saved = {k: h.getOptionValue(k)[1] for k in SEARCH_LIMITS}
    for key in SEARCH_LIMITS:
        h.setOptionValue(key, default_option(key))
    h.changeColsBounds(len(cols), cols, u, u)
    # after the bound change, which clears a solution handed over before it
    h.setSolution(len(start), np.arange(len(start), dtype=np.int32), start.astype(np.float64))
    h.setOptionValue("time_limit", float(time_limit))

    def report(event: Any) -> None:
        out = event.data_out
        if on_progress is not None:
            on_progress(finite_or_none(out.mip_primal_bound))
        # set, or reset: HiGHS keeps the main search's interrupt request across runs
        event.data_in.user_interrupt = bool(should_stop is not None and should_stop())

    h.cbMipInterrupt.clear()
    h.cbMipInterrupt.subscribe(report)
    try:
        with stops.deferred():
            h.run()
        end = read_end(h)
        reason = end.model_status.lower()
        after, bound, col = end.objective, end.bound, end.col
        if end.fault:  # a solver fault: keep the start
            after, col, reason = None, None, f"{reason}; inconsistent result ignored"
    finally:
        h.cbMipInterrupt.clear()
        h.changeColsBounds(len(cols), cols, lower.astype(float), upper.astype(float))
        for key, value in saved.items():
            h.setOptionValue(key, value)
    improved = after is not None and after < start_objective - IMPROVE_TOL * max(1.0, abs(after))
    return PolishResult(
        ran=True,
        reason=reason,
        leads_fixed=int(u.sum()),
        objective_before=start_objective,
        objective_after=after if improved else start_objective,
        lead_set_bound=bound,
        time_s=time.perf_counter() - t0,
        col=col if improved else None,
    )
