"""Solving with HiGHS through Pyomo's in-memory (appsi) interface.

``solve(instance, options)`` builds the model, hands it to HiGHS, maps every termination to
SPEC's statuses and returns a :class:`~csu_opt.solution.Solution` of plain data.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import highspy
import numpy as np
from pyomo.contrib.appsi.solvers import Highs

from csu_opt.indices import build_index
from csu_opt.instance import Instance
from csu_opt.model import build_model
from csu_opt.solution import Solution, Status, Timings, solution_from_values


@dataclass(frozen=True)
class Progress:
    """What HiGHS reports while it searches: time, best solution, best bound, gap."""

    elapsed_s: float
    incumbent: float | None
    bound: float | None
    gap: float | None


@dataclass
class SolveOptions:
    """Typed solver options; ``seed`` fixes HiGHS's random choices so runs repeat."""

    time_limit: float | None = None
    mip_gap: float = 1e-4
    threads: int | None = None
    seed: int = 0
    valid_inequalities: bool = True
    log_file: Path | None = None
    on_progress: Callable[[Progress], None] | None = None
    should_stop: Callable[[], bool] | None = None
    highs_options: dict[str, Any] = field(default_factory=dict)

    def as_record(self) -> dict[str, Any]:
        """The options as written to summary.json."""
        return {
            "time_limit": self.time_limit,
            "mip_gap": self.mip_gap,
            "threads": self.threads,
            "random_seed": self.seed,
            "valid_inequalities": self.valid_inequalities,
            **self.highs_options,
        }


def highs_version() -> str:
    h = highspy.Highs()
    return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) and abs(x) < 1e29 else None


def solve(instance: Instance, options: SolveOptions | None = None) -> Solution:
    """Build and solve the network-formation MIP for ``instance``."""
    options = options or SolveOptions()
    return ModelSession(instance, options).solve(instance, options)


_UPDATE_FLAGS = (
    "check_for_new_or_removed_constraints",
    "check_for_new_or_removed_vars",
    "check_for_new_or_removed_params",
    "check_for_new_objective",
    "update_constraints",
    "update_vars",
    "update_named_expressions",
    "update_objective",
)


class ModelSession:
    """A built model kept with its HiGHS instance.

    ``solve`` may be called again for an instance that differs from the first only in the
    lead band or a global demand scale (``mutable=True``): only those parameters are pushed
    to HiGHS, and the previous solution is handed over as a starting point.
    """

    def __init__(self, instance: Instance, options: SolveOptions, mutable: bool = False):
        t0 = time.perf_counter()
        self.ix = build_index(instance)
        self.model = build_model(
            self.ix, valid_inequalities=options.valid_inequalities, mutable=mutable
        )
        self.build_s = time.perf_counter() - t0
        self.mutable = mutable
        self.opt = Highs()
        self.loaded = False
        self.previous: Any = None  # the last HighsSolution with a feasible point
        self.solves = 0

    def set_parameters(
        self, lead_min: int | None, lead_max: int | None, demand_scale: float = 1.0
    ) -> None:
        """Set the mutable parameters (only on a session built with ``mutable=True``)."""
        m = self.model
        m.lead_min.value = float(lead_min or 0)
        m.lead_max.value = float(lead_max if lead_max is not None else len(self.ix.leads))
        m.demand_scale.value = float(demand_scale)

    def solve(self, instance: Instance, options: SolveOptions) -> Solution:
        t_start = time.perf_counter()
        opt = self.opt
        opt.config.stream_solver = False
        opt.config.load_solution = False
        opt.config.logfile = str(options.log_file) if options.log_file is not None else ""
        opt.config.time_limit = (
            float(options.time_limit) if options.time_limit is not None else None
        )
        opt.config.mip_gap = float(options.mip_gap)
        highs_opts: dict[str, Any] = {"log_to_console": False, "random_seed": int(options.seed)}
        if options.threads:
            highs_opts["threads"] = int(options.threads)
        highs_opts.update(options.highs_options)
        opt.highs_options = highs_opts

        t1 = time.perf_counter()
        if not self.loaded:
            opt.set_instance(self.model)
            for flag in _UPDATE_FLAGS:
                setattr(opt.update_config, flag, False)
            opt.update_config.update_params = self.mutable
            self.loaded = True
        h: highspy.Highs = opt._solver_model
        _attach_callbacks(h, options)
        if self.previous is not None:
            h.setSolution(self.previous)
        t_handover = time.perf_counter() - t1

        t2 = time.perf_counter()
        opt.solve(self.model)
        t_solve = time.perf_counter() - t2

        t3 = time.perf_counter()
        status, message = _status(h)
        info = h.getInfo()
        has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
        objective = _finite(info.objective_function_value) if has_solution else None
        bound = _finite(info.mip_dual_bound)
        if status is Status.OPTIMAL and bound is None:
            bound = objective  # solved without a branch-and-bound tree
        gap = None
        if objective is not None and bound is not None:
            gap = abs(objective - bound) / max(abs(objective), 1e-10) if objective != bound else 0.0
        values = None
        if has_solution and status in (Status.OPTIMAL, Status.FEASIBLE):
            solution = h.getSolution()
            self.previous = solution
            values = self._read_values(np.asarray(solution.col_value))
        t_load = time.perf_counter() - t3
        build_s = self.build_s if self.solves == 0 else 0.0
        self.solves += 1
        timings = Timings(
            build_s=build_s,
            handover_s=t_handover,
            solve_s=t_solve,
            load_s=t_load,
            total_s=build_s + time.perf_counter() - t_start,
        )
        return solution_from_values(
            instance,
            self.ix,
            values,
            status=status,
            objective=objective,
            best_bound=bound,
            mip_gap=gap,
            message=message,
            timings=timings,
            solver={
                "name": "highs",
                "version": highs_version(),
                "interface": "pyomo.appsi",
                "options": options.as_record(),
                "warm_start": self.solves > 1,
                "nodes": int(info.mip_node_count) if info.mip_node_count >= 0 else None,
                "highs_time_s": float(h.getRunTime()),
            },
        )

    def _read_values(self, col: np.ndarray) -> dict[str, np.ndarray]:
        vmap = self.opt._pyomo_var_to_solver_var_map
        out = {}
        for name in ("u", "a", "w", "z", "x"):
            var = getattr(self.model, name)
            idx = np.fromiter((vmap.get(id(v), -1) for v in var.values()), int, len(var))
            vals = np.zeros(len(idx))
            vals[idx >= 0] = col[idx[idx >= 0]]
            out[name] = vals
        return out


