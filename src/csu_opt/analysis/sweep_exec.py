"""Running sweep cases: worker processes on this machine, or a Dask distributed cluster.

Each worker keeps the last model it built (:class:`~csu_opt.solver.solve.ModelSession`); a case
that differs from it only in the lead band or a demand scale is a parameter change and a
warm-started re-solve, not a rebuild.

The parent process alone writes ``sweep.db`` and ``cases/``: a worker writes a case into a
hidden folder and the parent moves it to ``cases/<key>/`` as it records the case's row, so
a case has a folder exactly when sweep.db records it finished. Stopped by Ctrl-C or
SIGTERM, the parent stops every worker (:mod:`csu_opt.stops`) and removes what they left
half-done; workers also stop when the parent dies. A new run first removes whatever a
killed run left (hidden folders, folders no row records) and then solves what is missing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import multiprocessing
import os
import shutil
import socket
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csu_opt import stops
from csu_opt.analysis.runner import partial_folder, publish, verify_into
from csu_opt.analysis.sweep import Axis, Case, SweepStore, case_proven, split_persistable
from csu_opt.errors import InstanceError, Problem
from csu_opt.instance.load import Instance, load_instance
from csu_opt.results.solution import Solution, write_files
from csu_opt.solver.options import SolveOptions
from csu_opt.solver.solve import ModelSession
from csu_opt.solver.solve import solve as cold_solve


@dataclass(frozen=True)
class CaseTask:
    """Everything a worker needs to solve one case (picklable, paths absolute)."""

    instance: str
    base_overrides: tuple[str, ...]
    case_key: str
    overrides: tuple[str, ...]
    folder: str
    time_limit: float | None = None
    mip_gap: float = 1e-4
    threads: int = 1
    seed: int = 0
    persist: bool = True
    polish: float = 0.0


# one kept model per worker process: (instance, base overrides, structural overrides)
_SESSION: dict[tuple[Any, ...], tuple[Instance, ModelSession]] = {}
_BASE: dict[tuple[Any, ...], Instance] = {}


def _base(task: CaseTask) -> Instance:
    key = (task.instance, task.base_overrides)
    if key not in _BASE:
        _BASE.clear()
        _BASE[key] = load_instance(task.instance, task.base_overrides)
    return _BASE[key]


def _solve_case(task: CaseTask, options: SolveOptions) -> tuple[Solution, Instance]:
    base = _base(task)
    if not task.persist:
        inst = base.with_changes(task.overrides)
        return cold_solve(inst, options), inst
    structural, params = split_persistable(task.overrides)
    skey = (task.instance, task.base_overrides, tuple(sorted(structural)))
    if skey not in _SESSION:
        _SESSION.clear()
        inst = base.with_changes(structural) if structural else base
        _SESSION[skey] = (inst, ModelSession(inst, options, mutable=True))
    inst, session = _SESSION[skey]
    settings = dataclasses.replace(
        inst.settings,
        lead_min=params.get("min", inst.settings.lead_min),
        lead_max=params.get("max", inst.settings.lead_max),
    )
    session.set_parameters(settings.lead_min, settings.lead_max, params.get("demand_scale", 1.0))
    scale = float(params.get("demand_scale", 1.0))
    demand = inst.demand
    if scale != 1.0:
        demand = demand.assign(volume=demand["volume"] * scale)
    case_inst = dataclasses.replace(
        inst, settings=settings, demand=demand, overrides=(*base.overrides, *task.overrides)
    )
    return session.solve(case_inst, options), case_inst


def run_case(task: CaseTask) -> dict[str, Any]:
    """Solve one case and return its database row; never raises, unless stopped.

    The case's files go to a hidden folder beside ``cases/<key>/``, named in the row's
    ``partial``: the parent moves it into place when it records the row.
    """
    row: dict[str, Any] = {
        "case_key": task.case_key,
        "overrides": json.dumps(list(task.overrides)),
        "worker": f"{socket.gethostname()}:{os.getpid()}",
    }
    try:
        folder = Path(task.folder) / "cases" / task.case_key
        with partial_folder(folder) as tmp:
            options = SolveOptions(
                time_limit=task.time_limit,
                mip_gap=task.mip_gap,
                threads=task.threads,
                seed=task.seed,
                polish=task.polish,
                log_file=tmp / "highs.log",
            )
            sol, case_inst = _solve_case(task, options)
            failures = verify_into(case_inst, sol)
            write_files(sol, tmp)
        row.update(solution_row(sol), partial=str(tmp))
        if failures:
            row["error"] = "failed verification: " + "; ".join(failures[:5])
    except Exception as exc:  # a failed case is recorded, and retried by the next run
        row.update(status="error", error=f"{type(exc).__name__}: {exc}")
    row["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return row


def _run_in_worker(task: CaseTask) -> dict[str, Any]:
    """:func:`run_case` in a local worker process (set up by :func:`csu_opt.stops.supervise`):
    a stop ends the worker once the case's hidden folder is removed."""
    with stops.working():
        return run_case(task)


