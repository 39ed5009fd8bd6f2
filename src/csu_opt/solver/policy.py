"""Which optional stages a solve runs: the greedy start and the root reduction (issue 19).

Each stage pays only on some models, and the cheap test that predicts it is the model's size
(estimated nonzeros, :func:`csu_opt.solver.engines.estimate_nonzeros`). The thresholds were
chosen on the TUNE facility-location families and reported on held-out ones
(benchmarks/README.md, "Performance that generalises"):

- the greedy start (:mod:`csu_opt.solver.start`) lands 7-58% above the optimum on small
  models, where HiGHS's own heuristics find better networks within its first second; handing
  it over costs a build of the arrays on the Pyomo path and steers HiGHS's search. It runs from
  ``START_MIN_NNZ`` up, where HiGHS may take minutes to a first network;
- the root reduction (:mod:`csu_opt.solver.reduce`) solves the LP and a restricted MIP before
  the search; below ``REDUCTION_MIN_NNZ`` HiGHS's own root is as quick, so it runs from there up
  (and, as before, on the matrix path only);
- below that size the reduction can still run *after* HiGHS's root
  (:mod:`csu_opt.solver.late`): HiGHS starts at once, and only when its root leaves a gap above
  :data:`csu_opt.solver.late.ROOT_GAP` does the reduction run, its network handed to the
  running search. The root's gap is the cheap test: HiGHS's own root heuristics come within
  0.1% on england-2014, where the reduction run first costs a fifth of the time, and 3-4%
  on the euclid-single family, where it halves it. A sequential search only (not a race).

An explicit choice (``SolveOptions.start_heuristic`` / ``root_reduction`` True or False, the
CLI's ``--start/--no-start``, ``--reduction/--no-reduction``) is always obeyed. The decision and its
reason are written to summary.json as ``solver.stages``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from csu_opt.model.index import ModelIndex
from csu_opt.solver.engines import estimate_nonzeros
from csu_opt.solver.late import ROOT_GAP
from csu_opt.solver.options import SolveOptions

#: the greedy start runs by default from this many estimated nonzeros
START_MIN_NNZ = 150_000
#: the root reduction runs by default from this many estimated nonzeros (matrix path only)
REDUCTION_MIN_NNZ = 50_000


@dataclass(frozen=True)
class StageChoice:
    """Whether one optional stage runs, and why (as summary.json says it)."""

    run: bool
    why: str

    def as_record(self) -> dict[str, Any]:
        return {"run": self.run, "why": self.why}


@dataclass(frozen=True)
class StagePlan:
    """The optional stages of one solve."""

    nonzeros: int
    start: StageChoice
    reduction: StageChoice
    late_reduction: StageChoice = StageChoice(False, "not planned")

    def as_record(self) -> dict[str, Any]:
        return {
            "estimated_nonzeros": self.nonzeros,
            "start": self.start.as_record(),
            "reduction": self.reduction.as_record(),
            "late_reduction": self.late_reduction.as_record(),
        }


def by_size(asked: bool | None, nonzeros: int, threshold: int, what: str) -> StageChoice:
    """An explicit choice, else on from ``threshold`` estimated nonzeros."""
    if asked is not None:
        return StageChoice(asked, "asked for" if asked else "switched off")
    if nonzeros >= threshold:
        return StageChoice(True, f"{nonzeros:,} estimated nonzeros >= {threshold:,}")
    return StageChoice(False, f"{nonzeros:,} estimated nonzeros < {threshold:,}: {what}")


def plan_stages(ix: ModelIndex, options: SolveOptions, backend: str) -> StagePlan:
    """The start and the reduction for a solve of ``ix`` on ``backend`` under ``options``."""
    nnz = estimate_nonzeros(ix)
    start = by_size(
        options.start_heuristic, nnz, START_MIN_NNZ, "HiGHS's own heuristics are quicker"
    )
    if options.root_reduction is None and backend != "matrix":
        reduction = StageChoice(False, "the Pyomo path: the reduction runs on the matrix path")
    else:
        reduction = by_size(
            options.root_reduction, nnz, REDUCTION_MIN_NNZ, "HiGHS's root is as quick"
        )
    return StagePlan(nnz, start, reduction, late_choice(options, backend, reduction))


def late_choice(options: SolveOptions, backend: str, reduction: StageChoice) -> StageChoice:
    """Whether the reduction may run after HiGHS's root (:mod:`csu_opt.solver.late`): only
    when nobody chose the reduction either way and it does not run first."""
    if options.root_reduction is not None:
        return StageChoice(False, "the reduction was asked for or switched off")
    if reduction.run:
        return StageChoice(False, "the reduction runs before the search")
    if backend != "matrix":
        return StageChoice(False, "the Pyomo path: the reduction runs on the matrix path")
    if options.concurrent > 1:
        return StageChoice(False, "a race: every search is HiGHS's own")
    return StageChoice(
        True, f"after HiGHS's root, if it leaves a gap above {ROOT_GAP:.0%} (or no network)"
    )


def planned(options: SolveOptions, plan: StagePlan) -> SolveOptions:
    """``options`` with the plan's choices made explicit (what the stages read)."""
    return replace(options, start_heuristic=plan.start.run, root_reduction=plan.reduction.run)
