"""Mergers (issue 8, item 5): known answers, a brute-force oracle, files, CLI and round trips.

The threshold cases are worked by hand (the arithmetic is next to each case) and checked with
a brute-force oracle for mergers: for every set S of mergers that share no member, the merged
bodies of S replace their members as ordinary providers that must stay active, the other
bodies are left out, ``tests/oracle.py`` solves what remains and S's merger costs are added;
the optimum is the least over S.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

import csu_opt
from csu_opt.cli.main import main
from csu_opt.errors import InstanceError, UsageError
from csu_opt.instance.load import Instance, instance_from_document, load_instance, replace
from csu_opt.results.solution import Role, write_files
from csu_opt.results.verify import verify, verify_solution
from factories.mergers import build, document, random_instance
from oracle import solve as oracle_solve

REL = 1e-6
ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "instances" / "demo.yaml"
DEMO_MERGERS = ROOT / "instances" / "demo-mergers.yaml"
#: The exit cost that keeps a formed body active in the oracle's sub-problem.
FORMED = 1e6


# --------------------------------------------------------------------------- helpers


def solve(inst: Instance) -> csu_opt.Solution:
    return csu_opt.solve(inst, mip_gap=1e-9, time_limit=60, backend="pyomo")


def roles_of(sol: csu_opt.Solution) -> dict[str, str]:
    """provider -> 'lead', 'exit', 'sub:L', 'merged:M' (unformed bodies are absent)."""
    out = {}
    for r in sol.roles.itertuples(index=False):
        role = str(r.role)
        out[r.provider] = (
            f"{role[:3] if role == 'subcontractor' else role}:{r.leads}"
            if role
            in (
                "subcontractor",
                "merged",
            )
            else role
        )
    return out


def _without(frame: pd.DataFrame, gone: set[str], *cols: str) -> pd.DataFrame:
    return frame[~frame[list(cols)].isin(gone).any(axis=1)]


def merger_oracle(inst: Instance) -> tuple[float, frozenset[str]] | None:
    """The optimum by enumerating the sets of formed mergers (module docstring)."""
    members = inst.merger_members
    cost = dict(zip(inst.mergers["id"], inst.mergers["merger_cost"].astype(float), strict=True))
    best: tuple[float, frozenset[str]] | None = None
    for n in range(len(members) + 1):
        for formed in itertools.combinations(members, n):
            absorbed = [m for b in formed for m in members[b]]
            if len(absorbed) != len(set(absorbed)):
                continue  # two formed mergers share a member
            gone = set(absorbed) | (set(members) - set(formed))
            prov = inst.providers.drop(index=list(gone))
            prov.loc[list(formed), "exit_cost"] = FORMED
            sub = replace(
                inst,
                providers=prov,
                capabilities=_without(inst.capabilities, gone, "provider"),
                assignment_costs=_without(inst.assignment_costs, gone, "lead"),
                partnership_costs=_without(inst.partnership_costs, gone, "subcontractor", "lead"),
            )
            ref = oracle_solve(sub)
            if ref is None or ref.objective >= FORMED / 2:
                continue
            total = ref.objective + sum(cost[b] for b in formed)
            if best is None or total < best[0] - 1e-9:
                best = (total, frozenset(formed))
    return best


def check_against_oracle(inst: Instance) -> csu_opt.Solution:
    sol = solve(inst)
    ref = merger_oracle(inst)
    if ref is None:
        assert sol.status == "infeasible"
        return sol
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(ref[0], rel=REL, abs=REL)
    assert sol.cost_breakdown is not None
    assert sol.cost_breakdown.total == pytest.approx(sol.objective, rel=REL, abs=REL)
    report = verify_solution(inst, sol)
    assert report.ok, report.violations
    return sol


# --------------------------------------------------------------------------- thresholds


def two_leads(synergy: float) -> Instance:
    """P1, P2 lead-only, F = 100 each, capacity 60 each: demand 100 needs both.

    Separately: both lead, 100 + 100 + delivery 100 = 300. Merged (merger cost 20): one
    body of capacity 120, F = (1 - s) 200, so 200 (1 - s) + 20 + 100; formed iff
    200 s > 20, i.e. s > 0.1 = merger_cost / ΣF.
    """
    lead = {"can_subcontract": False, "lead_fixed_cost": 100, "exit_cost": 30}
    return build(
        [{"id": "P1", **lead}, {"id": "P2", **lead}],
        [("P1", "A", 60, 80, 1.0), ("P2", "A", 60, 80, 1.0)],
        [{"id": "M", "members": "P1;P2", "merger_cost": 20, "synergy": synergy}],
    )


def exit_saved(synergy: float) -> Instance:
    """P1 (capacity 100) can serve everything alone; P2 (capacity 60) then exits (X = 30).

    Separately: P1 leads, P2 exits: 100 + 30 + 100 = 230. Merged: 200 (1 - s) + 20 + 100
    and no exit cost (P2 is absorbed, not made redundant); formed iff 320 - 200 s < 230,
    i.e. s > 0.45.
    """
    lead = {"can_subcontract": False, "lead_fixed_cost": 100, "exit_cost": 30}
    return build(
        [{"id": "P1", **lead}, {"id": "P2", **lead}],
        [("P1", "A", 100, 80, 1.0), ("P2", "A", 60, 80, 1.0)],
        [{"id": "M", "members": "P1;P2", "merger_cost": 20, "synergy": synergy}],
    )


THRESHOLD_CASES = [
    # builder, synergy, hand-worked optimum, formed?, breakdown parts asserted
    (two_leads, 0.05, 300.0, False, {"lead_fixed": 200, "exit": 0, "merger": 0}),
    (two_leads, 0.25, 270.0, True, {"lead_fixed": 150, "exit": 0, "merger": 20}),
    (exit_saved, 0.40, 230.0, False, {"lead_fixed": 100, "exit": 30, "merger": 0}),
    (exit_saved, 0.50, 220.0, True, {"lead_fixed": 100, "exit": 0, "merger": 20}),
]


@pytest.mark.parametrize(
    ("builder", "synergy", "optimum", "formed", "parts"),
    THRESHOLD_CASES,
    ids=[f"{b.__name__}-s{s}" for b, s, *_ in THRESHOLD_CASES],
)
def test_merger_chosen_exactly_when_synergy_beats_separate_costs(
    builder, synergy, optimum, formed, parts
):
    inst = builder(synergy)
    sol = check_against_oracle(inst)
    assert sol.objective == pytest.approx(optimum, rel=REL)
    roles = roles_of(sol)
    if formed:
        assert roles == {"P1": "merged:M", "P2": "merged:M", "M": "lead"}
        assert sol.leads == ["M"] and sol.mergers == ["M"]
    else:
        assert "M" not in roles  # an unformed body is left out of roles.csv
        assert all(r in ("lead", "exit") for r in roles.values())
    for name, value in parts.items():
        assert getattr(sol.cost_breakdown, name) == pytest.approx(value, abs=REL)


def test_the_threshold_is_where_both_costs_meet():
    # at s = 0.1 (two_leads) and s = 0.45 (exit_saved) merging and not merging cost the same
    assert solve(two_leads(0.1)).objective == pytest.approx(300.0, rel=REL)
    assert solve(exit_saved(0.45)).objective == pytest.approx(230.0, rel=REL)


def test_alternative_mergers_sharing_a_member_are_never_both_formed():
    """P1-P3 lead-only, capacity 40 each, F = 100, demand 100 (split); M12 and M23 share P2.

    With synergy 0.9 each body costs 20: M12 + M23 would serve 160 for 40, but they cannot
    both absorb P2. Best: one body (capacity 80) + the third provider (40): 20 + 100 + 100.
    """
    inst = shared_member()
    sol = check_against_oracle(inst)
    assert sol.objective == pytest.approx(220.0, rel=REL)
    assert len(sol.mergers) == 1
    roles = roles_of(sol)
    body = sol.mergers[0]
    other = {"M12": "P3", "M23": "P1"}[body]
    assert roles["P2"] == f"merged:{body}" and roles[other] == "lead" and roles[body] == "lead"
    assert set(roles) == {"P1", "P2", "P3", body}


def shared_member() -> Instance:
    lead = {"can_subcontract": False, "lead_fixed_cost": 100}
    return build(
        [{"id": p, **lead} for p in ("P1", "P2", "P3")],
        [(p, "A", 40, 80, 1.0) for p in ("P1", "P2", "P3")],
        [
            {"id": "M12", "members": "P1;P2", "synergy": 0.9},
            {"id": "M23", "members": "P2;P3", "synergy": 0.9},
        ],
        settings={"single_sourcing": False},
    )


def override_case(rule: str | None = None, explicit: bool = False) -> Instance:
    """θ = 75. P1 (q 80) and P2 (q 60) have capacity 60 each at unit cost 1; P3 (q 90,
    capacity 100, unit cost 2) can serve alone for 100 + 200 = 300. The body's derived
    quality is 70 (capacity-weighted): not eligible, so 300. With the best member's quality
    (``max``) or an explicit capabilities row for the body (q 80) it is: 50 + 10 + 100 = 160.
    """
    lead = {"can_subcontract": False, "lead_fixed_cost": 100}
    merger: dict[str, Any] = {"id": "M", "members": "P1;P2", "merger_cost": 10, "synergy": 0.75}
    if rule:
        merger["quality_rule"] = rule
    extra = [{"provider": "M", "service_line": "A", "capacity": 110, "quality": 80, "unit_cost": 1}]
    return build(
        [{"id": p, **lead} for p in ("P1", "P2", "P3")],
        [("P1", "A", 60, 80, 1.0), ("P2", "A", 60, 60, 1.0), ("P3", "A", 100, 90, 2.0)],
        [merger],
        lines={"A": {"quality_threshold": 75}},
        extra_caps=extra if explicit else None,
    )


@pytest.mark.parametrize(
    ("rule", "explicit", "quality", "capacity", "optimum"),
    [
        (None, False, 70.0, 120.0, 300.0),
        ("max", False, 80.0, 120.0, 160.0),
        (None, True, 80.0, 110.0, 160.0),
    ],
    ids=["derived-weighted", "derived-max", "explicit-row"],
)
def test_capability_of_the_body_derived_or_given(rule, explicit, quality, capacity, optimum):
    inst = override_case(rule, explicit)
    cap = inst.capabilities.set_index(["provider", "service_line"])
    assert cap.at[("M", "A"), "quality"] == pytest.approx(quality)
    assert cap.at[("M", "A"), "capacity"] == pytest.approx(capacity)
    assert (("M", "A") in inst.derived["capabilities"]) is not explicit
    sol = check_against_oracle(inst)
    assert sol.objective == pytest.approx(optimum, rel=REL)
    assert (sol.mergers == ["M"]) is (optimum < 300)
    if explicit:
        assert sol.flows.set_index("provider").at["M", "volume"] == pytest.approx(100.0)


def test_derived_body():
    inst = build(
        [
            {"id": "A", "kind": "csu", "region": "N", "lead_fixed_cost": 100,
             "subcontractor_fixed_cost": 10, "exit_cost": 7, "min_volume": 5, "staff": 30},
            {"id": "B", "kind": "csu", "region": "S", "can_lead": False,
             "subcontractor_fixed_cost": 30, "min_volume": 6, "staff": 20},
            {"id": "C", "kind": "private", "lead_fixed_cost": 50},
        ],
        [("A", "A", 30, 80, 1.0), ("B", "A", 10, 60, 2.0), ("C", "A", 100, 90, 1.2)],
        [
            {"id": "AB", "members": ["A", "B"], "synergy": 0.2},
            {"id": "AC", "members": "A; C", "name": "A and C", "can_subcontract": False},
        ],
    )  # fmt: skip
    p = inst.providers
    assert p.loc["AB", ["kind", "region", "can_lead", "can_subcontract", "merger_of"]].tolist() == [
        "csu", "N", True, True, "A;B"
    ]  # fmt: skip
    assert p.at["AB", "lead_fixed_cost"] == pytest.approx(0.8 * 100)  # B cannot lead
    assert p.at["AB", "subcontractor_fixed_cost"] == pytest.approx(0.8 * 40)
    assert p.loc["AB", ["exit_cost", "min_volume", "staff"]].tolist() == [0.0, 11.0, 50.0]
    assert p.loc["AC", ["name", "kind", "can_subcontract"]].tolist() == ["A and C", "other", False]
    assert p.at["AC", "lead_fixed_cost"] == pytest.approx(150.0)
    assert p.loc[["A", "B", "C"], "merger_of"].tolist() == ["", "", ""]
    cap = inst.capabilities.set_index(["provider", "service_line"])
    assert cap.loc[("AB", "A")].tolist() == pytest.approx([40, (30 * 80 + 10 * 60) / 40, 1.25])
    assert inst.merger_members == {"AB": ("A", "B"), "AC": ("A", "C")}


def test_derived_assignment_and_partnership_costs():
    """t[body, c] is the least over its lead members (missing = 0); k likewise per side."""
    doc = document(
        [{"id": p, "lead_fixed_cost": 10} for p in ("A", "B", "L")],
        [(p, "A", 100, 80, 1.0) for p in ("A", "B", "L")],
        [{"id": "AB", "members": "A;B"}],
    )
    doc["assignment_costs"] = [
        {"lead": "A", "ccg": "C1", "cost": 5},
        {"lead": "B", "ccg": "C1", "cost": 3},
        {"lead": "A", "ccg": "C2", "cost": 4},  # B has none for C2: the body pays 0
        {"lead": "AB", "ccg": "C2", "cost": 9},  # explicit: kept as given
    ]
    doc["partnership_costs"] = [
        {"subcontractor": "A", "lead": "L", "cost": 2},
        {"subcontractor": "B", "lead": "L", "cost": 6},
        {"subcontractor": "L", "lead": "A", "cost": 8},
        {"subcontractor": "L", "lead": "B", "cost": 1},
    ]
    inst = instance_from_document(doc, Path("<test>"))
    t = inst.assignment_costs.set_index(["lead", "ccg"])["cost"]
    k = inst.partnership_costs.set_index(["subcontractor", "lead"])["cost"]
    assert t[("AB", "C1")] == 3 and t[("AB", "C2")] == 9
    assert k[("AB", "L")] == 2 and k[("L", "AB")] == 1
    assert inst.derived["assignment_costs"] == {("AB", "C1")}
    assert inst.derived["partnership_costs"] == {("AB", "L"), ("L", "AB")}
    assert not inst.warnings


@pytest.mark.parametrize("seed", range(8))
def test_random_instances_agree_with_the_merger_oracle(seed):
    check_against_oracle(random_instance(seed))


# --------------------------------------------------------------------------- validation


BAD_MERGERS = """
mergers:
  - {id: M1, members: P1;P33}
  - {id: M2, members: P2}
  - {id: M3, members: P1;P3;P1}
  - {id: P3, members: P1;P2}
  - {id: M5, members: P1;P2, synergy: 1.5, quality_rule: best}
