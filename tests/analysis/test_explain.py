"""explain names the rule behind each deliberately infeasible variant of tiny.yaml, and the
relaxation it suggests is the smallest one: feasible when applied, infeasible one step further.

Each ``infeasible_*.yaml`` says in its description why it is infeasible and from where on it
becomes feasible; the numbers below are worked out by hand from tiny.yaml's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

import csu_opt
from csu_opt.analysis.conflict import applicable_groups
from csu_opt.analysis.explain import explain, format_explanation
from csu_opt.analysis.findings import Explanation
from csu_opt.analysis.necessary import necessary_checks

DATA = Path(__file__).parents[1] / "data"


@dataclass(frozen=True)
class Case:
    file: str
    rule: str  # the rule the conflict must name
    finding: str | None  # the rule a necessary-condition check must name (None: MIP only)
    message: str | None  # the start of that finding, in the planner's words
    overrides: tuple[str, ...] | None  # the smallest relaxation, when it is unique
    stricter: tuple[str, ...] | None  # one step short of it: still infeasible


CASES = [
    Case(
        "capacity",
        "C6",
        "C6",
        "Service line A: eligible capacity 150 at quality bar 50, demand 225",
        ("capabilities.capacity*=1.5",),
        ("capabilities.capacity*=1.49",),
    ),
    Case(
        "lead_min",
        "C1",
        "C1",
        "at least 3 leads required, but only 2 providers can lead (P1, P2)",
        ("settings.lead_providers.min=2",),
        None,
    ),
    Case(
        "lead_max",
        "C1",
        "C1",
        "at most 1 lead allowed: service line A then has at most 30 of usable capacity",
        ("settings.lead_providers.max=2",),
        None,
    ),
    Case(
        "coverage",
        "C8",
        "C8",
        "at least 2 leads required, but only 1 lead-capable provider (P2) can reach every",
        None,
        None,
    ),
    Case(
        "eligibility",
        "C7",
        "C7",
        "Service line B: eligible capacity 0 at quality bar 95, demand 30; at bar 90 it would "
        "be 80",
        ("service_lines.B.quality_threshold=90",),
        ("service_lines.B.quality_threshold=90.5",),
    ),
    Case(
        "quality",
        "C9",
        "C9",
        "Service line B: network quality target 95, but even the best eligible providers",
        ("service_lines.B.network_quality_target=90",),
        ("service_lines.B.network_quality_target=91",),
    ),
    Case(
        "self_delivery",
        "C10",
        "C10",
        "every lead must deliver at least 90% of its network's volume itself",
        ("settings.lead_self_delivery_min_share=0.6",),
        ("settings.lead_self_delivery_min_share=0.61",),
    ),
    Case(
        "viability",
        "C11",
        "C11",
        "P3 needs at least 100 to stay active but can deliver at most 30, so it must exit",
        ("providers.P3.min_volume=30",),
        ("providers.P3.min_volume=31",),
    ),
    Case("max_subs", "C2", None, None, None, None),
]


def _load(name: str, overrides: tuple[str, ...] = ()) -> csu_opt.Instance:
    return csu_opt.load_instance(DATA / f"infeasible_{name}.yaml", list(overrides))


def highs_status(name: str, overrides: tuple[str, ...]) -> csu_opt.Status:
    return csu_opt.solve(_load(name, overrides)).status


@pytest.fixture(scope="module")
def explained() -> dict[str, Explanation]:
    return {c.file: explain(_load(c.file), time_limit=30, alternatives=False) for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=[c.file for c in CASES])
def test_the_instance_really_is_infeasible(case: Case) -> None:
    assert highs_status(case.file, ()) is csu_opt.Status.INFEASIBLE


@pytest.mark.parametrize("case", CASES, ids=[c.file for c in CASES])
def test_explain_names_the_rule(case: Case, explained: dict[str, Explanation]) -> None:
    e = explained[case.file]
    assert e.feasible is False
    assert case.rule in e.conflict, format_explanation(e)
    assert set(e.conflict) <= set(applicable_groups(_load(case.file)))
    proofs = [f for f in e.findings if f.proves_infeasible]
    if case.finding is None:
        assert proofs == []
    else:
        assert [f.rule for f in proofs] == [case.finding], [str(f) for f in proofs]
        assert case.message is not None
        assert proofs[0].message.startswith(case.message), proofs[0].message


@pytest.mark.parametrize("case", CASES, ids=[c.file for c in CASES])
def test_the_suggestion_is_feasible_and_smallest(
    case: Case, explained: dict[str, Explanation]
) -> None:
    s = explained[case.file].suggestion
    assert s is not None and s.verified, format_explanation(explained[case.file])
    assert s.rule in explained[case.file].conflict
    sol = csu_opt.solve(_load(case.file, s.overrides))
    assert sol.status is csu_opt.Status.OPTIMAL
    assert sol.objective == pytest.approx(s.objective)
    if case.overrides is not None:
        assert s.overrides == case.overrides
    if case.stricter is not None:
        assert highs_status(case.file, case.stricter) is csu_opt.Status.INFEASIBLE


def test_conflicts_found_by_the_deletion_filter(explained: dict[str, Explanation]) -> None:
    """Worked out by hand: each set is infeasible together and feasible minus any one."""
    assert {c.file: explained[c.file].conflict for c in CASES} == {
        "capacity": ["C6"],
        "lead_min": ["C1"],
        "lead_max": ["C1", "C6"],  # more capacity also lets one lead do
        "coverage": ["C8", "C1", "C7"],  # one lead, or a lower bar for B lets P1 cover B
        "eligibility": ["C7"],
        "quality": ["C9"],
        "self_delivery": ["C10", "C7"],  # with no bar P1 delivers B itself
        "viability": ["C11", "C7"],  # a bar of 60 for B brings P2 in
        "max_subs": ["C8", "C2", "C1", "C7"],
    }


def test_alternatives_cover_every_conflicting_rule_with_a_knob() -> None:
    e = explain(_load("max_subs"), time_limit=30)
    found = {s.rule: s for s in [e.suggestion, *e.alternatives] if s is not None}
    assert set(found) == {"C7", "C1", "C2"}  # C8 (full coverage) has no knob to turn
    assert found["C2"].overrides == ("settings.max_leads_per_subcontractor=2",)
    assert found["C1"].overrides == ("settings.lead_providers.min=1",)
    assert found["C7"].overrides == ("service_lines.B.quality_threshold=60",)
    for s in found.values():
        assert s.verified
        assert highs_status("max_subs", s.overrides) is csu_opt.Status.OPTIMAL
    text = "\n".join(format_explanation(e))
    assert "--set settings.max_leads_per_subcontractor=2" in text


def test_a_feasible_instance() -> None:
    e = explain(csu_opt.load_instance(DATA / "tiny.yaml"))
    assert e.feasible is True
    assert e.conflict == [] and e.suggestion is None
    assert not any(f.proves_infeasible for f in e.findings)
    assert e.solves == 1
    assert format_explanation(e)[0] == "The instance is feasible."


def test_a_line_nobody_offers_cannot_be_relaxed_away() -> None:
    """No capability in line B at all: no rule group is to blame, only the data."""
    inst = csu_opt.load_instance(
        DATA / "tiny.yaml",
        ["capabilities.*.B.capacity=0"],
    )
    checks = necessary_checks(inst)
    assert [f.rule for f in checks if f.proves_infeasible] == ["C6"]
    e = explain(inst, time_limit=30)
    assert e.feasible is False and e.conflict == [] and e.suggestion is None
    assert "definitional rules" in e.message


def test_two_quality_bars_relaxed_together() -> None:
    """Bars of 95 on both lines: the best bars are 70 for A (P1) and 90 for B (P3)."""
    bars = ["service_lines.A.quality_threshold=95", "service_lines.B.quality_threshold=95"]
    inst = csu_opt.load_instance(DATA / "tiny.yaml", bars)
    e = explain(inst, time_limit=30, alternatives=False)
    assert [f.rule for f in e.findings if f.proves_infeasible] == ["C7", "C7"]
    assert e.conflict == ["C7"]
    s = e.suggestion
    assert s is not None and s.verified
    assert s.overrides == (
        "service_lines.A.quality_threshold=70",
        "service_lines.B.quality_threshold=90",
    )
    for stricter in (
        ["service_lines.A.quality_threshold=70.5"],
        ["service_lines.B.quality_threshold=90.5"],
    ):
        changed = inst.with_changes([*s.overrides, *stricter])
        assert csu_opt.solve(changed).status is csu_opt.Status.INFEASIBLE
