"""Sub-MIPs: a whole model with every column but a few fixed at a network (issue 19).

Network exchange (:mod:`csu_opt.solver.exchange`) frees the columns of two or three networks
and fixes the rest at the incumbent x̄. With the fixed columns' activity moved into the row
bounds, what is left is a small MIP over the free columns F,

    min  c_F · x_F
    s.t. row_lower − A_{·,~F} x̄_{~F} <= A_{·,F} x_F <= row_upper − A_{·,~F} x̄_{~F}
         (only the rows that hold a free column; the others are met by x̄)

which :func:`cut_out` cuts out of the matrix as plain arrays (:class:`SubMIP`, picklable)
and :func:`solve_sub` hands to HiGHS, here or on a worker process of a :class:`SubPool`
(one HiGHS thread each: several sub-MIPs at once on several cores).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from csu_opt import stops
from csu_opt.model.blocks import MatrixModel
from csu_opt.solver.highs import is_interrupted, objective_of, quiet_highs
from csu_opt.solver.tolerances import HIGHS_INFINITE, IMPROVE_TOL

#: Relative gap of a sub-MIP (its own cost is a small part of the whole network's, so its
#: absolute gap, :func:`solve_sub`'s ``abs_gap``, is the one that matters).
SUB_GAP = 1e-6


@dataclass(frozen=True)
class Cuts:
    """The matrix by rows and by columns (scipy), cut into sub-MIPs."""

    by_row: Any  # scipy.sparse.csr_matrix
    by_col: Any  # scipy.sparse.csc_matrix


def cuts_of(mm: MatrixModel) -> Cuts:
    """``mm``'s constraint matrix in both orientations (layout columns)."""
    import scipy.sparse as sp  # noqa: PLC0415 (heavy optional dependency, loaded when used)

    a = sp.csr_matrix((mm.value, mm.index, mm.start), shape=(mm.n_rows, mm.n_cols))
    return Cuts(a, a.tocsc())


@dataclass(frozen=True)
class SubMIP:
    """A MIP over some columns of a whole model, the others fixed (plain arrays): its
    columns' cost, bounds, integrality and start (the network's values), and its rows
    (row-wise, with the fixed columns' activity moved into the bounds)."""

    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray
    start: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray

    @property
    def n_cols(self) -> int:
        return len(self.cost)


def cut_out(
    mm: MatrixModel, cuts: Cuts, network: np.ndarray, free: np.ndarray, activity: np.ndarray
) -> SubMIP:
    """The sub-MIP of ``mm`` over the ``free`` columns (layout positions), every other column
    at its value in ``network`` (``activity``: A·network)."""
    sub = cuts.by_col[:, free]
    rows = np.unique(sub.indices)
    sub = sub[rows].tocsr()
    fixed_act = activity[rows] - sub @ network[free]
    inf = HIGHS_INFINITE
    lower, upper = mm.row_lower[rows], mm.row_upper[rows]
    return SubMIP(
        cost=mm.col_cost[free],
        col_lower=mm.col_lower[free],
        col_upper=mm.col_upper[free],
        integrality=mm.integrality[free].astype(np.int32),
        start=network[free].astype(float),
        row_lower=np.where(lower <= -inf, -inf, lower - fixed_act),
        row_upper=np.where(upper >= inf, inf, upper - fixed_act),
        indptr=sub.indptr.astype(np.int32),
        indices=sub.indices.astype(np.int32),
        data=sub.data,
    )


@dataclass(frozen=True)
class SubEnd:
    """A sub-MIP's end: the free columns' values (integers rounded) when HiGHS found a
    solution cheaper than the start, else None; and whether a stop interrupted it."""

    values: np.ndarray | None
    interrupted: bool


def solve_sub(
    sub: SubMIP,
    seconds: float,
    abs_gap: float = 0.0,
    should_stop: Callable[[], bool] | None = None,
) -> SubEnd:
    """The best solution HiGHS finds in ``seconds`` (one thread, to within ``abs_gap`` and
    SUB_GAP of the sub-MIP's optimum), started from the network's values."""
    options: dict[str, object] = {"threads": 1, "mip_rel_gap": SUB_GAP}
    options["time_limit"] = max(seconds, 0.01)
    if abs_gap > 0:  # (else HiGHS's own default)
        options["mip_abs_gap"] = abs_gap
    h = quiet_highs(options, should_stop)
    n = sub.n_cols
    h.passModel(
        n,
        len(sub.row_lower),
        len(sub.data),
        2,  # row-wise
        1,  # minimise
        0.0,
        sub.cost,
        sub.col_lower,
        sub.col_upper,
        sub.row_lower,
        sub.row_upper,
        sub.indptr,
        sub.indices,
        sub.data,
        sub.integrality,
    )
    h.setSolution(n, np.arange(n, dtype=np.int32), sub.start)
    with stops.deferred():
        h.run()
    found = objective_of(h)
    if found is None or found >= float(sub.cost @ sub.start) - IMPROVE_TOL:
        return SubEnd(None, is_interrupted(h))
    got = np.asarray(h.getSolution().col_value)
    integer = sub.integrality == 1
    got[integer] = np.round(got[integer])
    return SubEnd(got, is_interrupted(h))


# --------------------------------------------------------------------------- worker processes

_stop: Any = None  # in a worker: the pool's stop event


def _start_worker(parent: int, stop: Any) -> None:
    global _stop  # one per worker process, set as it starts
    stops.supervise(parent)  # Ctrl-C is the parent's; SIGTERM or its death end the worker
    _stop = stop


def _stopping() -> bool:
    return bool(_stop.is_set()) or stops.requested() is not None


def _solve_in_worker(sub: SubMIP, seconds: float, abs_gap: float) -> SubEnd:
    with stops.working():
        return solve_sub(sub, seconds, abs_gap, _stopping)


class SubPool:
    """``workers`` spawned processes that solve sub-MIPs (:func:`solve_sub`), one HiGHS
    thread each; :meth:`stop` interrupts every sub-MIP running or to come (each returns
    its best solution so far) until :meth:`resume`, :meth:`close` ends the processes."""

    def __init__(self, workers: int):
        ctx = multiprocessing.get_context("spawn")
        self.workers = workers
        self._stop = ctx.Event()
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=ctx,
            initializer=_start_worker,
            initargs=(os.getpid(), self._stop),
        )

    def submit(self, sub: SubMIP, seconds: float, abs_gap: float) -> Future[SubEnd]:
        return self._pool.submit(_solve_in_worker, sub, seconds, abs_gap)

    def stop(self) -> None:
        self._stop.set()

    def resume(self) -> None:
        """Let sub-MIPs submitted from now on run (after :meth:`stop`, for the next user)."""
        self._stop.clear()

    def close(self) -> None:
        self._stop.set()
        if stops.requested() is not None:  # a Ctrl-C or SIGTERM: end them now
            processes = getattr(self._pool, "_processes", None) or {}
            stops.end_processes(list(processes.values()))
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> SubPool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
