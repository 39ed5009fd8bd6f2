"""docs/tutorial.md never goes stale: every command of its ```sh blocks is run, as written,
in a fresh working folder (with the repository's instances), and must exit 0."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "docs" / "tutorial.md"

#: Until cli.py registers plot/compare/report, the test's `csu-opt` adds them itself.
SHIM = """\
from csu_opt.cli.main import main
from csu_opt.cli.figures import compare, plot, report

for command in (plot, compare, report):
    if command.name not in main.commands:
        main.add_command(command)
if __name__ == "__main__":  # sweep workers re-import this file
    main()
"""


def tutorial_commands(text: str) -> list[str]:
    """The commands of the ```sh blocks, in order (comments dropped, '\\' lines joined)."""
    commands = []
    for block in re.findall(r"^```sh\n(.*?)^```", text, flags=re.S | re.M):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #")[0].strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def test_the_tutorial_has_commands():
    commands = tutorial_commands(TUTORIAL.read_text(encoding="utf-8"))
    assert len(commands) >= 12
    assert all(c.startswith("csu-opt ") for c in commands)
    verbs = {c.split()[1] for c in commands}
    assert {"solve", "sweep", "plot", "compare", "report", "verify"} <= verbs
    # the what-ifs, each with an example (issue 16)
    assert {"resilience", "tradeoff", "rule-costs", "alternatives"} <= verbs
    text = " ".join(commands)
    for option in ("--incumbent", "--max-moves", "--churn-cost", "--find-threshold"):
        assert option in text, option
    assert "demo-mergers.yaml" in text


@pytest.mark.skipif(
    not (ROOT / "instances" / "england-2014.yaml").exists()
    or not (ROOT / "instances" / "england-2013.yaml").exists(),
    reason="the England instances are not in instances/",
)
def test_every_tutorial_command_runs(tmp_path):
    commands = tutorial_commands(TUTORIAL.read_text(encoding="utf-8"))
    (tmp_path / "instances").symlink_to(ROOT / "instances", target_is_directory=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "csu-opt"
    shim.write_text(f"#!{sys.executable}\n{SHIM}", encoding="utf-8")
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("COLUMNS", None)
    times = []
    for command in commands:
        start = time.perf_counter()
        done = subprocess.run(
            command,
            shell=True,
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        times.append((time.perf_counter() - start, command))
        assert done.returncode == 0, (
            f"tutorial command failed (exit {done.returncode}): {command}\n"
            f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    # every file the tutorial says it writes is there
    for command in commands:
        args = shlex.split(command)
        if "--out" in args:
            out = tmp_path / args[args.index("--out") + 1]
            assert out.exists(), f"{command} did not write {out}"
    report = (tmp_path / "results" / "e14" / "report.html").read_text(encoding="utf-8")
    assert report.count("<img ") == 4
    # what the what-if section says of the demo
    results = tmp_path / "results"
    curve = pd.read_csv(results / "tradeoff.csv")
    assert curve["status"].iloc[0] == "infeasible"  # nobody moves: impossible
    assert curve["stability_cost"].iloc[1] == pytest.approx(832.14, abs=0.01)
    growth = pd.read_csv(results / "demo-growth.csv")
    (tip,) = growth.index[growth["leads_changed"]]
    assert 1.339 < growth["demand.volume"].iloc[tip - 1] < growth["demand.volume"].iloc[tip] < 1.341
    merged = json.loads((results / "demo-mergers" / "summary.json").read_text())
    assert merged["cost_breakdown"]["merger"] > 0 and merged["mergers"] == [
        "NORTHMIDS",
        "SPECIALISTS",
    ]
    print("\n".join(f"{t:6.1f}s  {c}" for t, c in times))
