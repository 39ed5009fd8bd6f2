"""Stops leave nothing behind (csu_opt.stops): Ctrl-C and SIGTERM end every command the same
way, every worker and child process with it, and leave no half-written folder.

The command-line tests run real ``csu-opt`` processes, each in its own process group, and
send the signal once the process shows progress (a line, a file, or CPU time spent), never
after a fixed sleep. "Nothing left" means no live process in that group: the command, its
workers, concurrent searches and multiprocessing's resource tracker.
"""

from __future__ import annotations

import json
import logging
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from csu_opt import stops
from csu_opt.analysis.runner import ProgressLine, run_solve
from csu_opt.instance.generate import generate_to_folder
from csu_opt.instance.load import load_instance
from csu_opt.solver.options import Progress, SolveOptions
from csu_opt.solver.solve import solve
from csu_opt.stops import Interrupted
from factories.processes import Command, cpu_seconds, group_alive, stderr_lines, wait_until

ROOT = Path(__file__).resolve().parents[2]
ENGLAND = ROOT / "instances" / "england-2014.yaml"

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")


@pytest.fixture(scope="module")
def long_instance(tmp_path_factory) -> Path:
    # 60 providers x 211 CCGs: HiGHS needs far more than a minute to prove optimality
    return generate_to_folder(tmp_path_factory.mktemp("gen"), 60, 211, seed=3)


@pytest.fixture(scope="module")
def sweep_instance(tmp_path_factory) -> Path:
    # 30 x 211: minutes to prove (benchmarks/README.md), so every case stops at its limit
    return generate_to_folder(tmp_path_factory.mktemp("gen30"), 30, 211, seed=0)


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def command():
    started: list[Command] = []

    def start(*args: object, **kw: object) -> Command:
        c = Command(*args, **kw)  # type: ignore[arg-type]
        started.append(c)
        return c

    yield start
    for c in started:  # a failed test leaves nothing running either
        c.kill()


def _rows(db: Path) -> dict[str, str]:
    if not db.exists():
        return {}
    with sqlite3.connect(db) as conn:
        try:
            rows = conn.execute("SELECT case_key, status, finished_at FROM cases").fetchall()
        except sqlite3.OperationalError:  # the table is not there yet
            return {}
    return {k: f"{s}@{t}" for k, s, t in rows}


# --------------------------------------------------------------------------- the mechanism


def test_a_signal_outside_a_solve_raises_at_once():
    with stops.handling():
        t0 = time.monotonic()
        with pytest.raises(Interrupted) as caught:
            signal.raise_signal(signal.SIGTERM)
            time.sleep(5)
        assert time.monotonic() - t0 < 1
    assert caught.value.signum == signal.SIGTERM and caught.value.exit_code == 143
    assert stops.requested() is None  # leaving the handling forgets the stop


@pytest.fixture
def sigint_not_ignored():
    """Ctrl-C's default action, as in a foreground shell, even where the tests run with SIGINT
    ignored (a background job: ``handling`` then rightly leaves SIGINT ignored)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_a_signal_inside_a_solve_is_raised_when_the_solve_ends(sigint_not_ignored):
    seen = []
    told = stops.deferred(on_stop=lambda: seen.append("told"))
    with stops.handling(), pytest.raises(Interrupted) as caught, told:
        signal.raise_signal(signal.SIGINT)
        wait_until(lambda: seen, 5, "the handler telling the solver")  # it ran at once
        seen.append(stops.requested())
        signal.raise_signal(signal.SIGTERM)  # a second signal changes nothing
        seen.append(stops.requested())
    assert seen == ["told", signal.SIGINT, signal.SIGINT]
    assert caught.value.exit_code == 130


def test_a_stop_interrupts_highs_and_leaves_no_folder(tmp_path, long_instance):
    """The signal arrives inside a HiGHS callback: HiGHS stops at its next call, no
    exception is raised inside HiGHS, and the result folder is never written."""
    inst = load_instance(long_instance)
    sent: list[float] = []

    def on_progress(p: Progress) -> None:
        if not sent and p.incumbent is not None:
            sent.append(time.monotonic())
            signal.raise_signal(signal.SIGTERM)

    # without the root reduction, the first report comes from HiGHS's own callback
    options = SolveOptions(on_progress=on_progress, backend="matrix", root_reduction=False)
    with pytest.raises(Interrupted) as caught:
        run_solve(inst, tmp_path / "run", options, explain=False)
    assert sent and time.monotonic() - sent[0] < 5
    assert caught.value.signum == signal.SIGTERM
    assert list(tmp_path.iterdir()) == []


def test_end_processes_kills_what_does_not_stop(tmp_path):
    import multiprocessing as mp

    ready = tmp_path / "ignoring"
    script = (
        "import signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"open({str(ready)!r}, 'w').close()\n"
        "time.sleep(60)\n"
    )
    proc = mp.get_context("spawn").Process(target=exec, args=(script,))
    proc.start()
    wait_until(ready.exists, 30, "the child ignoring SIGTERM")
    t0 = time.monotonic()
    stops.end_processes([proc], wait_s=0.0, kill_after_s=0.5)
    assert proc.exitcode == -signal.SIGKILL
    assert time.monotonic() - t0 < 3


# --------------------------------------------------------------------------- solve


def test_an_interrupted_pyomo_solve_logs_no_appsi_warning(caplog):
    """appsi warned "Received unhandled status=kInterrupt" whenever HiGHS stopped at an
    interrupt: a stop, or the end of the main search's share before a polish."""
    with caplog.at_level(logging.WARNING):
        sol = solve(load_instance(ENGLAND), SolveOptions(backend="pyomo", should_stop=lambda: True))
    assert sol.message.startswith("stopped at an interrupt")
    assert [r.getMessage() for r in caplog.records if "unhandled" in r.getMessage()] == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_during_solve_leaves_no_folder(tmp_path, long_instance, command, sig):
    out = tmp_path / "run"
    run = command("solve", long_instance, "--out", out)
    # HiGHS is running once the progress line reports (after 2 s)
    run.wait_for(lambda: "  solving " in run.err, 90, "a progress line")
    assert list(tmp_path.glob(".run.partial-*/highs.log"))
    assert run.stop(sig) == 128 + sig
    assert f"stopped: interrupted by {signal.Signals(sig).name}" in run.err
    assert "no result folder was written" in run.err
    assert "Traceback" not in run.err
    assert list(tmp_path.iterdir()) == []  # neither the folder nor a partial one
    assert run.left_after(3) == []