def solution_row(sol: Solution) -> dict[str, Any]:
    summary = sol.summary()
    counts = summary["counts"]
    row: dict[str, Any] = {
        "status": sol.status.value,
        "objective": sol.objective,
        "best_bound": sol.best_bound,
        "mip_gap": sol.mip_gap,
        "leads": json.dumps(sol.leads),
        "n_leads": counts["leads"],
        "n_subcontractors": counts["subcontractors"],
        "n_exits": counts["exits"],
        "roles": json.dumps(dict(zip(sol.roles["provider"], sol.roles["role"], strict=True))),
        "warm_start": int(bool(sol.solver.get("warm_start"))),
        "verified": None if "verified" not in sol.extra else int(bool(sol.extra["verified"])),
    }
    if sol.cost_breakdown is not None:
        row.update(dataclasses.asdict(sol.cost_breakdown))
    row.update({k: v for k, v in dataclasses.asdict(sol.timings).items() if k != "load_s"})
    return row


# --------------------------------------------------------------------------- the parent


def validate_cases(instance: Path, base_overrides: tuple[str, ...], cases: list[Case]) -> Instance:
    """Every case validated before any is solved; all problems of all cases reported."""
    base = load_instance(instance, base_overrides)
    problems: list[Problem] = []
    for case in cases:
        try:
            base.with_changes(case.overrides)
        except InstanceError as exc:
            label = ", ".join(case.overrides) or "base case"
            problems.extend(
                dataclasses.replace(p, message=f"{p.message} (sweep case {label})")
                for p in exc.problems
            )
    if problems:
        raise InstanceError(problems)
    return base


class Executor:
    """Runs case tasks on local worker processes or on a Dask cluster."""

    def __init__(self, workers: int = 2, client: Any = None):
        self.client = client
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None
        self.remote: list[Any] = []  # the Dask futures of the current map

    def map(self, tasks: list[CaseTask]) -> Iterable[dict[str, Any]]:
        """Rows in completion order."""
        if self.client is not None:
            from dask.distributed import as_completed as dask_completed

            self.remote = self.client.map(run_case, tasks, pure=False)
            for fut in dask_completed(self.remote):
                yield fut.result()
            return
        if not tasks:
            return
        if self.pool is None:  # started on first use: a resumed, finished sweep starts none
            self.pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=stops.supervise,
                initargs=(os.getpid(),),
            )
        pending: list[Future[dict[str, Any]]] = [self.pool.submit(_run_in_worker, t) for t in tasks]
        for fut in as_completed(pending):
            yield fut.result()

    def close(self, cancel: bool = False) -> None:
        """Wait for the workers to finish; with ``cancel``, stop them now (csu_opt.stops):
        SIGTERM, which ends each one's solve and removes its half-written case, then
        SIGKILL for any still running a few seconds later. Cases already running on a Dask
        cluster finish there, but their folders stay hidden and unrecorded."""
        if self.client is not None and cancel and self.remote:
            self.client.cancel(self.remote)
        if self.pool is None:
            return
        if cancel:
            # the standard library has no public handle on a pool's processes before
            # Python 3.14 (ProcessPoolExecutor.terminate_workers)
            processes = getattr(self.pool, "_processes", None) or {}
            stops.end_processes(list(processes.values()))
        self.pool.shutdown(wait=True, cancel_futures=cancel)


