"""A solve's stages: start -> reduction -> search (or race) -> settle -> polish.

:meth:`csu_opt.solver.solve.ModelSession.solve` runs them in this order on a
:class:`Workspace` (HiGHS holding the model, the engine that built it, the model as arrays);
each is a function testable alone (``tests/solver/test_pipeline.py``). From the search on,
the stages hand one another a frozen :class:`~csu_opt.solver.outcome.Outcome`:

1. :func:`start_stage`: the previous solve's solution (a sweep's warm start) or the greedy
   network of :mod:`csu_opt.solver.start`, handed to HiGHS;
2. :func:`reduction_stage`: the root reduction (:mod:`csu_opt.solver.reduce`) and its fixings
   applied to HiGHS's model (undone by :meth:`Reduced.undo`);
3. :func:`search_stage`: HiGHS's branch-and-bound, or a race of searches
   (:mod:`csu_opt.solver.concurrent`), or nothing when the reduction settled the solve;
4. :func:`csu_opt.solver.outcome.settle`: the outcome on the whole model's terms;
5. :func:`polish_stage`: the incumbent's lead set searched for the rest of the time limit
   (:mod:`csu_opt.solver.polish`).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from csu_opt import stops
from csu_opt.model.blocks import MatrixModel, index_codes
from csu_opt.model.index import ModelIndex
from csu_opt.results.solution import Status
from csu_opt.solver import alternate
from csu_opt.solver.background import during_reduction
from csu_opt.solver.bounds import aggregate_bound
from csu_opt.solver.concurrent import RaceResult, append_logs, race, search_configs
from csu_opt.solver.engines import MatrixEngine, highs_options_of, layout_of
from csu_opt.solver.highs import Highs, RunEnd, gap, highs_solution, read_end, set_options
from csu_opt.solver.lagrange import DualBounds, bound_from_duals
from csu_opt.solver.late import LateReduction, unwatch, watch_root
from csu_opt.solver.options import Progress, SolveOptions
from csu_opt.solver.outcome import Outcome, better_of, outcome_of_reduction, outcome_of_run
from csu_opt.solver.polish import MIN_POLISH_S, PolishResult, polish_lead_set
from csu_opt.solver.reduce import (
    CombinedBound,
    Reduction,
    StageReport,
    implications,
    national_path,
    root_reduction,
)
from csu_opt.solver.split import search_complement, split_budget, split_outcome
from csu_opt.solver.stages import (
    MainShare,
    attach_callbacks,
    combined_reporter,
    reduction_settles,
    stage_reporter,
)
from csu_opt.solver.start import greedy_start

if TYPE_CHECKING:  # imported by a Pyomo-path solve only (csu_opt.solver.appsi_engine)
    from csu_opt.solver.appsi_engine import PyomoEngine

_NO_COLS = np.zeros(0, np.int32)
_NO_LAYOUT = np.zeros(0, np.int64)


@dataclass
class Workspace:
    """What the stages of one solve share: HiGHS holding the model, the engine that built it,
    the model index, the model as arrays (``matrix``: built when first asked) and the clock."""

    h: Highs
    engine: PyomoEngine | MatrixEngine
    ix: ModelIndex
    matrix: Callable[[], MatrixModel]
    t_start: float

    def same_matrix(self) -> MatrixModel | None:
        """The model as arrays when HiGHS holds exactly it (a caller may have added terms to
        a Pyomo model, csu_opt.analysis.whatif), else None."""
        mm = self.matrix()
        same = self.h.getNumCol() == mm.n_cols and self.h.getNumRow() == mm.n_rows
        return mm if same else None

    def elapsed(self) -> float:
        return time.perf_counter() - self.t_start

    def left(self, options: SolveOptions) -> float | None:
        """Seconds of ``options``' time limit left (None: no limit)."""
        return None if options.time_limit is None else options.time_limit - self.elapsed()

    def hand_start(self, col: np.ndarray) -> None:
        """Hand HiGHS the columns ``col`` (layout order) as its incumbent."""
        cols = self.engine.solver_columns()
        keep = cols >= 0
        self.h.setSolution(int(keep.sum()), cols[keep].astype(np.int32), col[keep].astype(float))


def main_share(options: SolveOptions, t_start: float) -> tuple[SolveOptions, MainShare | None]:
    """The options of the main search and its end when polishing (``--polish``): a race gets
    its share as its time limit; a single search stops at its share once it has a network."""
    if options.polish and options.concurrent > 1:
        return replace(options, time_limit=options.main_time_limit()), None
    if options.polish:
        return options, MainShare(t_start + (options.main_time_limit() or 0.0))
    return options, None


