"""Network exchange: a whole network improved two networks at a time (issue 19).

The alternating fixes (:mod:`csu_opt.solver.alternate`) change either the partners (every
assignment fixed) or the assignments (every partner fixed), each over the whole market. A
move that needs both at once, say a group of CCGs going to a neighbouring network together
with the partner whose capacity serves them, is out of their reach. Network exchange makes
such moves between two networks at a time: with every column outside the pair at its value
x̄ in the incumbent, it solves

    min  c_F · x_F
    s.t. row_lower − A_{·,~F} x̄_{~F} <= A_{·,F} x_F <= row_upper − A_{·,~F} x̄_{~F}
         (only the rows that hold a free column; the others are met by x̄)

over the free columns F of the pair {l1, l2} (:func:`pair_columns`): u[l1] and u[l2] (so
one may close, its CCGs going to the other), every assignment z[l,c] to l1 or l2 of a CCG
now with either, every link w[p,l] and flow x[p,l,s] of either network, and a[p] of every
provider with no role outside the pair. The sub-MIP is cut out of the matrix (a few
thousand columns, where the whole model has hundreds of thousands), so HiGHS presolves and
solves it in a fraction of a second to seconds. Any solution of it, with x̄ outside F, is a
whole network of the full model.

Pairs are taken most related first (:func:`related_pairs`): by how many of either
network's CCGs (each with the lead of its largest share) have the other as their cheapest
alternative by assignment cost t[l,c]. A pass over the pairs that improves nothing, or the
time limit, ends it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from csu_opt import stops
from csu_opt.model.blocks import MatrixModel
from csu_opt.solver.alternate import Shape, candidates
from csu_opt.solver.highs import is_interrupted, objective_of, quiet_highs
from csu_opt.solver.tolerances import HIGHS_INFINITE, IMPROVE_TOL, ZERO_TOL

#: Time limit of one pair's sub-MIP (seconds) and its relative gap.
PAIR_SECONDS = 10.0
PAIR_GAP = 1e-6
#: Pairs of networks tried, at most, per pass (most related first).
PAIRS_PER_PASS = 60
STAGE = "restricted MIP, network exchange"


@dataclass
class Exchange:
    """What network exchange found: the network (layout order), its cost, the sub-MIPs
    solved and how many improved it."""

    network: np.ndarray
    objective: float
    tried: int = 0
    improved: int = 0
    passes: int = 0
    interrupted: bool = False

    def record(self, seconds: float) -> dict[str, object]:
        """As written to summary.json (solver.reduction.network_exchange)."""
        return {
            "pairs_tried": self.tried,
            "pairs_improved": self.improved,
            "passes": self.passes,
            "network": self.objective,
            "time_s": round(seconds, 3),
        }


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


def solve_free(
    mm: MatrixModel,
    cuts: Cuts,
    network: np.ndarray,
    free: np.ndarray,
    seconds: float,
    activity: np.ndarray,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[np.ndarray | None, bool]:
    """The best network HiGHS finds in ``seconds`` with only the ``free`` columns (layout
    positions) changed from ``network`` (``activity``: A·network), None when none is
    cheaper; and whether the run was interrupted (``should_stop``)."""
    sub = cuts.by_col[:, free]
    rows = np.unique(sub.indices)
    sub = sub[rows].tocsr()
    fixed_act = activity[rows] - sub @ network[free]
    inf = HIGHS_INFINITE
    lower, upper = mm.row_lower[rows], mm.row_upper[rows]
    lower = np.where(lower <= -inf, -inf, lower - fixed_act)
    upper = np.where(upper >= inf, inf, upper - fixed_act)
    h = quiet_highs(
        {"threads": 1, "mip_rel_gap": PAIR_GAP, "time_limit": max(seconds, 0.01)}, should_stop
    )
    cost = mm.col_cost[free]
    h.passModel(
        len(free),
        len(rows),
        sub.nnz,
        2,  # row-wise
        1,  # minimise
        0.0,
        cost,
        mm.col_lower[free],
        mm.col_upper[free],
        lower,
        upper,
        sub.indptr.astype(np.int32),
        sub.indices.astype(np.int32),
        sub.data,
        mm.integrality[free].astype(np.int32),
    )
    h.setSolution(len(free), np.arange(len(free), dtype=np.int32), network[free].astype(float))
    with stops.deferred():
        h.run()
    found = objective_of(h)
    if found is None or found >= float(cost @ network[free]) - IMPROVE_TOL:
        return None, is_interrupted(h)
    got = np.asarray(h.getSolution().col_value)
    integer = mm.integrality[free] == 1
    got[integer] = np.round(got[integer])
    out = network.copy()
    out[free] = got
    return out, is_interrupted(h)


def _lead_now(shape: Shape, z: np.ndarray) -> np.ndarray:
    """Each CCG's lead: the one with its largest share (-1: none)."""
    now = np.full(int(shape.ccg_of_z.max()) + 1 if len(shape.ccg_of_z) else 0, -1)
    largest = np.flatnonzero(candidates(-z, z > ZERO_TOL, shape.ccg_of_z) == 0)
    now[shape.ccg_of_z[largest]] = shape.lead_of_z[largest]
    return now


