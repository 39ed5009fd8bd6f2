"""Network exchange: a whole network improved two or three networks at a time (issue 19).

The alternating fixes (:mod:`csu_opt.solver.alternate`) change either the partners (every
assignment fixed) or the assignments (every partner fixed), each over the whole market. A
move that needs both at once, say a group of CCGs going to a neighbouring network together
with the partner whose capacity serves them, is out of their reach. Network exchange makes
such moves between two networks (or three) at a time: with every column outside the pair
at its value x̄ in the incumbent, it solves

    min  c_F · x_F
    s.t. row_lower − A_{·,~F} x̄_{~F} <= A_{·,F} x_F <= row_upper − A_{·,~F} x̄_{~F}
         (only the rows that hold a free column; the others are met by x̄)

over the free columns F of the pair {l1, l2} (:func:`pair_columns`): u[l1] and u[l2] (so
one may close, its CCGs going to the other), every assignment z[l,c] to l1 or l2 of a CCG
now with either, every link w[p,l] and flow x[p,l,s] of either network, and a[p] of every
provider with no role outside the pair. The sub-MIP is cut out of the matrix (a few
thousand columns, where the whole model has hundreds of thousands), so HiGHS presolves and
solves it in a fraction of a second to seconds. Any solution of it, with x̄ outside F, is a
whole network of the full model. The same cut frees an open lead with a closed one, or three
open leads.

Pairs are taken most related first (:func:`related_pairs`): by how many of either
network's CCGs (each with the lead of its largest share) have the other as their cheapest
alternative by assignment cost t[l,c]. Once a pass over the pairs improves nothing, an open
lead is freed with a closed one (:func:`openings`: the closed lead many of its CCGs have as
their cheapest alternative), which may open beside it or in its place; then triples
(:func:`related_triples`: a related pair and a third open network, the most related to
either first), whose moves (a chain of CCGs across three networks, a partner handed on) no
pair can make. Any pass that improves sends it back to the pairs; a pass over the triples
that improves nothing, the time limit, or a network good enough for the caller (within the
gap of a bound) ends it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from csu_opt import stops
from csu_opt.model.blocks import MatrixModel
from csu_opt.solver.alternate import Shape, candidates
from csu_opt.solver.highs import is_interrupted, objective_of, quiet_highs
from csu_opt.solver.tolerances import HIGHS_INFINITE, IMPROVE_TOL, ZERO_TOL

#: Time limit of one pair's and one triple's sub-MIP (seconds) and their relative gap.
PAIR_SECONDS = 10.0
TRIPLE_SECONDS = 20.0
PAIR_GAP = 1e-6
#: ... and their absolute gap, as a share of the whole network's cost (a sub-MIP's own cost
#: is a small part of it, so its relative gap alone asks for a far finer proof than the
#: whole needs). Measured from the alternation's network on a generated 200 x 2,000 (seed
#: 1, 784,735.38; one thread, 150 s, runs two at a time): relative gap alone
#: 772,889.11 (77 pairs); absolute 1e-6 of the cost 772,625.49 (90); 1e-5 772,241.65 (247);
#: 1e-4 772,575.16 (237 pairs, then openings and triples: too coarse). On england-2013, whose
#: triples gain a few pounds at a time, 1e-5 throughout lost half of them (from 660,908.49
#: in 200 s: 660,232.16 against 660,161.18): hence only until the pairs first converge.
PAIR_ABS_GAP = 1e-5
#: Pairs and triples of networks tried, at most, per pass (most related first). Measured on
#: england-2013 (10 open leads, 120 triples): from the pairs' local optima 660,908.49 and
#: 660,155.17, triples reached 660,345.37 (42 triples, about 90 s) and 660,075.25 (81).
PAIRS_PER_PASS = 60
TRIPLES_PER_PASS = 120
STAGE = "restricted MIP, network exchange"


#: The moves, in the order they are tried: a kind runs once the kinds before it gain nothing
#: in a pass, and any gain sends the exchange back to the first.
KINDS = ("pairs", "openings", "triples")


@dataclass
class Exchange:
    """What network exchange found: the network (layout order), its cost, the sub-MIPs
    solved and how many improved it (by kind of move, :data:`KINDS`)."""

    network: np.ndarray
    objective: float
    tried: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    improved: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    passes: int = 0
    interrupted: bool = False

    def record(self, seconds: float) -> dict[str, object]:
        """As written to summary.json (solver.reduction.network_exchange)."""
        counts: dict[str, object] = {}
        for kind in KINDS:
            counts[f"{kind}_tried"] = self.tried[kind]
            counts[f"{kind}_improved"] = self.improved[kind]
        return {
            **counts,
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
    abs_gap: float = 0.0,
) -> tuple[np.ndarray | None, bool]:
    """The best network HiGHS finds in ``seconds`` (to within ``abs_gap`` and PAIR_GAP of
    the sub-MIP's optimum) with only the ``free`` columns (layout positions) changed from
    ``network`` (``activity``: A·network), None when none is cheaper; and whether the run
    was interrupted (``should_stop``)."""
    sub = cuts.by_col[:, free]
    rows = np.unique(sub.indices)
    sub = sub[rows].tocsr()
    fixed_act = activity[rows] - sub @ network[free]
    inf = HIGHS_INFINITE
    lower, upper = mm.row_lower[rows], mm.row_upper[rows]
    lower = np.where(lower <= -inf, -inf, lower - fixed_act)
    upper = np.where(upper >= inf, inf, upper - fixed_act)
    options: dict[str, object] = {"threads": 1, "mip_rel_gap": PAIR_GAP}
    options["time_limit"] = max(seconds, 0.01)
    if abs_gap > 0:  # (else HiGHS's own default)
        options["mip_abs_gap"] = abs_gap
    h = quiet_highs(options, should_stop)
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


def _cheapest_other(
    mm: MatrixModel, shape: Shape, network: np.ndarray, open_only: bool
) -> np.ndarray:
    """How many CCGs of each lead (rows, by the lead of its largest share) have each other
    lead (columns) as their cheapest alternative by assignment cost t[l,c]: among the open
    leads (``open_only``) or among all."""
    lay = mm.layout
    leads = network[lay.U : lay.A] > 0.5
    now = _lead_now(shape, network[lay.Z : lay.X])
    mine = now[shape.ccg_of_z]
    other = (shape.lead_of_z != mine) & (mine >= 0)
    if open_only:
        other &= leads[shape.lead_of_z]
    cost = mm.col_cost[lay.Z : lay.X]
    first = np.flatnonzero(candidates(cost, other, shape.ccg_of_z) == 0)  # each CCG's cheapest
    score = np.zeros((len(leads), len(leads)), np.int64)
    np.add.at(score, (mine[first], shape.lead_of_z[first]), 1)
    return score


def _ranked(score: np.ndarray) -> list[tuple[int, int]]:
    """The (row, column) positions of ``score``'s positive entries, largest first (ties in
    row-major order)."""
    i, j = np.nonzero(score)
    rank = np.argsort(-score[i, j], kind="stable")
    return [(int(i[k]), int(j[k])) for k in rank]


def _relations(mm: MatrixModel, shape: Shape, network: np.ndarray) -> np.ndarray:
    """How related two open leads are (symmetric, by lead position): the number of CCGs of
    either whose cheapest other open lead (by assignment cost t[l,c]) is the other."""
    score = _cheapest_other(mm, shape, network, open_only=True)
    return score + score.T


def related_pairs(mm: MatrixModel, shape: Shape, network: np.ndarray) -> list[tuple[int, int]]:
    """Pairs of open leads (positions), most related first (:func:`_relations`); pairs
    with no relation are left out."""
    return _ranked(np.triu(_relations(mm, shape, network)))


def openings(mm: MatrixModel, shape: Shape, network: np.ndarray) -> list[tuple[int, int]]:
    """Pairs of an open lead and a closed one (positions), most related first: the number
    of the open lead's CCGs whose cheapest other lead, open or not (by t[l,c]), is the
    closed one; pairs with none are left out. Freed together, the closed lead may open
    beside the open one or in its place."""
    score = _cheapest_other(mm, shape, network, open_only=False)
    score[:, network[mm.layout.U : mm.layout.A] > 0.5] = 0  # the closed ones only
    return _ranked(score)


def related_triples(
    mm: MatrixModel, shape: Shape, network: np.ndarray, limit: int | None = None
) -> list[tuple[int, int, int]]:
    """Triples of open leads (positions, each sorted, each once): every related pair
    (:func:`related_pairs`, in its order) with each other open lead, the most related to
    either of the pair first; the first ``limit`` of them (None: all)."""
    score = _relations(mm, shape, network)
    lay = mm.layout
    open_leads = np.flatnonzero(network[lay.U : lay.A] > 0.5)
    seen: set[tuple[int, int, int]] = set()
    out: list[tuple[int, int, int]] = []
    for a, b in related_pairs(mm, shape, network):
        third = open_leads[(open_leads != a) & (open_leads != b)]
        near = score[a, third] + score[b, third]
        for c in third[np.argsort(-near, kind="stable")]:
            x, y, w = sorted((a, b, int(c)))
            if (x, y, w) not in seen:
                seen.add((x, y, w))
                out.append((x, y, w))
        if limit is not None and len(out) >= limit:
            return out[:limit]
    return out


def pair_columns(
    mm: MatrixModel, shape: Shape, network: np.ndarray, pair: tuple[int, ...]
) -> np.ndarray:
    """The free columns (layout positions) of ``pair`` (two leads or three, open or
    closed): assignments to any of its leads of CCGs now with any, links and flows of its
    networks, and a[p] of every provider with no role outside it (not an open lead, no link
    to another network)."""
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


def groups_of(
    kind: str, mm: MatrixModel, shape: Shape, network: np.ndarray
) -> list[tuple[int, ...]]:
    """The groups of leads a pass of ``kind`` (:data:`KINDS`) frees, one at a time, at most
    PAIRS_PER_PASS (TRIPLES_PER_PASS for triples)."""
    if kind == "pairs":
        return list(related_pairs(mm, shape, network)[:PAIRS_PER_PASS])
    if kind == "openings":
        return list(openings(mm, shape, network)[:PAIRS_PER_PASS])
    return list(related_triples(mm, shape, network, TRIPLES_PER_PASS))


def exchange(
    mm: MatrixModel,
    shape: Shape,
    network: np.ndarray,
    seconds: float,
    should_stop: Callable[[], bool] | None = None,
    on_better: Callable[[float], None] | None = None,
    enough: Callable[[float], bool] | None = None,
) -> Exchange:
    """Network exchange from the whole ``network`` (layout order) for at most ``seconds``:
    passes over the groups of each kind of move (:func:`groups_of`), each group's sub-MIP
    (:func:`solve_free`) for at most PAIR_SECONDS (TRIPLE_SECONDS for triples), to within
    PAIR_ABS_GAP of the start's cost until a pass of pairs first gains nothing, and to
    PAIR_GAP alone after; a pass that improves goes back to the pairs, one that does not
    goes on to the next kind, and after the last kind the exchange ends; so does a network
    whose cost is ``enough`` (say, within the gap of a bound). ``on_better(cost)`` is called
    at each better network."""
    t0 = time.perf_counter()
    cuts = cuts_of(mm)
    out = Exchange(network=network.copy(), objective=mm.cost(network))
    act = cuts.by_row @ out.network
    abs_gap = PAIR_ABS_GAP * abs(out.objective)
    k = 0
    while k < len(KINDS) and not out.interrupted:
        kind = KINDS[k]
        out.passes += 1
        gained = False
        limit = TRIPLE_SECONDS if kind == "triples" else PAIR_SECONDS
        for group in groups_of(kind, mm, shape, out.network):
            left = seconds - (time.perf_counter() - t0)
            if left <= 0:
                return out
            if should_stop is not None and should_stop():
                out.interrupted = True
                return out
            free = pair_columns(mm, shape, out.network, group)
            got, out.interrupted = solve_free(
                mm, cuts, out.network, free, min(limit, left), act, should_stop, abs_gap
            )
            out.tried[kind] += 1
            if got is not None and (cost := mm.cost(got)) < out.objective - IMPROVE_TOL:
                out.network, out.objective = got, cost
                act = cuts.by_row @ got
                out.improved[kind] += 1
                gained = True
                if on_better is not None:
                    on_better(cost)
                if enough is not None and enough(cost):
                    return out
            if out.interrupted:
                break
        if not gained and k == 0:
            abs_gap = 0.0  # the pairs converged coarsely: every kind from now on finely
        k = 0 if gained else k + 1
    return out
