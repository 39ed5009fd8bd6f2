"""What a solve's stages hand one another: a frozen :class:`Outcome`, and the rules that make
one from HiGHS's end, from the root reduction, or from another outcome.

A solve runs start -> reduction -> search (or race) -> settle -> polish
(:mod:`csu_opt.solver.pipeline`); every stage after the search takes an Outcome and returns
one. "Proven optimal" is decided in one place (:meth:`Outcome.judged`), and the whole model's
bound from a bound on the reduced model in one place too
(:class:`csu_opt.solver.reduce.CombinedBound`, used by :func:`settle` and by every search of a
race).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from csu_opt.model.blocks import Layout
from csu_opt.results.solution import Status
from csu_opt.solver.highs import RunEnd, gap, within_gap
from csu_opt.solver.reduce import Reduction
from csu_opt.solver.tolerances import IMPROVE_TOL

#: The network as variable values, per family (u, a, w, z, x), in the model index's row order.
Values = dict[str, np.ndarray]

PROVEN = "proven optimal within the requested gap"


@dataclass(frozen=True)
class Outcome:
    """Where a solve stands: csu-opt's status, a plain sentence, the best network's objective,
    the best bound on the whole model, and the network itself (None: none found)."""

    status: Status
    message: str
    objective: float | None = None
    bound: float | None = None
    solution: Values | None = field(default=None, compare=False)  # arrays: not compared

    def gap(self) -> float | None:
        """The relative gap between objective and bound (:func:`csu_opt.solver.highs.gap`)."""
        return gap(self.objective, self.bound)

    def proven(self, mip_gap: float) -> bool:
        """True when the bound proves the objective optimal within ``mip_gap``."""
        return within_gap(self.objective, self.bound, mip_gap)

    def judged(self, mip_gap: float, message: str = PROVEN) -> Outcome:
        """This outcome, made OPTIMAL (with ``message``) when it is FEASIBLE and proven within
        ``mip_gap``: the one place where a bound turns a network into a proven optimum."""
        if self.status is Status.FEASIBLE and self.proven(mip_gap):
            return replace(self, status=Status.OPTIMAL, message=message)
        return self


def outcome_of_run(end: RunEnd, values: Callable[[np.ndarray], Values]) -> Outcome:
    """The outcome of a HiGHS run (``values`` maps HiGHS's columns to the network).

    A run solved without a branch-and-bound tree has no dual bound: its optimum is its bound.
    A run whose objective is not its solution's cost (a solver fault) keeps the solution at its
    true cost, as FEASIBLE, with no bound.
    """
    status, message, objective, bound = end.status, end.message, end.objective, end.bound
    if status is Status.OPTIMAL and bound is None:
        bound = objective  # solved without a branch-and-bound tree
    solution = None
    if end.col is not None and status.has_solution:
        solution = values(end.col)
        if end.fault:
            status, bound = Status.FEASIBLE, None
            message = (
                f"HiGHS reported the objective {end.reported_objective:,.2f} but the solution "
                f"it returned costs {end.objective:,.2f}: its result is inconsistent (a solver "
                "fault), so the solution is kept at its true cost and HiGHS's bound is not "
                "trusted"
            )
    return Outcome(status, message, objective, bound, solution)


def outcome_of_reduction(red: Reduction, mip_gap: float, layout: Layout) -> Outcome:
    """The outcome when the root reduction leaves HiGHS nothing to do (see
    :func:`csu_opt.solver.stages.reduction_settles`): its incumbent and its bound."""
    values = None if red.incumbent is None else layout.split(red.incumbent)
    found = Status.FEASIBLE if values is not None else Status.NO_SOLUTION
    if red.interrupted:
        message = "stopped at an interrupt during the root reduction"
    else:
        message = "stopped at the time limit during the root reduction"
    out = Outcome(found, message, red.incumbent_objective, red.lower_bound, values)
    if red.settled(mip_gap):
        return replace(
            out,
            status=Status.OPTIMAL,
            message="proven optimal within the requested gap (LP bound and restricted MIP)",
        )
    return out


def settle(
    out: Outcome, red: Reduction | None, mip_gap: float, layout: Layout, *, combine: bool = True
) -> Outcome:
    """The search's outcome on the whole model's terms, after a root reduction.

    - The reduced model infeasible while the reduction has an incumbent: every network better
      than the incumbent was excluded, so the incumbent is optimal.
    - The bound is the whole model's (:meth:`Reduction.combined_bound`); ``combine=False`` for
      a race, whose searches each combine their own.
    - A FEASIBLE network within the gap of that bound is proven optimal.
    """
    if red is None:
        return out
    if out.status is Status.INFEASIBLE and red.incumbent is not None:
        out = Outcome(
            Status.OPTIMAL,
            "proven optimal: no network beats the root reduction's incumbent",
            red.incumbent_objective,
            red.incumbent_objective,
            layout.split(red.incumbent),
        )
    if combine:
        out = replace(out, bound=red.combined_bound(out.bound))
        return out.judged(mip_gap)
    return out


def better_of(out: Outcome, red: Reduction | None, mip_gap: float, layout: Layout) -> Outcome:
    """``out``, or the reduction's network when the search ended with a worse one (a network
    handed to a running search that HiGHS did not take, :mod:`csu_opt.solver.late`): kept at
    its own cost, with the search's bound."""
    if red is None or red.incumbent is None or red.incumbent_objective is None:
        return out
    if out.objective is not None and out.objective <= red.incumbent_objective + IMPROVE_TOL:
        return out
    kept = Outcome(
        Status.FEASIBLE,
        "the root reduction's network (after HiGHS's root), better than HiGHS's own",
        red.incumbent_objective,
        out.bound,
        layout.split(red.incumbent),
    )
    return kept.judged(mip_gap)
