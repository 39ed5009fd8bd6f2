"""The national LP relaxation by HiGHS's first-order method, for its duals (issue 19).

At 500 x 7,000 x 5 (every GP practice: 7.3 million nonzeros) the column generation of
:func:`csu_opt.solver.lp.network_lp` needs an interior point solve of minutes a round and
does not converge within a planner's half hour: after 900 s and 5 rounds the Lagrangian bound
at its duals, raised by the ascent, stood at 745,810. HiGHS's own first-order LP solver
(PDLP, ``solver = "hipdlp"``) works on the whole relaxation with matrix products only: to a
relative tolerance of FIRST_ORDER_TOL it ends in about 260 s there, and the Lagrangian bound
at its (not quite optimal) duals is already 746,135, which the ascent raises to 749,507 in
180 s (benchmarks/README.md, "A first-order LP for the national bound").

Nothing it returns is taken as a bound by itself: its duals are read as multipliers, and the
bound is the Lagrangian's at them (:func:`csu_opt.solver.lagrange.bound_from_duals`), valid
at any multipliers. Its primal values guide the restricted MIPs as a partial LP's would.

HiGHS's first-order solver calls no callback (no interrupt, no log) and returns nothing when
it stops at its time limit, so it runs on a worker process of its own: the main process
shows the heartbeat while it waits, ends the worker on Ctrl-C or SIGTERM, and falls back to
the column generation when no duals come back in time.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, fields

import numpy as np

from csu_opt import stops
from csu_opt.model.blocks import MatrixModel
from csu_opt.solver.highs import pass_arrays, quiet_highs

#: The national path solves its LP this way from this many nonzeros (below, the column
#: generation). Measured (benchmarks/README.md): at 500 x 7,000 (7.3 million) the first-order
#: LP and the ascent reach 749,507 in 443 s, where the column generation's 5 rounds and the
#: ascent reached 745,810 in 1,010 s; at 200 x 2,000 (0.88 million) the column generation
#: converges to the LP's optimum in 51-186 s, while the first-order LP's duals give a bound
#: 0.02% (seed 0, 49 s) and 1.1% (seed 1, 30 s) below it.
FIRST_ORDER_NNZ = 2_000_000
#: HiGHS's first-order solver and its relative tolerance: at 3e-3 it ends (status
#: "Unknown", duals returned) in about 260 s on 500 x 7,000 seeds 0 and 1; 2e-3 had not ended
#: there after 900 s, nor 1e-3 after 626 s, and at 200 x 2,000 seed 0 1e-3 took twice as long
#: for a bound no better (744,091.98 in 93 s against 744,140.41 in 49 s).
FIRST_ORDER_SOLVER = "hipdlp"
FIRST_ORDER_TOL = 3e-3
#: How often the main process asks ``should_stop`` (its heartbeat) while it waits (seconds).
POLL_S = 0.25


@dataclass(frozen=True)
class _Model:
    """The relaxation as plain arrays (layout order), for the worker process."""

    offset: float
    col_cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    start: np.ndarray
    index: np.ndarray
    value: np.ndarray


@dataclass(frozen=True)
class FirstOrderLP:
    """What the first-order LP returned: its primal values and row duals (full length,
    layout order; None when it gave none), its primal objective (no bound), its status,
    iterations and seconds; ``interrupted`` when a stop request ended it."""

    status: str
    seconds: float
    value: np.ndarray | None = None
    row_dual: np.ndarray | None = None
    objective: float | None = None
    iterations: int = 0
    interrupted: bool = False


def _model_of(mm: MatrixModel) -> _Model:
    return _Model(**{f.name: getattr(mm, f.name) for f in fields(_Model)})


def _solve(model: _Model, tolerance: float, seconds: float | None) -> FirstOrderLP:
    """In the worker: the relaxation of ``model`` by HiGHS's first-order solver, one
    thread, within ``seconds``."""
    t0 = time.perf_counter()
    h = quiet_highs({"threads": 1})
    arrays = {f.name: getattr(model, f.name) for f in fields(model)}
    pass_arrays(h, **arrays, integrality=np.zeros(len(model.col_cost), np.int32))
    h.setOptionValue("solver", FIRST_ORDER_SOLVER)
    h.setOptionValue("pdlp_optimality_tolerance", float(tolerance))
    if seconds is not None:
        h.setOptionValue("time_limit", float(max(seconds, 0.01)))
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    sol = h.getSolution()
    iterations = int(h.getInfo().pdlp_iteration_count)
    if not sol.dual_valid:
        return FirstOrderLP(status, time.perf_counter() - t0, iterations=iterations)
    value = np.clip(np.asarray(sol.col_value), model.col_lower, model.col_upper)
    return FirstOrderLP(
        status,
        time.perf_counter() - t0,
        value=value,
        row_dual=np.asarray(sol.row_dual),
        objective=float(model.offset + model.col_cost @ value),
        iterations=iterations,
    )


def _in_worker(model: _Model, tolerance: float, seconds: float | None) -> FirstOrderLP:
    with stops.working():
        return _solve(model, tolerance, seconds)


def first_order_lp(
    mm: MatrixModel,
    *,
    time_limit: float | None,
    should_stop: Callable[[], bool] | None = None,
    tolerance: float = FIRST_ORDER_TOL,
) -> FirstOrderLP:
    """The LP relaxation of ``mm`` by HiGHS's first-order solver on a worker process, within
    ``time_limit``; ``should_stop`` is asked every POLL_S seconds meanwhile (the heartbeat),
    and a True ends the worker (``interrupted``)."""
    t0 = time.perf_counter()
    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        max_workers=1, mp_context=ctx, initializer=stops.supervise, initargs=(os.getpid(),)
    )
    stopped = False
    try:
        future = pool.submit(_in_worker, _model_of(mm), tolerance, time_limit)
        while True:
            try:
                found = future.result(timeout=POLL_S)
            except BrokenProcessPool:  # the worker died (out of memory, killed): no duals
                return FirstOrderLP("worker ended", time.perf_counter() - t0)
            except FutureTimeout:
                stopped = should_stop is not None and should_stop()
                if stopped:
                    return FirstOrderLP("Interrupted", time.perf_counter() - t0, interrupted=True)
                continue
            return FirstOrderLP(
                found.status,
                time.perf_counter() - t0,
                value=found.value,
                row_dual=found.row_dual,
                objective=found.objective,
                iterations=found.iterations,
            )
    finally:
        if stopped or stops.requested() is not None:  # its solve cannot be interrupted
            processes = getattr(pool, "_processes", None) or {}
            stops.end_processes(list(processes.values()))
        pool.shutdown(wait=True, cancel_futures=True)