@dataclass
class SweepRun:
    """The parent's side of a sweep: the store, the executor, the common solve options."""

    instance: Path
    base_overrides: tuple[str, ...]
    folder: Path
    executor: Executor
    time_limit: float | None = None
    mip_gap: float = 1e-4
    threads: int = 1
    persist: bool = True
    polish: float = 0.0
    on_row: Callable[[dict[str, Any]], None] | None = None

    def __post_init__(self) -> None:
        self.store = SweepStore(self.folder)
        self.tidy()

    @property
    def cases_folder(self) -> Path:
        return self.folder / "cases"

    def remove_partial(self) -> None:
        """Remove the hidden folders in ``cases/``: cases half-written, or written but not
        recorded (never results)."""
        if self.cases_folder.is_dir():
            for path in self.cases_folder.iterdir():
                if path.name.startswith(".") and path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)

    def tidy(self) -> None:
        """Make ``cases/`` and sweep.db agree after a run that was killed: hidden folders
        and folders that no finished row records are removed, and a finished row whose
        folder is missing is forgotten (the case is solved again)."""
        self.remove_partial()
        finished = self.store.finished()
        folders = set()
        if self.cases_folder.is_dir():
            for path in self.cases_folder.iterdir():
                if path.name in finished:
                    folders.add(path.name)
                elif path.is_dir() and not path.name.startswith("."):
                    shutil.rmtree(path, ignore_errors=True)
        self.store.forget(sorted(finished - folders))

    def run(self, cases: list[Case]) -> dict[str, int]:
        """Solve the cases not finished yet; returns counts (total, skipped, done, failed)."""
        finished = self.store.finished()
        todo = [c for c in cases if c.key not in finished]
        # cases sharing a structure run back to back, so workers re-solve instead of rebuild
        todo.sort(key=lambda c: (split_persistable(c.overrides)[0], c.overrides))
        tasks = [self._task(c) for c in todo]
        params = {c.key: c.values for c in todo}
        counts = {"total": len(cases), "skipped": len(cases) - len(todo), "done": 0, "failed": 0}
        for row in self.executor.map(tasks):
            row["params"] = json.dumps(params[row["case_key"]], default=str)
            partial = row.pop("partial", None)
            with stops.deferred():  # the folder and its row, or neither
                if partial is not None:
                    publish(Path(partial), self.cases_folder / row["case_key"])
                self.store.record(row)
            counts["failed" if row["status"] == "error" else "done"] += 1
            if self.on_row is not None:
                self.on_row(row)
        return counts

    def _task(self, case: Case) -> CaseTask:
        return CaseTask(
            instance=str(Path(self.instance).resolve()),
            base_overrides=self.base_overrides,
            case_key=case.key,
            overrides=case.overrides,
            folder=str(self.folder.resolve()),
            time_limit=self.time_limit,
            mip_gap=self.mip_gap,
            threads=self.threads,
            persist=self.persist,
            polish=self.polish,
        )

    def proven_of(self, keys: list[str]) -> dict[str, bool]:
        """Whether each finished case is proven (optimal within the gap, or infeasible)."""
        df = self.store.frame(keys)
        return {
            str(r["case_key"]): case_proven(
                r["status"], r["objective"], r["best_bound"], r["mip_gap"]
            )
            for _, r in df.iterrows()
        }

    def leads_of(self, keys: list[str]) -> dict[str, tuple[str, ...] | None]:
        """The lead set of each finished case (None where no solution was found)."""
        df = self.store.frame(keys)
        out: dict[str, tuple[str, ...] | None] = {}
        for key, status, leads in zip(df["case_key"], df["status"], df["leads"], strict=True):
            has = status in ("optimal", "feasible") and leads
            out[key] = tuple(sorted(json.loads(leads))) if has else None
        return out


@dataclass(frozen=True)
class TippingPoint:
    """The lead set changes between ``below`` and ``above``; ``proven`` when both cases
    are (a case stopped at a limit may have another optimal lead set)."""

    below: float
    above: float
    leads_below: tuple[str, ...] | None
    leads_above: tuple[str, ...] | None
    proven: bool = True


def find_thresholds(
    run: SweepRun,
    key: str,
    lo: float,
    hi: float,
    *,
    scale: bool = False,
    points: int = 5,
    tol: float | None = None,
    integer: bool = False,
) -> tuple[list[TippingPoint], list[tuple[float, tuple[str, ...] | None]]]:
    """Values of ``key`` in [lo, hi] at which the set of lead providers changes.

    Starts from ``points`` evenly spaced values, then bisects every interval whose ends have
    different lead sets until it is narrower than ``tol`` (default (hi - lo) / 1000; 1 for
    integer keys). Each round's cases run in parallel and are stored like any sweep case.
    """

    tol = tol if tol is not None else (1.0 if integer else (hi - lo) / 1000)
    axis = Axis(key, (), scale)

    def value(v: float) -> float | int:
        return round(v) if integer else round(v, 12)

    def case(v: float | int) -> Case:
        return Case.make({key: v}, (axis.override(v),))

    grid = sorted({value(lo + i * (hi - lo) / (points - 1)) for i in range(points)})
    seen: dict[float | int, tuple[str, ...] | None] = {}
    proven: dict[float | int, bool] = {}

    def evaluate(values: list[float | int]) -> None:
        cases = [case(v) for v in values if v not in seen]
        if cases:
            run.run(cases)
            keys = [c.key for c in cases]
            leads, sure = run.leads_of(keys), run.proven_of(keys)
            for c in cases:
                seen[c.values[key]] = leads.get(c.key)
                proven[c.values[key]] = sure.get(c.key, False)

    evaluate(grid)
    while True:
        xs = sorted(seen)
        mids = []
        for a, b in itertools.pairwise(xs):
            if seen[a] != seen[b] and (b - a) > tol:
                mid = value((a + b) / 2)
                if mid not in (a, b):
                    mids.append(mid)
        if not mids:
            break
        evaluate(mids)
    xs = sorted(seen)
    tips = [
        TippingPoint(a, b, seen[a], seen[b], proven[a] and proven[b])
        for a, b in itertools.pairwise(xs)
        if seen[a] != seen[b]
    ]
    return tips, [(x, seen[x]) for x in xs]
