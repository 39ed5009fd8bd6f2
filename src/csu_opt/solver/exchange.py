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

With a pool of worker processes (:class:`~csu_opt.solver.submip.SubPool`, ``--concurrent
N``), N sub-MIPs run at once on groups with no lead in common, each cut from the network as
it stands when it starts. A result that lands after another network was kept has its moved
columns set on that network; it is kept if no row they touch ends further outside its
bounds than in its own solution (every other row is as the kept network has it, so the
result is as whole as both), and when cheaper. Otherwise it is stale and solved again from
the new network.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field

import numpy as np

from csu_opt.model.blocks import MatrixModel
from csu_opt.solver.alternate import Shape, candidates
from csu_opt.solver.submip import Cuts, SubEnd, SubPool, cut_out, cuts_of, solve_sub
from csu_opt.solver.tolerances import IMPROVE_TOL, ZERO_TOL

#: Time limit of one pair's and one triple's sub-MIP (seconds).
PAIR_SECONDS = 10.0
TRIPLE_SECONDS = 20.0
#: Their absolute gap, as a share of the whole network's cost (a sub-MIP's own cost
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
#: A result cut from an older network is kept if no row it touches ends further outside
#: its bounds than in its own solution by more than this (absolute, in the matrix's
#: scaled units; HiGHS's own feasibility tolerance is 1e-6).
STILL_FITS_TOL = 1e-9
#: With worker processes, how often the exchange asks ``should_stop`` (its progress tick)
#: while it waits for their sub-MIPs (seconds).
POLL_S = 0.25


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
    workers: int = 1  # sub-MIPs at once (worker processes; 1: one at a time, here)
    stale: int = 0  # sub-MIPs solved again: a network kept meanwhile left them no room

    def record(self, seconds: float, during: str = "restricted MIPs") -> dict[str, object]:
        """As written to summary.json (solver.reduction.network_exchange); ``during``: the
        stage it ran in (the LP stage: :mod:`csu_opt.solver.background`)."""
        counts: dict[str, object] = {}
        for kind in KINDS:
            counts[f"{kind}_tried"] = self.tried[kind]
            counts[f"{kind}_improved"] = self.improved[kind]
        return {
            **counts,
            "passes": self.passes,
            "workers": self.workers,
            "stale": self.stale,
            "network": self.objective,
            "time_s": round(seconds, 3),
            "during": during,
        }


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
    """The best network HiGHS finds in ``seconds`` (to within ``abs_gap`` and SUB_GAP of
    the sub-MIP's optimum) with only the ``free`` columns (layout positions) changed from
    ``network`` (``activity``: A·network), None when none is cheaper; and whether the run
    was interrupted (``should_stop``)."""
    end = solve_sub(cut_out(mm, cuts, network, free, activity), seconds, abs_gap, should_stop)
    if end.values is None:
        return None, end.interrupted
    out = network.copy()
    out[free] = end.values
    return out, end.interrupted


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


@dataclass
class _Pass:
    """A pass over the groups of one kind of move (:data:`KINDS`, by position): the groups
    not yet launched, whether it gained, and how many of its sub-MIPs are on their way."""

    kind: int
    queue: list[tuple[int, ...]]
    gained: bool = False
    on_way: int = 0


@dataclass
class _Flight:
    """A group's sub-MIP on its way: its pass, its free columns, their values in the
    network it was cut from, that network's row activity (the very array :class:`_Run`
    held then: while it still holds it, the network is the one the flight was cut from),
    and its end to come."""

    group: tuple[int, ...]
    of: _Pass
    free: np.ndarray
    base: np.ndarray
    act: np.ndarray
    end: Future[SubEnd]


