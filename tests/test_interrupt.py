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
    assert "incumbent 1,234.50" in err and "bound 1,200.00" in err and "gap 2.800%" in err