def test_a_stop_keeps_the_instances_solved_before_it(tmp_path, long_instance, command):
    out = tmp_path / "runs"
    run = command("solve", ROOT / "instances" / "demo.yaml", long_instance, "--out", out)
    run.wait_for(lambda: "solving gen-" in run.out and "  solving " in run.err, 90, "the 2nd")
    assert run.stop(signal.SIGTERM) == 143
    said = " ".join(run.err.split())
    assert (
        f"no result folder was written for the instance being solved; kept: {out / 'demo'}" in said
    )
    assert sorted(p.name for p in out.iterdir()) == ["demo"]
    assert (out / "demo" / "summary.json").exists()


def test_interrupting_a_pyomo_solve_prints_no_pyomo_warning(tmp_path, command):
    """appsi logged "Received unhandled status=kInterrupt from solver HiGHS" first."""
    run = command("solve", ENGLAND, "--backend", "pyomo", "--out", tmp_path / "run")
    run.wait_for(lambda: "  solving " in run.err, 90, "a progress line")
    assert run.stop(signal.SIGINT) == 130
    assert "stopped: interrupted by SIGINT" in run.err
    assert "unhandled" not in run.out + run.err and "WARNING" not in run.out + run.err
    assert list(tmp_path.iterdir()) == []


def test_sigterm_during_concurrent_solve_stops_every_search(tmp_path, long_instance, command):
    run = command("solve", long_instance, "--out", tmp_path / "run", "--concurrent", "2")

    def searching() -> bool:  # each search has written its HiGHS log's header
        logs = list(tmp_path.glob(".run.partial-*/highs.log.search*"))
        return len(logs) == 2 and all(p.stat().st_size > 0 for p in logs)

    run.wait_for(searching, 90, "the concurrent searches starting")
    searches = [p for p in group_alive(run.pgid) if p != run.pgid]
    assert len(searches) >= 2  # two searches (and the resource tracker)
    assert run.stop(signal.SIGTERM) == 143
    assert "no result folder was written" in run.err and "Traceback" not in run.err
    assert list(tmp_path.iterdir()) == []
    assert run.left_after(3) == []  # the parent ended every search before it exited


@pytest.fixture(scope="module")
def england_run(tmp_path_factory) -> Path:
    """An england-2014 run within 2% of the optimum, for the what-ifs that start from one."""
    folder = tmp_path_factory.mktemp("england") / "run"
    result = run_solve(
        load_instance(ENGLAND), folder, SolveOptions(time_limit=60, mip_gap=0.02), explain=False
    )
    assert result.solution.status.has_solution
    return folder


def test_sigterm_during_a_solve_held_to_an_incumbent(tmp_path, command, england_run):
    """``solve --incumbent`` (the disruption what-if) stops as a plain solve does."""
    out = tmp_path / "moved"
    run = command("solve", ENGLAND, "--incumbent", england_run, "--max-moves", "5", "--out", out)
    run.wait_for(lambda: "  solving " in run.err, 90, "a progress line")
    assert run.stop(signal.SIGTERM) == 143
    assert "no result folder was written" in run.err and "Traceback" not in run.err
    assert not out.exists() and not list(tmp_path.glob(".moved*"))
    assert run.left_after(3) == []


# --------------------------------------------------------------------------- what-ifs


WHATIFS = [
    pytest.param(("rule-costs", ENGLAND), id="rule-costs"),
    pytest.param(("alternatives", ENGLAND), id="alternatives"),
    pytest.param(("resilience", "RUN"), id="resilience"),
    pytest.param(("tradeoff", ENGLAND, "--incumbent", "RUN"), id="tradeoff"),
]


