"""A solve stopped by SIGTERM or Ctrl-C leaves no result folder and no half file."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from csu_opt.generate import generate_to_folder
from csu_opt.runner import ProgressLine
from csu_opt.solve import Progress


@pytest.fixture(scope="module")
def long_instance(tmp_path_factory) -> Path:
    # 60 providers x 211 CCGs: HiGHS needs far more than a minute to prove optimality
    return generate_to_folder(tmp_path_factory.mktemp("gen"), 60, 211, seed=3)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_during_solve_leaves_no_folder(tmp_path, long_instance, sig):
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "csu_opt.cli", "solve", str(long_instance), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # wait until HiGHS is running: its log exists in the hidden partial folder
    deadline = time.time() + 60
    while time.time() < deadline and not list(tmp_path.glob(".run.partial-*/highs.log")):
        time.sleep(0.05)
    assert list(tmp_path.glob(".run.partial-*/highs.log")), "the solve never started"
    time.sleep(1.0)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig
    assert "no result folder was written" in err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # neither the folder nor a partial one


def test_progress_line_reports_incumbent_bound_and_gap(capfd):
    line = ProgressLine(delay=0.0, every=0.0)
    line(Progress(elapsed_s=3.0, incumbent=1234.5, bound=1200.0, gap=0.028))
    line.close()
    err = capfd.readouterr().err
    assert "incumbent 1,234.50" in err and "bound 1,200.00" in err and "gap 2.8%" in err


def test_progress_line_repeats_the_last_report_while_highs_is_silent(capfd):
    line = ProgressLine(delay=0.0, every=0.2)
    line(Progress(elapsed_s=3.0, incumbent=1234.5, bound=1200.0, gap=0.028, stage="LP relaxation"))
    time.sleep(0.75)
    line.close()
    lines = capfd.readouterr().err.strip().splitlines()
    assert len(lines) >= 3  # the report, then the heartbeat's repeats every 0.2 s
    assert all("incumbent 1,234.50" in x and "(LP relaxation" in x for x in lines)
    assert "no news" not in lines[0]
    assert "no news from HiGHS for" in lines[-1]
    elapsed = [float(x.split()[1].rstrip("s")) for x in lines]
    assert elapsed == sorted(elapsed) and elapsed[-1] > elapsed[0]


def _children(pid: int) -> list[int]:
    """The concurrent searches started by ``pid``: its spawned children (Linux /proc)."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        cmdline = (stat.parent / "cmdline").read_bytes() if int(fields[1]) == pid else b""
        if b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
            kids.append(int(stat.parent.name))
    return kids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_sigterm_during_concurrent_solve_stops_every_search(tmp_path, long_instance):
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "csu_opt.cli",
            "solve",
            str(long_instance),
            "--out",
            str(out),
            "--concurrent",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline and not list(tmp_path.glob(".run.partial-*/highs.log.search1")):
        time.sleep(0.05)
    assert list(tmp_path.glob(".run.partial-*/highs.log.search1")), "the searches never started"
    time.sleep(1.0)
    searches = _children(proc.pid)
    assert len(searches) >= 2
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=90)
    assert proc.returncode == 128 + signal.SIGTERM
    assert "no result folder was written" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
    deadline = time.time() + 10  # the searches end with their parent (they poll for it)
    while time.time() < deadline and any(_alive(pid) for pid in searches):
        time.sleep(0.1)
    assert not [pid for pid in searches if _alive(pid)]
