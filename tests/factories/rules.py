"""Instances for the rules of model/formulation.md: compact builders, one binding/slack pair
per rule C1-C11 (``RULE_CASES``, with their hand-worked optima), seeded random tiny instances
and a larger one that takes seconds to prove (used by test_rules, test_matrix, test_cuts,
test_start, test_reduce and test_concurrent)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from csu_opt.instance.load import Instance, instance_from_document

REL = 1e-6


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


def solve_big_until(stop: Callable[[list[Any]], bool]) -> tuple[list[Any], Any]:
    """Solve big_instance() with the root reduction (matrix backend, 1 thread, gap 1e-9, no
    greedy start), stopping once ``stop(progress lines so far)``; return the lines and the
    solution."""
    from csu_opt.solver.options import Progress, SolveOptions
    from csu_opt.solver.solve import solve

    seen: list[Progress] = []
    opts = SolveOptions(
        backend="matrix",
        mip_gap=1e-9,
        threads=1,
        start_heuristic=False,
        root_reduction=True,
        on_progress=seen.append,
        should_stop=lambda: stop(seen),
    )
    return seen, solve(big_instance(), opts)
