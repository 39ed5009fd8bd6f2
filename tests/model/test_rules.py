"""Known answers for the rules of model/formulation.md (issue 2).

Every rule C1-C11 gets a tiny instance where it binds and a twin where it is made slack;
the model's optimum must equal the brute-force oracle's (``tests/oracle.py``) on both, the
two optima must differ, and where the arithmetic is short the hand-worked value is asserted
too. Then: the five service lines of the 2014 framework, seeded random tiny instances (feasible and
infeasible), a proven-infeasible case and a time-limited solve that reports a gap.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import csu_opt
from csu_opt.instance.load import Instance, instance_from_document
from oracle import OracleResult
from oracle import solve as oracle_solve

REL = 1e-6


# --------------------------------------------------------------------------- helpers


def prov(pid: str, **kw: Any) -> dict[str, Any]:
    """A provider record; lead-capable by default with a zero lead fixed cost."""
    return {"id": pid, "lead_fixed_cost": 0, **kw}


def lead_only(pid: str, **kw: Any) -> dict[str, Any]:
    return prov(pid, can_subcontract=False, **kw)


def sub_only(pid: str, **kw: Any) -> dict[str, Any]:
    return prov(pid, can_lead=False, **kw)


def build(
    *,
    providers: list[dict[str, Any]],
    caps: list[tuple[str, str, float, float, float]],
    demand: list[tuple[str, str, float]],
    lines: dict[str, dict[str, float]] | None = None,
    settings: dict[str, Any] | None = None,
    ccgs: list[str] | None = None,
    t: dict[tuple[str, str], float] | None = None,
    k: dict[tuple[str, str], float] | None = None,
    name: str = "rules",
) -> Instance:
    """An Instance from compact tables.

    ``caps`` rows are (provider, line, capacity, quality, unit_cost); ``demand`` rows are
    (ccg, line, volume); ``lines`` maps a line id to its thresholds (default: one line A);
    ``t`` maps (lead, ccg) and ``k`` maps (subcontractor, lead) to a cost.
    """
    lines = lines if lines is not None else {"A": {}}
    if ccgs is None:
        ccgs = list(dict.fromkeys(c for c, _, _ in demand))
    doc: dict[str, Any] = {
        "schema": "csu-opt/1",
        "name": name,
        "service_lines": [{"id": s, **kw} for s, kw in lines.items()],
        "settings": settings or {},
        "providers": providers,
        "capabilities": [
            {"provider": p, "service_line": s, "capacity": a, "quality": q, "unit_cost": c}
            for p, s, a, q, c in caps
        ],
        "ccgs": [{"id": c} for c in ccgs],
        "demand": [{"ccg": c, "service_line": s, "volume": v} for c, s, v in demand],
    }
    if t:
        doc["assignment_costs"] = [{"lead": a, "ccg": c, "cost": v} for (a, c), v in t.items()]
    if k:
        doc["partnership_costs"] = [
            {"subcontractor": p, "lead": a, "cost": v} for (p, a), v in k.items()
        ]
    return instance_from_document(doc, Path("<test>"))


def solve_both(inst: Instance) -> tuple[csu_opt.Solution, OracleResult | None]:
    """The model's solution and the oracle's answer, asserted to agree."""
    sol = csu_opt.solve(inst, mip_gap=1e-9, time_limit=60)
    ref = oracle_solve(inst)
    if ref is None:
        assert sol.status == "infeasible", (
            f"oracle: infeasible, model: {sol.status} {sol.objective}"
        )
        assert sol.status == "infeasible"
    else:
        assert sol.status == "optimal", f"oracle: {ref.objective}, model: {sol.status}"
        assert sol.objective == pytest.approx(ref.objective, rel=REL, abs=REL), (
            f"model {sol.objective} != oracle {ref.objective} ({ref.roles})"
        )
        assert sol.cost_breakdown.total == pytest.approx(sol.objective, rel=REL, abs=REL)
    return sol, ref


def roles_of(sol: csu_opt.Solution) -> dict[str, str]:
    """provider -> 'lead' | 'exit' | 'sub:L1;L2'."""
    out = {}
    for r in sol.roles.itertuples(index=False):
        out[r.provider] = f"sub:{r.leads}" if r.role == "subcontractor" else str(r.role)
    return out


# --------------------------------------------------------------------------- C1-C11
# Each case builds the instance with the rule binding (slack=False) or made slack
# (slack=True). Hand values are in the table RULE_CASES below, with their arithmetic.


def c1_lead_max(slack: bool) -> Instance:
    # two self-sufficient leads; each CCG is dear to place with the other one
    return build(
        providers=[prov("P1", lead_fixed_cost=10), prov("P2", lead_fixed_cost=10)],
        caps=[("P1", "A", 100, 100, 0), ("P2", "A", 100, 100, 0)],
        demand=[("C1", "A", 10), ("C2", "A", 10)],
        t={("P1", "C2"): 50, ("P2", "C1"): 50},
        settings={"lead_providers": {"min": 1, "max": 2 if slack else 1}},
    )


def c1_lead_min(slack: bool) -> Instance:
    return build(
        providers=[prov("P1", lead_fixed_cost=10), prov("P2", lead_fixed_cost=10)],
        caps=[("P1", "A", 100, 100, 0), ("P2", "A", 100, 100, 0)],
        demand=[("C1", "A", 10), ("C2", "A", 10)],
        settings={"lead_providers": {"min": 1 if slack else 2}},
    )


def c2_max_leads_per_sub(slack: bool) -> Instance:
    # two leads (forced) deliver A only; each needs a B-eligible subcontractor (C8);
    # P3 is cheap, P4 dear: with m = 1 each lead needs its own
    return build(
        lines={"A": {}, "B": {}},
        providers=[
            lead_only("P1", lead_fixed_cost=10),
            lead_only("P2", lead_fixed_cost=10),
            sub_only("P3", subcontractor_fixed_cost=1),
            sub_only("P4", subcontractor_fixed_cost=20),
        ],
        caps=[
            ("P1", "A", 100, 100, 0),
            ("P2", "A", 100, 100, 0),
            ("P3", "B", 100, 100, 0),
            ("P4", "B", 100, 100, 0),
        ],
        demand=[("C1", "A", 10), ("C1", "B", 10), ("C2", "A", 10), ("C2", "B", 10)],
        settings={
            "lead_providers": {"min": 2, "max": 2},
            "max_leads_per_subcontractor": 2 if slack else 1,
        },
    )


def c2_exit_or_stay(slack: bool) -> Instance:
    # a provider is active only with a role: P3 (exit cost 30) stays only as a subcontractor,
    # which costs G = 12 but saves the exit; with X = 0 it leaves instead
    return build(
        providers=[
            lead_only("P1", lead_fixed_cost=10),
            sub_only("P3", subcontractor_fixed_cost=12, exit_cost=0 if slack else 30),
        ],
        caps=[("P1", "A", 100, 100, 1), ("P3", "A", 100, 100, 1)],
        demand=[("C1", "A", 20)],
    )


def c3_sub_only_to_lead(slack: bool) -> Instance:
    # P3 would partner for free with P2, but P2 is too dear to lead; joining the actual lead
    # P1 costs k = 40 (0 when slack), exiting costs 30
    return build(
        providers=[
            lead_only("P1", lead_fixed_cost=10),
            lead_only("P2", lead_fixed_cost=1000),
            sub_only("P3", exit_cost=30),
        ],
        caps=[("P1", "A", 100, 100, 0), ("P2", "A", 100, 100, 0), ("P3", "A", 100, 100, 0)],
        demand=[("C1", "A", 10)],
        k={("P3", "P1"): 0 if slack else 40, ("P3", "P2"): 0},
    )


def c4_every_ccg_served(slack: bool) -> Instance:
    # C2 must be placed in full, in a lead's network (P2 cannot lead usefully: no capability)
    demand = [("C1", "A", 10)] + ([] if slack else [("C2", "A", 20)])
    return build(
        providers=[
            prov("P1", lead_fixed_cost=10),
            prov("P2", lead_fixed_cost=1000, subcontractor_fixed_cost=1),
        ],
        caps=[("P1", "A", 100, 100, 1)],
        demand=demand,
        ccgs=["C1"] if slack else ["C1", "C2"],
        t={("P1", "C2"): 7, ("P2", "C2"): 0} if not slack else None,
    )


def c5_network_balance(slack: bool) -> Instance:
    # two leads forced; P1 delivers at 5, P2 at 1; C1 is dear to place with P2 (t = 100),
    # so C1's demand is delivered inside P1's network at 5 (when slack, t = 0)
    return build(
        providers=[
            prov("P1", lead_fixed_cost=10),
            prov("P2", lead_fixed_cost=10),
        ],
        caps=[("P1", "A", 100, 100, 5), ("P2", "A", 100, 100, 1)],
        demand=[("C1", "A", 10), ("C2", "A", 10)],
        t={("P2", "C1"): 0 if slack else 100, ("P1", "C2"): 100},
        settings={"lead_providers": {"min": 2, "max": 2}},
    )


def c6_capacity(slack: bool) -> Instance:
    return build(
        providers=[lead_only("P1", lead_fixed_cost=10), sub_only("P3")],
        caps=[("P1", "A", 100 if slack else 50, 100, 1), ("P3", "A", 100, 100, 3)],
        demand=[("C1", "A", 80)],
    )


def c6_shared_capacity(slack: bool) -> Instance:
    # P3 (free) subcontracts to both leads; its capacity is shared across the networks
    return build(
        providers=[
            lead_only("P1", lead_fixed_cost=0),
            lead_only("P2", lead_fixed_cost=0),
            sub_only("P3"),
        ],
        caps=[
            ("P1", "A", 20, 100, 10),
            ("P2", "A", 20, 100, 10),
            ("P3", "A", 60 if slack else 30, 100, 0),
        ],
        demand=[("C1", "A", 30), ("C2", "A", 30)],
        settings={"lead_providers": {"min": 2}, "max_leads_per_subcontractor": 2},
    )


def c7_eligibility(slack: bool) -> Instance:
    # P1 (quality 40) is eligible only when θ = 40; otherwise P3 must deliver everything
    return build(
        lines={"A": {"quality_threshold": 40 if slack else 50}},
        providers=[lead_only("P1", lead_fixed_cost=10), sub_only("P3", subcontractor_fixed_cost=5)],
        caps=[("P1", "A", 100, 40, 1), ("P3", "A", 100, 90, 2)],
        demand=[("C1", "A", 30)],
    )


def c8_full_coverage(slack: bool) -> Instance:
    # line B has no demand at all, yet P1's network must hold a B-eligible member
    lines = {"A": {}} if slack else {"A": {}, "B": {}}
    caps = [("P1", "A", 100, 100, 1)]
    if not slack:
        caps.append(("P3", "B", 100, 100, 0))
    return build(
        lines=lines,
        providers=[lead_only("P1", lead_fixed_cost=10), sub_only("P3", subcontractor_fixed_cost=5)],
        caps=caps,
        demand=[("C1", "A", 30)],
    )


def c8_zero_capacity(slack: bool) -> Instance:
    # P1's quality in B is fine but its capacity is 0: not eligible (C7), so it recruits P3
    return build(
        lines={"A": {}, "B": {"quality_threshold": 50}},
        providers=[lead_only("P1", lead_fixed_cost=10), sub_only("P3", subcontractor_fixed_cost=5)],
        caps=[
            ("P1", "A", 100, 100, 1),
            ("P1", "B", 1 if slack else 0, 100, 0),
            ("P3", "B", 100, 100, 0),
        ],
        demand=[("C1", "A", 30)],
    )


def c9_network_quality(slack: bool) -> Instance:
    return build(
        lines={"A": {"network_quality_target": 0 if slack else 70}},
        providers=[lead_only("P1", lead_fixed_cost=100), sub_only("P3")],
        caps=[("P1", "A", 100, 60, 1), ("P3", "A", 100, 90, 3)],
        demand=[("C1", "A", 30)],
    )


def c10_self_delivery(slack: bool) -> Instance:
    return build(
        providers=[lead_only("P1", lead_fixed_cost=10), sub_only("P3")],
        caps=[("P1", "A", 100, 100, 5), ("P3", "A", 100, 100, 1)],
        demand=[("C1", "A", 100)],
        settings={"lead_self_delivery_min_share": 0.0 if slack else 0.4},
    )


def c11_viability(slack: bool) -> Instance:
    return build(
        providers=[
            lead_only("P1", lead_fixed_cost=10),
            sub_only("P3", exit_cost=100, min_volume=0 if slack else 50),
        ],
        caps=[("P1", "A", 100, 100, 1), ("P3", "A", 100, 100, 2)],
        demand=[("C1", "A", 60)],
    )


def single_sourcing(slack: bool) -> Instance:
    # C1 (100) fits no lead's own capacity (60): single-sourced it needs P3 at 5 a unit
    return build(
        providers=[
            lead_only("P1", lead_fixed_cost=10),
            lead_only("P2", lead_fixed_cost=10),
            sub_only("P3"),
        ],
        caps=[("P1", "A", 60, 100, 0), ("P2", "A", 60, 100, 0), ("P3", "A", 100, 100, 5)],
        demand=[("C1", "A", 100), ("C2", "A", 20)],
        settings={"single_sourcing": not slack},
    )


# name -> (builder, hand value binding, hand value slack, roles when binding or None)
RULE_CASES: dict[str, tuple[Callable[[bool], Instance], float, float, dict | None]] = {
    # max 1: one lead F 10 + the other CCG's t 50 = 60; max 2: F 10 + F 10 = 20
    "C1_lead_max": (c1_lead_max, 60, 20, None),
    # min 2: 10 + 10 = 20; min 1: 10
    "C1_lead_min": (c1_lead_min, 20, 10, {"P1": "lead", "P2": "lead"}),
    # m 1: F 10 + 10 + G3 1 + G4 20 = 41; m 2: 10 + 10 + P3 twice (1 + 1) = 22
    "C2_max_leads_per_subcontractor": (c2_max_leads_per_sub, 41, 22, None),
    # X3 30: F 10 + 20 x 1 + G3 12 = 42 (< 10 + 20 + 30); X3 0: 10 + 20 = 30
    "C2_exit_or_stay": (
        c2_exit_or_stay,
        42,
        30,
        {"P1": "lead", "P3": "sub:P1"},
    ),
    # k 40: F 10 + min(k 40, X 30) = 40; k 0: 10 + 0 = 10 (what a C3-less model gives anyway)
    "C3_subcontract_only_to_a_lead": (
        c3_sub_only_to_lead,
        40,
        10,
        {"P1": "lead", "P2": "exit", "P3": "exit"},
    ),
    # F 10 + 30 x 1 + t 7 = 47; without C2: 10 + 10 x 1 = 20
    "C4_every_ccg_placed": (c4_every_ccg_served, 47, 20, {"P1": "lead", "P2": "exit"}),
    # 10 + 10 + C1 at P1 (10 x 5 = 50 < 100 + 10) + C2 at P2 (10 x 1) = 80; t 0: 20 + 20 = 40
    "C5_network_balance": (c5_network_balance, 80, 40, None),
    # cap 50: 10 + 50 x 1 + 30 x 3 = 150; cap 100: 10 + 80 x 1 = 90
    "C6_capacity": (c6_capacity, 150, 90, {"P1": "lead", "P3": "sub:P1"}),
    # P3 cap 30: 30 at 0 + 30 at 10 from the leads = 300; cap 60: 0
    "C6_capacity_shared_across_networks": (
        c6_shared_capacity,
        300,
        0,
        {"P1": "lead", "P2": "lead", "P3": "sub:P1;P2"},
    ),
    # θ 50: 10 + G 5 + 30 x 2 = 75; θ 40: 10 + 30 x 1 = 40
    "C7_eligibility": (c7_eligibility, 75, 40, {"P1": "lead", "P3": "sub:P1"}),
    # with B: 10 + 30 x 1 + G 5 = 45; without B: 10 + 30 = 40
    "C8_full_coverage_without_demand": (c8_full_coverage, 45, 40, {"P1": "lead", "P3": "sub:P1"}),
    # B capacity 0: same as above, 45; capacity 1: 40
    "C8_zero_capacity_is_not_eligible": (
        c8_zero_capacity,
        45,
        40,
        {"P1": "lead", "P3": "sub:P1"},
    ),
    # Q 70: -10 x1 + 20 x3 >= 0, x1 + x3 = 30 -> x1 20, x3 10: 100 + 20 + 30 = 150; Q 0: 130
    "C9_network_quality": (c9_network_quality, 150, 130, {"P1": "lead", "P3": "sub:P1"}),
    # ρ 0.4: own >= 40: 10 + 40 x 5 + 60 x 1 = 270; ρ 0: 10 + 100 x 1 = 110
    "C10_self_delivery": (c10_self_delivery, 270, 110, {"P1": "lead", "P3": "sub:P1"}),
    # v 50: stay, 10 + 50 x 2 + 10 x 1 = 120 (< exit: 10 + 60 + 100); v 0: 10 + 60 = 70
    "C11_viability": (c11_viability, 120, 70, {"P1": "lead", "P3": "sub:P1"}),
    # single: C1 at P1 (60 x 0 + 40 x 5), C2 at P2: 20 + 200 = 220; split: 20
    "single_sourcing": (single_sourcing, 220, 20, None),
}


@pytest.mark.parametrize("rule", list(RULE_CASES))
def test_rule_switches_the_answer(rule: str) -> None:
    builder, hand_tight, hand_slack, roles = RULE_CASES[rule]
    sol, ref = solve_both(builder(False))
    sol_slack, ref_slack = solve_both(builder(True))
    assert ref is not None and ref_slack is not None
    assert ref.objective == pytest.approx(hand_tight)
    assert ref_slack.objective == pytest.approx(hand_slack)
    assert sol.objective == pytest.approx(hand_tight, rel=REL)
    assert sol_slack.objective == pytest.approx(hand_slack, rel=REL, abs=REL)
    assert abs(sol.objective - sol_slack.objective) > 1e-3
    if roles is not None:
        assert roles_of(sol) == roles


def test_c4_ccg_without_demand_is_still_placed_with_a_lead() -> None:
    # C2 has no demand but Σ_l z[l,C2] = 1 with z <= u: it sits with the lead P1 (t 7),
    # not with the non-lead P2 (t 0): 10 + 10 x 1 + 7 = 27
    inst = build(
        providers=[
            prov("P1", lead_fixed_cost=10),
            prov("P2", lead_fixed_cost=1000, subcontractor_fixed_cost=1),
        ],
        caps=[("P1", "A", 100, 100, 1)],
        demand=[("C1", "A", 10), ("C2", "A", 0)],
        t={("P1", "C2"): 7, ("P2", "C2"): 0},
    )
    sol, ref = solve_both(inst)
    assert ref is not None and ref.objective == pytest.approx(27)
    assert sol.objective == pytest.approx(27, rel=REL)
    assert set(sol.assignments["lead"]) == {"P1"}


@pytest.mark.parametrize(("single", "hand"), [(True, 70), (False, 20)], ids=["single", "split"])
def test_facility_location_special_case(single: bool, hand: float) -> None:
    # the facility-location special case: one line, everybody can lead and nobody can
    # subcontract, q 100, θ 0, c 0, v 0, X 0, ρ 0, no lead bounds: capacitated facility location.
    # Demand 8 + 8 + 4 = 20. Split: P1 and P2 (capacity 10 each) take it all, 10 + 10 = 20.
    # Single: no facility holds 8 + 4, so C3 needs P3 too: 10 + 10 + 50 = 70.
    inst = build(
        providers=[
            lead_only("P1", lead_fixed_cost=10),
            lead_only("P2", lead_fixed_cost=10),
            lead_only("P3", lead_fixed_cost=50),
        ],
        caps=[("P1", "A", 10, 100, 0), ("P2", "A", 10, 100, 0), ("P3", "A", 10, 100, 0)],
        demand=[("C1", "A", 8), ("C2", "A", 8), ("C3", "A", 4)],
        settings={"single_sourcing": single},
    )
    sol, ref = solve_both(inst)
    assert ref is not None and ref.objective == pytest.approx(hand)
    assert sol.objective == pytest.approx(hand, rel=REL)


def test_tiny_yaml_known_optimum() -> None:
    inst = csu_opt.load_instance(Path(__file__).parents[1] / "data" / "tiny.yaml")
    sol, ref = solve_both(inst)
    assert ref is not None and ref.objective == pytest.approx(142)
    assert sol.leads == ["P2"]


# --------------------------------------------------------------------------- five lines


def test_five_spec_lines() -> None:
    lines = ["BST", "PROC", "REDES", "COMMS", "BI"]
    theta = {"BST": 60, "PROC": 65, "REDES": 55, "COMMS": 50, "BI": 70}
    target = {"BST": 70, "PROC": 0, "REDES": 0, "COMMS": 0, "BI": 75}
    # (capacity, quality, unit cost) per provider and line; absent = not offered
    offer = {
        "CSU_N": {
            "BST": (300, 72, 1.0),
            "PROC": (200, 70, 1.2),
            "REDES": (80, 50, 1.0),
            "COMMS": (60, 65, 0.8),
            "BI": (150, 72, 1.5),
        },
        "CSU_S": {
            "BST": (250, 66, 0.9),
            "PROC": (150, 64, 1.0),
            "REDES": (120, 60, 1.1),
            "COMMS": (50, 55, 0.9),
            "BI": (100, 68, 1.3),
        },
        "FIRM": {"BST": (400, 85, 1.4), "BI": (300, 90, 1.8), "PROC": (100, 75, 1.6)},
        "CHARITY": {"REDES": (150, 80, 0.7), "COMMS": (120, 75, 0.6)},
    }
    caps = [(p, s, *vals) for p, row in offer.items() for s, vals in row.items()]
    demand = [
        ("CCG1", "BST", 120), ("CCG1", "PROC", 60), ("CCG1", "REDES", 30),
        ("CCG1", "COMMS", 20), ("CCG1", "BI", 50),
        ("CCG2", "BST", 90), ("CCG2", "PROC", 70), ("CCG2", "REDES", 40),
        ("CCG2", "COMMS", 25), ("CCG2", "BI", 60),
        ("CCG3", "BST", 60), ("CCG3", "PROC", 30), ("CCG3", "REDES", 20),
        ("CCG3", "COMMS", 10),  # no BI demand: the lines still have to be covered (C8)
    ]  # fmt: skip
    inst = build(
        lines={
            s: {"quality_threshold": theta[s], "network_quality_target": target[s]} for s in lines
        },
        providers=[
            prov(
                "CSU_N",
                kind="csu",
                lead_fixed_cost=120,
                subcontractor_fixed_cost=15,
                exit_cost=200,
                min_volume=100,
            ),
            prov(
                "CSU_S",
                kind="csu",
                lead_fixed_cost=100,
                subcontractor_fixed_cost=10,
                exit_cost=180,
                min_volume=80,
            ),
            prov("FIRM", kind="private", lead_fixed_cost=150, subcontractor_fixed_cost=20),
            sub_only("CHARITY", kind="charity", subcontractor_fixed_cost=5, exit_cost=40),
        ],
        caps=caps,
        demand=demand,
        t={("CSU_N", "CCG3"): 40, ("CSU_S", "CCG1"): 30, ("FIRM", "CCG2"): 25},
        k={("CHARITY", "FIRM"): 12},
        settings={
            "lead_providers": {"min": 1, "max": 2},
            "single_sourcing": True,
            "max_leads_per_subcontractor": 2,
            "lead_self_delivery_min_share": 0.2,
        },
        name="five-lines",
    )
    sol, ref = solve_both(inst)
    # the oracle's optimum (4 role assignments needed an LP): CSU_S leads for all three CCGs,
    # the other three subcontract to it; BST and BI quality targets force a fractional mix
    assert ref is not None and ref.objective == pytest.approx(893.4769230769, rel=1e-9)
    assert sol.leads == ["CSU_S"]
    assert sorted(sol.flows["service_line"].unique()) == sorted(lines)


# --------------------------------------------------------------------------- random


def random_instance(seed: int) -> Instance:
    """A random tiny instance; roughly one in five is over-demanded to make infeasible ones."""
    rng = np.random.default_rng(seed)
    single = bool(rng.random() < 0.5)
    n_prov = int(rng.integers(3, 6))
    n_lines = int(rng.integers(1, 4))
    n_ccg = int(rng.integers(2, 4 if single else 5))
    m = int(rng.integers(1, 3))
    if single and n_prov == 5 and m == 2:
        n_ccg = 2  # keep the oracle's enumeration small
    lines = [f"S{i}" for i in range(n_lines)]
    ps = [f"P{i}" for i in range(n_prov)]
    cs = [f"C{i}" for i in range(n_ccg)]
    can_lead = rng.random(n_prov) < 0.6
    can_lead[int(rng.integers(n_prov))] = True
    providers = []
    for i, p in enumerate(ps):
        rec: dict[str, Any] = {
            "id": p,
            "can_lead": bool(can_lead[i]),
            "can_subcontract": bool(rng.random() < 0.75),
            "lead_fixed_cost": int(rng.integers(20, 100)),
            "subcontractor_fixed_cost": int(rng.integers(0, 20)),
            "exit_cost": int(rng.integers(0, 40)),
        }
        if rng.random() < 0.25:
            rec["min_volume"] = int(rng.integers(5, 30))
        providers.append(rec)
    line_recs = {}
    for s in lines:
        line_recs[s] = {
            "quality_threshold": int(rng.choice([0, 40, 50])),
            "network_quality_target": int(rng.choice([0, 0, 0, 55, 65])),
        }
    caps = []
    for p in ps:
        for s in lines:
            if rng.random() < 0.85:
                caps.append(
                    (
                        p,
                        s,
                        int(rng.integers(0, 11)) * 10,
                        int(rng.integers(35, 101)),
                        float(rng.integers(0, 11)) / 2,
                    )
                )
    over = 3 if rng.random() < 0.15 else 1
    demand = [
        (c, s, int(rng.integers(5, 31)) * over) for c in cs for s in lines if rng.random() < 0.8
    ]
    if not demand:
        demand = [(cs[0], lines[0], 10)]
    t = {(p, c): int(rng.integers(0, 20)) for p in ps for c in cs if rng.random() < 0.4}
    k = {(p, q): int(rng.integers(0, 10)) for p in ps for q in ps if p != q and rng.random() < 0.2}
    lo = [None, 1, 2][int(rng.integers(3))]
    hi = [None, 1, 2, 3][int(rng.integers(4))]
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
    band = {key: val for key, val in (("min", lo), ("max", hi)) if val is not None}
    settings = {
        "lead_providers": band,
        "single_sourcing": single,
        "max_leads_per_subcontractor": m,
        "lead_self_delivery_min_share": float(rng.choice([0.0, 0.0, 0.2, 0.3])),
    }
    return build(
        lines=line_recs,
        providers=providers,
        caps=caps,
        demand=demand,
        ccgs=cs,
        t=t,
        k=k,
        settings=settings,
        name=f"random-{seed}",
    )


RANDOM_SEEDS = range(36)


@functools.cache
def random_case(seed: int) -> tuple[Instance, OracleResult | None]:
    inst = random_instance(seed)
    return inst, oracle_solve(inst)


@pytest.mark.parametrize("seed", RANDOM_SEEDS)
def test_random_model_equals_oracle(seed: int) -> None:
    inst, ref = random_case(seed)
    sol = csu_opt.solve(inst, mip_gap=1e-9, time_limit=60)
    if ref is None:
        assert sol.status == "infeasible"
    else:
        assert sol.status == "optimal"
        assert sol.objective == pytest.approx(ref.objective, rel=REL, abs=REL)
        assert sol.cost_breakdown.total == pytest.approx(sol.objective, rel=REL, abs=REL)


def test_random_set_mixes_feasible_and_infeasible_and_settings() -> None:
    cases = [random_case(seed) for seed in RANDOM_SEEDS]
    infeasible = sum(ref is None for _, ref in cases)
    assert 4 <= infeasible <= len(cases) - 20
    settings = [inst.settings for inst, _ in cases]
    assert {s.single_sourcing for s in settings} == {True, False}
    assert {s.max_leads_per_subcontractor for s in settings} == {1, 2}
    assert any(s.lead_self_delivery_min_share > 0 for s in settings)
    assert any(s.lead_min and s.lead_min > 1 for s in settings)
    assert any(s.lead_max == 1 for s in settings)
    assert any((inst.service_lines["network_quality_target"] > 0).any() for inst, _ in cases)
    assert any((inst.providers["min_volume"] > 0).any() for inst, _ in cases)


# --------------------------------------------------------------------------- limits


def test_infeasible_instance_is_reported() -> None:
    # the only lead-capable provider cannot cover line B and nobody else offers it (C8)
    inst = build(
        lines={"A": {}, "B": {"quality_threshold": 60}},
        providers=[lead_only("P1", lead_fixed_cost=10), sub_only("P2")],
        caps=[("P1", "A", 100, 100, 1), ("P1", "B", 100, 50, 1), ("P2", "B", 100, 59, 1)],
        demand=[("C1", "A", 10)],
    )
    assert oracle_solve(inst) is None
    sol = csu_opt.solve(inst, mip_gap=1e-9)
    assert sol.status == "infeasible"
    assert sol.status == "infeasible"
    assert sol.objective is None


def big_instance(seed: int = 7) -> Instance:
    """10 providers x 150 CCGs x 2 lines, single sourcing.

    HiGHS (1 thread) finds a first solution within about 0.1-0.5 s of wall time even on this
    busy machine, but needs about 20 s to prove optimality (gap about 20 % after 1 s).
    """
    rng = np.random.default_rng(seed)
    lines = ["BST", "PROC"]
    ps = [f"P{i:02d}" for i in range(10)]
    cs = [f"C{i:03d}" for i in range(150)]
    providers = [
        {
            "id": p,
            "can_lead": bool(i < 6),
            "lead_fixed_cost": int(rng.integers(500, 1500)),
            "subcontractor_fixed_cost": int(rng.integers(10, 100)),
            "exit_cost": int(rng.integers(0, 300)),
        }
        for i, p in enumerate(ps)
    ]
    caps = [
        (
            p,
            s,
            int(rng.integers(100, 600)),
            int(rng.integers(40, 100)),
            round(float(rng.uniform(0.5, 3.0)), 2),
        )
        for p in ps
        for s in lines
        if rng.random() < 0.8
    ]
    demand = [(c, s, int(rng.integers(1, 20))) for c in cs for s in lines]
    t = {(p, c): int(rng.integers(0, 80)) for p in ps[:6] for c in cs}
    return build(
        lines={s: {} for s in lines},
        providers=providers,
        caps=caps,
        demand=demand,
        ccgs=cs,
        t=t,
        settings={"lead_providers": {"min": 3, "max": 8}, "single_sourcing": True},
        name="big",
    )


def test_time_limit_reports_a_gap() -> None:
    inst = big_instance()
    start = time.perf_counter()
    sol = csu_opt.solve(inst, time_limit=1.0, mip_gap=1e-9, threads=1)
    assert time.perf_counter() - start < 15
    assert sol.status == "feasible"
    assert sol.status.has_solution
    assert sol.objective is not None and sol.best_bound is not None
    assert sol.objective >= sol.best_bound - 1e-6
    assert sol.mip_gap is not None and sol.mip_gap > 0
