"""One solve from instance to result folder, with nothing half-written on failure.

The folder is assembled under a hidden temporary name beside its destination (HiGHS's log
included) and renamed into place only when every file is written. Ctrl-C or SIGTERM during
the solve interrupts HiGHS cleanly, removes the temporary folder and raises
:class:`~csu_opt.stops.Interrupted` (how: :mod:`csu_opt.stops`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from csu_opt import stops
from csu_opt.files import write_text
from csu_opt.instance.load import Instance
from csu_opt.numbers import money, pct
from csu_opt.results.solution import Solution, write_files
from csu_opt.results.verify import format_report, verify_solution
from csu_opt.solver.solve import solve

if TYPE_CHECKING:
    from csu_opt.analysis.findings import ExtraRule
    from csu_opt.solver.options import Progress, SolveOptions

DEFAULT_RESULTS = Path("results")
#: Seconds a run goes before its progress line appears (short runs stay silent).
PROGRESS_DELAY = 2.0


@dataclass
class RunResult:
    folder: Path
    solution: Solution
    explanation: list[str] | None = None  # the explanation of an infeasible instance


def verify_into(instance: Instance, solution: Solution) -> list[str]:
    """Check a solution independently (csu_opt.results.verify); record ``verified`` in its summary.

    Returns the report's lines when it fails (the caller must say so loudly), else [].
    """

    if not solution.status.has_solution:
        return []
    report = verify_solution(instance, solution)
    solution.extra["verified"] = report.ok
    solution.extra["verification"] = {
        "ok": report.ok,
        "violations": [str(v) for v in report.violations[:50]],
        "tolerances": report.tolerances.describe(),
    }
    return [] if report.ok else format_report(report)


def default_folder(instance: Instance, parent: Path = DEFAULT_RESULTS) -> Path:
    """``results/<name>-<timestamp>/``, with a suffix if that folder exists already."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = parent / f"{instance.name}-{stamp}"
    folder, n = base, 1
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    return folder


