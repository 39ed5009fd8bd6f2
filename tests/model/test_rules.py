"""Known answers for the rules of model/formulation.md (issue 2).

Every rule C1-C11 gets a tiny instance where it binds and a twin where it is made slack;
the model's optimum must equal the brute-force oracle's (``tests/oracle.py``) on both, the
two optima must differ, and where the arithmetic is short the hand-worked value is asserted
too. Then: the five service lines of the 2014 framework, seeded random tiny instances (feasible and
infeasible), a proven-infeasible case and a time-limited solve that reports a gap.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import csu_opt
from csu_opt.instance.load import Instance
from factories.oracle_refs import random_case
from factories.rules import (
    RANDOM_SEEDS,
    REL,
    RULE_CASES,
    big_instance,
    build,
    lead_only,
    prov,
    sub_only,
)
from oracle import OracleResult
from oracle import solve as oracle_solve

# --------------------------------------------------------------------------- helpers


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
