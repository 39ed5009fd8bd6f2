"""The one module that imports highspy: csu-opt's adapter to HiGHS.

Everything csu-opt asks of HiGHS beyond calling a ``Highs`` object's own methods goes
through here (``tests/test_layout.py`` checks that no other module imports highspy):

- a quiet ``Highs`` (:func:`quiet_highs`), options applied (:func:`set_options`,
  :func:`log_to`, :func:`set_time_limit`), a model handed over as arrays (:func:`pass_to_highs`,
  :func:`pass_submodel`, :func:`pass_arrays`);
- what a run ended with, read once (:func:`read_end`): HiGHS's model status mapped to
  csu-opt's :class:`~csu_opt.results.solution.Status` (:func:`status_of`), "has a feasible
  solution" (:func:`has_solution`), HiGHS's infinities as None (:func:`finite_or_none`), and
  the objective checked against the solution's cost (:func:`objectives_agree`);
- the relative gap between an objective and a bound (:func:`gap`, :func:`within_gap`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import highspy
import numpy as np

from csu_opt.results.solution import Status
from csu_opt.solver.tolerances import GAP_FLOOR, HIGHS_INFINITE, OBJECTIVE_TOL

if TYPE_CHECKING:
    import scipy.sparse as sp

    from csu_opt.model.blocks import MatrixModel

#: The HiGHS solver object (for annotations; create one with :func:`quiet_highs`).
Highs = highspy.Highs
#: HiGHS's infinity (a column or row without a bound, a time limit without an end).
INF = float(highspy.kHighsInf)

_S = highspy.HighsModelStatus
_FEASIBLE = 2  # HighsInfo.primal_solution_status: kSolutionStatusFeasible
_ROWWISE = 2  # MatrixFormat.kRowwise
_MINIMIZE = 1  # ObjSense.kMinimize


def version() -> str:
    """HiGHS's version, major.minor.patch."""
    h = highspy.Highs()
    return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"


# --------------------------------------------------------------------------- a Highs, its options


def quiet_highs(
    options: Mapping[str, Any] | None = None, should_stop: Callable[[], bool] | None = None
) -> highspy.Highs:
    """A silent ``Highs`` with these options that stops (LP or MIP) once ``should_stop``."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    set_options(h, options or {})
    if should_stop is not None:
        stop = lambda event: event.interrupt() if should_stop() else None  # noqa: E731
        h.cbSimplexInterrupt.subscribe(stop)
        h.cbIpmInterrupt.subscribe(stop)
        h.cbMipInterrupt.subscribe(stop)
    return h


def set_options(h: highspy.Highs, options: Mapping[str, Any]) -> None:
    """Set HiGHS options by name, in the given order."""
    for key, value in options.items():
        h.setOptionValue(key, value)


def default_option(key: str) -> Any:
    """HiGHS's default value of option ``key``."""
    return highspy.Highs().getOptionValue(key)[1]


def set_time_limit(h: highspy.Highs, seconds: float | None) -> None:
    """HiGHS's time limit (None: none)."""
    h.setOptionValue("time_limit", INF if seconds is None else float(seconds))


def log_to(h: highspy.Highs, log_file: str, console: bool | None = None) -> None:
    """HiGHS writes its log to ``log_file`` ("" : nowhere); ``console`` False keeps it off
    the terminal (None: leave that option as it is)."""
    h.setOptionValue("output_flag", True)
    if console is not None:
        h.setOptionValue("log_to_console", console)
    h.setOptionValue("log_file", log_file)


# --------------------------------------------------------------------------- models as arrays


def pass_to_highs(h: highspy.Highs, mm: MatrixModel) -> None:
    """Hand the model to ``h`` in one call (row-wise matrix, numpy arrays).

    Columns are permuted into HiGHS's order (``mm.highs_col``); rows keep theirs.
    """
    layout_of = np.empty(mm.n_cols, dtype=np.int64)
    layout_of[mm.highs_col] = np.arange(mm.n_cols)
    status = h.passModel(
        mm.n_cols,
        mm.n_rows,
        mm.nnz,
        _ROWWISE,
        _MINIMIZE,
        mm.offset,
        mm.col_cost[layout_of],
        mm.col_lower[layout_of],
        mm.col_upper[layout_of],
        mm.row_lower,
        mm.row_upper,
        mm.start,
        mm.highs_col[mm.index],
        mm.value,
        mm.integrality[layout_of],
    )
    if int(status) < 0:  # HighsStatus.kError
        raise RuntimeError("HiGHS rejected the model handed over by csu_opt.model.matrix")