# --------------------------------------------------------------------------- 1. start


@dataclass(frozen=True)
class Started:
    """The start handed to HiGHS: summary.json's ``solver.start`` record (None: no greedy
    start tried) and the greedy network's columns (layout order; None: none)."""

    record: dict[str, Any] | None = None
    col: np.ndarray | None = None


def start_stage(ws: Workspace, options: SolveOptions, previous: Any) -> Started:
    """Hand HiGHS the previous solve's solution, else the greedy start (if asked and found)."""
    if previous is not None:
        ws.h.setSolution(previous)
        return Started()
    if not options.start_heuristic:
        return Started()
    t0 = time.perf_counter()
    mm = ws.same_matrix()  # a Pyomo model with terms added by its caller is not this model
    col = greedy_start(ws.ix, mm) if mm is not None else None
    record: dict[str, Any] = {"found": col is not None, "objective": None}
    if col is not None:
        assert mm is not None
        ws.hand_start(col)
        record["objective"] = mm.cost(col)
    record["time_s"] = time.perf_counter() - t0
    return Started(record, col)


# --------------------------------------------------------------------------- 2. reduction


@dataclass(frozen=True)
class Reduced:
    """The root reduction (None: not run) and the columns whose bounds its fixings changed
    (HiGHS's and the layout's), with the arrays to restore them from."""

    reduction: Reduction | None = None
    fixed_cols: np.ndarray = field(default_factory=lambda: _NO_COLS)
    fixed_layout: np.ndarray = field(default_factory=lambda: _NO_LAYOUT)
    mm: MatrixModel | None = None

    def undo(self, h: Highs) -> None:
        """Undo the fixings (after reading HiGHS's results, which a model change clears): the
        kept model is the whole model again."""
        if len(self.fixed_cols):
            assert self.mm is not None
            lay = self.fixed_layout
            n = len(self.fixed_cols)
            h.changeColsBounds(n, self.fixed_cols, self.mm.col_lower[lay], self.mm.col_upper[lay])


def reduction_stage(
    ws: Workspace,
    options: SolveOptions,
    start_col: np.ndarray | None,
    share: MainShare | None,
    previous: Any,
) -> Reduced:
    """Run the root reduction when ``options.root_reduction`` is True (as
    :func:`csu_opt.solver.policy.plan_stages` decided it; None counts as off) and HiGHS holds
    the model csu-opt built; hand HiGHS its incumbent and fixings and the time left."""
    mm = ws.same_matrix() if options.root_reduction else None
    if mm is None:
        return Reduced()
    red = run_reduction(
        ws,
        mm,
        options,
        time_limit=options.time_limit,
        start=start_col,
        on_stage=stage_reporter(options.callbacks.on_progress, ws.t_start),
        bound_of=bound_from_duals(ws.ix, mm),  # used (and built) on the national path only
    )
    cols, lay = _apply_reduction(ws, mm, red, options, share, previous)
    return Reduced(red, cols, lay, mm)


def run_reduction(
    ws: Workspace,
    mm: MatrixModel,
    options: SolveOptions,
    *,
    time_limit: float | None,
    start: np.ndarray | None = None,
    floor: float | None = None,
    on_stage: StageReport | None = None,
    bound_of: DualBounds | None = None,
) -> Reduction:
    """The root reduction of ``mm`` (the model HiGHS holds) under ``options``, before the
    search or after HiGHS's root: its bound starts from the best of ``floor`` and the
    aggregate relaxation's."""
    codes = index_codes(ws.ix)
    floors = [b for b in (floor, aggregate_bound(ws.ix, mm.demand_scale)) if b is not None]
    shape = alternate.shape_of(ws.ix, mm.demand_scale)
    national = national_path(mm, codes.z_c, bound_of)
    with during_reduction(mm, shape, start, options.concurrent, national) as behind:
        return root_reduction(
            mm,
            time_limit=time_limit,
            mip_gap=options.mip_gap,
            highs_options=highs_options_of(options),
            start=start,
            should_stop=options.callbacks.should_stop,
            imp=implications(ws.ix, mm),
            ccg_of_z=codes.z_c,
            lead_of_z=codes.z_l,
            shape=shape,
            single_sourcing=ws.ix.single_sourcing,
            on_progress=on_stage,
            floor_bound=max(floors) if floors else None,
            bound_of=bound_of,
            exchange_workers=options.concurrent,
            behind=behind,
        )


