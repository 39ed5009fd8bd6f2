"""Concurrent search: several HiGHS searches race on one model, one per core (issue 7).

HiGHS 1.15 explores a MIP's tree on one thread (``threads=2`` gave the same nodes in the
same time on gen 30x211), and its time to a proof swings with *when* it finds a near-optimal
incumbent: on generated 30 x 211 instances one search took 68-141 s where the same model
with another seed and more heuristic effort took 15-31 s, and the other way round on a
third (benchmarks/README.md). So ``SolveOptions.concurrent = N`` starts N searches of the
same model in N processes, each with its own random seed and heuristic effort:

- search 0 is exactly the sequential solve (the options' seed and HiGHS options);
- search k >= 1 uses seed + k and ``mip_heuristic_effort`` from :data:`EFFORTS` (unless the
  caller set one).

Every search publishes its incumbent objective and dual bound in shared memory each time
HiGHS calls back; all stop once the best incumbent of any is within the gap of the best
bound of any. Both are valid for the one model (every bound of every search is a lower
bound on its optimum), so the proof is as sound as one search's. The answer is the best
incumbent found and the best bound. Which search finds which of several networks within
the gap depends on timing, so unlike ``concurrent = 1`` two runs may return different
(equally good within the gap) networks.

Searches run in spawned processes (HiGHS's scheduler is global to a process); they ignore
Ctrl-C (the parent stops them through the shared flag, or ends them on a stop request) and
stop by themselves when the parent dies (:mod:`csu_opt.stops`). The model goes to them as
arrays (:class:`~csu_opt.model.matrix.MatrixModel`), with the root reduction's fixings and the
starting solution; results come back as plain data. Each search writes its own HiGHS log,
which the parent appends to ``highs.log``.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, cast

import numpy as np

from csu_opt import stops
from csu_opt.model.blocks import MatrixModel
from csu_opt.results.solution import Status
from csu_opt.solver.highs import (
    Highs,
    RunEnd,
    finite_or_none,
    log_to,
    pass_to_highs,
    quiet_highs,
    read_end,
    set_options,
    set_time_limit,
    within_gap,
)
from csu_opt.solver.reduce import CombinedBound
from csu_opt.solver.tolerances import HIGHS_INFINITE

#: Heuristic effort of search k >= 1 (HiGHS's default, search 0's, is 0.05). Measured on
#: generated 30 x 211 (benchmarks/README.md): 0.3 and 0.6 each won on some seeds.
EFFORTS = (0.3, 0.6, 0.15, 0.45, 0.8)
#: After the stop flag, a search gets this long to return before it is terminated (HiGHS
#: checks its callbacks between nodes and LP iterations; presolve may not call back).
GRACE_S = 30.0
#: How often the parent reports progress and checks for a stop request.
POLL_S = 0.25


@dataclass(frozen=True)
class SearchConfig:
    """What one search needs besides the model (plain data, picklable)."""

    index: int
    seed: int
    highs_options: dict[str, Any]
    time_limit: float | None
    mip_gap: float
    fix_zero: np.ndarray  # layout columns fixed to 0 (root reduction)
    fix_one: np.ndarray  # layout columns fixed to 1
    start: np.ndarray | None  # a feasible point, layout order
    bounds: CombinedBound  # the root reduction's bound and the fixings' threshold
    log_file: str


@dataclass
class SearchResult:
    """One search's end, as plain data (HiGHS's column order for ``col``)."""

    index: int
    model_status: str
    infeasible: bool
    interrupted: bool
    objective: float | None
    bound: float | None
    col: np.ndarray | None
    nodes: int
    run_s: float
    options: dict[str, Any]
    error: str | None = None

    def as_record(self) -> dict[str, Any]:
        return {
            "search": self.index,
            "status": self.model_status,
            "objective": self.objective,
            "bound": self.bound,
            "nodes": self.nodes,
            "run_s": round(self.run_s, 3),
            "options": self.options,
            **({"error": self.error} if self.error else {}),
        }


@dataclass
class RaceResult:
    """The race's answer: best incumbent, best bound, and each search's end."""

    status: Status
    message: str
    objective: float | None
    bound: float | None
    col: np.ndarray | None  # the best incumbent, HiGHS's column order
    searches: list[SearchResult] = field(default_factory=list)
    winner: int | None = None

    def as_record(self) -> dict[str, Any]:
        return {
            "searches": len(self.searches),
            "winner": self.winner,
            "per_search": [s.as_record() for s in self.searches],
        }


def search_configs(
    n: int,
    *,
    seed: int,
    highs_options: dict[str, Any],
    log_file: str,
    **common: Any,
) -> list[SearchConfig]:
    """The N searches: 0 as the sequential solve, k >= 1 with seed + k and more heuristics;
    search k logs to ``<log_file>.search<k>``."""
    configs = []
    for k in range(n):
        opts = dict(highs_options)
        opts["random_seed"] = seed + k
        opts["threads"] = 1
        if k >= 1 and "mip_heuristic_effort" not in highs_options:
            opts["mip_heuristic_effort"] = EFFORTS[(k - 1) % len(EFFORTS)]
        configs.append(
            SearchConfig(
                index=k,
                seed=seed + k,
                highs_options=opts,
                log_file=f"{log_file}.search{k}",
                **common,
            )
        )
    return configs


# --------------------------------------------------------------------------- one search


def _search(mm: MatrixModel, cfg: SearchConfig, shared: Any, conn: Connection, parent: int) -> None:
    """Run one search in a child process of ``parent``; send its :class:`SearchResult`
    through ``conn``."""
    stops.supervise(parent)  # Ctrl-C is the parent's; SIGTERM or its death end the search
    t0 = time.perf_counter()
    with stops.working():
        try:
            result = _run_search(mm, cfg, shared, parent)
        except Exception as exc:  # reported to the parent, which decides
            result = SearchResult(
                cfg.index, "error", False, False, None, None, None, 0, 0.0, cfg.highs_options
            )
            result.error = f"{type(exc).__name__}: {exc}"
    result.run_s = time.perf_counter() - t0
    conn.send(result)
    conn.close()


def _search_highs(mm: MatrixModel, cfg: SearchConfig) -> Highs:
    """A HiGHS holding ``mm`` with the search's fixings, options, log and start."""
    h = quiet_highs()
    pass_to_highs(h, mm)
    hc = mm.highs_col
    if len(cfg.fix_zero):
        cols = hc[cfg.fix_zero].astype(np.int32)
        h.changeColsBounds(len(cols), cols, mm.col_lower[cfg.fix_zero], np.zeros(len(cols)))
    if len(cfg.fix_one):
        cols = hc[cfg.fix_one].astype(np.int32)
        h.changeColsBounds(len(cols), cols, np.ones(len(cols)), mm.col_upper[cfg.fix_one])
    log_to(h, cfg.log_file, console=False)
    set_time_limit(h, cfg.time_limit)
    h.setOptionValue("mip_rel_gap", float(cfg.mip_gap))
    set_options(h, cfg.highs_options)
    if cfg.start is not None:  # after the bound changes, which clear a set solution
        h.setSolution(mm.n_cols, hc.astype(np.int32), cfg.start.astype(float))
    return h