"""


def test_invalid_mergers_give_located_errors_exit_1(tmp_path):
    bad = tmp_path / "bad.yaml"
    text = (ROOT / "tests" / "data" / "tiny.yaml").read_text()
    bad.write_text(text + BAD_MERGERS)
    result = CliRunner().invoke(main, ["validate", str(bad)])
    assert result.exit_code == 1
    err = result.stderr
    assert "Traceback" not in err and "Traceback" not in result.stdout
    for where, what in [
        ("mergers row 1, field 'members'", "'P33' is not an id in providers; did you mean 'P3'?"),
        ("mergers row 2, field 'members'", "at least 2 members, got 1"),
        ("mergers row 3, field 'members'", "listed twice: P1"),
        ("mergers row 4, field 'id'", "'P3' is already a provider id"),
        ("mergers row 5, field 'synergy'", "1.5 is outside 0-1"),
        ("mergers row 5, field 'quality_rule'", "expected one of weighted, max"),
    ]:
        line = next((ln for ln in err.splitlines() if where in ln), None)
        assert line is not None, f"{where} not in:\n{err}"
        assert what in line, line


def test_body_capability_row_needs_a_unit_cost():
    doc = document(
        [{"id": "P1", "lead_fixed_cost": 1}, {"id": "P2", "lead_fixed_cost": 1}],
        [("P1", "A", 60, 80, 1.0), ("P2", "A", 60, 80, 1.0)],
        [{"id": "M", "members": "P1;P2"}],
        extra_caps=[{"provider": "M", "service_line": "A", "capacity": 1, "quality": 90}],
    )
    with pytest.raises(InstanceError) as exc:
        instance_from_document(doc, Path("<test>"))
    (problem,) = exc.value.problems
    assert (problem.table, problem.row, problem.field) == ("capabilities", "row 3", "unit_cost")
    assert "merged body" in problem.message


def test_a_member_cannot_be_a_merger_and_bodies_are_providers_elsewhere():
    doc = document(
        [{"id": "P1", "lead_fixed_cost": 1}, {"id": "P2", "lead_fixed_cost": 1}],
        [("P1", "A", 60, 80, 1.0), ("P2", "A", 60, 80, 1.0)],
        [{"id": "M", "members": "P1;P2"}, {"id": "MM", "members": "M;P1"}],
    )
    doc["assignment_costs"] = [{"lead": "M", "ccg": "C1", "cost": 1}]  # a body: accepted
    with pytest.raises(InstanceError) as exc:
        instance_from_document(doc, Path("<test>"))
    (problem,) = exc.value.problems
    assert (problem.table, problem.row, problem.field) == ("mergers", "row 2", "members")
    assert "'M' is not an id in providers" in problem.message


def test_synergy_cannot_be_scaled():
    with pytest.raises(UsageError, match="cannot be scaled"):
        two_leads(0.2).with_changes(["mergers.synergy*=2"])


# --------------------------------------------------------------------------- files


def test_roles_verify_and_a_corrupted_solution(tmp_path):
    inst = two_leads(0.25)
    sol = solve(inst)
    folder = tmp_path / "run"
    folder.mkdir()
    write_files(sol, folder)
    roles = pd.read_csv(folder / "roles.csv", keep_default_na=False)
    assert list(roles.columns) == ["provider", "kind", "role", "leads", "staff", "merger_of"]
    assert roles.set_index("provider").loc[
        ["P1", "P2", "M"], ["role", "leads", "merger_of"]
    ].values.tolist() == [["merged", "M", ""], ["merged", "M", ""], ["lead", "M", "P1;P2"]]
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["cost_breakdown"]["merger"] == pytest.approx(20.0)
    assert summary["counts"]["merged"] == 2 and summary["mergers"] == ["M"]
    assert Role.MERGED.value == "merged"
    report = verify(inst, folder)
    assert report.ok, report.violations
    assert report.breakdown is not None and report.breakdown.merger == pytest.approx(20.0)

    # a member active alongside its formed body
    bad = roles.copy()
    bad.loc[bad["provider"] == "P1", ["role", "leads"]] = ["subcontractor", "M"]
    bad.to_csv(folder / "roles.csv", index=False)
    report = verify(inst, folder)
    assert not report.ok
    assert any("P1 is active alongside the merged body M" in v.message
               for v in report.by_rule("mergers"))  # fmt: skip

    # the absorbed members' exit costs charged after all
    roles.to_csv(folder / "roles.csv", index=False)
    summary["cost_breakdown"]["exit"] = 60.0
    summary["objective"] += 60.0
    (folder / "summary.json").write_text(json.dumps(summary))
    report = verify(inst, folder)
    assert report.rules_violated == ["breakdown", "objective"]


def test_verify_catches_a_merged_member_of_an_unformed_body(tmp_path):
    inst = two_leads(0.05)  # not formed: P1 and P2 lead
    sol = solve(inst)
    folder = tmp_path / "run"
    folder.mkdir()
    write_files(sol, folder)
    roles = pd.read_csv(folder / "roles.csv", keep_default_na=False)
    assert "M" not in set(roles["provider"]) and "merger_of" in roles.columns
    assert verify(inst, folder).ok
    roles.loc[roles["provider"] == "P2", ["role", "leads"]] = ["merged", "M"]
    roles.to_csv(folder / "roles.csv", index=False)
    report = verify(inst, folder)
    assert any("not formed" in v.message for v in report.by_rule("mergers"))


def test_to_document_round_trip_and_with_changes():
    inst = load_instance(DEMO_MERGERS)
    doc = inst.to_document()
    assert "NORTHMIDS" not in set(doc["providers"]["id"])
    assert "merger_of" not in doc["providers"].columns
    assert "NORTHMIDS" not in set(doc["capabilities"]["provider"])
    assert doc["mergers"]["members"].tolist() == ["NORTH;MIDS", "MIDS;COUNCIL", "DATA;ENGAGE"]
    again = instance_from_document(doc, Path(inst.source))
    for table in ("providers", "capabilities", "assignment_costs", "partnership_costs"):
        pd.testing.assert_frame_equal(getattr(again, table), getattr(inst, table))
    pd.testing.assert_frame_equal(again.mergers, inst.mergers)
    assert again.derived == inst.derived

    changed = inst.with_changes(
        ["mergers.NORTHMIDS.synergy=0.5", "providers.NORTH.lead_fixed_cost=2000"]
    )
    assert changed.providers.at["NORTHMIDS", "lead_fixed_cost"] == pytest.approx(0.5 * 3000)
    assert changed.overrides[-2:] == (
        "mergers.NORTHMIDS.synergy=0.5",
        "providers.NORTH.lead_fixed_cost=2000",
    )
    scaled = inst.with_changes(["capabilities.capacity*=2"])
    cap = scaled.capabilities.set_index(["provider", "service_line"])["capacity"]
    assert cap[("NORTHMIDS", "BST")] == pytest.approx(2 * (14000 + 7000))


def test_workbook_export_keeps_the_mergers(tmp_path):
    from csu_opt.instance.export import write_workbook

    yaml_out = tmp_path / "dm-xlsx.yaml"
    write_workbook(DEMO_MERGERS, tmp_path / "dm.xlsx", yaml_out)
    inst, back = load_instance(DEMO_MERGERS), load_instance(yaml_out)
    pd.testing.assert_frame_equal(back.mergers, inst.mergers)
    pd.testing.assert_frame_equal(back.providers, inst.providers)


# --------------------------------------------------------------------------- shipped example


def test_demo_mergers_validates_solves_and_beats_the_demo(tmp_path):
    result = CliRunner().invoke(main, ["validate", str(DEMO_MERGERS)])
    assert result.exit_code == 0, result.output
    inst = load_instance(DEMO_MERGERS)
    assert list(inst.mergers["id"]) == ["NORTHMIDS", "MIDSCOUNCIL", "SPECIALISTS"]
    sol = solve(inst)
    demo = solve(load_instance(DEMO))
    assert sol.status == "optimal" and demo.status == "optimal"
    # every network of the demo is still possible (no merger formed): never worse
    assert sol.objective <= demo.objective + 1e-6
    assert sol.objective == pytest.approx(87754.84, abs=0.01)
    assert sol.mergers == ["NORTHMIDS", "SPECIALISTS"]
    assert verify_solution(inst, sol).ok
    # without any synergy and merger cost 0 or more, no merger pays: the demo's optimum
    flat = inst.with_changes(["mergers.*.synergy=0"])
    flat_sol = solve(flat)
    assert flat_sol.objective == pytest.approx(demo.objective, rel=REL)
    assert flat_sol.mergers == []


def test_cli_solve_plot_compare_on_a_merger_run(tmp_path):
    runner = CliRunner()
    run = tmp_path / "dm"
    result = runner.invoke(main, ["solve", str(DEMO_MERGERS), "--out", str(run)])
    assert result.exit_code == 0, result.output
    assert "merged: NORTH, MIDS into NORTHMIDS" in result.stdout
    assert runner.invoke(main, ["verify", str(DEMO_MERGERS), str(run)]).exit_code == 0
    for kind in ("network", "costs", "lines"):
        out = tmp_path / f"{kind}.svg"
        result = runner.invoke(main, ["plot", str(run), "--kind", kind, "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 0
    svg = (tmp_path / "network.svg").read_text()
    assert "member:NORTHMIDS:PRIVCO" in svg and 'member:NORTHMIDS:NORTH"' not in svg
    assert "cost:" in (tmp_path / "costs.svg").read_text()
    html = tmp_path / "report.html"
    assert runner.invoke(main, ["report", str(run), "--out", str(html)]).exit_code == 0
    assert "merger" in html.read_text()
    demo = tmp_path / "demo"
    assert runner.invoke(main, ["solve", str(DEMO), "--out", str(demo)]).exit_code == 0
    result = runner.invoke(main, ["compare", str(demo), str(run)])
    assert result.exit_code == 0, result.output
    assert "merged" in result.stdout


def test_sweep_varies_a_merger_synergy(tmp_path):
    path = tmp_path / "two.yaml"
    doc = document(
        [{"id": p, "can_subcontract": False, "lead_fixed_cost": 100, "exit_cost": 30}
         for p in ("P1", "P2")],
        [("P1", "A", 60, 80, 1.0), ("P2", "A", 60, 80, 1.0)],
        [{"id": "M1", "members": "P1;P2", "merger_cost": 20}],
    )  # fmt: skip
    import yaml

    path.write_text(yaml.safe_dump(doc))
    export = tmp_path / "sweep.csv"
    result = CliRunner().invoke(
        main,
        [
            "sweep", str(path), "--vary", "mergers.M1.synergy=0.05,0.25",
            "--out", str(tmp_path / "sweep"), "--export", str(export), "--workers", "1",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(export).sort_values("mergers.M1.synergy")
    assert rows["objective"].tolist() == pytest.approx([300.0, 270.0])
    assert rows["leads"].tolist() == ["P1;P2", "M1"]


@pytest.mark.parametrize(
    ("make", "optimum"),
    [
        (shared_member, 220.0),
        (lambda: two_leads(0.25), 270.0),
        (lambda: exit_saved(0.4), 230.0),
        (lambda: override_case("max"), 160.0),
    ],
    ids=["shared-member", "two-leads", "exit-saved", "override"],
)
def test_matrix_backend_reaches_the_same_optima(make, optimum):
    """The array path (csu_opt.model.matrix) builds the merger rows and costs too."""
    inst = make()
    mx = csu_opt.solve(inst, mip_gap=1e-9, time_limit=60, backend="matrix")
    assert mx.objective == pytest.approx(optimum, rel=REL)
    assert verify_solution(inst, mx).ok


def test_resilience_a_failed_member_takes_its_merged_bodies_with_it() -> None:
    # in N-1, a provider that fails cannot come back inside a merged body
    from csu_opt.analysis.resilience import failed_bodies, repair_without
    from csu_opt.solver.options import SolveOptions

    inst = csu_opt.load_instance(Path(__file__).parents[2] / "instances/demo-mergers.yaml")
    bodies = inst.providers[inst.providers["merger_of"] != ""]
    members = {m for ms in bodies["merger_of"] for m in ms.split(";")}
    assert "MIDS" in members
    assert set(failed_bodies(inst, "MIDS")) == {"MIDS"} | {
        b for b, ms in bodies["merger_of"].items() if "MIDS" in ms.split(";")
    }
    options = SolveOptions(time_limit=60, backend="pyomo")
    base = csu_opt.solve(inst, time_limit=60, backend="pyomo")
    repaired, _ = repair_without(inst, base, "MIDS", options, repair="reoptimise")
    assert repaired.status.has_solution
    active = set(
        repaired.roles.loc[repaired.roles["role"].isin(["lead", "subcontractor"]), "provider"]
    )
    assert not active & set(failed_bodies(inst, "MIDS"))
