"""The what-if commands (issue 8): files written, their columns, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from csu_opt.analysis import alternatives as alt_mod
from csu_opt.analysis import resilience, rulecosts
from csu_opt.analysis import tradeoff as tradeoff_mod
from csu_opt.analysis.runner import run_solve
from csu_opt.cli.whatif import alternatives, rule_costs, tradeoff
from csu_opt.cli.whatif import resilience as resilience_cmd
from csu_opt.instance.load import load_instance
from csu_opt.solver.options import SolveOptions

DATA = Path(__file__).parents[1] / "data"


def test_resilience_command_writes_ranked_csv(tmp_path: Path) -> None:
    inst = load_instance(DATA / "whatif_resilience.yaml")
    run = run_solve(inst, tmp_path / "run", SolveOptions(mip_gap=1e-9), explain=False)
    assert run.solution.objective == pytest.approx(35.0)
    out = tmp_path / "analysis"
    res = CliRunner().invoke(resilience_cmd, [str(run.folder), "--out", str(out)])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out / "resilience.csv", keep_default_na=False)
    assert tuple(table.columns) == resilience.COLUMNS
    assert list(table["provider"]) == ["V", "S", "L1"]
    assert float(table["extra_cost"][1]) == pytest.approx(16.0)
    summary = json.loads((out / "resilience.json").read_text())
    assert summary["most_critical"] == "V" and summary["not_repairable"] == ["V"]
    assert "NO REPAIR" in res.output


def test_tradeoff_command(tmp_path: Path) -> None:
    out = tmp_path / "curve.csv"
    args = [
        str(DATA / "whatif_disruption.yaml"),
        "--incumbent",
        str(DATA / "whatif_incumbent.csv"),
        "--max-moves-grid",
        "0:2",
        "--out",
        str(out),
    ]
    res = CliRunner().invoke(tradeoff, args)
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out)
    assert tuple(table.columns) == tradeoff_mod.COLUMNS
    assert list(table["objective"]) == pytest.approx([26.0, 19.0, 10.0, 10.0])
    bad = tmp_path / "bad.csv"
    bad.write_text("ccg,lead\nC1,NOBODY\n")
    res = CliRunner().invoke(tradeoff, [*args[:2], str(bad)])
    assert res.exit_code == 1
    res = CliRunner().invoke(tradeoff, [*args[:4], "1,x"])
    assert res.exit_code == 2


def test_rule_costs_command(tmp_path: Path) -> None:
    res = CliRunner().invoke(rule_costs, [str(DATA / "whatif_rules.yaml"), "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(tmp_path / "rule_costs.csv", keep_default_na=False)
    assert tuple(table.columns) == rulecosts.COLUMNS
    assert dict(zip(table["key"], table["cost"], strict=True))["C7:A"] == pytest.approx(20.0)
    assert "service_lines.A.quality_threshold=0" in set(table["overrides"])
    # every solve proven (the default gap is 1e-6): each price is its interval's one value
    t = table.set_index("key")
    assert t["proven"].all() and set(t["base_status"]) == {"optimal"}
    assert t.loc["C7:A", "cost_low"] == pytest.approx(20.0, abs=1e-3)
    assert t.loc["C7:A", "cost_high"] == pytest.approx(20.0, abs=1e-3)
    assert str(t.loc["C7:A", "binding"]) == "True" and str(t.loc["C8", "binding"]) == "False"
    assert "Base optimum 50" in res.output and "not proven" not in res.output


def test_alternatives_command(tmp_path: Path) -> None:
    args = [str(DATA / "whatif_alternatives.yaml"), "--k", "5", "--within", "20%"]
    res = CliRunner().invoke(alternatives, [*args, "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(tmp_path / "alternatives.csv", keep_default_na=False)
    assert tuple(table.columns) == alt_mod.COLUMNS
    assert list(table["leads"]) == ["L0;L1", "L0;L2", "L0;L3"]
    decisions = pd.read_csv(tmp_path / "alternatives_decisions.csv")
    assert tuple(decisions.columns) == alt_mod.DECISION_COLUMNS
    common = decisions[decisions["common"]]
    assert ("lead", "L0") in set(zip(common["kind"], common["subject"], strict=True))
    res = CliRunner().invoke(alternatives, [*args[:3], "--within", "lots"])
    assert res.exit_code == 2


def test_resilience_robust_without_a_robust_network(tmp_path: Path) -> None:
    """tiny.yaml has no robust network (only P2 and P3 offer line B): exit 3, no files."""
    inst = load_instance(DATA / "tiny.yaml")
    run = run_solve(inst, tmp_path / "run", SolveOptions(mip_gap=1e-9), explain=False)
    res = CliRunner().invoke(resilience_cmd, [str(run.folder), "--robust"])
    assert res.exit_code == 3, res.output
    assert not (run.folder / "resilience.csv").exists()
    # why, in the planner's words (tests/analysis/test_explain_whatif.py works it by hand)
    assert "a network that survives any single provider's exit is impossible" in res.output
    assert "service line A has 2 eligible providers (P1, P2)" in res.output