def _whole_bound(end: RunEnd, cfg: SearchConfig) -> float | None:
    """A search's bound on the whole model's terms (None: none, or a solver fault)."""
    bound = end.bound
    if end.optimal and bound is None:
        bound = end.objective
    if end.fault or bound is None:  # as the sequential solve does: no bound from a fault
        return None
    return cfg.bounds.whole(bound)


def _run_search(mm: MatrixModel, cfg: SearchConfig, shared: Any, parent: int) -> SearchResult:
    h = _search_highs(mm, cfg)

    def stop_now() -> bool:
        return bool(shared.stop.value) or stops.requested() is not None or os.getppid() != parent

    def on_mip(event: Any) -> None:
        out = event.data_out
        with shared.lock:
            if out.mip_primal_bound < shared.ub.value:
                shared.ub.value = float(out.mip_primal_bound)
            dual = finite_or_none(out.mip_dual_bound)
            if dual is not None:
                shared.lb.value = max(shared.lb.value, cfg.bounds.whole(dual))
            ub, lb = shared.ub.value, shared.lb.value
            if within_gap(finite_or_none(ub), lb, cfg.mip_gap):
                shared.stop.value = 1
        if stop_now():
            event.interrupt()

    def on_lp(event: Any) -> None:
        if stop_now():
            event.interrupt()

    h.cbMipInterrupt.subscribe(on_mip)
    h.cbSimplexInterrupt.subscribe(on_lp)
    h.cbIpmInterrupt.subscribe(on_lp)
    with stops.deferred():
        h.run()

    end = read_end(h)  # HiGHS's objective checked against its solution's cost
    return SearchResult(
        index=cfg.index,
        model_status=end.model_status,
        infeasible=end.infeasible,
        interrupted=end.interrupted,
        objective=end.objective,
        bound=_whole_bound(end, cfg),
        col=end.col,
        nodes=end.nodes or 0,
        run_s=0.0,
        options=cfg.highs_options,
    )


# --------------------------------------------------------------------------- the race


@dataclass
class _Shared:
    """The searches' common incumbent value, bound and stop flag (shared memory)."""

    ub: Any
    lb: Any
    stop: Any
    lock: Any


