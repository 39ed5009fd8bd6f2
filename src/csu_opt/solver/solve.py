"""Solving with HiGHS, the model built by Pyomo (appsi) or as arrays (csu_opt.model.matrix).

``solve(instance, options)`` builds the model, hands it to HiGHS, maps every termination to
csu-opt's statuses and returns a :class:`~csu_opt.results.solution.Solution` of plain data. Two
backends
build the same model (``tests/model/test_matrix.py`` checks it row for row): ``pyomo``, the
reference modelling layer (:mod:`csu_opt.model.pyomo_model`, handed over through Pyomo's appsi), and
``matrix`` (:mod:`csu_opt.model.matrix`, numpy arrays straight into highspy), which costs a few
percent of Pyomo's build and hand-over on large instances. ``auto`` picks by model size.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from pyomo.contrib.appsi import solvers as appsi

from csu_opt import stops
from csu_opt.instance.load import Instance
from csu_opt.model.blocks import MatrixModel, index_codes
from csu_opt.model.index import build_index
from csu_opt.model.matrix import build_matrix
from csu_opt.results.solution import Solution, Status, Timings, solution_from_values
from csu_opt.solver.bounds import aggregate_bound
from csu_opt.solver.concurrent import RaceResult, append_logs, race, search_configs
from csu_opt.solver.engines import (
    MatrixEngine,
    PyomoEngine,
    choose_backend,
    highs_options_of,
    layout_of,
)
from csu_opt.solver.highs import Highs, gap, highs_solution, read_end, set_options, within_gap
from csu_opt.solver.highs import version as highs_version
from csu_opt.solver.options import Progress, SolveOptions
from csu_opt.solver.polish import MIN_POLISH_S, PolishResult, polish_lead_set
from csu_opt.solver.reduce import CombinedBound, Reduction, implications, root_reduction
from csu_opt.solver.stages import (
    MainShare,
    attach_callbacks,
    combined_reporter,
    log_reduction,
    logging_to,
    reduction_settles,
    stage_reporter,
)
from csu_opt.solver.start import greedy_start


class ModelSession:
    """A built model kept with its HiGHS instance.

    ``solve`` may be called again for an instance that differs from the first only in the
    lead band or a global demand scale (``mutable=True``): only those parameters are pushed
    to HiGHS, and the previous solution is handed over as a starting point. The model is
    built by Pyomo or as arrays, as ``options.backend`` says (``auto``: by size).
    """

    def __init__(self, instance: Instance, options: SolveOptions, mutable: bool = False):
        t0 = time.perf_counter()
        self.ix = build_index(instance)
        self.backend = choose_backend(self.ix, options.backend)
        self.engine: PyomoEngine | MatrixEngine
        if self.backend == "matrix":
            self.engine = MatrixEngine(self.ix, options, mutable)
        else:
            self.engine = PyomoEngine(self.ix, options, mutable)
        self.build_s = time.perf_counter() - t0
        self.mutable = mutable
        self.previous: Any = None  # the last HighsSolution with a feasible point
        self.solves = 0
        self.params: tuple[int | None, int | None, float] | None = None
        self._mm: MatrixModel | None = None  # the Pyomo backend's model as arrays
        self._mm_params: tuple[int | None, int | None, float] | None = None
        self.valid_inequalities = options.valid_inequalities

    @property
    def model(self) -> Any:
        """The Pyomo model (Pyomo backend) or the :class:`MatrixModel` (matrix backend)."""
        return self.engine.model if isinstance(self.engine, PyomoEngine) else self.engine.mm

    @property
    def opt(self) -> appsi.Highs:
        """The persistent appsi solver of the Pyomo backend."""
        if not isinstance(self.engine, PyomoEngine):
            raise AttributeError("a matrix-backend session has no appsi solver")
        return self.engine.opt

    @property
    def loaded(self) -> bool:
        """True once the model has been handed to HiGHS."""
        return self.engine.loaded

    def set_parameters(
        self, lead_min: int | None, lead_max: int | None, demand_scale: float = 1.0
    ) -> None:
        """Set the mutable parameters (only on a session built with ``mutable=True``)."""
        self.engine.set_parameters(lead_min, lead_max, float(demand_scale))
        self.params = (lead_min, lead_max, float(demand_scale))

    def solve(self, instance: Instance, options: SolveOptions) -> Solution:
        """Solve ``instance`` (this session's model, with its parameters) under ``options``.

        A stop by Ctrl-C or SIGTERM (:mod:`csu_opt.stops`) interrupts HiGHS at its next
        callback and raises :class:`~csu_opt.stops.Interrupted` instead of returning (the
        session is left as the stop found it: build a new one to solve again).
        """
        options.check()
        return self._solve(
            instance, replace(options, should_stop=stops.or_requested(options.should_stop))
        )

    def _solve(self, instance: Instance, options: SolveOptions) -> Solution:  # noqa: C901 (frozen, issue 17: to be split)
        t_start = time.perf_counter()
        full = options  # the whole time limit; the main search gets its share of it
        share: MainShare | None = None
        if options.polish and options.concurrent > 1:  # a race gets its share as its limit
            options = replace(options, time_limit=options.main_time_limit())
        elif options.polish:
            share = MainShare(t_start + (options.main_time_limit() or 0.0))
        h = self.engine.prepare(options)
        attach_callbacks(h, options, share)
        start_record: dict[str, Any] | None = None
        start_col: np.ndarray | None = None
        if self.previous is not None:
            h.setSolution(self.previous)
        elif options.start_heuristic:
            start_record, start_col = self._hand_start(h)
        t_handover = time.perf_counter() - t_start
        # solve_s: the root reduction and HiGHS (the reduction's own steps are in solver.reduction)
        t2 = time.perf_counter()
        reduction: Reduction | None = None
        fixed: tuple[np.ndarray, np.ndarray] = (np.zeros(0, np.int32), np.zeros(0, np.int64))
        mm = self._same_matrix(h) if options.reduction_on(self.backend) else None
        if mm is not None:
            codes = index_codes(self.ix)
            reduction = root_reduction(
                mm,
                time_limit=options.time_limit,
                mip_gap=options.mip_gap,
                highs_options=highs_options_of(options),
                start=start_col,
                should_stop=options.should_stop,
                imp=implications(self.ix, mm),
                ccg_of_z=codes.z_c,
                lead_of_z=codes.z_l,
                single_sourcing=self.ix.single_sourcing,
                on_progress=stage_reporter(options.on_progress, t_start),
                floor_bound=aggregate_bound(self.ix, mm.demand_scale),
            )
            fixed = self._apply_reduction(h, mm, reduction, options, t_start, share)

        t_highs = time.perf_counter()
        run0 = float(h.getRunTime())
        skip = reduction is not None and reduction_settles(reduction, options, t_start)
        raced: RaceResult | None = None
        if not skip:
            race_on = options.concurrent > 1 and self._same_matrix(h) is not None
            if race_on:
                raced = self._race(reduction, start_col, options, t_start)
            else:
                self.engine.run()
        highs_s = float(h.getRunTime()) - run0 if raced is None else time.perf_counter() - t_highs
        t_solve = time.perf_counter() - t2

        t3 = time.perf_counter()
        if raced is not None:
            values, status, message, objective, bound = self._race_outcome(raced, reduction)
            info = None
        else:
            values, status, message, objective, bound, info = self._outcome(
                h, skip, reduction, options
            )
        fixed_cols, fixed_layout = fixed
        if len(fixed_cols):  # undo the fixings (after reading HiGHS's results,
            # which a model change clears): the kept model is the whole model again
            assert mm is not None
            h.changeColsBounds(
                len(fixed_cols), fixed_cols, mm.col_lower[fixed_layout], mm.col_upper[fixed_layout]
            )
        if share is not None and share.ended and status is Status.FEASIBLE:
            message = "stopped at the end of the search's share of the time limit"
        polished: PolishResult | None = None
        polish_s = 0.0  # the polish is part of solve_s, not of load_s
        if full.polish and status is Status.FEASIBLE:
            t_polish = time.perf_counter()
            polished = self._polish(h, full, t_start, values, objective, bound)
            polish_s = time.perf_counter() - t_polish
            t_solve += polish_s
            if polished.col is not None:
                values = self.engine.values(polished.col)
                objective = polished.objective_after
                self.previous = highs_solution(polished.col)
                if bound is not None and objective is not None:
                    if within_gap(objective, bound, full.mip_gap):
                        status = Status.OPTIMAL
                        message = "proven optimal within the requested gap (after polishing)"
                    else:
                        message = f"{message}; the network polished within its lead set"
        elif full.polish:
            polished = PolishResult(ran=False, reason=f"the main search ended {status.value}")
        if reduction is not None:
            log_file = Path(options.log_file) if options.log_file is not None else None
            with logging_to(log_file):
                log_reduction(reduction, skip)
        t_end = time.perf_counter()
        build_s = self.build_s if self.solves == 0 else 0.0
        self.solves += 1
        # disjoint parts: build, hand-over, solve (reduction, HiGHS, polish), load (reading
        # the results); they add up to the total
        timings = Timings(
            build_s=build_s,
            handover_s=t_handover,
            solve_s=t_solve,
            load_s=t_end - t3 - polish_s,
            total_s=build_s + t_end - t_start,
        )
        solver: dict[str, Any] = {
            "name": "highs",
            "version": highs_version(),
            "interface": self.engine.interface,
            "options": options.as_record(),
            "warm_start": self.solves > 1,
            "nodes": info.nodes if info is not None else None,
            "highs_time_s": highs_s,
        }
        if raced is not None:
            solver["nodes"] = sum(r.nodes for r in raced.searches)
            solver["concurrent"] = raced.as_record()
        if start_record is not None:
            solver["start"] = start_record
        if reduction is not None:
            solver["reduction"] = reduction.as_record()
        if polished is not None:
            solver["polish"] = polished.as_record()
        return solution_from_values(
            instance,
            self.ix,
            values,
            status=status,
            objective=objective,
            best_bound=bound,
            mip_gap=gap(objective, bound),
            message=message,
            timings=timings,
            solver=solver,
        )

    def _polish(
        self,
        h: Highs,
        options: SolveOptions,
        t_start: float,
        values: dict[str, np.ndarray] | None,
        objective: float | None,
        bound: float | None,
    ) -> PolishResult:
        """Search the incumbent's lead set for the rest of the time limit
        (csu_opt.solver.polish)."""
        assert options.time_limit is not None  # options.check()
        left = options.time_limit - (time.perf_counter() - t_start)
        if values is None or objective is None:
            return PolishResult(ran=False, reason="no network to polish")
        if options.should_stop is not None and options.should_stop():
            return PolishResult(ran=False, reason="interrupted")
        if left < MIN_POLISH_S:
            return PolishResult(ran=False, reason=f"{max(left, 0.0):.1f} s left")
        mm = self._same_matrix(h)
        if mm is None:  # a caller added terms to the Pyomo model (csu_opt.analysis.whatif)
            return PolishResult(ran=False, reason="the model has terms csu-opt did not build")
        cols = self.engine.solver_columns()
        layout = mm.layout.join(values)
        keep = cols >= 0
        start = np.zeros(h.getNumCol())
        start[cols[keep]] = layout[keep]
        u = np.arange(mm.layout.U, mm.layout.A)
        u = u[cols[u] >= 0]
        # the solve's HiGHS options (after a race, appsi has not applied them to this object)
        set_options(h, highs_options_of(options))
        h.setOptionValue("mip_rel_gap", float(options.mip_gap))
        report = options.on_progress

        def on_progress(incumbent: float | None) -> None:
            if report is None:
                return
            best = objective if incumbent is None else min(incumbent, objective)
            elapsed = time.perf_counter() - t_start
            report(Progress(elapsed, best, bound, gap(best, bound), "polishing"))

        return polish_lead_set(
            h,
            cols[u],
            mm.col_lower[u],
            mm.col_upper[u],
            start,
            objective,
            left,
            on_progress=on_progress,
            should_stop=options.should_stop,
        )

    def _race(
        self,
        red: Reduction | None,
        start_col: np.ndarray | None,
        options: SolveOptions,
        t_start: float,
    ) -> RaceResult:
        """Solve by ``options.concurrent`` searches at once (:mod:`csu_opt.solver.concurrent`), with
        the root reduction's fixings and incumbent (or the greedy start) in every search."""
        mm = self._matrix()
        left = None
        if options.time_limit is not None:
            left = max(options.time_limit - (time.perf_counter() - t_start), 0.01)
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
        report = options.on_progress

        def on_progress(elapsed: float, ub: float | None, lb: float | None) -> None:
            if report is not None:
                elapsed = time.perf_counter() - t_start
                report(Progress(elapsed, ub, lb, gap(ub, lb), "concurrent search"))

        try:
            return race(
                mm,
                configs,
                mip_gap=options.mip_gap,
                on_progress=on_progress,
                should_stop=options.should_stop,
            )
        finally:
            append_logs(options.log_file, configs)
            tmp.cleanup()

    def _race_outcome(
        self, raced: RaceResult, red: Reduction | None
    ) -> tuple[dict[str, np.ndarray] | None, Status, str, float | None, float | None]:
        """Values, status, message, objective and bound of a concurrent solve."""
        mm = self._matrix()
        status, message, objective, bound = (
            raced.status,
            raced.message,
            raced.objective,
            raced.bound,
        )
        values = None if raced.col is None else mm.layout.split(raced.col[mm.highs_col])
        if red is not None and red.incumbent is not None and status is Status.INFEASIBLE:
            status = Status.OPTIMAL  # every network better than the incumbent excluded
            objective = bound = red.incumbent_objective
            values = mm.layout.split(red.incumbent)
            message = "proven optimal: no network beats the root reduction's incumbent"
        return values, status, message, objective, bound

    def _same_matrix(self, h: Highs) -> MatrixModel | None:
        """The model as arrays when HiGHS holds exactly it (a caller may have added terms to
        a Pyomo model, csu_opt.analysis.whatif), else None."""
        mm = self._matrix()
        same = h.getNumCol() == mm.n_cols and h.getNumRow() == mm.n_rows
        return mm if same else None

    def _matrix(self) -> MatrixModel:
        if isinstance(self.engine, MatrixEngine):
            return self.engine.mm
        # the same model as arrays (cheap at the Pyomo backend's sizes), built once per
        # parameter setting
        if self._mm is None:
            self._mm = build_matrix(self.ix, self.valid_inequalities, mutable=self.mutable)
        if self.params is not None and self._mm_params != self.params:
            self._mm.set_parameters(*self.params)
        self._mm_params = self.params
        return self._mm

    def _apply_reduction(
        self,
        h: Highs,
        mm: MatrixModel,
        red: Reduction,
        options: SolveOptions,
        t_start: float,
        share: MainShare | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Hand HiGHS the reduction's incumbent, fix what it fixed, and give HiGHS the time
        that is left; returns the columns whose bounds were changed (HiGHS's, layout's)."""
        cols = self.engine.solver_columns()
        zero, one = cols[red.fixed_zero], cols[red.fixed_one]
        zero, one = zero[zero >= 0].astype(np.int32), one[one >= 0].astype(np.int32)
        lay_zero, lay_one = (
            red.fixed_zero[cols[red.fixed_zero] >= 0],
            red.fixed_one[cols[red.fixed_one] >= 0],
        )
        if len(zero):
            h.changeColsBounds(len(zero), zero, mm.col_lower[lay_zero], np.zeros(len(zero)))
        if len(one):
            h.changeColsBounds(len(one), one, np.ones(len(one)), mm.col_upper[lay_one])
        if red.incumbent is not None:  # after the bound changes, which clear a set solution
            keep = cols >= 0
            h.setSolution(
                int(keep.sum()), cols[keep].astype(np.int32), red.incumbent[keep].astype(float)
            )
        elif self.previous is not None:
            h.setSolution(self.previous)
        if options.time_limit is not None:
            left = options.time_limit - (time.perf_counter() - t_start)
            self.engine.set_time_limit(max(left, 0.01))
        if options.on_progress is not None:  # HiGHS's progress, on the whole model's terms
            attach_callbacks(
                h, replace(options, on_progress=combined_reporter(options.on_progress, red)), share
            )
        if options.on_progress is not None and red.lower_bound is not None:
            options.on_progress(
                Progress(
                    elapsed_s=time.perf_counter() - t_start,
                    incumbent=red.incumbent_objective,
                    bound=red.lower_bound,
                    gap=red.gap(),
                )
            )
        return np.concatenate([zero, one]), np.concatenate([lay_zero, lay_one])

    def _outcome(
        self,
        h: Highs,
        skipped: bool,
        red: Reduction | None,
        options: SolveOptions,
    ) -> tuple[dict[str, np.ndarray] | None, Status, str, float | None, float | None, Any]:
        """Values, status, message, objective and bound of the solve just made."""
        if skipped:
            assert red is not None
            objective = red.incumbent_objective
            values = None if red.incumbent is None else layout_of(self.ix).split(red.incumbent)
            gap = red.gap()
            if gap is not None and gap <= options.mip_gap:
                status, message = (
                    Status.OPTIMAL,
                    "proven optimal within the requested gap (LP bound and restricted MIP)",
                )
            elif red.interrupted:
                status = Status.FEASIBLE if values is not None else Status.NO_SOLUTION
                message = "stopped at an interrupt during the root reduction"
            else:
                status = Status.FEASIBLE if values is not None else Status.NO_SOLUTION
                message = "stopped at the time limit during the root reduction"
            return values, status, message, objective, red.lower_bound, None
        end = read_end(h)
        status, message, objective, bound = end.status, end.message, end.objective, end.bound
        if status is Status.OPTIMAL and bound is None:
            bound = objective  # solved without a branch-and-bound tree
        values = None
        if end.col is not None and status in (Status.OPTIMAL, Status.FEASIBLE):
            self.previous = end.solution
            values = self.engine.values(end.col)
            if end.fault:
                status, bound = Status.FEASIBLE, None
                message = (
                    f"HiGHS reported the objective {end.reported_objective:,.2f} but the solution "
                    f"it returned costs {end.objective:,.2f}: its result is inconsistent (a solver "
                    "fault), so the solution is kept at its true cost and HiGHS's bound is not "
                    "trusted"
                )
        if red is not None:
            if status is Status.INFEASIBLE and red.incumbent is not None:
                status = Status.OPTIMAL  # every network better than the incumbent excluded
                objective = red.incumbent_objective
                values = layout_of(self.ix).split(red.incumbent)
                message = "proven optimal: no network beats the root reduction's incumbent"
                bound = objective
            bound = red.combined_bound(bound)
            if status is Status.FEASIBLE and within_gap(objective, bound, options.mip_gap):
                status, message = Status.OPTIMAL, "proven optimal within the requested gap"
        return values, status, message, objective, bound, end

    def _hand_start(self, h: Highs) -> tuple[dict[str, Any], np.ndarray | None]:
        """Hand HiGHS the greedy starting solution of :mod:`csu_opt.solver.start`, if one is found;
        returns the record for summary.json and the start's columns (layout order)."""
        t0 = time.perf_counter()
        mm = self._matrix()
        cols = self.engine.solver_columns()
        # a Pyomo model with terms added by its caller (csu_opt.analysis.whatif) is not this model
        same = h.getNumCol() == mm.n_cols and h.getNumRow() == mm.n_rows
        col = greedy_start(self.ix, mm) if same else None
        record: dict[str, Any] = {"found": col is not None, "objective": None}
        if col is not None:
            keep = cols >= 0
            h.setSolution(
                int(keep.sum()), cols[keep].astype(np.int32), col[keep].astype(np.float64)
            )
            record["objective"] = mm.cost(col)
        record["time_s"] = time.perf_counter() - t0
        return record, col


def solve(instance: Instance, options: SolveOptions | None = None) -> Solution:
    """Build and solve the network-formation MIP for ``instance``."""
    options = options or SolveOptions()
    return ModelSession(instance, options).solve(instance, options)
