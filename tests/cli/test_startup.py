"""What a run imports (issue 19, the fixed cost of a run): behaviour, not timing.

A matrix-path ``csu-opt solve`` must not import Pyomo (0.3-0.5 s of start-up), nor the
plotting, sweep or what-if machinery it never uses; the Pyomo path still works. Each check runs
in a fresh interpreter, where ``sys.modules`` says exactly what the run loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from csu_opt.cli import main as cli_main

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "instances" / "demo.yaml"
INFEASIBLE = ROOT / "tests" / "data" / "infeasible_lead_max.yaml"

#: top-level packages a plain solve has no use for
UNUSED = ("pyomo", "matplotlib", "dask", "distributed", "openpyxl")

_CHILD = """
import json, sys
from csu_opt.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
mods = list(sys.modules)
loaded = sorted(
    {m.split(".")[0] for m in mods}
    | {m for m in mods if m.startswith("csu_opt.") or m == "pyomo.environ"}
)
print(json.dumps({"code": code, "modules": loaded}))
"""


def _run(*args: str) -> tuple[int, set[str]]:
    """Run ``csu-opt ARGS`` in a fresh interpreter: its exit code and the modules it loaded."""
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    return report["code"], set(report["modules"])


def _solve(tmp_path: Path, instance: Path, backend: str) -> tuple[int, set[str], dict]:
    out = tmp_path / backend
    args = ("solve", str(instance), "--quiet", "--threads", "1", "--out", str(out))
    code, modules = _run(*args, "--backend", backend)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return code, modules, summary


def test_matrix_solve_imports_no_pyomo(tmp_path: Path) -> None:
    code, modules, summary = _solve(tmp_path, DEMO, "matrix")
    assert code == 0 and summary["status"] == "optimal" and summary["verified"] is True
    assert summary["solver"]["interface"] == "highspy.matrix"
    assert not modules & set(UNUSED), sorted(modules & set(UNUSED))
    # nor the what-ifs, the sweep's executor or the figures (csu_opt.cli.main.LAZY_COMMANDS)
    for name in ("csu_opt.cli.whatif", "csu_opt.cli.sweep", "csu_opt.cli.figures"):
        assert name not in modules
    assert not {m for m in modules if m.startswith("csu_opt.analysis.")} - {
        "csu_opt.analysis.runner",
        "csu_opt.analysis.necessary",
        "csu_opt.analysis.findings",
    }


def test_help_imports_no_pyomo() -> None:
    """--help lists every command (the lazy ones too) without loading their analyses."""
    code, modules = _run("--help")
    assert code == 0
    assert not modules & set(UNUSED), sorted(modules & set(UNUSED))
    assert "csu_opt.cli.whatif" in modules  # listed: its short help was read


def test_pyomo_solve_gives_the_same_answer(tmp_path: Path) -> None:
    _, modules, matrix = _solve(tmp_path, DEMO, "matrix")
    code, modules, pyomo = _solve(tmp_path, DEMO, "pyomo")
    assert code == 0 and "pyomo" in modules
    # pyomo.core and appsi only: pyomo.environ's plugins are ~0.3 s of a small run
    assert "pyomo.environ" not in modules
    assert pyomo["solver"]["interface"] == "pyomo.appsi"
    assert pyomo["objective"] == pytest.approx(matrix["objective"], rel=1e-9)


def test_infeasible_solve_is_still_explained(tmp_path: Path) -> None:
    """The explanation (imported only when a solve is infeasible) is still written."""
    code, _, summary = _solve(tmp_path, INFEASIBLE, "matrix")
    assert summary["status"] == "infeasible" and code == 3
    assert "explanation" in summary
    assert (tmp_path / "matrix" / "explanation.txt").read_text(encoding="utf-8").strip()


def test_lazy_commands_are_every_command_of_their_modules() -> None:
    import importlib

    modules = set(cli_main.LAZY_COMMANDS.values())
    defined = {
        c.name
        for m in modules
        for c in vars(importlib.import_module(m)).values()
        if isinstance(c, click.Command)
    }
    assert defined == set(cli_main.LAZY_COMMANDS)
    for name in cli_main.LAZY_COMMANDS:
        assert cli_main.lazy_command(name).name == name
    # listed and reachable from the group like the commands defined in main.py
    ctx = click.Context(cli_main.main)
    listed = cli_main.main.list_commands(ctx)
    assert set(cli_main.LAZY_COMMANDS) | {"solve", "validate", "explain"} <= set(listed)
    assert all(cli_main.main.get_command(ctx, n) is not None for n in listed)


def test_pyomo_model_writes_lp_without_pyomo_environ(tmp_path: Path) -> None:
    """csu_opt.model.pyomo_model loads Pyomo's file writers itself (it imports pyomo.core,
    not pyomo.environ): a fresh process can still write the model as an LP file, the same
    file as with pyomo.environ loaded."""
    child = """
import sys
from csu_opt.instance.load import load_instance
from csu_opt.model.index import build_index
from csu_opt.model.pyomo_model import build_model
if sys.argv[2] == "environ":
    import pyomo.environ
m = build_model(build_index(load_instance(sys.argv[3])))
m.write(sys.argv[1], io_options={"symbolic_solver_labels": True})
print("pyomo.environ" in sys.modules)
"""
    tiny = ROOT / "tests" / "data" / "tiny.yaml"
    texts = {}
    for mode in ("core", "environ"):
        lp = tmp_path / f"{mode}.lp"
        proc = subprocess.run(
            [sys.executable, "-c", child, str(lp), mode, str(tiny)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == str(mode == "environ")
        texts[mode] = lp.read_text(encoding="utf-8")
    assert "\ns.t.\n" in texts["core"] and "total_cost:" in texts["core"]
    assert texts["core"] == texts["environ"]
