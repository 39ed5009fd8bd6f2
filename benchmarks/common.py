"""What the benchmark scripts share: `csu-opt solve` run as a planner runs it."""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

CSU = Path(sys.executable).with_name("csu-opt")


def cli_solve(
    path: Path, time_limit: float, extra: list[str], env: dict[str, str] | None = None
) -> tuple[float, dict[str, Any]]:
    """``csu-opt solve PATH --threads 1 --quiet --time-limit T [extra]`` as a whole process.

    Returns its wall time (start-up, reading, the solve, verification and the result folder
    all count) and its summary.json, or ``{"status": "error (exit N): <last stderr line>"}``
    when it wrote none. ``env``: the process's environment (e.g. a PYTHONPATH naming another
    version's sources); default this one's.
    """
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "result"
        cmd = [str(CSU), "solve", str(path), "--threads", "1", "--quiet", "--out", str(out)]
        cmd += ["--time-limit", str(time_limit), *extra]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
        wall = time.perf_counter() - t0
        summary_path = out / "summary.json"
        if not summary_path.is_file():
            tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
            return wall, {"status": f"error (exit {proc.returncode}): {tail}"}
        return wall, json.loads(summary_path.read_text(encoding="utf-8"))


def write_csv(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    """(Re)write every row so far: an interrupted benchmark keeps what it measured."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def chosen_variants(ap: argparse.ArgumentParser, text: str, known: Iterable[str]) -> list[str]:
    """The comma-separated variants of ``text``; a usage error names any unknown one."""
    known = list(known)
    variants = [v for v in text.split(",") if v]
    unknown = set(variants) - set(known)
    if unknown:
        ap.error(f"unknown variants {sorted(unknown)}; known: {', '.join(known)}")
    return variants
