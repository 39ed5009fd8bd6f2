"""The independent checker: it accepts a real optimum and catches hand-corrupted results.

tiny.yaml's optimum (142): P2 leads and serves C1-C3; P1 subcontracts and delivers all of
line A (45 at unit cost 1), P3 subcontracts and delivers all of line B (30 at 0.5); cost
80 (P2 leads) + 2 (P3's subcontractor fee; P1's is 0) + 45 + 15 = 142.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

import csu_opt
from csu_opt.results.solution import Solution, write_files
from csu_opt.results.verify import Tolerances, format_report, verify, verify_run, verify_solution

DATA = Path(__file__).parents[1] / "data"


@pytest.fixture(scope="module")
def tiny() -> csu_opt.Instance:
    return csu_opt.load_instance(DATA / "tiny.yaml")


@pytest.fixture(scope="module")
def optimum(tiny: csu_opt.Instance) -> Solution:
    sol = csu_opt.solve(tiny, mip_gap=1e-9)
    assert sol.status is csu_opt.Status.OPTIMAL
    assert sol.objective == pytest.approx(142.0)
    return sol


@pytest.fixture(scope="module")
def run_dir(optimum: Solution, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny-run")
    write_files(optimum, folder)
    return folder


@pytest.fixture
def run(run_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the optimal run, free to corrupt."""
    folder = tmp_path / "run"
    shutil.copytree(run_dir, folder)
    return folder