def _attach_callbacks(h: highspy.Highs, options: SolveOptions) -> None:
    if options.on_progress is None and options.should_stop is None:
        h.cbMipInterrupt.clear()
        return

    def on_interrupt(event: Any) -> None:
        out = event.data_out
        if options.on_progress is not None:
            options.on_progress(
                Progress(
                    elapsed_s=float(out.running_time),
                    incumbent=_finite(out.mip_primal_bound),
                    bound=_finite(out.mip_dual_bound),
                    gap=_finite(out.mip_gap) if _finite(out.mip_primal_bound) else None,
                )
            )
        if options.should_stop is not None and options.should_stop():
            event.interrupt()

    h.cbMipInterrupt.clear()
    h.cbSimplexInterrupt.clear()
    h.cbIpmInterrupt.clear()
    h.cbMipInterrupt.subscribe(on_interrupt)
    if options.should_stop is not None:
        stop_lp = lambda event: event.interrupt() if options.should_stop() else None  # noqa: E731
        h.cbSimplexInterrupt.subscribe(stop_lp)
        h.cbIpmInterrupt.subscribe(stop_lp)


def _status(h: highspy.Highs) -> tuple[Status, str]:
    """SPEC's status and a plain sentence from HiGHS's model status."""
    ms = h.getModelStatus()
    S = highspy.HighsModelStatus
    has_solution = h.getInfo().primal_solution_status == 2
    if ms == S.kOptimal:
        return Status.OPTIMAL, "proven optimal within the requested gap"
    if ms in (S.kInfeasible,):
        return Status.INFEASIBLE, "proven infeasible: no network satisfies every rule"
    if ms == S.kUnboundedOrInfeasible:
        return Status.INFEASIBLE, "HiGHS reports the model infeasible (or unbounded)"
    limit = {
        S.kTimeLimit: "the time limit",
        S.kIterationLimit: "the iteration limit",
        S.kInterrupt: "an interrupt",
    }.get(ms, h.modelStatusToString(ms))
    if has_solution:
        return Status.FEASIBLE, f"stopped at {limit} with a feasible solution"
    return Status.NO_SOLUTION, f"stopped at {limit} before any feasible solution was found"
