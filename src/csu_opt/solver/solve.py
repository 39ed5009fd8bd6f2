"""Solving with HiGHS, the model built by Pyomo (appsi) or as arrays (csu_opt.model.matrix).

``solve(instance, options)`` builds the model, hands it to HiGHS, maps every termination to
csu-opt's statuses and returns a :class:`~csu_opt.results.solution.Solution` of plain data; the
solve's stages are in :mod:`csu_opt.solver.pipeline`. Two backends build the same model
(``tests/model/test_matrix.py`` checks it row for row): ``pyomo``, the reference modelling
layer (:mod:`csu_opt.model.pyomo_model`, handed over through Pyomo's appsi), and ``matrix``
(:mod:`csu_opt.model.matrix`, numpy arrays straight into HiGHS), which costs a few percent of
Pyomo's build and hand-over on large instances. ``auto`` picks by model size.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from csu_opt import stops
from csu_opt.instance.load import Instance
from csu_opt.model.blocks import MatrixModel
from csu_opt.model.index import build_index
from csu_opt.model.matrix import build_matrix
from csu_opt.results.solution import Solution, Status, Timings, solution_from_values
from csu_opt.solver.engines import MatrixEngine, choose_backend, layout_of
from csu_opt.solver.highs import highs_solution
from csu_opt.solver.highs import version as highs_version
from csu_opt.solver.options import SolveOptions
from csu_opt.solver.outcome import settle
from csu_opt.solver.pipeline import (
    Workspace,
    main_share,
    polish_stage,
    reduction_stage,
    search_stage,
    start_stage,
)
from csu_opt.solver.policy import plan_stages, planned
from csu_opt.solver.stages import (
    attach_callbacks,
    log_late_reduction,
    log_reduction,
    logging_to,
)

if TYPE_CHECKING:
    from pyomo.contrib.appsi import solvers as appsi

    from csu_opt.solver.appsi_engine import PyomoEngine


def _pyomo_engine_class() -> type[PyomoEngine]:
    """The Pyomo backend's engine; Pyomo is imported here, so a matrix-path solve never loads
    it (issue 19: 0.3-0.5 s of a small solve's start-up)."""
    from csu_opt.solver.appsi_engine import PyomoEngine  # noqa: PLC0415 (Pyomo, loaded when used)

    return PyomoEngine


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
            t_import = time.perf_counter()  # loading Pyomo (once a process) is not the build
            engine = _pyomo_engine_class()
            t0 += time.perf_counter() - t_import
            self.engine = engine(self.ix, options, mutable)
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
        return self.engine.mm if isinstance(self.engine, MatrixEngine) else self.engine.model

    @property
    def opt(self) -> appsi.Highs:
        """The persistent appsi solver of the Pyomo backend."""
        if isinstance(self.engine, MatrixEngine):
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
            instance,
            replace(options, should_stop=stops.or_requested(options.callbacks.should_stop)),
        )

    def _solve(self, instance: Instance, options: SolveOptions) -> Solution:
        """The stages of :mod:`csu_opt.solver.pipeline`, timed, and their outcome recorded."""
        t_start = time.perf_counter()
        asked = options
        plan = plan_stages(self.ix, options, self.backend)
        options = planned(options, plan)
        full = options  # the whole time limit; the main search gets its share of it
        options, share = main_share(options, t_start)
        h = self.engine.prepare(options)
        attach_callbacks(h, options, share)
        ws = Workspace(h, self.engine, self.ix, self.arrays, t_start)
        started = start_stage(ws, options, self.previous)
        t_handover = time.perf_counter() - t_start
        # solve_s: the root reduction and HiGHS (the reduction's own steps are in solver.reduction)
        t2 = time.perf_counter()
        reduced = reduction_stage(ws, options, started.col, share, self.previous)
        searched = search_stage(
            ws, options, reduced.reduction, started.col, late=plan.late_reduction.run
        )
        t3 = time.perf_counter() - searched.read_s  # reading HiGHS's results is load time
        t_solve = t3 - t2
        if searched.warm is not None:
            self.previous = searched.warm
        outcome = settle(
            searched.outcome,
            reduced.reduction,
            options.mip_gap,
            layout_of(self.ix),
            combine=searched.race is None,
        )
        reduced.undo(h)
        if share is not None and share.ended and outcome.status is Status.FEASIBLE:
            message = "stopped at the end of the search's share of the time limit"
            outcome = replace(outcome, message=message)
        polished = polish_stage(ws, full, outcome)  # part of solve_s, not of load_s
        t_solve += polished.time_s
        if polished.col is not None:
            self.previous = highs_solution(polished.col)
        outcome = polished.outcome
        log_file = Path(options.log_file) if options.log_file is not None else None
        with logging_to(log_file):
            if reduced.reduction is not None:
                log_reduction(reduced.reduction, searched.skipped)
            if searched.late is not None and searched.late.checked:
                log_late_reduction(searched.late)
        t_end = time.perf_counter()
        build_s = self.build_s if self.solves == 0 else 0.0
        self.solves += 1
        # disjoint parts: build, hand-over, solve (reduction, HiGHS, polish), load (reading
        # the results); they add up to the total
        timings = Timings(
            build_s=build_s,
            handover_s=t_handover,
            solve_s=t_solve,
            load_s=t_end - t3 - polished.time_s,
            total_s=build_s + t_end - t_start,
        )
        solver: dict[str, Any] = {
            "name": "highs",
            "version": highs_version(),
            "interface": self.engine.interface,
            "options": asked.as_record(),
            "stages": plan.as_record(),
            "warm_start": self.solves > 1,
            "nodes": searched.nodes,
            "highs_time_s": searched.highs_s,
        }
        if searched.race is not None:
            solver["concurrent"] = searched.race.as_record()
        if started.record is not None:
            solver["start"] = started.record
        if reduced.reduction is not None:
            solver["reduction"] = reduced.reduction.as_record()
        if searched.late is not None:
            solver["late_reduction"] = searched.late.as_record()
        if polished.result is not None:
            solver["polish"] = polished.result.as_record()
        return solution_from_values(
            instance,
            self.ix,
            outcome.solution,
            status=outcome.status,
            objective=outcome.objective,
            best_bound=outcome.bound,
            mip_gap=outcome.gap(),
            message=outcome.message,
            timings=timings,
            solver=solver,
        )

    def arrays(self) -> MatrixModel:
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


def solve(instance: Instance, options: SolveOptions | None = None) -> Solution:
    """Build and solve the network-formation MIP for ``instance``."""
    options = options or SolveOptions()
    return ModelSession(instance, options).solve(instance, options)