def race(  # noqa: C901 (frozen, issue 17: to be split)
    mm: MatrixModel,
    configs: list[SearchConfig],
    *,
    mip_gap: float,
    on_progress: Callable[[float, float | None, float | None], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> RaceResult:
    """Run the searches of ``configs`` on ``mm`` at once and combine their ends."""
    ctx = mp.get_context("spawn")
    lock = ctx.Lock()
    shared = _Shared(
        ub=ctx.Value("d", float("inf"), lock=False),
        lb=ctx.Value("d", -float("inf"), lock=False),
        stop=ctx.Value("i", 0, lock=False),
        lock=lock,
    )
    if configs and configs[0].bounds.lower_bound is not None:
        shared.lb.value = float(configs[0].bounds.lower_bound)
    t0 = time.perf_counter()
    procs, conns = [], []
    for cfg in configs:
        recv, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_search, args=(mm, cfg, shared, send, os.getpid()), daemon=True)
        proc.start()
        send.close()
        procs.append(proc)
        conns.append(recv)
    results: dict[int, SearchResult] = {}
    stopped_at: float | None = None
    try:
        while len(results) < len(configs) and stops.requested() is None:
            pending = [c for k, c in enumerate(conns) if k not in results]
            for ready in wait(pending, timeout=POLL_S):
                k = conns.index(cast(Connection, ready))
                try:
                    results[k] = cast(SearchResult, conns[k].recv())
                except EOFError:  # the process died without a word
                    procs[k].join(timeout=1.0)
                    results[k] = _lost(configs[k], procs[k].exitcode)
                if results[k].error is None:
                    shared.stop.value = 1  # a proof, a limit or a stop: the others end too
            if should_stop is not None and should_stop():
                shared.stop.value = 1
            if shared.stop.value and stopped_at is None:
                stopped_at = time.perf_counter()
            if stopped_at is not None and time.perf_counter() - stopped_at > GRACE_S:
                for k, proc in enumerate(procs):
                    if k not in results:
                        proc.terminate()
                        results[k] = _lost(configs[k], None, "did not stop; terminated")
            if on_progress is not None:
                ub, lb = shared.ub.value, shared.lb.value
                on_progress(
                    time.perf_counter() - t0,
                    ub if ub < HIGHS_INFINITE else None,
                    lb if lb > -HIGHS_INFINITE else None,
                )
    finally:
        shared.stop.value = 1
        # on a stop request (Ctrl-C, SIGTERM) the searches are ended at once
        stops.end_processes(procs, wait_s=0.0 if stops.requested() else GRACE_S)
    stops.check()
    return _combine([results[k] for k in range(len(configs))], shared, mip_gap, should_stop)


def _lost(cfg: SearchConfig, exitcode: int | None, why: str | None = None) -> SearchResult:
    return SearchResult(
        cfg.index,
        "lost",
        False,
        False,
        None,
        None,
        None,
        0,
        0.0,
        cfg.highs_options,
        error=why or f"the search process ended without a result (exit code {exitcode})",
    )


def _combine(
    searches: list[SearchResult],
    shared: _Shared,
    mip_gap: float,
    should_stop: Callable[[], bool] | None,
) -> RaceResult:
    with_solution = [s for s in searches if s.col is not None and s.objective is not None]
    best = min(with_solution, key=lambda s: s.objective or 0.0) if with_solution else None
    bounds = [s.bound for s in searches if s.bound is not None]
    lb = shared.lb.value if shared.lb.value > -HIGHS_INFINITE else None
    bound = max([*bounds, *([lb] if lb is not None else [])], default=None)
    if all(s.error for s in searches):
        raise RuntimeError(
            "every concurrent search failed: " + "; ".join(str(s.error) for s in searches)
        )
    winner = best.index if best is not None else None
    if any(s.infeasible for s in searches):
        return RaceResult(
            Status.INFEASIBLE,
            "proven infeasible: no network satisfies every rule",
            None,
            None,
            None,
            searches,
            next(s.index for s in searches if s.infeasible),
        )
    if best is None:
        why = "an interrupt" if should_stop is not None and should_stop() else "the time limit"
        return RaceResult(
            Status.NO_SOLUTION,
            f"stopped at {why} before any feasible solution was found",
            None,
            bound,
            None,
            searches,
        )
    objective = float(best.objective)  # type: ignore[arg-type]
    if bound is not None:
        bound = min(bound, objective)
    n = len(searches)
    if within_gap(objective, bound, mip_gap):
        status, message = Status.OPTIMAL, f"proven optimal within the requested gap ({n} searches)"
    elif should_stop is not None and should_stop():
        status, message = Status.FEASIBLE, "stopped at an interrupt with a feasible solution"
    else:
        status, message = Status.FEASIBLE, "stopped at the time limit with a feasible solution"
    return RaceResult(status, message, objective, bound, best.col, searches, winner)


def append_logs(target: Path | None, configs: list[SearchConfig]) -> None:
    """Append each search's HiGHS log to ``target`` (highs.log) and remove it."""
    for cfg in configs:
        path = Path(cfg.log_file)
        if not path.is_file():
            continue
        if target is not None:
            with Path(target).open("a", encoding="utf-8") as fh:
                fh.write(f"\n===== concurrent search {cfg.index} ({cfg.highs_options}) =====\n")
                fh.write(path.read_text(encoding="utf-8", errors="replace"))
        path.unlink(missing_ok=True)
