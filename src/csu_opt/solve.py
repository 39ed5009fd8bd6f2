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
import pyomo.environ as pyo
from pyomo.contrib.appsi.solvers import Highs

from csu_opt.indices import ModelIndex, build_index
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
    t0 = time.perf_counter()
    ix = build_index(instance)
    model = build_model(ix, valid_inequalities=options.valid_inequalities)
    t_build = time.perf_counter() - t0
    return solve_model(instance, ix, model, options, t_build=t_build, t_start=t0)


def solve_model(
    instance: Instance,
    ix: ModelIndex,
    model: pyo.ConcreteModel,
    options: SolveOptions,
    *,
    t_build: float,
    t_start: float,
) -> Solution:
    """Hand a built model to HiGHS, run it, and read back a Solution."""
    opt = Highs()
    opt.config.stream_solver = False
    opt.config.load_solution = False
    if options.log_file is not None:
        opt.config.logfile = str(options.log_file)
    if options.time_limit is not None:
        opt.config.time_limit = float(options.time_limit)
    opt.config.mip_gap = float(options.mip_gap)
    highs_opts: dict[str, Any] = {"log_to_console": False, "random_seed": int(options.seed)}
    if options.threads:
        highs_opts["threads"] = int(options.threads)
    highs_opts.update(options.highs_options)
    opt.highs_options = highs_opts

    t1 = time.perf_counter()
    opt.set_instance(model)
    for flag in (
        "check_for_new_or_removed_constraints",
        "check_for_new_or_removed_vars",
        "check_for_new_or_removed_params",
        "check_for_new_objective",
        "update_constraints",
        "update_vars",
        "update_params",
        "update_named_expressions",
        "update_objective",
    ):
        setattr(opt.update_config, flag, False)
    h: highspy.Highs = opt._solver_model
    _attach_callbacks(h, options)
    t_handover = time.perf_counter() - t1

    t2 = time.perf_counter()
    opt.solve(model)
    t_solve = time.perf_counter() - t2

    t3 = time.perf_counter()
    status, message = _status(h)
    info = h.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    objective = _finite(info.objective_function_value) if has_solution else None
    bound = _finite(info.mip_dual_bound)
    if status is Status.OPTIMAL and bound is None:
        bound = objective  # an LP-free instance: HiGHS proves optimality without a tree
    gap = None
    if objective is not None and bound is not None:
        gap = abs(objective - bound) / max(abs(objective), 1e-10) if objective != bound else 0.0
    values = None
    if has_solution and status in (Status.OPTIMAL, Status.FEASIBLE):
        col = np.asarray(h.getSolution().col_value)
        vmap = opt._pyomo_var_to_solver_var_map

        def read(var: pyo.Var) -> np.ndarray:
            idx = np.fromiter((vmap.get(id(v), -1) for v in var.values()), int, len(var))
            out = np.zeros(len(idx))
            out[idx >= 0] = col[idx[idx >= 0]]
            return out

        values = {name: read(getattr(model, name)) for name in ("u", "a", "w", "z", "x")}
    t_load = time.perf_counter() - t3
    timings = Timings(
        build_s=t_build,
        handover_s=t_handover,
        solve_s=t_solve,
        load_s=t_load,
        total_s=time.perf_counter() - t_start,
    )
    return solution_from_values(
        instance,
        ix,
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
        },
    )


def _attach_callbacks(h: highspy.Highs, options: SolveOptions) -> None:
    if options.on_progress is None and options.should_stop is None:
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
