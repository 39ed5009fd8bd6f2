"""The command line: exit codes, result folders, JSON, overrides, several instances."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

import csu_opt
from csu_opt.cli.main import main

DATA = Path(__file__).parents[1] / "data"
TINY = DATA / "tiny.yaml"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_validate_prints_a_summary():
    code, out, _ = run("validate", TINY)
    assert code == 0
    assert "tiny: valid" in out
    assert "necessary conditions (checked from the data, no solve): all pass" in out


def test_validate_runs_the_necessary_conditions(tmp_path: Path) -> None:
    """No provider offers line B at all: a proof of infeasibility found without a solve.
    validate keeps its two exit codes (0 fit to solve, 1 not); solve then exits 3."""
    code, out, _ = run("validate", TINY, "--set", "capabilities.*.B.capacity=0")
    assert code == 1, out
    assert "infeasible: 1 necessary condition (checked from the data, no solve) fails" in out
    assert "[C6 capacity] Service line B: eligible capacity 0 at quality bar 50, demand 30" in out
    assert "csu-opt explain" in out and "capabilities.*.B.capacity=0" in out
    out_dir = tmp_path / "r"  # not the repository's results/ folder
    code, _, _ = run(
        "solve", TINY, "--set", "capabilities.*.B.capacity=0", "--quiet", "--out", out_dir
    )
    assert code == 3  # what the solve then proves
    # bad input stays exit 1, and wins over an infeasible one
    code, _, err = run("validate", TINY, DATA / "no-such-file.yaml")
    assert code == 1 and "no-such-file.yaml" in err
    assert "Providers by kind" in out and "Service lines (2), 3 CCGs" in out


def test_invalid_instance_exit_1_no_traceback_no_folder(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY.read_text().replace("capacity: 50,", "capacity: -50,"))
    out_dir = tmp_path / "out"
    code, out, err = run("solve", bad, "--out", out_dir)
    assert code == 1
    assert "capabilities row 3, field 'capacity'" in err and "negative" in err
    assert "Traceback" not in err + out
    assert not out_dir.exists()
    assert not any(tmp_path.glob(".*partial*"))
    code, _, err = run("validate", bad)
    assert code == 1 and "negative" in err


def test_solve_writes_the_result_folder(tmp_path):
    out_dir = tmp_path / "run"
    code, out, _ = run("solve", TINY, "--out", out_dir, "--set", "settings.lead_providers.max=2")
    assert code == 0
    assert "optimal" in out and "142.00" in out
    assert {p.name for p in out_dir.iterdir()} >= {
        "summary.json",
        "roles.csv",
        "assignments.csv",
        "flows.csv",
        "highs.log",
    }
    summary = json.loads((out_dir / "summary.json").read_text())
    for key in (
        "status",
        "objective",
        "best_bound",
        "mip_gap",
        "cost_breakdown",
        "leads",
        "timings",
        "solver",
        "instance",
        "csu_opt_version",
    ):
        assert key in summary
    assert summary["status"] == "optimal"
    assert summary["objective"] == pytest.approx(142.0)
    assert summary["leads"] == ["P2"]
    assert set(summary["cost_breakdown"]) == {
        "lead_fixed",
        "subcontractor_fixed",
        "partnership",
        "delivery",
        "assignment",
        "exit",
    }
    assert sum(summary["cost_breakdown"].values()) == pytest.approx(142.0)
    assert set(summary["timings"]) >= {"build_s", "solve_s", "total_s"}
    assert summary["instance"]["overrides"] == ["settings.lead_providers.max=2"]
    assert len(summary["instance"]["sha256"]) == 64
    assert summary["solver"]["name"] == "highs" and summary["solver"]["options"]["random_seed"] == 0
    roles = pd.read_csv(out_dir / "roles.csv")
    assert list(roles.columns[:4]) == ["provider", "kind", "role", "leads"]
    assert dict(zip(roles["provider"], roles["role"], strict=True)) == {
        "P1": "subcontractor",
        "P2": "lead",
        "P3": "subcontractor",
    }
    assignments = pd.read_csv(out_dir / "assignments.csv")
    assert list(assignments.columns) == ["ccg", "lead", "share", "ccg_name"]
    assert (assignments["ccg_name"] == assignments["ccg"]).all()  # tiny.yaml names no CCG
    assert list(pd.read_csv(out_dir / "flows.csv").columns) == [
        "provider",
        "lead",
        "service_line",
        "volume",
        "quality",
    ]
    back = csu_opt.read_results(out_dir)
    assert back.objective == pytest.approx(142.0) and back.leads == ["P2"]


def test_json_output_is_the_summary(tmp_path):
    code, out, _ = run("solve", TINY, "--out", tmp_path / "r", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["status"] == "optimal" and data["objective"] == pytest.approx(142.0)


def test_infeasible_exit_3_with_plain_statement(tmp_path):
    code, out, _ = run(
        "solve",
        TINY,
        "--out",
        tmp_path / "r",
        "--set",
        "settings.lead_providers.min=3",
        "--set",
        "settings.lead_providers.max=3",
    )
    assert code == 3
    assert "infeasible" in out
    assert json.loads((tmp_path / "r" / "summary.json").read_text())["status"] == "infeasible"


def test_several_instances_each_get_a_folder_and_a_comparison(tmp_path):
    other = tmp_path / "tiny2.yaml"
    other.write_text(
        TINY.read_text()
        .replace("name: tiny", "name: tiny2")
        .replace("lead_fixed_cost: 80", "lead_fixed_cost: 200")
    )
    code, out, _ = run("solve", TINY, other, "--out", tmp_path / "many")
    assert code == 0
    assert (tmp_path / "many" / "tiny" / "summary.json").exists()
    assert (tmp_path / "many" / "tiny2" / "summary.json").exists()
    assert "Solved instances" in out
    s2 = json.loads((tmp_path / "many" / "tiny2" / "summary.json").read_text())
    # with P2's lead cost at 200, P1 leads: 100 + P3 sub 2 + delivery 45*1 + 30*0.5 = 162,
    # and P2 stays on as an idle subcontractor (G = 5) rather than exit (X = 20): 167
    assert s2["objective"] == pytest.approx(167.0) and s2["leads"] == ["P1"]


def test_several_instances_are_all_validated_before_any_solve(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY.read_text().replace("quality: 90", "quality: 900"))
    code, _, err = run("solve", TINY, bad, "--out", tmp_path / "many")
    assert code == 1 and "0-100" in err
    assert not (tmp_path / "many").exists()


def test_rerun_into_same_folder_replaces_it(tmp_path):
    out_dir = tmp_path / "r"
    assert run("solve", TINY, "--out", out_dir, "-q")[0] == 0
    (out_dir / "stale.txt").write_text("old")
    assert run("solve", TINY, "--out", out_dir, "-q")[0] == 0
    assert not (out_dir / "stale.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["r"]


def test_default_folder_under_results(tmp_path, monkeypatch):
    shutil.copy(TINY, tmp_path / "tiny.yaml")
    monkeypatch.chdir(tmp_path)
    code, _, _ = run("solve", "tiny.yaml", "-q")
    assert code == 0
    (folder,) = (tmp_path / "results").iterdir()
    assert folder.name.startswith("tiny-")
    assert (folder / "summary.json").exists()


def test_usage_errors_exit_2(tmp_path):
    code, _, err = run("solve", TINY, "--set", "providers.NOPE.exit_cost=1")
    assert code == 2 and "NOPE" in err
    code, _, _ = run("solve", TINY, "--mip-gap", "-1")
    assert code == 2


def test_verify_command_accepts_a_solve_and_rejects_a_corrupted_one(tmp_path):
    out_dir = tmp_path / "r"
    assert run("solve", TINY, "--out", out_dir, "-q")[0] == 0
    assert json.loads((out_dir / "summary.json").read_text())["verified"] is True
    code, out, _ = run("verify", TINY, out_dir)
    assert code == 0 and "satisfies every rule" in out
    flows = pd.read_csv(out_dir / "flows.csv")
    flows.loc[flows["provider"] == "P3", "volume"] = 90.0  # P3's capacity in B is 80
    flows.to_csv(out_dir / "flows.csv", index=False)
    code, out, _ = run("verify", TINY, out_dir)
    assert code == 1 and "[C6]" in out and "P3" in out


def test_infeasible_solve_is_explained(tmp_path):
    code, out, _ = run("solve", DATA / "infeasible_quality.yaml", "--out", tmp_path / "r")
    assert code == 3
    assert "network quality target" in out
    assert "--set service_lines.B.network_quality_target=90" in out
    assert (tmp_path / "r" / "explanation.txt").exists()
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["explanation"]["conflict"] == ["C9"]


def test_explain_command_exit_codes():
    code, out, _ = run("explain", DATA / "infeasible_capacity.yaml")
    assert code == 3 and "INFEASIBLE" in out
    code, out, _ = run("explain", TINY)
    assert code == 0 and "feasible" in out


def test_solve_held_close_to_todays_arrangement(tmp_path):
    # tests/data/whatif_disruption.yaml: the stability curve is 26 (no move), 19 (one), 10
    inst, current = DATA / "whatif_disruption.yaml", DATA / "whatif_incumbent.csv"
    costs = {}
    for k in (0, 1):
        code, out, _ = run(
            "solve", inst, "--incumbent", current, "--max-moves", k, "--out", tmp_path / f"k{k}"
        )
        said = {0: "0 CCGs change network", 1: "1 CCG changes network"}[k]
        assert code == 0 and said in out  # the summary names the moves, in agreement
        costs[k] = json.loads((tmp_path / f"k{k}" / "summary.json").read_text())["objective"]
    assert costs == {0: pytest.approx(26.0), 1: pytest.approx(19.0)}
    code, _, err = run("solve", inst, "--max-moves", "1")
    assert code == 2 and "--incumbent" in err


def test_infeasible_moves_limit_is_explained_by_its_own_rule(tmp_path):
    """whatif_disruption.yaml with L1's minimum volume at 15: the instance is feasible, but
    keeping today's networks is not (L1 keeps only C1's 10); one move is enough (19), see
    tests/analysis/test_explain_whatif.py."""
    inst, current = DATA / "whatif_disruption.yaml", DATA / "whatif_incumbent.csv"
    args = ("--incumbent", current, "--set", "providers.L1.min_volume=15")
    code, out, _ = run("solve", inst, *args, "--max-moves", "0", "--out", tmp_path / "k0")
    assert code == 3, out
    assert "The instance is feasible." not in out
    assert "INFEASIBLE: keeping every CCG where it is today is impossible." in out
    assert "L1 needs at least 15 to stay active" in out
    assert "the fewest moves that work is 1" in out and "--max-moves 1" in out
    saved = (tmp_path / "k0" / "explanation.txt").read_text()
    assert saved.startswith("INFEASIBLE: keeping every CCG where it is today is impossible.")
    summary = json.loads((tmp_path / "k0" / "summary.json").read_text())
    assert summary["status"] == "infeasible"
    assert "keeping every CCG where it is today is impossible" in summary["message"]
    assert summary["explanation"]["base_feasible"] is True
    assert summary["explanation"]["conflict"] == ["C11", "moves"]
    assert summary["explanation"]["suggestion"]["flags"] == ["--max-moves 1"]
    code, _, _ = run("solve", inst, *args, "--max-moves", "1", "--out", tmp_path / "k1")
    assert code == 0
    assert json.loads((tmp_path / "k1" / "summary.json").read_text())["objective"] == (
        pytest.approx(19.0)
    )
    code, out, _ = run("explain", inst, *args, "--max-moves", "0")
    assert code == 3 and "keeping every CCG where it is today is impossible" in out
    code, _, err = run("explain", inst, "--max-moves", "0")
    assert code == 2 and "--incumbent" in err


def test_what_if_commands_are_registered():
    code, out, _ = run("--help")
    assert code == 0
    for command in (
        "resilience",
        "tradeoff",
        "rule-costs",
        "alternatives",
        "plot",
        "compare",
        "report",
        "sweep",
        "verify",
        "explain",
        "generate",
    ):
        assert command in out


def test_verify_finds_the_instance_from_the_run(tmp_path):
    out_dir = tmp_path / "r"
    assert run("solve", TINY, "--out", out_dir, "-q")[0] == 0
    code, out, _ = run("verify", out_dir)
    assert code == 0 and "satisfies every rule" in out
    # the recorded instance is gone: say what to give, no traceback
    moved = tmp_path / "moved"
    shutil.copytree(out_dir, moved)
    summary = json.loads((moved / "summary.json").read_text())
    summary["instance"]["path"] = str(tmp_path / "nowhere.yaml")
    (moved / "summary.json").write_text(json.dumps(summary))
    code, out, err = run("verify", moved)
    assert code == 2 and "nowhere.yaml" in err and "csu-opt verify INSTANCE" in err
    # not a result folder at all: exit 1, as plot and report (csu_opt.cli.errors)
    code, _, err = run("verify", tmp_path / "nothing")
    assert code == 1 and "not a result folder" in err and "csu-opt verify INSTANCE" in err
    assert run("verify", TINY, out_dir, out_dir)[0] == 2


def test_verify_against_another_instance_says_so_first(tmp_path):
    """The one line that matters comes first, and the violations do not drown it."""
    demo = Path(__file__).resolve().parents[2] / "instances"
    out_dir = tmp_path / "r"
    assert run("solve", demo / "demo.yaml", "--out", out_dir, "-q")[0] == 0
    other = tmp_path / "other"
    shutil.copytree(demo / "demo", other / "demo")
    doc = yaml.safe_load((demo / "demo.yaml").read_text(encoding="utf-8"))
    for cap in doc["capabilities"]:
        cap["capacity"] /= 2  # many providers now deliver beyond their capacity
    (other / "demo.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    demand = pd.read_csv(other / "demo" / "demand.csv")
    demand["volume"] *= 1.5  # every network is now short in every line
    demand.to_csv(other / "demo" / "demand.csv", index=False)
    code, out, _ = run("verify", other / "demo.yaml", out_dir)
    lines = out.splitlines()
    assert code == 1
    assert lines[0].startswith("WARNING: the instance") and "differs from the one" in lines[0]
    listed = [x for x in lines if x.startswith("  - [")]
    (more,) = [x for x in lines if x.startswith("  ... and ")]
    n = int(lines[2].split()[2])  # "NOT verified: N violations (C5 10, ...)"
    assert len(listed) == 10 < n and more == f"  ... and {n - 10} more"


def test_quiet_prints_nothing_on_success(tmp_path):
    """--quiet: the result folders and the exit code say it all, even for several instances."""
    infeasible = DATA / "infeasible_capacity.yaml"
    code, out, err = run("solve", TINY, infeasible, "--out", tmp_path / "r", "--quiet")
    assert code == 3 and out == "" and err == ""
    assert (tmp_path / "r" / "tiny" / "summary.json").is_file()
    assert (tmp_path / "r" / "infeasible-capacity" / "explanation.txt").is_file()
    # problems still go to stderr
    code, out, err = run("solve", tmp_path / "missing.yaml", "--quiet")
    assert code == 1 and out == "" and "missing.yaml" in err


def test_json_output_carries_no_float_noise(tmp_path):
    code, out, _ = run("solve", TINY, "--json", "--out", tmp_path / "r")
    assert code == 0
    printed = json.loads(out)
    written = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert printed["timings"] == written["timings"]  # what is printed is what is written
    assert all(round(v, 3) == v for v in printed["timings"].values())  # milliseconds