class _Run:
    """One exchange: its network and counts (:class:`Exchange`), the matrix, and the row
    activity A·x of the network kept (``act``: a new array at each network kept, never
    changed in place, so a flight's reference to it says which network it was cut from)."""

    def __init__(
        self,
        mm: MatrixModel,
        shape: Shape,
        network: np.ndarray,
        seconds: float,
        should_stop: Callable[[], bool] | None,
        pool: SubPool | None,
    ):
        self.t0 = time.perf_counter()
        self.mm, self.shape, self.seconds, self.pool = mm, shape, seconds, pool
        self.should_stop = should_stop
        self.cuts = cuts_of(mm)
        self.out = Exchange(network=network.copy(), objective=mm.cost(network))
        self.out.workers = pool.workers if pool is not None else 1
        if pool is not None:
            pool.resume()  # (an exchange before may have ended with a stop)
        self.act = self.cuts.by_row @ self.out.network
        self.abs_gap = PAIR_ABS_GAP * abs(self.out.objective)

    def left(self) -> float:
        return self.seconds - (time.perf_counter() - self.t0)

    def stopping(self) -> bool:
        """Whether the caller asks to stop (and the workers' sub-MIPs are told to)."""
        if self.should_stop is not None and self.should_stop():
            self.out.interrupted = True
            if self.pool is not None:
                self.pool.stop()
        return self.out.interrupted

    def new_pass(self, kind: int) -> _Pass:
        self.out.passes += 1
        return _Pass(kind, groups_of(KINDS[kind], self.mm, self.shape, self.out.network))

    def next_pass(self, done: _Pass) -> _Pass | None:
        """The pass after ``done``: the pairs after a gain, else the next kind (None after
        the last); once a pass of pairs gains nothing, every sub-MIP is solved finely."""
        if not done.gained and done.kind == 0:
            self.abs_gap = 0.0  # the pairs converged coarsely
        kind = 0 if done.gained else done.kind + 1
        return self.new_pass(kind) if kind < len(KINDS) else None

    def launch(self, group: tuple[int, ...], of: _Pass) -> _Flight:
        """``group``'s sub-MIP, cut from the current network: on a worker with a pool,
        else solved here and now."""
        kind = KINDS[of.kind]
        seconds = min(TRIPLE_SECONDS if kind == "triples" else PAIR_SECONDS, self.left())
        of.on_way += 1
        net = self.out.network
        free = pair_columns(self.mm, self.shape, net, group)
        sub = cut_out(self.mm, self.cuts, net, free, self.act)
        if self.pool is not None:
            end = self.pool.submit(sub, seconds, self.abs_gap)
        else:
            end = Future()
            end.set_result(solve_sub(sub, seconds, self.abs_gap, self.should_stop))
        return _Flight(group, of, free, net[free].copy(), self.act, end)

    def land(self, flight: _Flight) -> str:
        """Keep ``flight``'s network when better: "better", "same" (none cheaper), or
        "stale" (to be solved again: since it was cut out, a network was kept on which its
        moves would leave a row it touches further from its bounds than its own solution
        left it)."""
        end = flight.end.result()
        kind = KINDS[flight.of.kind]
        flight.of.on_way -= 1
        self.out.tried[kind] += 1
        if end.interrupted and self.pool is None:
            self.out.interrupted = True
        if end.values is None:
            return "same"
        moved = end.values != flight.base
        cols = flight.free[moved]
        if flight.act is not self.act and not self._still_fits(flight, moved, end.values[moved]):
            self.out.stale += 1
            return "stale"
        got = self.out.network.copy()
        got[cols] = end.values[moved]
        cost = self.mm.cost(got)
        if cost >= self.out.objective - IMPROVE_TOL:
            return "same"
        self.out.network, self.out.objective = got, cost
        self.act = self.cuts.by_row @ got
        self.out.improved[kind] += 1
        return "better"

    def _still_fits(self, flight: _Flight, moved: np.ndarray, got: np.ndarray) -> bool:
        """Whether ``flight``'s moved columns (``moved``: a mask of its free ones), set to
        ``got`` on the network kept now instead of the one it was cut from, leave every row
        they touch no further outside its bounds than its own solution left it (within
        HiGHS's tolerance there): every other row is as the kept network has it, so the
        result is as whole as both."""
        cols = flight.free[moved]
        change = self.cuts.by_col[:, cols]
        rows = np.unique(change.indices)
        change = change[rows]  # (only the rows they touch)
        own = flight.act[rows] + change @ (got - flight.base[moved])
        now = self.act[rows] + change @ (got - self.out.network[cols])
        lower, upper = self.mm.row_lower[rows], self.mm.row_upper[rows]

        def outside(act: np.ndarray) -> np.ndarray:
            return np.maximum(np.maximum(lower - act, act - upper), 0.0)

        return bool(np.all(outside(now) <= outside(own) + STILL_FITS_TOL))