def _apply_reduction(
    ws: Workspace,
    mm: MatrixModel,
    red: Reduction,
    options: SolveOptions,
    share: MainShare | None,
    previous: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """Hand HiGHS the reduction's incumbent, fix what it fixed, and give HiGHS the time
    that is left; returns the columns whose bounds were changed (HiGHS's, layout's)."""
    h = ws.h
    cols = ws.engine.solver_columns()
    zero, one = cols[red.fixed_zero], cols[red.fixed_one]
    zero, one = zero[zero >= 0].astype(np.int32), one[one >= 0].astype(np.int32)
    lay_zero = red.fixed_zero[cols[red.fixed_zero] >= 0]
    lay_one = red.fixed_one[cols[red.fixed_one] >= 0]
    if len(zero):
        h.changeColsBounds(len(zero), zero, mm.col_lower[lay_zero], np.zeros(len(zero)))
    if len(one):
        h.changeColsBounds(len(one), one, np.ones(len(one)), mm.col_upper[lay_one])
    if red.incumbent is not None:  # after the bound changes, which clear a set solution
        ws.hand_start(red.incumbent)
    elif previous is not None:
        h.setSolution(previous)
    left = ws.left(options)
    if left is not None:
        ws.engine.set_time_limit(max(left, 0.01))
    if options.callbacks.on_progress is not None:  # HiGHS's progress, on the whole model's terms
        report = combined_reporter(options.callbacks.on_progress, red)
        attach_callbacks(h, replace(options, on_progress=report), share)
        if red.lower_bound is not None:
            options.callbacks.on_progress(
                Progress(ws.elapsed(), red.incumbent_objective, red.lower_bound, red.gap())
            )
    return np.concatenate([zero, one]), np.concatenate([lay_zero, lay_one])


# --------------------------------------------------------------------------- 3. search


@dataclass(frozen=True)
class Searched:
    """The search's outcome (before settling) and what summary.json says of it."""

    outcome: Outcome
    skipped: bool = False  # the reduction settled the solve: no search ran
    race: RaceResult | None = None
    nodes: int | None = None
    highs_s: float = 0.0
    read_s: float = 0.0  # of which reading HiGHS's results (load time, not solve time)
    warm: Any = None  # HiGHS's solution to start the session's next solve from (None: keep)
    late: LateReduction | None = None  # the watch on HiGHS's root (None: not armed)


def search_stage(
    ws: Workspace,
    options: SolveOptions,
    red: Reduction | None,
    start_col: np.ndarray | None,
    late: bool = False,
) -> Searched:
    """HiGHS's search, a race of searches (``options.concurrent`` > 1), or none when the
    root reduction settled the solve (:func:`csu_opt.solver.stages.reduction_settles`).
    ``late``: a single search watches its root and may run the reduction then
    (:mod:`csu_opt.solver.late`)."""
    h = ws.h
    if red is not None and reduction_settles(red, options, ws.t_start):
        out = outcome_of_reduction(red, options.mip_gap, layout_of(ws.ix))
        return Searched(out, skipped=True)
    mm = ws.same_matrix() if options.concurrent > 1 else None
    if mm is not None:
        t_race = time.perf_counter()
        raced = race_stage(ws, mm, red, start_col, options)
        highs_s = time.perf_counter() - t_race
        col = raced.col
        values = None if col is None else mm.layout.split(col[mm.highs_col])
        out = Outcome(raced.status, raced.message, raced.objective, raced.bound, values)
        nodes = sum(r.nodes for r in raced.searches)
        return Searched(out, race=raced, nodes=nodes, highs_s=highs_s)
    watch = _watch_root(ws, options) if late else None
    run0 = float(h.getRunTime())
    split: Outcome | None = None
    runs: list[RunEnd] = []  # the split's runs after the first (the complement, the whole again)
    try:
        ws.engine.run()
        end = read_end(h)
        if watch is not None and _to_split(ws, watch, end, options):
            split, runs = _split_search(ws, watch, end, options)
    finally:
        if watch is not None:
            unwatch(h, watch)
    highs_s = float(h.getRunTime()) - run0
    t_read = time.perf_counter()
    late_red = None if watch is None else watch.reduction
    ran = outcome_of_run(end, ws.engine.values)
    out = better_of(ran, late_red, options.mip_gap, layout_of(ws.ix)) if split is None else split
    warm = end.solution if ran.solution is not None else None
    if out is not ran and watch is not None and watch.handed_col is not None:
        warm = highs_solution(watch.handed_col)  # the next solve starts from the kept network
    searched = end.nodes
    for run in runs:
        searched = (searched or 0) + (run.nodes or 0)
        if run.solution is not None and run.objective == out.objective:
            warm = run.solution  # the run that found the network kept
    read_s = time.perf_counter() - t_read
    return Searched(out, nodes=searched, highs_s=highs_s, read_s=read_s, warm=warm, late=watch)


def _to_split(ws: Workspace, watch: LateReduction, end: RunEnd, options: SolveOptions) -> bool:
    """True when the watch stopped HiGHS to split its search (not a stop asked for, nor the
    time limit) and time is left."""
    if not (watch.split and end.interrupted and watch.reduction is not None):
        return False
    if options.callbacks.should_stop is not None and options.callbacks.should_stop():
        return False
    left = ws.left(options)
    return left is None or left > 0


def _split_search(
    ws: Workspace, watch: LateReduction, end: RunEnd, options: SolveOptions
) -> tuple[Outcome, list[RunEnd]]:
    """The complement of the reduction's proven neighbourhood searched on HiGHS's object
    (:mod:`csu_opt.solver.split`) for at most :func:`split_budget`; should it end unproven,
    the whole model is searched again from the best network, with the time left. Returns the
    whole model's outcome and the ends of the runs made here."""
    red = watch.reduction
    assert red is not None and red.proven_out is not None and red.proven_bound is not None
    assert red.incumbent is not None and red.incumbent_objective is not None
    h = ws.h
    hc = ws.engine.solver_columns()  # HiGHS's column of each layout column
    cols = hc[red.proven_out]
    whole = outcome_of_run(end, ws.engine.values)
    best = red.incumbent_objective
    if whole.objective is not None:
        best = min(best, whole.objective)
    left = ws.left(options)
    budget = split_budget(watch.time_s)
    limit = budget if left is None else min(left, budget)
    ws.engine.set_time_limit(max(limit, 0.01))  # a MIP run's limit counts that run (measured)
    watch.resumed = True
    with stops.deferred():
        comp = search_complement(h, cols[cols >= 0], best, options.mip_gap)
    watch.complement = comp
    values = None if comp.end.col is None else ws.engine.values(comp.end.col)
    network = (red.incumbent_objective, layout_of(ws.ix).split(red.incumbent))
    out = split_outcome(whole, network, red.proven_bound, comp, values, options.mip_gap)
    left = ws.left(options)
    if out.status is Status.OPTIMAL or comp.end.infeasible or comp.end.interrupted:
        return out, [comp.end]
    if left is not None and left <= 0:
        return out, [comp.end]
    # the complement did not finish in its budget: the whole model again, from the best network
    starts = [(red.incumbent_objective, red.incumbent)]
    starts += [
        (r.objective, r.col[hc])
        for r in (end, comp.end)
        if r.objective is not None and r.col is not None
    ]
    watch.whole_again = True
    ws.hand_start(min(starts, key=lambda s: s[0])[1])
    ws.engine.set_time_limit(None if left is None else max(left, 0.01))
    ws.engine.run()
    last = read_end(h)
    again = outcome_of_run(last, ws.engine.values)
    if again.objective is None:
        return out, [comp.end, last]
    bounds = [b for b in (out.bound, again.bound) if b is not None]  # both hold for the whole
    bound = max(bounds) if bounds else None
    return replace(again, bound=bound).judged(options.mip_gap), [comp.end, last]


def _watch_root(ws: Workspace, options: SolveOptions) -> LateReduction | None:
    """Arm the watch on HiGHS's root (:mod:`csu_opt.solver.late`) when HiGHS holds the model
    csu-opt built; its reduction gets the time left, its progress lines say where it runs."""
    mm = ws.same_matrix()
    if mm is None:
        return None
    on_stage = stage_reporter(options.callbacks.on_progress, ws.t_start)
    if on_stage is not None:
        report_stage = on_stage
        on_stage = lambda s, ub, lb: report_stage(f"{s}, after HiGHS's root", ub, lb)  # noqa: E731

    def reduce(floor: float | None) -> Reduction:
        left = ws.left(options)
        limit = None if left is None else max(left, 0.01)
        return run_reduction(ws, mm, options, time_limit=limit, floor=floor, on_stage=on_stage)

    columns = ws.engine.solver_columns()
    pair = ws.ix.single_sourcing  # the split search's case (csu_opt.solver.late.ROOT_PAIR)
    return watch_root(ws.h, columns, reduce, options.callbacks.should_stop, pair=pair)


def race_stage(
    ws: Workspace,
    mm: MatrixModel,
    red: Reduction | None,
    start_col: np.ndarray | None,
    options: SolveOptions,
) -> RaceResult:
    """Solve by ``options.concurrent`` searches at once (:mod:`csu_opt.solver.concurrent`), with
    the root reduction's fixings and incumbent (or the greedy start) in every search."""
    left = ws.left(options)
    left = None if left is None else max(left, 0.01)
    start = red.incumbent if red is not None and red.incumbent is not None else start_col
    tmp = tempfile.TemporaryDirectory(prefix="csu-opt-race-")
    logs = Path(options.log_file) if options.log_file is not None else Path(tmp.name) / "h"
    empty = np.zeros(0, np.int64)
    configs = search_configs(
        options.concurrent,
        seed=options.seed,
        highs_options={k: v for k, v in highs_options_of(options).items() if k != "threads"},
        time_limit=left,
        mip_gap=options.mip_gap,
        fix_zero=red.fixed_zero if red is not None else empty,
        fix_one=red.fixed_one if red is not None else empty,
        start=start,
        bounds=red.bounds() if red is not None else CombinedBound(),
        log_file=str(logs),
    )
    report = options.callbacks.on_progress

    def on_progress(elapsed: float, ub: float | None, lb: float | None) -> None:
        if report is not None:
            report(Progress(ws.elapsed(), ub, lb, gap(ub, lb), "concurrent search"))

    try:
        return race(
            mm,
            configs,
            mip_gap=options.mip_gap,
            on_progress=on_progress,
            should_stop=options.callbacks.should_stop,
        )
    finally:
        append_logs(options.log_file, configs)
        tmp.cleanup()


# --------------------------------------------------------------------------- 5. polish


@dataclass(frozen=True)
class Polished:
    """The outcome after the polish, its record (None: no polish asked) and the better
    network's HiGHS columns (None: not improved)."""

    outcome: Outcome
    result: PolishResult | None = None
    col: np.ndarray | None = None
    time_s: float = 0.0


def polish_stage(ws: Workspace, options: SolveOptions, out: Outcome) -> Polished:
    """Polish a FEASIBLE outcome within its lead set for the rest of ``options``' (whole) time
    limit, when ``options.polish`` asks for it; a better network replaces the outcome's and is
    proven optimal when within the gap of the whole model's bound."""
    if not options.polish:
        return Polished(out)
    if out.status is not Status.FEASIBLE:
        reason = f"the main search ended {out.status.value}"
        return Polished(out, PolishResult(ran=False, reason=reason))
    t0 = time.perf_counter()
    result = _polish(ws, options, out)
    time_s = time.perf_counter() - t0
    if result.col is None:
        return Polished(out, result, None, time_s)
    better = replace(out, solution=ws.engine.values(result.col), objective=result.objective_after)
    if better.bound is not None and better.objective is not None:
        judged = better.judged(
            options.mip_gap, "proven optimal within the requested gap (after polishing)"
        )
        if judged is better:
            polished = f"{out.message}; the network polished within its lead set"
            judged = replace(better, message=polished)
        better = judged
    return Polished(better, result, result.col, time_s)


def _polish(ws: Workspace, options: SolveOptions, out: Outcome) -> PolishResult:
    """Search the incumbent's lead set for the rest of the time limit
    (csu_opt.solver.polish)."""
    h = ws.h
    left = ws.left(options)
    assert left is not None  # options.check(): a polish needs a time limit
    values, objective, bound = out.solution, out.objective, out.bound
    if values is None or objective is None:
        return PolishResult(ran=False, reason="no network to polish")
    if options.callbacks.should_stop is not None and options.callbacks.should_stop():
        return PolishResult(ran=False, reason="interrupted")
    if left < MIN_POLISH_S:
        return PolishResult(ran=False, reason=f"{max(left, 0.0):.1f} s left")
    mm = ws.same_matrix()
    if mm is None:  # a caller added terms to the Pyomo model (csu_opt.analysis.whatif)
        return PolishResult(ran=False, reason="the model has terms csu-opt did not build")
    cols = ws.engine.solver_columns()
    layout = mm.layout.join(values)
    keep = cols >= 0
    start = np.zeros(h.getNumCol())
    start[cols[keep]] = layout[keep]
    u = np.arange(mm.layout.U, mm.layout.A)
    u = u[cols[u] >= 0]
    # the solve's HiGHS options (after a race, appsi has not applied them to this object)
    set_options(h, highs_options_of(options))
    h.setOptionValue("mip_rel_gap", float(options.mip_gap))
    report = options.callbacks.on_progress

    def on_progress(incumbent: float | None) -> None:
        if report is None:
            return
        best = objective if incumbent is None else min(incumbent, objective)
        report(Progress(ws.elapsed(), best, bound, gap(best, bound), "polishing"))

    return polish_lead_set(
        h,
        cols[u],
        mm.col_lower[u],
        mm.col_upper[u],
        start,
        objective,
        left,
        on_progress=on_progress,
        should_stop=options.callbacks.should_stop,
    )
