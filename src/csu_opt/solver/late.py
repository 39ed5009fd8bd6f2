"""The root reduction after HiGHS's root, when the root leaves a wide gap (issue 19).

On small single-source models HiGHS proves the optimum quickly once it holds it, but its own
heuristics may take most of the solve to find it: tune-euclid-single 30 x 60, handed the
optimum, 5.3 s and 31 nodes; cold, 28.7 s and 1,822 nodes, the optimum found at 23.4 s. The
root reduction (:mod:`csu_opt.solver.reduce`) run before the search finds it in seconds there,
but on england-2014, where HiGHS's own root heuristics land within 0.1% of the bound, it costs
18-27%. What separates the two is visible only once HiGHS's root is done: the gap it leaves
(seed 0: england-2014 0.05%; TUNE clustered-single 30 x 60 0.55%, the other single-source
instances 2.7-4.3%).

So below the size where the reduction runs first (:data:`csu_opt.solver.policy.REDUCTION_MIN_NNZ`)
HiGHS starts on the whole model at once, and at its first user-solution callback after the root
(``kCallbackMipUserSolution`` with a node count of 1 or more, or the second of two identical
calls at the root, :data:`ROOT_PAIR`), csu-opt reads the gap:

- at most :data:`ROOT_GAP` (or an interrupt asked for): nothing happens, HiGHS carries on;
- above it (or no network yet): the root reduction runs on a private copy of the model, with
  HiGHS's dual bound as its floor, and its network, when better than HiGHS's, is handed to
  the running search (``setSolution`` in the callback). No work is lost: HiGHS resumes its
  tree with the better incumbent. The reduction's fixings are not applied (a running search's
  bounds cannot change); HiGHS fixes by reduced cost itself from the new incumbent.

When HiGHS proved the reduction's last restricted MIP (:data:`SPLIT`), the watch also stops
HiGHS's search at its next interrupt callback, and the caller searches the complement of that
MIP's neighbourhood (:mod:`csu_opt.solver.split`).

Nothing here raises inside a HiGHS callback: an error in the reduction is recorded and the
search goes on without it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from csu_opt.solver.highs import Highs, finite_or_none, gap
from csu_opt.solver.reduce import Reduction
from csu_opt.solver.tolerances import IMPROVE_TOL

if TYPE_CHECKING:
    from csu_opt.solver.split import Complement

#: The root reduction runs after HiGHS's root only when the root leaves a relative gap above
#: this (TUNE facility-location families and england-2014, benchmarks/README.md, issue 19).
ROOT_GAP = 0.01
#: The root is done at HiGHS's first user-solution callback with this many nodes or more (its
#: calls before come from the root's own steps; the first after, before a dive).
ROOT_AFTER_NODES = 1
#: Also done at the root's last call: HiGHS calls twice in a row with the same incumbent and
#: bound when its root (or a restarted root) ends, and a dive may take much longer to come
#: (tune-euclid-single 50 x 200: the pair at 3.9 s; the first call after a node at 58.5 s).
#: Under single sourcing only (the caller's ``pair``): there the split search needs it (TUNE
#: euclid-single 30 x 60, seeds 0-2: 7.2 / 20.0 / 8.9 s against 12.8 / 21.4 / 14.8 s after the
#: first dive), while on multi-source models, whose restricted MIPs are proven at their root and
#: never split, the early hand-over only cost (euclid-multi 50 x 200: 13.4 s against 11.2 s).
ROOT_PAIR = True
#: When the reduction's last restricted MIP is proven optimal, stop HiGHS's search and split
#: it (:mod:`csu_opt.solver.split`): the neighbourhood is done, its complement is searched.
SPLIT = True
#: ... only when that MIP's proof needed a tree of more than this many nodes: one proven at its
#: root the whole search re-proves as cheaply, and the split's fresh start (presolve, root)
#: is then a loss (TUNE: restricted MIPs proven in 1 node on the multi-source families and
#: clustered-single 40 x 100, split 1.3 -> 3.5 s, 13.6 -> 16.5 s, 74 -> 101 s; in 24-239
#: nodes on euclid-single and clustered-single 30 x 60: benchmarks/README.md).
SPLIT_MIN_NODES = 1
#: ... and only when that MIP's network is within this relative gap of the best bound known
#: (HiGHS's root bound, or the LP's): the complement then needs only pruning at the cutoff,
#: while a complement that holds a cheaper network is a search of its own. TUNE, at the root's
#: bound: the neighbourhood held the optimum at 0.20% (euclid-single 30 x 60) and 0.41%
#: (clustered-single 30 x 60), not at 0.93% (euclid-single 40 x 100: split 63.9-86.4 s against
#: 64.6-66.2 s whole), 3.5% and 3.6% (benchmarks/README.md).
SPLIT_GAP = 0.005


@dataclass
class LateReduction:
    """What the watch on HiGHS's root saw and did (summary.json's ``solver.late_reduction``)."""

    threshold: float = ROOT_GAP
    checked: bool = False  # HiGHS's root was done and its gap read
    at_s: float | None = None  # HiGHS's running time then
    root_incumbent: float | None = None
    root_bound: float | None = None
    reduction: Reduction | None = None  # None: not run
    time_s: float = 0.0  # the reduction's time (inside HiGHS's run)
    handed: bool = False  # its network was handed to HiGHS (better than HiGHS's own)
    handed_col: np.ndarray | None = field(default=None, repr=False)  # in HiGHS's columns
    error: str | None = None  # the reduction failed (the search went on without it)
    split: bool = False  # the reduction proved its neighbourhood: the search is to be split
    resumed: bool = False  # the complement's search has started
    reset: bool = False  # ... and the interrupt request was taken back
    whole_again: bool = False  # the complement ended unproven: the whole model searched again
    complement: Complement | None = None  # once searched
    pair: bool = True  # the root's last call counts (ROOT_PAIR), not only a call after a node
    last_call: tuple[float, float] | None = field(default=None, repr=False)
    on_interrupt: Any = field(default=None, repr=False)

    @property
    def root_gap(self) -> float | None:
        return gap(self.root_incumbent, self.root_bound)

    def wanted(self) -> bool:
        """True when the root's gap is above the threshold (or the root found no network)."""
        found = self.root_gap
        return found is None or found > self.threshold

    def as_record(self) -> dict[str, Any]:
        red = self.reduction
        return {
            "threshold": self.threshold,
            "checked": self.checked,
            "at_s": None if self.at_s is None else round(self.at_s, 3),
            "root_incumbent": self.root_incumbent,
            "root_bound": self.root_bound,
            "root_gap": self.root_gap,
            "ran": red is not None,
            "time_s": round(self.time_s, 3),
            "incumbent": None if red is None else red.incumbent_objective,
            "incumbent_source": None if red is None else red.incumbent_source,
            "handed": self.handed,
            "error": self.error,
            "split": None
            if self.complement is None
            else {**self.complement.as_record(), "whole_again": self.whole_again},
        }

    def splits(self, red: Reduction) -> bool:
        """True when the search is to be split after ``red`` (:data:`SPLIT_MIN_NODES`,
        :data:`SPLIT_GAP`)."""
        if red.proven_out is None or red.interrupted or red.proven_nodes <= SPLIT_MIN_NODES:
            return False
        bounds = [b for b in (self.root_bound, red.lower_bound) if b is not None]
        found = gap(red.incumbent_objective, max(bounds)) if bounds else None
        return found is not None and found <= SPLIT_GAP

    def root_done(self, nodes: int, incumbent: float, bound: float) -> bool:
        """True at HiGHS's first user-solution call after a node, or (:data:`ROOT_PAIR`) at
        the second of two calls at the root with the same finite incumbent and bound."""
        if nodes >= ROOT_AFTER_NODES:
            return True
        call, self.last_call = self.last_call, (incumbent, bound)
        same = call == (incumbent, bound) and finite_or_none(incumbent) is not None
        return ROOT_PAIR and self.pair and same