@pytest.mark.parametrize("args", WHATIFS)
def test_sigterm_stops_a_what_if(tmp_path, command, args, request):
    """Before: the default SIGTERM action killed the command silently (exit -15)."""
    if "RUN" in args:
        run_folder = request.getfixturevalue("england_run")
        args = tuple(run_folder if a == "RUN" else a for a in args)
    out = tmp_path / "out"
    run = command(*args, "--time-limit", "60", "--out", out)
    # the what-ifs print nothing while they solve: past its imports and model build
    # (about 3 s of CPU), the command is solving
    run.wait_for(lambda: cpu_seconds(run.pgid) > 5, 90, "5 s of CPU time")
    assert run.stop(signal.SIGTERM) == 143
    assert "stopped: interrupted by SIGTERM" in run.err and "Traceback" not in run.err
    assert not out.exists()
    assert run.left_after(3) == []


# --------------------------------------------------------------------------- sweeps


def _sweep_args(instance: Path, out: Path) -> tuple[object, ...]:
    return (
        "sweep",
        instance,
        "--scale",
        "demand.volume=1,1.1,1.2",
        "--time-limit",
        "2",
        "--workers",
        "2",
        "--out",
        out,
    )


def _case_folders(out: Path) -> list[str]:
    cases = out / "cases"
    return sorted(p.name for p in cases.iterdir()) if cases.exists() else []


def test_sigterm_during_a_sweep_stops_every_worker_and_the_rerun_completes(
    tmp_path, sweep_instance, command
):
    """Before: the parent ended silently (exit -15) while its worker solved on at 100% CPU
    and wrote case folders that sweep.db never recorded."""
    out = tmp_path / "sw"
    run = command(*_sweep_args(sweep_instance, out))
    run.wait_for(lambda: len(_rows(out / "sweep.db")) >= 1, 120, "a first case recorded")
    run.wait_for(
        lambda: len(list((out / "cases").glob(".*/highs.log"))) >= 1, 60, "the next case solving"
    )
    assert run.stop(signal.SIGTERM) == 143
    said = " ".join(run.err.split())
    assert "stopped: interrupted by SIGTERM" in said
    assert "run the same command again to resume" in said
    assert "Traceback" not in said
    assert run.left_after(4) == []
    # a case has a folder exactly when sweep.db records it; nothing half-written
    first = _rows(out / "sweep.db")
    assert 1 <= len(first) < 3
    assert _case_folders(out) == sorted(first)
    # the rerun solves what is missing, once
    again = command(*_sweep_args(sweep_instance, out))
    assert again.proc.wait(timeout=120) == 0, again.err
    second = _rows(out / "sweep.db")
    assert len(second) == 3
    assert all(second[k] == v for k, v in first.items())  # finished cases were not redone
    assert _case_folders(out) == sorted(second)
    for key, row in second.items():
        summary = json.loads((out / "cases" / key / "summary.json").read_text())
        assert row.startswith(summary["status"] + "@")


def test_workers_stop_when_the_sweep_is_killed(tmp_path, sweep_instance, command):
    """SIGKILL leaves the parent no say: its workers notice it has gone and stop (the next
    run tidies what they leave: test_sweep.py)."""
    out = tmp_path / "sw"
    run = command(*_sweep_args(sweep_instance, out))
    run.wait_for(lambda: list((out / "cases").glob(".*/highs.log")), 120, "a case solving")
    assert run.stop(signal.SIGKILL) == -signal.SIGKILL
    assert run.left_after(stops.CHILD_GRACE_S + 3) == []
    visible = [p for p in _case_folders(out) if not p.startswith(".")]
    assert visible == sorted(_rows(out / "sweep.db"))


# --------------------------------------------------------------------------- progress line


def test_progress_line_reports_incumbent_bound_and_gap(capfd):
    line = ProgressLine(delay=0.0, every=0.0)
    line(Progress(elapsed_s=3.0, incumbent=1234.5, bound=1200.0, gap=0.028))
    line.close()
    err = capfd.readouterr().err
    assert "incumbent 1,234.50" in err and "bound 1,200.00" in err and "gap 2.8%" in err


def test_progress_line_repeats_the_last_report_while_highs_is_silent(capfd):
    line = ProgressLine(delay=0.0, every=0.2)
    line(Progress(elapsed_s=3.0, incumbent=1234.5, bound=1200.0, gap=0.028, stage="LP relaxation"))
    err = stderr_lines(capfd, 3, 30, "the report and two repeats")
    line.close()
    lines = (err + capfd.readouterr().err).strip().splitlines()
    assert len(lines) >= 3  # the report, then the heartbeat's repeats every 0.2 s
    assert all("incumbent 1,234.50" in x and "(LP relaxation" in x for x in lines)
    assert "no news" not in lines[0]
    assert "no news from HiGHS for" in lines[-1]
    elapsed = [float(x.split()[1].rstrip("s")) for x in lines]
    assert elapsed == sorted(elapsed) and elapsed[-1] > elapsed[0]