def related_pairs(mm: MatrixModel, shape: Shape, network: np.ndarray) -> list[tuple[int, int]]:
    """Pairs of open leads (positions), most related first: the number of CCGs of either
    whose cheapest other open lead (by assignment cost t[l,c]) is the other; pairs with
    none are left out."""
    lay = mm.layout
    leads = network[lay.U : lay.A] > 0.5
    now = _lead_now(shape, network[lay.Z : lay.X])
    mine = now[shape.ccg_of_z]
    other = leads[shape.lead_of_z] & (shape.lead_of_z != mine) & (mine >= 0)
    cost = mm.col_cost[lay.Z : lay.X]
    first = np.flatnonzero(candidates(cost, other, shape.ccg_of_z) == 0)  # each CCG's cheapest
    a, b = mine[first], shape.lead_of_z[first]
    score = np.zeros((len(leads), len(leads)), np.int64)
    np.add.at(score, (np.minimum(a, b), np.maximum(a, b)), 1)
    i, j = np.nonzero(score)
    rank = np.argsort(-score[i, j], kind="stable")
    return [(int(i[k]), int(j[k])) for k in rank]


def pair_columns(
    mm: MatrixModel, shape: Shape, network: np.ndarray, pair: tuple[int, int]
) -> np.ndarray:
    """The free columns (layout positions) of ``pair``: assignments to either lead of CCGs
    now with either, links and flows of either network, and a[p] of every provider with no
    role outside the pair (not an open lead, no link to another network)."""
    lay = mm.layout
    in_pair = np.zeros(lay.n_u, bool)
    in_pair[list(pair)] = True
    z = network[lay.Z : lay.X] > ZERO_TOL
    mine = np.zeros(int(shape.ccg_of_z.max()) + 1, bool)
    mine[shape.ccg_of_z[z & in_pair[shape.lead_of_z]]] = True  # any share with the pair
    z_free = np.flatnonzero(in_pair[shape.lead_of_z] & mine[shape.ccg_of_z])
    w_free = np.flatnonzero(in_pair[shape.lead_of_w])
    x_free = np.flatnonzero(in_pair[shape.lead_of_x])
    outside = np.zeros(lay.n_a, bool)
    linked = (network[lay.W : lay.Z] > 0.5) & ~in_pair[shape.lead_of_w]
    outside[shape.prov_of_w[linked]] = True
    outside[shape.prov_of_lead[(network[lay.U : lay.A] > 0.5) & ~in_pair]] = True
    a_free = np.flatnonzero(~outside)
    u_free = np.asarray(pair)
    return np.concatenate(
        [lay.U + u_free, lay.A + a_free, lay.W + w_free, lay.Z + z_free, lay.X + x_free]
    )


def exchange(
    mm: MatrixModel,
    shape: Shape,
    network: np.ndarray,
    seconds: float,
    should_stop: Callable[[], bool] | None = None,
    on_better: Callable[[float], None] | None = None,
) -> Exchange:
    """Network exchange from the whole ``network`` (layout order) for at most ``seconds``:
    passes over the related pairs (:func:`related_pairs`, at most PAIRS_PER_PASS), each
    pair's sub-MIP (:func:`solve_free`) for at most PAIR_SECONDS, until a pass improves
    nothing. ``on_better(cost)`` is called at each better network."""
    t0 = time.perf_counter()
    cuts = cuts_of(mm)
    out = Exchange(network=network.copy(), objective=mm.cost(network))
    act = cuts.by_row @ out.network
    gained = True
    while gained and not out.interrupted:
        out.passes += 1
        gained = False
        for pair in related_pairs(mm, shape, out.network)[:PAIRS_PER_PASS]:
            left = seconds - (time.perf_counter() - t0)
            if left <= 0:
                return out
            if should_stop is not None and should_stop():
                out.interrupted = True
                return out
            free = pair_columns(mm, shape, out.network, pair)
            out.tried += 1
            got, out.interrupted = solve_free(
                mm, cuts, out.network, free, min(PAIR_SECONDS, left), act, should_stop
            )
            cost = np.inf if got is None else mm.cost(got)
            if got is not None and cost < out.objective - IMPROVE_TOL:
                out.network, out.objective = got, cost
                act = cuts.by_row @ got
                out.improved += 1
                gained = True
                if on_better is not None:
                    on_better(cost)
            if out.interrupted:
                break
    return out