def _edit_csv(folder: Path, name: str, change: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    frame = pd.read_csv(folder / name, dtype={"leads": str}, keep_default_na=False)
    change(frame).to_csv(folder / name, index=False)


def _edit_summary(folder: Path, change: Callable[[dict], None]) -> None:
    data = json.loads((folder / "summary.json").read_text())
    change(data)
    (folder / "summary.json").write_text(json.dumps(data))


def test_accepts_the_optimum_of_tiny(tiny: csu_opt.Instance, run_dir: Path) -> None:
    report = verify(tiny, run_dir)
    assert report.ok, format_report(report)
    assert report.violations == []
    assert report.objective == pytest.approx(142.0)
    bd = report.breakdown
    assert bd is not None
    # P2 leads (80); P1 (fee 0) and P3 (fee 2) subcontract; A: 45 x 1 by P1, B: 30 x 0.5 by P3
    assert (bd.lead_fixed, bd.subcontractor_fixed, bd.partnership) == (80, 2, 0)
    assert bd.delivery == pytest.approx(45 * 1 + 30 * 0.5)
    assert (bd.assignment, bd.exit) == (0, 0)
    assert report.counts == {"leads": 1, "links": 2, "assignments": 3, "flows": 2}


def test_in_memory_solution_gives_the_same_verdict(
    tiny: csu_opt.Instance, optimum: Solution
) -> None:
    report = verify_solution(tiny, optimum)
    assert report.ok, format_report(report)
    assert report.objective == pytest.approx(optimum.objective)


def _move_c3_to_p1(folder: Path) -> None:
    _edit_csv(
        folder, "assignments.csv", lambda a: a.assign(lead=a["lead"].where(a["ccg"] != "C3", "P1"))
    )


def _exceed_p3_capacity(folder: Path) -> None:
    _edit_csv(
        folder,
        "flows.csv",
        lambda f: f.assign(volume=f["volume"].where(f["provider"] != "P3", 90.0)),
    )


def _drop_line_b(folder: Path) -> None:
    _edit_csv(folder, "flows.csv", lambda f: f[f["service_line"] != "B"])


def _objective_plus_one(folder: Path) -> None:
    _edit_summary(folder, lambda s: s.update(objective=s["objective"] + 1))


def _split_c3(folder: Path) -> None:
    _edit_csv(
        folder, "assignments.csv", lambda a: a.assign(share=a["share"].where(a["ccg"] != "C3", 0.5))
    )


def _delivery_cost_off(folder: Path) -> None:
    _edit_summary(folder, lambda s: s["cost_breakdown"].update(delivery=61.0))


def _p3_serves_p1(folder: Path) -> None:
    _edit_csv(
        folder, "roles.csv", lambda r: r.assign(leads=r["leads"].where(r["provider"] != "P3", "P1"))
    )


def _p1_exits(folder: Path) -> None:
    _edit_csv(
        folder,
        "roles.csv",
        lambda r: r.assign(
            role=r["role"].where(r["provider"] != "P1", "exit"),
            leads=r["leads"].where(r["provider"] != "P1", ""),
        ),
    )


@pytest.mark.parametrize(
    ("corrupt", "rule", "words", "amount"),
    [
        pytest.param(
            _move_c3_to_p1, "C4", ["CCG C3", "P1", "not a lead"], 1.0, id="ccg-to-non-lead"
        ),
        pytest.param(
            _exceed_p3_capacity, "C6", ["P3", "line B", "capacity 80"], 10.0, id="capacity"
        ),
        pytest.param(
            _drop_line_b, "C5", ["line B in P2's network", "demand 30"], 30.0, id="line-uncovered"
        ),
        pytest.param(
            _objective_plus_one, "objective", ["143", "142"], 1.0, id="objective-off-by-one"
        ),
        pytest.param(
            _split_c3, "integrality", ["CCG C3", "split", "P2"], 0.5, id="fractional-share"
        ),
        pytest.param(
            _delivery_cost_off, "breakdown", ["delivery", "61", "60"], 1.0, id="breakdown"
        ),
        pytest.param(_p3_serves_p1, "C3", ["P3", "P1", "not a lead"], 1.0, id="sub-to-non-lead"),
        pytest.param(
            _p1_exits, "C6", ["P1 has exited", "45", "line A"], 45.0, id="exited-delivers"
        ),
    ],
)
def test_catches_corrupted_results(
    tiny: csu_opt.Instance,
    run: Path,
    corrupt: Callable[[Path], None],
    rule: str,
    words: list[str],
    amount: float,
) -> None:
    corrupt(run)
    report = verify(tiny, run)
    assert not report.ok
    hits = report.by_rule(rule)
    assert hits, format_report(report)
    assert any(all(w in v.message for w in words) for v in hits), [str(v) for v in hits]
    assert any(v.amount == pytest.approx(amount) for v in hits)
    assert any(f"[{rule}]" in line for line in format_report(report))


def test_split_share_is_no_violation_without_single_sourcing(
    tiny: csu_opt.Instance, run: Path
) -> None:
    _split_c3(run)
    split = tiny.with_changes(["settings.single_sourcing=false"])
    report = verify(split, run)
    assert report.by_rule("integrality") == []
    # ... but half of C3 is still unplaced and P2's network delivers too much
    assert any("CCG C3 has 0.5" in v.message for v in report.by_rule("C4"))
    assert {v.rule for v in report.violations} == {"C4", "C5"}


@pytest.mark.parametrize(
    ("overrides", "rule", "words", "amount"),
    [
        # P2 leads alone: 1 lead against a minimum of 2
        (["settings.lead_providers.min=2"], "C1", ["1 lead, at least 2 required"], 1.0),
        # P2's network delivers B only through P3 (quality 90)
        (
            ["service_lines.B.network_quality_target=95"],
            "C9",
            ["P2's network", "line B", "average quality 90", "target 95"],
            5.0,
        ),
        # P2 delivers nothing itself: 0.5 x 75 short
        (["settings.lead_self_delivery_min_share=0.5"], "C10", ["P2 delivers 0 of the 75"], 37.5),
        # P3 delivers 30, needs 100
        (["providers.P3.min_volume=100"], "C11", ["P3", "delivers 30", "minimum volume 100"], 70.0),
        # P3's 30 in line B above its capacity 20
        (["capabilities.P3.B.capacity=20"], "C6", ["P3 delivers 30 of line B"], 10.0),
        # P1 (quality 70) below a bar of 75 for line A
        (["service_lines.A.quality_threshold=75"], "C7", ["P1", "quality 70", "bar 75"], 45.0),
        # with the bar at 75, P2's network has nobody eligible in A (P2: 60, P1: 70)
        (["service_lines.A.quality_threshold=75"], "C8", ["P2's network", "line A"], 1.0),
        # P3 subcontracts in the result, but the changed instance forbids it
        (["providers.P3.can_subcontract=false"], "roles", ["P3", "cannot subcontract"], 0.0),
    ],
)
def test_rules_checked_against_a_changed_instance(
    optimum: Solution,
    run_dir: Path,
    overrides: list[str],
    rule: str,
    words: list[str],
    amount: float,
) -> None:
    """The optimum of tiny.yaml judged against stricter rules breaks exactly those rules."""
    inst = csu_opt.load_instance(DATA / "tiny.yaml", overrides)
    report = verify(inst, run_dir)
    hits = report.by_rule(rule)
    assert hits, format_report(report)
    assert any(all(w in v.message for w in words) for v in hits), [str(v) for v in hits]
    assert any(v.amount == pytest.approx(amount) for v in hits)


def test_two_leads_per_subcontractor_above_the_limit(tiny: csu_opt.Instance, run: Path) -> None:
    """P1 made a lead too, and P3 listed under both leads: C2 (max 1 lead per subcontractor)."""
    _edit_csv(
        run,
        "roles.csv",
        lambda r: r.assign(
            role=r["role"].where(r["provider"] != "P1", "lead"),
            leads=r["leads"]
            .where(r["provider"] != "P1", "P1")
            .where(r["provider"] != "P3", "P1;P2"),
        ),
    )
    report = verify(tiny, run)
    c2 = report.by_rule("C2")
    assert [v.message for v in c2] == ["P3 subcontracts to 2 leads (P1, P2), at most 1 allowed"]
    # P1 now leads but also still delivers line A in P2's network as if it subcontracted
    assert any(
        "P1 delivers 45 of line A in P2's network" in v.message for v in report.by_rule("C6")
    )
    assert any("summary.json lists leads P2" in v.message for v in report.by_rule("roles"))


def test_tolerance_is_honoured(tiny: csu_opt.Instance, run: Path) -> None:
    """A volume 1e-9 over capacity passes; 1e-3 over does not."""
    _edit_csv(
        run,
        "flows.csv",
        lambda f: f.assign(volume=f["volume"].where(f["provider"] != "P3", 80 + 1e-9)),
    )
    inst = csu_opt.load_instance(DATA / "tiny.yaml", ["capabilities.P3.B.capacity=80"])
    assert verify(inst, run).by_rule("C6") == []
    _edit_csv(
        run,
        "flows.csv",
        lambda f: f.assign(volume=f["volume"].where(f["provider"] != "P3", 80.001)),
    )
    assert [v.rule for v in verify(inst, run).by_rule("C6")] == ["C6"]
    assert verify(tiny, run, Tolerances(feasibility_abs=1.0)).by_rule("C6") == []


def test_missing_and_malformed_files(tiny: csu_opt.Instance, run: Path) -> None:
    (run / "flows.csv").unlink()
    report = verify(tiny, run)
    assert not report.ok
    assert [v.rule for v in report.violations] == ["files"]
    assert "flows.csv is missing" in report.violations[0].message
    shutil.copy(run / "assignments.csv", run / "flows.csv")
    assert "flows.csv lacks the column(s) provider, service_line, volume" in str(
        verify(tiny, run).violations[0]
    )


def test_bad_numbers_and_unknown_ids(tiny: csu_opt.Instance, run: Path) -> None:
    _edit_csv(
        run,
        "assignments.csv",
        lambda a: a.assign(share=a["share"].astype(str).where(a["ccg"] != "C2", "lots")),
    )
    _edit_csv(
        run,
        "flows.csv",
        lambda f: f.assign(provider=f["provider"].where(f["provider"] != "P1", "P9")),
    )
    report = verify(tiny, run)
    messages = [str(v) for v in report.violations]
    assert "[files] assignments.csv line 3: share 'lots' is not a number" in messages
    assert "[ids] flows.csv line 2: provider 'P9' not in the instance" in messages
    assert any("CCG C2 is not placed with any lead" in m for m in messages)


def test_a_run_without_solution_is_not_verified(tiny: csu_opt.Instance, run: Path) -> None:
    _edit_summary(run, lambda s: s.update(status="infeasible", objective=None))
    report = verify(tiny, run)
    assert not report.ok
    assert [v.rule for v in report.violations] == ["status"]


def test_verify_run_applies_the_runs_overrides(tmp_path: Path) -> None:
    """A run solved with --set is checked against the same changed instance."""
    changed = csu_opt.load_instance(DATA / "tiny.yaml", ["settings.lead_providers.min=2"])
    sol = csu_opt.solve(changed, mip_gap=1e-9)
    assert len(sol.leads) == 2
    write_files(sol, tmp_path)
    report = verify_run(DATA / "tiny.yaml", tmp_path)
    assert report.ok, format_report(report)
    assert report.notes == ["checked with the run's overrides: settings.lead_providers.min=2"]
    # against tiny.yaml as it is (max 2 leads, min 1) the 2-lead network is still valid, but
    # with max 1 it is not
    strict = csu_opt.load_instance(DATA / "tiny.yaml", ["settings.lead_providers.max=1"])
    assert [v.rule for v in verify(strict, tmp_path).violations] == ["C1"]