def pass_submodel(
    h: highspy.Highs,
    mm: MatrixModel,
    A: sp.csr_matrix,
    rows: np.ndarray,
    cols: np.ndarray,
    offset: float,
    integral: bool,
) -> None:
    """Hand ``h`` the model restricted to ``rows`` and ``cols`` (layout order, kept as given).

    ``A`` is :func:`csu_opt.model.matrix.csr` of ``mm``; ``integral`` keeps the columns'
    integrality (else the relaxation). Used by the LP's column generation (lp.py) and the
    Dantzig-Wolfe pricing problems (benchmarks/dw.py).
    """
    sub = A[rows][:, cols].tocsr()
    integrality = mm.integrality[cols] if integral else np.zeros(len(cols), np.int32)
    h.passModel(
        len(cols),
        len(rows),
        sub.nnz,
        _ROWWISE,
        _MINIMIZE,
        offset,
        mm.col_cost[cols],
        mm.col_lower[cols],
        mm.col_upper[cols],
        mm.row_lower[rows],
        mm.row_upper[rows],
        sub.indptr.astype(np.int32),
        sub.indices.astype(np.int32),
        sub.data,
        integrality,
    )


def pass_arrays(
    h: highspy.Highs,
    *,
    offset: float,
    col_cost: np.ndarray,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    start: np.ndarray,
    index: np.ndarray,
    value: np.ndarray,
    integrality: np.ndarray,
) -> None:
    """Hand ``h`` a minimisation model given as row-wise arrays."""
    h.passModel(
        len(col_cost),
        len(row_lower),
        len(value),
        _ROWWISE,
        _MINIMIZE,
        offset,
        col_cost,
        col_lower,
        col_upper,
        row_lower,
        row_upper,
        start,
        index,
        value,
        integrality,
    )


def highs_solution(col: np.ndarray) -> highspy.HighsSolution:
    """A HiGHS solution holding column values only (a starting point for the next solve)."""
    sol = highspy.HighsSolution()
    sol.col_value = col.tolist()
    sol.value_valid = True
    return sol


# --------------------------------------------------------------------------- how a run ended


def finite_or_none(x: float) -> float | None:
    """``x``, or None when HiGHS means "none" by it (an infinite or huge value)."""
    return float(x) if np.isfinite(x) and abs(x) < HIGHS_INFINITE else None


def has_solution(h: highspy.Highs) -> bool:
    """True when ``h`` holds a feasible solution."""
    return bool(h.getInfo().primal_solution_status == _FEASIBLE)


def model_status(h: highspy.Highs) -> str:
    """HiGHS's model status in its own words ("Optimal", "Time limit reached", ...)."""
    return str(h.modelStatusToString(h.getModelStatus()))


def is_optimal(h: highspy.Highs) -> bool:
    return bool(h.getModelStatus() == _S.kOptimal)


def is_interrupted(h: highspy.Highs) -> bool:
    """True when the last run stopped at a user interrupt."""
    return bool(h.getModelStatus() == _S.kInterrupt)


def is_infeasible(h: highspy.Highs) -> bool:
    """True when HiGHS proved the model infeasible (or infeasible or unbounded)."""
    return h.getModelStatus() in (_S.kInfeasible, _S.kUnboundedOrInfeasible)


def objective_of(h: highspy.Highs) -> float | None:
    """The objective of ``h``'s solution, None without a feasible solution."""
    if not has_solution(h):
        return None
    return float(h.getInfo().objective_function_value)


