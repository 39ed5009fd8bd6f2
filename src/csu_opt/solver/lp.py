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
        left = None if time_limit is None else time_limit - (time.perf_counter() - t0)
        if left is not None and left <= 0:
            res.status = "Time limit reached"
            return res
        # HiGHS's LP time limit counts the object's run time over all its runs (measured:
        # a second round with limit L stopped at L minus the first round's time), so the
        # limit is set as a deadline on that clock
        h.setOptionValue(
            "time_limit", float("inf") if left is None else float(h.getRunTime() + left)
        )
        # the first LP from scratch by the interior point method (with crossover, for the
        # basis), the later ones by simplex from the previous basis
        h.setOptionValue("solver", first_solver if rnd == 0 else "simplex")
        with stops.deferred():
            h.run()
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
        row_pos = np.full(mm.n_rows, -1, np.int64)
        row_pos[rows] = np.arange(len(rows))
        block = AT[new_cols].tocsr()  # the new columns' entries, by full row
        entry_rows = row_pos[block.indices]
        keep = entry_rows >= 0  # entries in rows already in the LP
        counts = np.add.reduceat(keep.astype(np.int64), block.indptr[:-1]) if block.nnz else None
        starts = np.zeros(len(new_cols) + 1, np.int64)
        if counts is not None:
            counts[np.diff(block.indptr) == 0] = 0
            np.cumsum(counts, out=starts[1:])
        h.addCols(
            len(new_cols),
            cost[new_cols],
            mm.col_lower[new_cols],
            mm.col_upper[new_cols],
            int(keep.sum()),
            starts[:-1].astype(np.int32),
            entry_rows[keep].astype(np.int32),
            block.data[keep],
        )
        col_pos = np.full(n, -1, np.int64)
        cols = np.r_[cols, new_cols]
        col_pos[cols] = np.arange(len(cols))
        link = A[link0 + pick].tocsr()  # z[l,c] - u[l] <= 0, now with z in the LP
        h.addRows(
            len(pick),
            mm.row_lower[link0 + pick],
            mm.row_upper[link0 + pick],
            link.nnz,
            link.indptr[:-1].astype(np.int32),
            col_pos[link.indices].astype(np.int32),
            link.data,
        )
        rows = np.r_[rows, link0 + pick]
        active[pick] = True
    res.status = "Iteration limit reached"
    return res