def _apart(queue: list[tuple[int, ...]], flights: list[_Flight]) -> int | None:
    """The first group of ``queue`` with no lead in a sub-MIP on its way (None: none)."""
    busy = {lead for f in flights for lead in f.group}
    return next((i for i, g in enumerate(queue) if busy.isdisjoint(g)), None)


def _first_done(flights: list[_Flight], run: _Run) -> list[_Flight]:
    """The flights whose sub-MIPs have ended (in launch order), once at least one has; the
    caller's ``should_stop`` is asked meanwhile (its progress tick)."""
    while True:
        done = [f for f in flights if f.end.done()]
        if done:
            return done
        run.stopping()
        wait([f.end for f in flights], timeout=POLL_S, return_when=FIRST_COMPLETED)


def exchange(  # noqa: C901 (one loop: launch, then land)
    mm: MatrixModel,
    shape: Shape,
    network: np.ndarray,
    seconds: float,
    should_stop: Callable[[], bool] | None = None,
    on_better: Callable[[float], None] | None = None,
    enough: Callable[[float], bool] | None = None,
    pool: SubPool | None = None,
    on_network: Callable[[np.ndarray, float], None] | None = None,
) -> Exchange:
    """Network exchange from the whole ``network`` (layout order) for at most ``seconds``:
    passes over the groups of each kind of move (:func:`groups_of`), each group's sub-MIP
    (:func:`~csu_opt.solver.submip.solve_sub`) for at most PAIR_SECONDS (TRIPLE_SECONDS for
    triples), to within PAIR_ABS_GAP of the start's cost until a pass of pairs first gains
    nothing, and to SUB_GAP alone after; a pass that improves goes back to the pairs, one
    that does not goes on to the next kind, and after the last kind the exchange ends; so
    does a network whose cost is ``enough`` (say, within the gap of a bound).
    ``on_better(cost)`` is called at each better network, ``on_network(network, cost)``
    too (the array is never changed afterwards).

    Without a ``pool`` the sub-MIPs run here one at a time, each from the network the one
    before left. With a pool of worker processes, as many run at once, on groups with no
    lead in common; a sub-MIP whose moves no longer fit the network kept meanwhile
    (:meth:`_Run._still_fits`) is solved again from the new network (first, before the
    pass's other groups), and a pass that has gained hands over to the next one without
    waiting for its last sub-MIPs."""
    run = _Run(mm, shape, network, seconds, should_stop, pool)
    width = pool.workers if pool is not None else 1
    now: _Pass | None = run.new_pass(0)
    retry: list[tuple[tuple[int, ...], _Pass]] = []  # stale groups, solved again first
    flights: list[_Flight] = []
    ended = False
    while True:
        while not ended and len(flights) < width:
            ended = run.left() <= 0 or run.stopping()
            if ended:
                break
            again = _apart([g for g, _ in retry], flights)
            if again is not None:
                flights.append(run.launch(*retry.pop(again)))
                continue
            if now is None:
                break
            if not now.queue:
                if now.on_way and not now.gained:
                    break  # its last sub-MIPs decide what comes next
                now = run.next_pass(now)
                continue
            pick = _apart(now.queue, flights)
            if pick is None:
                break
            flights.append(run.launch(now.queue.pop(pick), now))
        if not flights:
            break
        for flight in _first_done(flights, run):
            flights.remove(flight)
            landed = run.land(flight)
            if landed == "stale" and not ended:
                retry.append((flight.group, flight.of))
            elif landed == "better":
                flight.of.gained = True
                if now is not None:
                    now.gained = True  # any gain sends the exchange back to the pairs
                if on_better is not None:
                    on_better(run.out.objective)
                if on_network is not None:
                    on_network(run.out.network, run.out.objective)
                if enough is not None and enough(run.out.objective):
                    ended = True
        ended = ended or run.out.interrupted
        if ended and pool is not None:
            pool.stop()  # the sub-MIPs on their way end with their best so far
    return run.out