def watch_root(
    h: Highs,
    columns: np.ndarray,
    reduce: Callable[[float | None], Reduction],
    should_stop: Callable[[], bool] | None,
    *,
    pair: bool = True,
) -> LateReduction:
    """Arm the watch on ``h`` for its next run; :func:`unwatch` after it. ``columns``: HiGHS's
    column of each layout column; ``reduce(floor)``: the root reduction on the model ``h``
    holds, with ``floor`` (HiGHS's bound, None: none) as the floor of its bound; ``pair``:
    the root's last call counts too (:data:`ROOT_PAIR`)."""
    late = LateReduction(threshold=ROOT_GAP, pair=pair)

    def on_user_solution(event: Any) -> None:
        out = event.data_out
        if late.checked or not late.root_done(
            int(out.mip_node_count), float(out.mip_primal_bound), float(out.mip_dual_bound)
        ):
            return
        late.checked = True
        late.at_s = float(out.running_time)
        late.root_incumbent = finite_or_none(out.mip_primal_bound)
        late.root_bound = finite_or_none(out.mip_dual_bound)
        if not late.wanted() or (should_stop is not None and should_stop()):
            return
        t0 = time.perf_counter()
        try:
            late.reduction = reduce(late.root_bound)
        except Exception as exc:  # never raise inside a HiGHS callback
            late.error = f"{type(exc).__name__}: {exc}"
        late.time_s = time.perf_counter() - t0
        red = late.reduction
        if red is None or red.incumbent is None or red.incumbent_objective is None:
            return
        late.split = SPLIT and late.splits(red)
        ub = late.root_incumbent
        if ub is None or red.incumbent_objective < ub - IMPROVE_TOL * max(abs(ub), 1.0):
            full = np.zeros(h.getNumCol())
            keep = columns >= 0
            full[columns[keep]] = red.incumbent[keep]
            event.data_in.setSolution(full)
            late.handed = bool(event.data_in.user_has_solution)
            late.handed_col = full

    def on_interrupt(event: Any) -> None:
        # after the callbacks of csu_opt.solver.stages, which set or reset the request
        if late.split and not late.resumed:
            event.data_in.user_interrupt = True  # stop, to split the search
        elif late.resumed and not late.reset:
            late.reset = True  # the complement's first call: take the request back, once
            event.data_in.user_interrupt = bool(should_stop is not None and should_stop())

    h.cbMipUserSolution.clear()
    h.cbMipUserSolution.subscribe(on_user_solution)
    late.on_interrupt = on_interrupt
    h.cbMipInterrupt.subscribe(on_interrupt)
    return late


def unwatch(h: Highs, late: LateReduction | None = None) -> None:
    """Remove the watch (a session's next solve runs without it unless armed again)."""
    h.cbMipUserSolution.clear()
    if late is not None and late.on_interrupt is not None:
        h.cbMipInterrupt.unsubscribe(late.on_interrupt)
