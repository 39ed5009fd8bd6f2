"""explain on what-ifs (issue 16): a moves limit, robust N-1 and merger exclusivity are rule
groups of their own, so an infeasible what-if on a feasible instance is explained by the
rules it collides with, and the fewest moves that work is found and verified by a solve.

Known answers, worked by hand from ``tests/data/whatif_disruption.yaml`` (its description
has the arithmetic) with L1's minimum volume raised to 15:

- today C1 is in L1's network and C2, C3 in L2's (``whatif_incumbent.csv``), 10 each;
- keeping that (K = 0) is impossible: L1 leads with C1's 10 only, and a lead delivers only
  in its own network, so it cannot reach 15 (C11);
- one move works: C1 to L2 (L1 closes): 10 + 3 + 3 + 3 = 19; C2 to L1 instead costs 23.
  ``tests/oracle.py`` confirms the fewest moves by enumeration.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from csu_opt.analysis.disruption import fewest_moves, read_incumbent, solve_with_incumbent
from csu_opt.analysis.explain import explain, format_explanation
from csu_opt.analysis.tradeoff import format_tradeoff, tradeoff
from csu_opt.analysis.whatif_rules import DoubleCoverage, MovesLimit
from csu_opt.instance.load import Instance, load_instance
from csu_opt.results.solution import Status
from csu_opt.solver.options import SolveOptions
from csu_opt.solver.solve import solve
from oracle import fewest_moves as brute_fewest_moves

DATA = Path(__file__).parents[1] / "data"
OPTS = SolveOptions(mip_gap=1e-9, time_limit=60)
TODAY = {"C1": "L1", "C2": "L2", "C3": "L2"}  # whatif_incumbent.csv


def disruption(*overrides: str) -> Instance:
    return load_instance(DATA / "whatif_disruption.yaml", list(overrides))


@pytest.fixture(scope="module")
def incumbent():  # type: ignore[no-untyped-def]
    return read_incumbent(DATA / "whatif_incumbent.csv")


def test_keeping_today_collides_with_viability(incumbent) -> None:  # type: ignore[no-untyped-def]
    inst = disruption("providers.L1.min_volume=15")
    assert solve(inst, OPTS).status is Status.OPTIMAL  # the instance itself is feasible
    assert solve_with_incumbent(inst, incumbent, OPTS, max_moves=0).status is Status.INFEASIBLE
    e = explain(inst, time_limit=30, rules=[MovesLimit(incumbent, 0)])
    text = "\n".join(format_explanation(e))
    assert e.feasible is False and e.base_feasible is True, text
    assert e.whatif == "keeping every CCG where it is today"
    assert text.startswith("INFEASIBLE: keeping every CCG where it is today is impossible")
    assert "The instance is feasible." not in text
    assert e.conflict == ["C11", "moves"]  # without either one it is feasible
    why = [f for f in e.findings if f.proves_infeasible]
    assert [(f.rule, f.whatif) for f in why] == [("C11", "moves")]
    assert why[0].message.startswith(
        "L1 needs at least 15 to stay active, but as the lead with today's CCGs (C1) it can "
        "deliver at most 10 itself"
    )
    s = e.suggestion
    assert s is not None and s.rule == "moves" and s.verified
    assert s.flags == ("--max-moves 1",) and s.overrides == ()
    assert s.objective == pytest.approx(19.0)
    assert s.text == (
        "the fewest moves that work is 1 (proven by a solve that minimises moves); the "
        "cheapest such network moves C1 from L1 to L2"
    )
    assert brute_fewest_moves(inst, TODAY) == 1
    # the other way out, with today's networks kept: L1's minimum down to what it delivers
    alt = {a.rule: a for a in e.alternatives}
    assert alt["C11"].overrides == ("providers.L1.min_volume=10",) and alt["C11"].verified
    assert alt["C11"].objective == pytest.approx(26.0)


def test_forced_moves_are_the_whole_reason(incumbent) -> None:  # type: ignore[no-untyped-def]
    """L2 cannot lead: C2 and C3 must move whatever the rules, so one move is not enough."""
    inst = disruption("providers.L2.can_lead=false")
    e = explain(inst, time_limit=30, rules=[MovesLimit(incumbent, 1)])
    assert e.feasible is False and e.base_feasible is True
    assert e.whatif == "moving at most 1 CCG from today's networks"
    assert e.conflict == ["moves"]
    why = [f for f in e.findings if f.proves_infeasible]
    assert [f.rule for f in why] == ["moves"]
    assert why[0].message.startswith(
        "2 CCGs must move because their lead today cannot lead in this instance (L2): C2, C3"
    )
    assert e.suggestion is not None and e.suggestion.flags == ("--max-moves 2",)
    assert e.suggestion.verified and e.suggestion.objective == pytest.approx(10.0)
    assert brute_fewest_moves(inst, TODAY) == 2
    assert "whatever the other rules" in e.message


def test_a_feasible_moves_limit_and_an_infeasible_instance(incumbent) -> None:  # type: ignore[no-untyped-def]
    e = explain(disruption(), time_limit=30, rules=[MovesLimit(incumbent, 0)])
    assert e.feasible is True
    assert format_explanation(e)[0] == "Feasible: keeping every CCG where it is today is possible."
    # an instance infeasible on its own: the moves limit is not blamed
    broken = disruption("capabilities.capacity*=0.09")  # 9 x 3 < 30 of demand
    e = explain(broken, time_limit=30, rules=[MovesLimit(incumbent, 0)])
    assert e.feasible is False and e.base_feasible is False
    assert e.conflict == ["C6"]
    assert format_explanation(e)[0] == (
        "The instance is INFEASIBLE, even without keeping every CCG where it is today."
    )


def test_fewest_moves_against_brute_force(incumbent) -> None:  # type: ignore[no-untyped-def]
    for overrides, expected in (
        ((), 0),
        (("providers.L1.min_volume=15",), 1),
        (("providers.L2.can_lead=false",), 2),
        (("providers.L1.min_volume=15", "providers.L2.can_lead=false"), 2),
    ):
        inst = disruption(*overrides)
        fm = fewest_moves(inst, incumbent, OPTS)
        assert fm.k == brute_fewest_moves(inst, TODAY) == expected, overrides
        assert fm.proven and fm.at_least == expected


def test_tradeoff_gives_each_infeasible_point_its_reason(incumbent) -> None:  # type: ignore[no-untyped-def]
    inst = disruption("providers.L1.min_volume=15")
    t = tradeoff(inst, incumbent, OPTS)
    assert t.fewest is not None and t.fewest.k == 1 and t.fewest.proven
    assert list(t.table["status"]) == ["infeasible", "optimal", "optimal"]  # K = 0, 1, any
    assert list(t.table["objective"][1:]) == pytest.approx([19.0, 10.0])
    reason = t.table["reason"][0]
    assert reason.startswith("keeping every CCG where it is today is impossible: L1 needs at")
    assert "it collides with C11 viability" in reason
    assert reason.endswith("the fewest moves that work is 1")
    assert list(t.table["reason"][1:]) == ["", ""]
    text = "\n".join(format_tradeoff(t))
    assert "the fewest moves that work: 1 (proven)" in text
    assert "today's networks kept: impossible" in text
    assert pd.isna(t.table["max_moves"][2])


def test_robust_network_impossible_with_one_lead() -> None:
    """whatif_robust.yaml's robust network needs L1 and L2 (75, see the instance); with at
    most one lead it is impossible, and raising the maximum to 2 restores it."""
    inst = load_instance(DATA / "whatif_robust.yaml", ["settings.lead_providers.max=1"])
    e = explain(inst, time_limit=30, rules=[DoubleCoverage()])
    assert e.feasible is False and e.base_feasible is True
    assert e.conflict == ["C1", "robust"]
    why = [f for f in e.findings if f.proves_infeasible]
    assert [f.message for f in why] == [
        "a robust network needs two leads, but at most 1 lead is allowed"
    ]
    s = e.suggestion
    assert s is not None and s.verified
    assert s.overrides == ("settings.lead_providers.max=2",)
    assert s.objective == pytest.approx(75.0)
    text = format_explanation(e)
    assert text[0] == (
        "INFEASIBLE: a network that survives any single provider's exit is impossible. "
        "(Without it the instance is feasible.)"
    )


def test_robust_network_impossible_from_the_data() -> None:
    """tiny.yaml: only P1 and P2 can lead, so both must; line A is offered by P1 and P2 only,
    so each of their networks has one eligible member in A (a lead is no one's partner);
    no rule can be relaxed to change that."""
    e = explain(load_instance(DATA / "tiny.yaml"), time_limit=30, rules=[DoubleCoverage()])
    assert e.feasible is False and e.base_feasible is True
    assert e.conflict == ["robust"] and e.suggestion is None
    messages = [f.message for f in e.findings if f.proves_infeasible]
    assert messages[0].startswith("service line A has 2 eligible providers (P1, P2)")


def test_merged_body_does_not_add_capacity() -> None:
    """infeasible_merger.yaml: N and M offer 6 each, demand 15; their merged body NM offers
    the same 12 instead of them, not on top (M1). Scaling capacities by 1.25 restores it:
    N leads (10) and M subcontracts, 15 delivered at 1 a unit: 25."""
    inst = load_instance(DATA / "infeasible_merger.yaml")
    assert solve(inst, OPTS).status is Status.INFEASIBLE
    e = explain(inst, time_limit=30)
    proofs = [f for f in e.findings if f.proves_infeasible]
    assert [f.rule for f in proofs] == ["C6"]
    assert proofs[0].message.startswith(
        "Service line A: eligible capacity 12 at quality bar 0 (a merged body counts instead "
        "of its members, not on top of them), demand 15"
    )
    assert e.conflict == ["C6", "M1"]
    s = e.suggestion
    assert s is not None and s.verified and s.overrides == ("capabilities.capacity*=1.25",)
    assert s.objective == pytest.approx(25.0)
    stricter = inst.with_changes(["capabilities.capacity*=1.24"])
    assert solve(stricter, OPTS).status is Status.INFEASIBLE
    assert "M1 merger exclusivity" in "\n".join(format_explanation(e))


@pytest.mark.parametrize("seed", range(16))
def test_data_checks_never_claim_too_much(seed: int) -> None:
    """On random tiny instances (tests/model/test_cuts.py) with a random arrangement today: a
    moves-limit finding that proves K = 0 infeasible agrees with enumeration, the fewest
    moves equal enumeration's, and a robust finding that proves no robust network exists
    agrees with the robust solve."""
    import numpy as np

    from csu_opt.analysis.disruption import Incumbent
    from csu_opt.analysis.resilience import robust_network
    from factories.cuts import cut_instance

    inst = cut_instance(seed).with_changes(["settings.single_sourcing=true"])
    rng = np.random.default_rng(seed)
    leads = [p for p in inst.providers.index if inst.providers.at[p, "can_lead"]]
    today = {c: str(rng.choice(leads)) for c in inst.ccgs.index}
    inc = Incumbent(
        pd.DataFrame({"ccg": list(today), "lead": list(today.values()), "share": 1.0}),
        pd.DataFrame(columns=["subcontractor", "lead"]),
    )
    brute = brute_fewest_moves(inst, today)
    fm = fewest_moves(inst, inc, OPTS)
    assert fm.k == brute
    if any(f.proves_infeasible for f in MovesLimit(inc, 0).findings(inst)):
        assert brute is None or brute > 0
    if any(f.proves_infeasible for f in DoubleCoverage().findings(inst)):
        assert robust_network(inst, OPTS).status is Status.INFEASIBLE