def status_of(h: highspy.Highs) -> tuple[Status, str]:
    """csu-opt's status and a plain sentence from HiGHS's model status."""
    ms = h.getModelStatus()
    if ms == _S.kOptimal:
        return Status.OPTIMAL, "proven optimal within the requested gap"
    if ms == _S.kInfeasible:
        return Status.INFEASIBLE, "proven infeasible: no network satisfies every rule"
    if ms == _S.kUnboundedOrInfeasible:
        return Status.INFEASIBLE, "HiGHS reports the model infeasible (or unbounded)"
    limit = {
        _S.kTimeLimit: "the time limit",
        _S.kIterationLimit: "the iteration limit",
        _S.kInterrupt: "an interrupt",
    }.get(ms, h.modelStatusToString(ms))
    if has_solution(h):
        return Status.FEASIBLE, f"stopped at {limit} with a feasible solution"
    return Status.NO_SOLUTION, f"stopped at {limit} before any feasible solution was found"


def solution_cost(h: highspy.Highs, col: np.ndarray) -> float:
    """c·x + offset of the model ``h`` holds (whatever objective) at ``col``.

    HiGHS 1.16.0 reported objectives its own solutions did not have (pyproject.toml); every
    run's end compares the two (:func:`read_end`).
    """
    lp = h.getLp()
    return float(np.dot(np.asarray(lp.col_cost_), col) + lp.offset_)


def objectives_agree(a: float, b: float) -> bool:
    """True when two objective values agree to OBJECTIVE_TOL (relative, at least 1 absolute)."""
    return abs(a - b) <= OBJECTIVE_TOL * max(1.0, abs(a), abs(b))


@dataclass(frozen=True)
class RunEnd:
    """How a HiGHS run ended, read once: csu-opt's status, HiGHS's numbers, the solution.

    ``objective`` is the solution's true cost when HiGHS reported another (``fault``: a solver
    fault; HiGHS's bound is then not to be trusted); ``bound`` is HiGHS's dual bound as
    reported (None: none); ``col`` the solution in HiGHS's column order (None: none) and
    ``solution`` the same as HiGHS's own object (a warm start for the next run).
    """

    status: Status
    message: str
    model_status: str
    interrupted: bool
    infeasible: bool
    optimal: bool
    objective: float | None
    reported_objective: float | None
    bound: float | None
    col: np.ndarray | None
    solution: Any
    nodes: int | None
    fault: bool


def read_end(h: highspy.Highs) -> RunEnd:
    """Read how ``h``'s last run ended (after ``h.run()``; a model change clears it)."""
    status, message = status_of(h)
    info = h.getInfo()
    reported = finite_or_none(info.objective_function_value) if has_solution(h) else None
    col = solution = None
    objective, fault = reported, False
    if reported is not None:
        solution = h.getSolution()
        col = np.asarray(solution.col_value, dtype=float)
        cost = solution_cost(h, col)
        fault = not objectives_agree(cost, reported)
        objective = cost if fault else reported  # trust the solution, not the number
    return RunEnd(
        status=status,
        message=message,
        model_status=model_status(h),
        interrupted=is_interrupted(h),
        infeasible=is_infeasible(h),
        optimal=is_optimal(h),
        objective=objective,
        reported_objective=reported,
        bound=finite_or_none(info.mip_dual_bound),
        col=col,
        solution=solution,
        nodes=int(info.mip_node_count) if info.mip_node_count >= 0 else None,
        fault=fault,
    )


# --------------------------------------------------------------------------- the gap


def gap(objective: float | None, bound: float | None) -> float | None:
    """The relative gap |objective - bound| / |objective| (None when either is missing).

    The one formula of every gap csu-opt reports: progress lines, summary.json's ``mip_gap``.
    Its denominator is at least GAP_FLOOR, so an objective of 0 gives a finite gap.
    """
    if objective is None or bound is None:
        return None
    if objective == bound:
        return 0.0
    return abs(objective - bound) / max(abs(objective), GAP_FLOOR)


def within_gap(objective: float | None, bound: float | None, mip_gap: float) -> bool:
    """True when ``bound`` proves ``objective`` optimal within the relative ``mip_gap`` (a
    bound at or above the objective proves it outright)."""
    if objective is None or bound is None:
        return False
    return objective - bound <= mip_gap * max(abs(objective), GAP_FLOOR)