@contextlib.contextmanager
def partial_folder(folder: Path) -> Iterator[Path]:
    """Yield a hidden folder beside ``folder`` for its files; it is removed if the block fails.

    The caller moves it into place with :func:`publish` (at once, or later: a sweep's parent
    publishes a worker's case when it records it).
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.parent / f".{folder.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def publish(tmp: Path, folder: Path) -> None:
    """Move the complete folder ``tmp`` to ``folder``, replacing what is there."""
    if folder.exists():
        old = folder.parent / f".{folder.name}.old-{os.getpid()}"
        folder.rename(old)
        tmp.rename(folder)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(folder)


@contextlib.contextmanager
def atomic_folder(folder: Path) -> Iterator[Path]:
    """Yield a hidden temporary folder that replaces ``folder`` only if the block succeeds."""
    with partial_folder(folder) as tmp:
        yield tmp
        publish(tmp, folder)


def run_solve(
    instance: Instance,
    folder: Path,
    options: SolveOptions,
    *,
    after_solve: Callable[[Solution, Path], None] | None = None,
    explain: bool = True,
    solver: Callable[[Instance, SolveOptions], Solution] | None = None,
    rules: Sequence[ExtraRule] = (),
) -> RunResult:
    """Solve ``instance`` into ``folder`` (replaced if it exists), atomically.

    ``after_solve(solution, tmp_folder)`` may add files before the folder is moved into
    place. An infeasible instance is explained (``explanation.txt``, and ``explanation`` in
    summary.json) unless ``explain`` is false. ``solver`` replaces the plain solve (e.g. a
    solve held close to today's arrangement, csu_opt.analysis.disruption); ``rules`` are the
    constraints it adds (e.g. a moves limit), which the explanation then names.
    """

    with stops.handling(), atomic_folder(folder) as tmp:
        solution = (solver or solve)(instance, replace(options, log_file=tmp / "highs.log"))
        explanation = None
        if after_solve is not None:
            after_solve(solution, tmp)
        if solution.status.value == "infeasible" and explain:
            explanation = _explain_into(instance, solution, options, rules, tmp)
        write_files(solution, tmp)
    return RunResult(folder, solution, explanation)


def _explain_into(
    instance: Instance,
    solution: Solution,
    options: SolveOptions,
    rules: Sequence[ExtraRule],
    tmp: Path,
) -> list[str]:
    """Explain an infeasible instance into ``tmp/explanation.txt`` and the solution's summary.

    csu_opt.analysis.explain (its what-ifs build Pyomo models) is imported only here, when a
    solve is infeasible, so a feasible matrix-path run never loads Pyomo (issue 19).
    """
    from csu_opt.analysis.explain import explain, format_explanation  # noqa: PLC0415 (Pyomo)

    e = explain(instance, time_limit=options.time_limit or 60.0, rules=rules)
    explanation = format_explanation(e)
    if e.whatif and e.base_feasible:
        solution.message = (
            f"proven infeasible: {e.whatif} is impossible (without it the instance is feasible)"
        )
    solution.extra["explanation"] = e.as_record()
    write_text(tmp / "explanation.txt", "\n".join(explanation) + "\n")
    return explanation


class ProgressLine:
    """A live status line (elapsed, incumbent, bound, gap, stage) on the terminal.

    Appears once a run has taken ``delay`` seconds; on a terminal it rewrites one line,
    elsewhere (CI logs) it prints a line every ``every`` seconds. HiGHS reports nothing
    while it presolves or solves a large root LP (on 500 x 7,000 for many minutes), so a
    heartbeat thread repeats the last report with the time running on and how long ago
    that report came, and a long run never looks hung; before any report it says the run
    is working. ``label`` names the run (``solving``, ``explain``, ``rule-costs``); a
    command that runs many solves (``several``) marks the numbers as its current solve's.
    """

    def __init__(
        self,
        delay: float = 2.0,
        every: float = 10.0,
        label: str = "solving",
        several: bool = False,
    ):
        self.delay = delay
        self.every = every
        self.label = label
        self.several = several
        self.start = time.monotonic()
        self.last = 0.0
        self.shown = False
        # appsi redirects fds 1 and 2 while HiGHS runs; write to a copy of the real stderr
        self.out: Any = os.fdopen(os.dup(2), "w", buffering=1, encoding="utf-8")
        self.tty = self.out.isatty()
        self.latest: Progress | None = None
        self.latest_at = 0.0
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        if every > 0:  # every = 0: a line per report, no heartbeat
            threading.Thread(target=self._heartbeat, name="progress", daemon=True).start()

    def __call__(self, p: Progress) -> None:
        with self.lock:
            self.latest, self.latest_at = p, time.monotonic()
            self._show(p, silent_s=0.0)

    def _heartbeat(self) -> None:
        period = min(1.0, self.every / 2) if self.tty else self.every / 2
        wait = self.delay if self.delay > 0 else period
        while not self.stopped.wait(wait):
            wait = period
            with self.lock:
                if self.stopped.is_set():
                    break
                silent = time.monotonic() - (self.latest_at if self.latest else self.start)
                self._show(self.latest, silent_s=silent)

    def _show(self, p: Progress | None, silent_s: float) -> None:
        now = time.monotonic()
        if now - self.start < self.delay or now - self.last < (0.5 if self.tty else self.every):
            return
        self.last = now
        head = f"  {self.label} {now - self.start:6.1f}s"
        if p is None:
            text = f"{head}  (working; no solver report yet)"
        else:
            inc = money(p.incumbent) if p.incumbent is not None else "none yet"
            quiet = f"; no news from HiGHS for {silent_s:.0f}s" if silent_s >= self.every else ""
            text = (
                f"{head}  {'current solve: ' if self.several else ''}incumbent {inc}  "
                f"bound {money(p.bound)}  gap {pct(p.gap)}  ({p.stage}{quiet})"
            )
        if self.tty:
            self.out.write("\r" + text.ljust(100)[:140])
        else:
            self.out.write(text + "\n")
        self.out.flush()
        self.shown = True

    def close(self) -> None:
        self.stopped.set()
        with self.lock:
            if self.shown and self.tty:
                self.out.write("\r" + " " * 140 + "\r")
            self.out.flush()
            self.out.close()


@contextlib.contextmanager
def progress_line(label: str, quiet: bool = False, several: bool = True) -> Iterator[Any]:
    """A :class:`ProgressLine` for the block (None when ``quiet``), closed on the way out.

    For commands that run many solves (``explain``, the what-ifs): pass it as
    ``SolveOptions.callbacks.on_progress``; with no solver reports it still shows the time running.
    """
    line = None if quiet else ProgressLine(PROGRESS_DELAY, label=label, several=several)
    try:
        yield line
    finally:
        if line is not None:
            line.close()
