"""The LP relaxation by column generation over the assignments (issue 7).

Most columns of a large model are assignments z[l,c] (100,000 of 100,300 on OR-Library capa,
88,000 of 111,000 on a generated 200 x 2,000), each with its own link row z[l,c] <= u[l]
(C4). A CCG is served, in an optimal relaxation, by a few leads near it; the LP over all
of them spends most of its time on the rest. So:

1. start with, for every CCG, the ``k`` leads that cost least to assign it to (and every
   assignment in a given start), their link rows and every other row and column;
2. solve that LP (HiGHS simplex), take its row duals y, and price every assignment left out:
   rc = c - A^T y over the rows in the LP (a left-out link row has dual 0);
3. add the left-out assignments with rc < 0 (the most negative few per CCG) and their link
   rows, re-solve from the previous basis, and repeat until none is negative. Should the
   first LP be infeasible (too few assignments for the lead band or the capacities), every
   assignment is added: the LP is then the whole relaxation.

At the end the LP's solution, with every left-out z at 0, is optimal for the whole LP:
primal feasible (z = 0 satisfies its link row) and dual feasible (the left-out rows get
dual 0, every column's rc >= 0). So its objective is the LP bound, and the full-length
vectors returned (values, reduced costs, row duals) are an optimal primal-dual pair of the
whole relaxation, as :mod:`csu_opt.solver.reduce` needs for reduced-cost fixing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from csu_opt import stops
from csu_opt.model.blocks import MatrixModel
from csu_opt.model.matrix import csr
from csu_opt.solver.highs import (
    is_infeasible,
    is_interrupted,
    is_optimal,
    model_status,
    pass_submodel,
    quiet_highs,
)
from csu_opt.solver.tolerances import PRICE_TOL

#: The first LP holds, for every CCG, its cheapest FIRST_SHARE of the leads (at least
#: FIRST_MIN); each round adds up to as many more per CCG. Measured on capa at 8,000 (100
#: leads, 1,000 CCGs; one run each): 6 and 4 per CCG 19.5 s (38 rounds), 20 and 20 12.6 s,
#: 30 and 30 9.4 s (6 rounds), 40 9.4 s (1 round), all 100 (the direct LP) 20-25 s.
FIRST_SHARE = 0.3
FIRST_MIN = 8
#: ... but the first LP holds at most about this many assignments (FIRST_MIN per CCG at
#: least): on a generated 500 x 7,000 x 5 (110 leads) the first LP with 33 per CCG did not
#: finish in 900 s; with 8 per CCG (56,000) HiGHS's interior point took 417 s.
FIRST_MAX_Z = 60_000
MAX_ROUNDS = 200


@dataclass
class LPResult:
    """An optimal primal-dual pair of the relaxation, full length (layout order)."""

    status: str
    objective: float | None = None
    value: np.ndarray | None = None
    reduced_cost: np.ndarray | None = None
    row_dual: np.ndarray | None = None
    rounds: int = 0
    columns: int = 0  # assignment columns in the final LP
    interrupted: bool = False
    # network_lp stopped before the end: the last restricted LP's solution (not optimal for
    # the whole relaxation; its objective is no bound)
    partial_value: np.ndarray | None = None
    partial_reduced_cost: np.ndarray | None = None
    partial_objective: float | None = None
    bound: float | None = None  # network_lp: the best valid bound from the rounds' duals


def assignment_lp(
    mm: MatrixModel,
    ccg_of_z: np.ndarray,
    *,
    time_limit: float | None,
    highs_options: dict[str, Any],
    start: np.ndarray | None = None,
    should_stop: Callable[[], bool] | None = None,
    first_solver: str = "ipm",
) -> LPResult:
    """The LP relaxation of ``mm`` by column generation over z; ``ccg_of_z`` numbers the CCG
    of each assignment column (layout order within z)."""
    t0 = time.perf_counter()
    lay = mm.layout
    n, nz = mm.n_cols, lay.n_z
    link0, link1 = mm.components["assign_to_lead"]
    A = csr(mm)
    cost = mm.col_cost
    zcost = cost[lay.Z : lay.X]

    # 1. the first set of assignment columns: the k cheapest per CCG (and the start's)
    order = np.lexsort((zcost, ccg_of_z))
    first_of = np.searchsorted(ccg_of_z[order], ccg_of_z[order], side="left")
    rank = np.arange(nz) - first_of
    n_ccg = int(ccg_of_z.max()) + 1 if nz else 1
    k = max(FIRST_MIN, min(int(np.ceil(FIRST_SHARE * lay.n_u)), FIRST_MAX_Z // n_ccg))
    active = np.zeros(nz, bool)
    active[order[rank < k]] = True
    if start is not None:
        active |= start[lay.Z : lay.X] > 0

    base = np.r_[np.arange(lay.Z), np.arange(lay.X, n)]  # u, a, w and x: always in
    keep_rows = np.r_[np.arange(link0), np.arange(link1, mm.n_rows)]
    cols = np.r_[base, lay.Z + np.flatnonzero(active)]
    rows = np.r_[keep_rows, link0 + np.flatnonzero(active)]
    h = quiet_highs(highs_options, should_stop)
    pass_submodel(h, mm, A, rows, cols, offset=mm.offset, integral=False)  # the relaxation
    AT = A.T.tocsr()  # column-wise access for pricing and for adding columns
    res = LPResult(status="not run")
    for rnd in range(MAX_ROUNDS):
        # the first LP from scratch by the interior point method (with crossover, for the
        # basis), the later ones by simplex from the previous basis
        h.setOptionValue("solver", first_solver if rnd == 0 else "simplex")
        if not _run_round(h, t0, time_limit):
            res.status = "Time limit reached"
            return res
        res.rounds = rnd + 1
        out = np.flatnonzero(~active)
        if is_infeasible(h) and len(out):
            # too few assignments to satisfy every rule (lead counts, capacities): all in,
            # the LP becomes the whole relaxation
            pick = out
        elif not is_optimal(h):
            res.status = model_status(h)
            res.interrupted = is_interrupted(h)
            return res
        else:
            sol = h.getSolution()
            y = np.zeros(mm.n_rows)
            y[rows] = np.asarray(sol.row_dual)
            rc = cost - AT @ y  # a left-out link row has dual 0
            neg = out[rc[lay.Z + out] < -PRICE_TOL * (1.0 + np.abs(zcost[out]))]
            if len(neg) == 0:
                value = np.zeros(n)
                value[cols] = np.asarray(sol.col_value)
                res.status = "Optimal"
                res.objective = float(h.getInfo().objective_function_value)
                res.value, res.reduced_cost, res.row_dual = value, rc, y
                res.columns = int(active.sum())
                return res
            # 3. the most negative few per CCG enter, with their link rows
            pick = neg[np.lexsort((rc[lay.Z + neg], ccg_of_z[neg]))]
            first = np.searchsorted(ccg_of_z[pick], ccg_of_z[pick], side="left")
            pick = pick[np.arange(len(pick)) - first < k]
        new_cols = lay.Z + pick
        _add_columns(h, mm, AT, rows, new_cols)
        cols = np.r_[cols, new_cols]
        _add_rows(h, mm, A, cols, link0 + pick)  # z[l,c] - u[l] <= 0, now with z in the LP
        rows = np.r_[rows, link0 + pick]
        active[pick] = True
    res.status = "Iteration limit reached"
    return res


# --------------------------------------------------------------------------- links and flows

#: The components whose rows belong to one optional column each (two-term link rows
#: ``dependent <= coefficient x parent``): left out with their column, dual 0 meanwhile.
PRIVATE_ROWS = ("assign_to_lead", "sub_active", "subcontract_to_lead", "capacity_link_sub")
#: Subcontracted flows in the first LP: the cheapest FIRST_FLOWS of every network and line
#: (C5 row) by unit cost; each round adds at most as many per row. Measured on a generated
#: 100 x 1,000 x 5 (one run each): 4 per row 9 rounds, 49 s; 16 per row 5 rounds, 31 s.
FIRST_FLOWS = 16
#: Every round's LP by the interior point method: re-solving from the previous basis after
#: adding columns and rows took longer (100 x 1,000 x 5: dual simplex 10-16 s a round,
#: primal simplex 9-10 s, interior point 3-5 s).
ROUND_SOLVER = "ipm"


@dataclass(frozen=True)
class Optional:
    """Which columns may be left out, with their private rows and their parents."""

    optional: np.ndarray  # (n) bool
    row_owner: np.ndarray  # (n_rows) the column a private row belongs to, or -1
    parent: np.ndarray  # (n) the optional column this one needs in the LP (x -> w), or -1
    group: np.ndarray  # (n) candidates compete within a group: CCG (z), C5 row (x), own (w)


def optional_columns(mm: MatrixModel) -> Optional:
    """z, w and subcontracted x (the dependents of :data:`PRIVATE_ROWS`), from the matrix."""
    n = mm.n_cols
    optional = np.zeros(n, bool)
    row_owner = np.full(mm.n_rows, -1, np.int64)
    parent = np.full(n, -1, np.int64)
    for name in PRIVATE_ROWS:
        if name not in mm.components:
            continue
        rows = np.arange(*mm.components[name])
        first = mm.start[rows]
        dep_first = mm.value[first] > 0
        dep = mm.index[np.where(dep_first, first, first + 1)].astype(np.int64)
        par = mm.index[np.where(dep_first, first + 1, first)].astype(np.int64)
        optional[dep] = True
        row_owner[rows] = dep
        parent[dep] = np.where(parent[dep] >= 0, parent[dep], par)
    has_parent = parent >= 0
    has_parent[has_parent] = optional[parent[has_parent]]
    parent[~has_parent] = -1
    group = np.arange(n, dtype=np.int64) + mm.n_rows  # a group of its own unless below
    row_of = mm.row_of()
    for name in ("assign_once", "network_balance"):
        if name in mm.components:
            r0, r1 = mm.components[name]
            inside = (row_of >= r0) & (row_of < r1)
            cols = mm.index[inside]
            take = optional[cols] & (group[cols] >= mm.n_rows)  # z: its CCG's row first
            group[cols[take]] = row_of[inside][take]
    return Optional(optional, row_owner, parent, group)


def _cheapest_per_group(
    candidates: np.ndarray, score: np.ndarray, group: np.ndarray, k: int
) -> np.ndarray:
    """The ``k`` lowest-scoring candidates of every group."""
    if len(candidates) == 0:
        return candidates
    order = np.lexsort((score[candidates], group[candidates]))
    g = group[candidates][order]
    rank = np.arange(len(order)) - np.searchsorted(g, g, side="left")
    return candidates[order[rank < k]]


#: A valid bound on the whole model from any full-length row duals (the restricted LP's,
#: with 0 for the rows left out): :func:`csu_opt.solver.lagrange.bound_from_duals`.
DualBound = Callable[[np.ndarray], float]
#: The column generation stops once the restricted LP's objective (at least the LP's
#: optimum) is within this share of the best dual bound: the LP cannot raise the bound
#: further than that. On a generated 200 x 2,000 x 5 the bound was within 0.003% of the LP's
#: optimum after 3 of 16 rounds (43 s of 294 s).
BOUND_CLOSE = 1e-5


def network_lp(
    mm: MatrixModel,
    *,
    time_limit: float | None,
    highs_options: dict[str, Any],
    start: np.ndarray | None = None,
    should_stop: Callable[[], bool] | None = None,
    per_ccg: int = FIRST_MIN,
    per_row: int = FIRST_FLOWS,
    bound_of: DualBound | None = None,
) -> LPResult:
    """The LP relaxation of ``mm`` by column generation over the assignments, the links and
    the subcontracted flows, each with its private link rows (:func:`optional_columns`).

    The first LP holds every other column, each CCG's ``per_ccg`` cheapest assignments, each
    network and line's ``per_row`` cheapest flows (with their links), and the start's
    columns (so it is feasible when the start is). Each round prices every column left out
    with the LP's duals (a left-out private row has dual 0) and adds the most negative
    ``per_ccg`` per CCG and ``per_row`` per network line, with their parents and private
    rows, until none is negative: the LP's solution is then optimal for the whole relaxation,
    as in :func:`assignment_lp`. With ``bound_of``, every round's duals give a valid bound
    (``bound``, the best so far), and the rounds stop once the restricted LP's objective is
    within BOUND_CLOSE of it. Stopped before the end (that rule or the time limit), the
    result holds the last restricted LP's solution and reduced costs (``partial_*``), which
    are not optimal for the whole relaxation: its objective is no bound, ``bound`` is."""
    t0 = time.perf_counter()
    n = mm.n_cols
    lay = mm.layout
    opt = optional_columns(mm)
    A = csr(mm)
    AT = A.T.tocsr()
    cost = mm.col_cost
    is_z = np.zeros(n, bool)
    is_z[lay.Z : lay.X] = True

    cand = np.flatnonzero(opt.optional)
    active = ~opt.optional
    active[_cheapest_per_group(cand[is_z[cand]], cost, opt.group, per_ccg)] = True
    flows = cand[~is_z[cand] & (opt.group[cand] < mm.n_rows)]
    active[_cheapest_per_group(flows, cost, opt.group, per_row)] = True
    if start is not None:
        active |= start > 0
    _with_parents(active, opt.parent)

    cols = np.flatnonzero(active)
    rows = np.flatnonzero((opt.row_owner < 0) | active[np.maximum(opt.row_owner, 0)])
    h = quiet_highs(highs_options, should_stop)
    pass_submodel(h, mm, A, rows, cols, offset=mm.offset, integral=False)
    h.setOptionValue("solver", ROUND_SOLVER)
    res = LPResult(status="not run")
    for rnd in range(MAX_ROUNDS):
        if not _run_round(h, t0, time_limit):
            res.status = "Time limit reached"
            return res
        res.rounds = rnd + 1
        out = np.flatnonzero(~active)
        if is_infeasible(h) and len(out):
            new = out  # too few columns for every rule: all in
        elif not is_optimal(h):
            res.status = model_status(h)
            res.interrupted = is_interrupted(h)
            return res
        else:
            sol = h.getSolution()
            y = np.zeros(mm.n_rows)
            y[rows] = np.asarray(sol.row_dual)
            rc = cost - AT @ y
            value = np.zeros(n)
            value[cols] = np.asarray(sol.col_value)
            objective = float(h.getInfo().objective_function_value)
            res.partial_value, res.partial_reduced_cost = value, rc
            res.partial_objective = objective
            res.columns = int(active[lay.Z : lay.X].sum())
            if bound_of is not None:
                found = bound_of(y)
                res.bound = found if res.bound is None else max(res.bound, found)
                if objective - res.bound <= BOUND_CLOSE * max(1.0, abs(objective)):
                    res.status = "Bound within tolerance"
                    return res
            neg = out[rc[out] < -PRICE_TOL * (1.0 + np.abs(cost[out]))]
            if len(neg) == 0:
                res.status = "Optimal"
                res.objective = objective
                res.value, res.reduced_cost, res.row_dual = value, rc, y
                return res
            new = np.r_[
                _cheapest_per_group(neg[is_z[neg]], rc, opt.group, per_ccg),
                _cheapest_per_group(neg[~is_z[neg]], rc, opt.group, per_row),
            ]
        mask = active.copy()
        mask[new] = True
        _with_parents(mask, opt.parent)
        new_cols = np.flatnonzero(mask & ~active)
        owned = np.flatnonzero(opt.row_owner >= 0)
        new_rows = owned[mask[opt.row_owner[owned]] & ~active[opt.row_owner[owned]]]
        _add_columns(h, mm, AT, rows, new_cols)
        cols = np.r_[cols, new_cols]
        _add_rows(h, mm, A, cols, new_rows)
        rows = np.r_[rows, new_rows]
        active = mask
    res.status = "Iteration limit reached"
    return res


def _run_round(h: Any, t0: float, time_limit: float | None) -> bool:
    """Solve the LP ``h`` holds within what is left of ``time_limit`` (from ``t0``); False,
    without solving, when nothing is left. HiGHS's LP time limit counts the object's run time
    over all its runs (measured: a second round with limit L stopped at L minus the first
    round's time), so the limit is set as a deadline on that clock."""
    left = None if time_limit is None else time_limit - (time.perf_counter() - t0)
    if left is not None and left <= 0:
        return False
    h.setOptionValue("time_limit", float("inf") if left is None else float(h.getRunTime() + left))
    with stops.deferred():
        h.run()
    return True


def _with_parents(active: np.ndarray, parent: np.ndarray) -> None:
    """Add every active column's parent (x needs its link w)."""
    need = parent[active]
    active[need[need >= 0]] = True


def _add_columns(h: Any, mm: MatrixModel, AT: Any, rows: np.ndarray, new_cols: np.ndarray) -> None:
    """Append ``new_cols`` to the LP with their entries in the rows already in it (``AT``:
    the matrix column-wise)."""
    row_pos = np.full(mm.n_rows, -1, np.int64)
    row_pos[rows] = np.arange(len(rows))
    block = AT[new_cols].tocsr()
    entry_rows = row_pos[block.indices]
    keep = entry_rows >= 0
    starts = np.zeros(len(new_cols) + 1, np.int64)
    if block.nnz:
        counts = np.add.reduceat(keep.astype(np.int64), block.indptr[:-1])
        counts[np.diff(block.indptr) == 0] = 0
        np.cumsum(counts, out=starts[1:])
    h.addCols(
        len(new_cols),
        mm.col_cost[new_cols],
        mm.col_lower[new_cols],
        mm.col_upper[new_cols],
        int(keep.sum()),
        starts[:-1].astype(np.int32),
        entry_rows[keep].astype(np.int32),
        block.data[keep],
    )


def _add_rows(h: Any, mm: MatrixModel, A: Any, cols: np.ndarray, new_rows: np.ndarray) -> None:
    """Append ``new_rows`` (every column of theirs is in the LP)."""
    col_pos = np.full(mm.n_cols, -1, np.int64)
    col_pos[cols] = np.arange(len(cols))
    block = A[new_rows].tocsr()
    h.addRows(
        len(new_rows),
        mm.row_lower[new_rows],
        mm.row_upper[new_rows],
        block.nnz,
        block.indptr[:-1].astype(np.int32),
        col_pos[block.indices].astype(np.int32),
        block.data,
    )
