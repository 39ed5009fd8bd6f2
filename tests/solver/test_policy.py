"""Which optional stages a solve runs (csu_opt.solver.policy): the greedy start from 150,000
estimated nonzeros, the root reduction from 50,000 on the matrix path, an explicit choice
always obeyed, and the decision written to summary.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from csu_opt.cli.main import main
from csu_opt.instance.load import load_instance
from csu_opt.model.index import build_index
from csu_opt.solver.engines import estimate_nonzeros
from csu_opt.solver.options import SolveOptions
from csu_opt.solver.policy import (
    REDUCTION_MIN_NNZ,
    START_MIN_NNZ,
    by_size,
    plan_stages,
    planned,
)
from csu_opt.solver.solve import solve
from factories.generated import generated

ROOT = Path(__file__).resolve().parents[2]


def test_by_size_obeys_an_explicit_choice_and_else_the_threshold() -> None:
    assert by_size(True, 10, 100, "x").run and by_size(True, 10, 100, "x").why == "asked for"
    assert not by_size(False, 10**6, 100, "x").run
    assert by_size(False, 10**6, 100, "x").why == "switched off"
    assert not by_size(None, 99, 100, "x").run
    assert by_size(None, 99, 100, "small").why == "99 estimated nonzeros < 100: small"
    assert by_size(None, 100, 100, "x").run  # from the threshold up


def test_small_model_runs_neither_stage() -> None:
    ix = build_index(load_instance(ROOT / "instances" / "demo.yaml"))
    nnz = estimate_nonzeros(ix)
    assert nnz < REDUCTION_MIN_NNZ
    plan = plan_stages(ix, SolveOptions(), "pyomo")
    assert plan.nonzeros == nnz and not plan.start.run and not plan.reduction.run
    # on the matrix path the reduction's threshold decides, and explicit choices win
    assert not plan_stages(ix, SolveOptions(), "matrix").reduction.run
    forced = plan_stages(ix, SolveOptions(start_heuristic=True, root_reduction=True), "pyomo")
    assert forced.start.run and forced.reduction.run
    opts = planned(SolveOptions(), plan)
    assert opts.start_heuristic is False and opts.root_reduction is False


def test_large_model_runs_both_stages() -> None:
    ix = build_index(generated(100, 2000, 0))
    nnz = estimate_nonzeros(ix)
    assert nnz >= START_MIN_NNZ
    plan = plan_stages(ix, SolveOptions(), "matrix")
    assert plan.start.run and plan.reduction.run
    off = plan_stages(ix, SolveOptions(start_heuristic=False, root_reduction=False), "matrix")
    assert not off.start.run and not off.reduction.run


def test_summary_records_the_plan(tmp_path: Path) -> None:
    demo = str(ROOT / "instances" / "demo.yaml")
    out = tmp_path / "r"
    res = CliRunner().invoke(main, ["solve", demo, "-q", "--out", str(out)])
    assert res.exit_code == 0, res.output
    solver = json.loads((out / "summary.json").read_text())["solver"]
    assert solver["options"]["start_heuristic"] is None  # as asked: left to the plan
    assert solver["stages"]["start"]["run"] is False and "start" not in solver
    out2 = tmp_path / "s"
    res = CliRunner().invoke(main, ["solve", demo, "-q", "--start", "--out", str(out2)])
    assert res.exit_code == 0, res.output
    solver = json.loads((out2 / "summary.json").read_text())["solver"]
    assert solver["stages"]["start"] == {"run": True, "why": "asked for"}
    assert "found" in solver["start"]  # the start ran (on the demo it finds no network)


@pytest.mark.parametrize("start", [None, True, False])
def test_the_plan_never_changes_the_optimum(start: bool | None) -> None:
    inst = load_instance(ROOT / "instances" / "demo.yaml")
    sol = solve(inst, SolveOptions(mip_gap=1e-9, start_heuristic=start))
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(87_849.44, abs=0.01)  # the demo's optimum (README)
