"""Known answers for the planner's hard questions (issue 8): resilience (N-1), disruption
(incumbent, max moves, churn, the tradeoff curve), the price of each rule and near-optimal
alternatives.

The small instances are in ``tests/data/whatif_*.yaml``, each with its arithmetic in its
description; where a value can be brute-forced, ``tests/oracle.py`` checks it too.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pandas as pd
import pytest

from csu_opt.analysis.alternatives import alternatives, format_alternatives
from csu_opt.analysis.disruption import (
    Incumbent,
    check_incumbent,
    moves_frame,
    read_incumbent,
    solve_with_incumbent,
)
from csu_opt.analysis.resilience import format_resilience, resilience, robust_network, without
from csu_opt.analysis.rulecosts import format_rule_costs, rule_costs
from csu_opt.analysis.tradeoff import format_tradeoff, tradeoff
from csu_opt.errors import InstanceError, UsageError
from csu_opt.instance.load import Instance, load_instance, replace
from csu_opt.model.index import build_index
from csu_opt.results.solution import Solution
from csu_opt.results.verify import verify_solution
from csu_opt.solver.options import SolveOptions
from csu_opt.solver.solve import solve
from oracle import fixed_cost, read, role_assignments, solve_flows
from oracle import solve as oracle_solve

DATA = Path(__file__).parents[1] / "data"
OPTS = SolveOptions(mip_gap=1e-9, time_limit=60)


def load(name: str) -> Instance:
    return load_instance(DATA / f"whatif_{name}.yaml")


def lead_of(sol: Solution) -> dict[str, str]:
    """ccg -> lead under single sourcing."""
    return dict(zip(sol.assignments["ccg"], sol.assignments["lead"], strict=True))


# --------------------------------------------------------------------------- resilience


@pytest.fixture(scope="module")
def res_case() -> tuple[Instance, Solution]:
    inst = load("resilience")
    base = solve(inst, OPTS)
    assert base.objective == pytest.approx(35.0)
    assert base.leads == ["L1"]
    return inst, base


def test_exit_that_uncovers_a_line_ranks_first(res_case: tuple[Instance, Solution]) -> None:
    inst, base = res_case
    r = resilience(inst, base, OPTS)
    t = r.table.set_index("provider")
    assert list(r.table["provider"]) == ["V", "S", "L1"]  # no repair, then +16, then +15
    assert list(r.table["rank"]) == [1, 2, 3]
    v = t.loc["V"]
    assert not v["repairable"] and v["status"] == "infeasible"
    assert v["uncovered_lines"] == "D"
    assert "C6" in v["rules"].split(";")  # the necessary check: no capacity left in D
    assert "D" in v["why"]
    # S fails: the fewest changes keep L1 and take T in (one role change, no CCG moves)
    s = t.loc["S"]
    assert s["repairable"] and s["objective"] == pytest.approx(51.0)
    assert s["extra_cost"] == pytest.approx(16.0)
    assert s["moved_ccgs"] == 0 and s["changes"] == 1
    assert s["role_changes"] == "T: exit -> sub:L1"
    # L1 fails: C1 must move to L2, which leads with V
    l1 = t.loc["L1"]
    assert l1["extra_cost"] == pytest.approx(15.0)
    assert l1["moved"] == "C1" and l1["new_leads"] == "L2"
    assert l1["changes"] == 4  # C1 moves; L2, V and S change role
    for p, sol in r.repairs.items():
        assert verify_solution(inst, sol).ok, p
    text = "\n".join(format_resilience(r))
    assert "NO REPAIR" in text and "+16" in text


def test_reoptimise_repair_matches_brute_force(res_case: tuple[Instance, Solution]) -> None:
    """Full re-optimisation after each exit costs what the oracle finds without p."""
    inst, base = res_case
    r = resilience(inst, base, OPTS, repair="reoptimise")
    ref = oracle_solve(inst)
    assert ref is not None
    for row in r.table.itertuples(index=False):
        without_p = oracle_solve(without(inst, row.provider))
        if without_p is None:
            assert not row.repairable
        else:
            assert row.extra_cost == pytest.approx(without_p.objective - ref.objective)
    # re-optimising S's exit is cheaper than the minimal-change repair (50 < 51), with C1
    # moving to L2
    s = r.table.set_index("provider").loc["S"]
    assert s["objective"] == pytest.approx(50.0) and s["moved"] == "C1"


def _double_covered(inst: Instance, sol: Solution) -> bool:
    elig = set(zip(inst.eligible["provider"], inst.eligible["service_line"], strict=True))
    roles = sol.roles
    for lead in sol.leads:
        subs = roles.loc[
            roles["leads"].str.split(";").apply(lambda ls, l=lead: l in ls), "provider"
        ]
        members = {lead, *subs}
        for s in inst.line_ids:
            if sum((p, s) in elig for p in members) < 2:
                return False
    return len(sol.leads) >= 2


def _robust_brute_force(inst: Instance) -> float:
    """The cheapest network with two leads and every line twice in every network."""
    D = read(inst)
    best = math.inf
    for leads, subs in role_assignments(D):
        if len(leads) < 2:
            continue
        members = {l: [l, *(p for p, ls in subs.items() if l in ls)] for l in leads}
        if any(sum(D.eligible(p, s) for p in members[l]) < 2 for l in leads for s in D.lines):
            continue
        for choice in itertools.product(leads, repeat=len(D.ccgs)):
            flows = solve_flows(D, leads, subs, dict(zip(D.ccgs, choice, strict=True)))
            if flows is not None:
                best = min(best, fixed_cost(D, leads, subs) + flows)
    return best


def test_robust_network_covers_every_line_twice() -> None:
    inst = load("robust")
    base = solve(inst, OPTS)
    assert base.objective == pytest.approx(50.0) and base.leads == ["L1"]
    assert not _double_covered(inst, base)
    robust = robust_network(inst, OPTS)
    assert robust.objective == pytest.approx(75.0)  # hand-worked, see the instance
    assert robust.objective == pytest.approx(_robust_brute_force(inst))
    assert sorted(robust.leads) == ["L1", "L2"]
    assert _double_covered(inst, robust)
    assert verify_solution(inst, robust).ok
    r = resilience(inst, base, OPTS, robust=True)
    assert r.robust_cost == pytest.approx(25.0)
    iv = r.robust_interval  # both solves proven: the interval is the one value
    assert iv is not None and iv.proven and iv.low == pytest.approx(25.0) == iv.high
    assert "robustness costs 25 a year" in "\n".join(format_resilience(r))
    # every single exit of the robust network can be repaired
    assert r.table["repairable"].all()
    assert len(r.table) == 4  # L1, L2, S1, S2 are active


# --------------------------------------------------------------------------- disruption


@pytest.fixture(scope="module")
def dis_case() -> tuple[Instance, Incumbent]:
    inst = load("disruption")
    inc = read_incumbent(DATA / "whatif_incumbent.csv", DATA / "whatif_partnerships.csv")
    return inst, inc


def test_zero_moves_reproduces_the_incumbent(dis_case: tuple[Instance, Incumbent]) -> None:
    inst, inc = dis_case
    sol = solve_with_incumbent(inst, inc, OPTS, max_moves=0)
    assert lead_of(sol) == {"C1": "L1", "C2": "L2", "C3": "L2"}
    assert sol.objective == pytest.approx(26.0)
    info = sol.extra["incumbent"]
    assert info["moves"] == 0 and info["moved_ccgs"] == []
    assert info["partnerships_broken"] == ["S->L2"]  # S is dearer than the leads: it exits
    assert verify_solution(inst, sol).ok
    frame = moves_frame(inc, sol)
    assert not frame["moved"].any()
    one = solve_with_incumbent(inst, inc, OPTS, max_moves=1)
    assert one.objective == pytest.approx(19.0)  # C1 joins L2's network and L1 closes
    assert one.extra["incumbent"]["moved_ccgs"] == ["C1"]
    assert lead_of(one) == {"C1": "L2", "C2": "L2", "C3": "L2"}


@pytest.mark.parametrize(("churn", "cost", "moves"), [(7.0, 10.0, 2), (9.0, 26.0, 0)])
def test_churn_cost_per_move(
    dis_case: tuple[Instance, Incumbent], churn: float, cost: float, moves: int
) -> None:
    """Two moves save 16, one saves 7: at 7 a move two are worth it (10 + 14 < 26 = 19 + 7),
    at 9 none is (26 < 28)."""
    inst, inc = dis_case
    sol = solve_with_incumbent(inst, inc, OPTS, churn_cost=churn)
    info = sol.extra["incumbent"]
    assert sol.objective == pytest.approx(cost)
    assert info["moves"] == moves
    assert info["objective_with_churn"] == pytest.approx(cost + churn * moves)
    assert verify_solution(inst, sol).ok  # the reported objective is the annual cost


def test_tradeoff_curve(dis_case: tuple[Instance, Incumbent]) -> None:
    inst, inc = dis_case
    t = tradeoff(inst, inc, OPTS)
    ref = oracle_solve(inst)
    assert ref is not None and t.optimum == pytest.approx(ref.objective) == pytest.approx(10.0)
    assert t.status_quo == pytest.approx(26.0)
    assert list(t.table["max_moves"][:2]) == [0, 1] and pd.isna(t.table["max_moves"][2])
    assert list(t.table["objective"]) == pytest.approx([26.0, 19.0, 10.0])
    assert list(t.table["moves"]) == [0, 1, 2]
    grid = tradeoff(inst, inc, OPTS, grid=[3, 0, 2, 1])
    costs = list(grid.table["objective"])
    assert costs == pytest.approx([26.0, 19.0, 10.0, 10.0, 10.0])  # K = 0, 1, 2, 3, any
    assert all(b <= a + 1e-9 for a, b in itertools.pairwise(costs))
    assert list(grid.table["stability_cost"]) == pytest.approx([16.0, 9.0, 0.0, 0.0, 0.0])
    assert all(
        m <= k for k, m in zip(grid.table["max_moves"][:4], grid.table["moves"][:4], strict=True)
    )
    assert "any" in "\n".join(format_tradeoff(grid))


def test_split_sourcing_incumbent(dis_case: tuple[Instance, Incumbent]) -> None:
    """Without single sourcing K = 0 keeps every share: 20 + 0.5·3 + 3 + 3 = 27.5; a CCG that
    loses any share counts as one move."""
    inst, _ = dis_case
    split = inst.with_changes(["settings.single_sourcing=false"])
    inc = Incumbent(
        pd.DataFrame(
            {
                "ccg": ["C1", "C1", "C2", "C3"],
                "lead": ["L1", "L2", "L2", "L2"],
                "share": [0.5, 0.5, 1.0, 1.0],
            }
        ),
        pd.DataFrame(columns=["subcontractor", "lead"]),
    )
    sol = solve_with_incumbent(split, inc, OPTS, max_moves=0)
    assert sol.objective == pytest.approx(27.5)
    shares = {
        (c, l): v for c, l, v in sol.assignments[["ccg", "lead", "share"]].itertuples(index=False)
    }
    assert shares == pytest.approx(
        {("C1", "L1"): 0.5, ("C1", "L2"): 0.5, ("C2", "L2"): 1.0, ("C3", "L2"): 1.0}
    )
    one = solve_with_incumbent(split, inc, OPTS, max_moves=1)  # C1 all in L2, L1 closes
    assert one.objective == pytest.approx(19.0)
    assert one.extra["incumbent"]["moved_ccgs"] == ["C1"]


def test_incumbent_input_errors(tmp_path: Path, dis_case: tuple[Instance, Incumbent]) -> None:
    inst, _ = dis_case
    bad = tmp_path / "bad.csv"
    bad.write_text("ccg,lead,share\nC1,L1,1\nC2,L2,1\nC3,L9,1\nC7,L1,1\n")
    inc = read_incumbent(bad)  # well-formed; the ids are checked against an instance
    with pytest.raises(InstanceError) as err:
        check_incumbent(inst, inc)
    text = str(err.value)
    assert "unknown ccg id 'C7'" in text and "unknown lead id 'L9'" in text
    split = tmp_path / "split.csv"
    split.write_text("ccg,lead,share\nC1,L1,0.5\nC1,L2,0.3\n")
    with pytest.raises(InstanceError, match=r"add up to 0\.8"):
        read_incumbent(split)
    with pytest.raises(InstanceError, match="missing column 'lead'"):
        (tmp_path / "nolead.csv").write_text("ccg\nC1\n")
        read_incumbent(tmp_path / "nolead.csv")
    # a CCG the incumbent does not name is new: free to go anywhere, not a move
    partial = Incumbent(
        pd.DataFrame({"ccg": ["C2"], "lead": ["L2"], "share": [1.0]}),
        pd.DataFrame(columns=["subcontractor", "lead"]),
    )
    sol = solve_with_incumbent(inst, partial, OPTS, max_moves=0)
    assert lead_of(sol) == {"C1": "L2", "C2": "L2", "C3": "L2"}  # 10 + 9 < 20
    assert sol.extra["incumbent"]["new_ccgs"] == ["C1", "C3"]


def test_incumbent_with_a_lead_that_cannot_lead(dis_case: tuple[Instance, Incumbent]) -> None:
    """L2 can no longer lead: its CCGs must move, so K = 0 is infeasible and K = 2 is not."""
    inst, inc = dis_case
    changed = inst.with_changes(["providers.L2.can_lead=false"])
    assert "L2" in check_incumbent(changed, inc)[-1]
    assert solve_with_incumbent(changed, inc, OPTS, max_moves=1).status == "infeasible"
    sol = solve_with_incumbent(changed, inc, OPTS, max_moves=2)
    assert sol.objective == pytest.approx(10.0)
    assert sol.extra["incumbent"]["forced_moves"] == ["C2", "C3"]


# --------------------------------------------------------------------------- rule costs


def test_rule_costs_known_answers() -> None:
    inst = load("rules")
    rc = rule_costs(inst, OPTS)
    assert rc.base.objective == pytest.approx(50.0)
    cost = dict(zip(rc.table["key"], rc.table["cost"], strict=True))
    # C7 for A only (B has no bar), no C9/C10 (no targets, no share), C2 (no subcontractor
    # serves two leads: L1 and L2 cannot subcontract, and m = 1 < 2 leads) applies
    assert set(cost) == {"C1", "C2", "C7:A", "C8", "C11", "SS"}
    assert cost["C7:A"] == pytest.approx(20.0)  # L1 leads alone: 30
    assert cost["C11"] == pytest.approx(15.0)  # L1 leads with S: 35
    for key in ("C1", "C2", "C8", "SS"):
        assert cost[key] == pytest.approx(0.0, abs=1e-6), key
    assert list(rc.table["key"][:2]) == ["C7:A", "C11"]  # most expensive first
    binding = dict(zip(rc.table["key"], rc.table["binding"], strict=True))
    assert binding["C7:A"] and binding["C11"] and not binding["C8"]
    # the relaxed optima are the oracle's on the relaxed data
    for key, over in (
        ("C7:A", "service_lines.A.quality_threshold=0"),
        ("C11", "providers.*.min_volume=0"),
    ):
        ref = oracle_solve(inst.with_changes([over]))
        assert ref is not None
        assert rc.base.objective - ref.objective == pytest.approx(cost[key])
    text = "\n".join(format_rule_costs(rc))
    assert "not binding" in text and "quality bar 50 of line A" in text


def test_rule_costs_of_an_infeasible_instance() -> None:
    """Without L2 no network is feasible: relaxing A's bar or viability makes one."""
    inst = load("rules").with_changes(["providers.L2.can_lead=false"])
    rc = rule_costs(inst, OPTS, keys=["C7:A", "C11", "C8"])
    assert rc.base.status == "infeasible"
    t = rc.table.set_index("key")
    assert t.loc["C7:A", "objective"] == pytest.approx(30.0)
    assert t.loc["C11", "objective"] == pytest.approx(35.0)
    assert t.loc["C8", "status"] == "infeasible"
    assert t.loc["C7:A", "binding"] and not t.loc["C8", "binding"]


# --------------------------------------------------------------------------- alternatives


def test_alternatives_distinct_within_tolerance() -> None:
    inst = load("alternatives")
    alt = alternatives(inst, k=5, within=0.2, options=OPTS)
    # only three lead sets lie within 20% of 11 (<= 13.2): fewer than k are returned
    assert [sorted(s.leads) for s in alt.solutions] == [["L0", "L1"], ["L0", "L2"], ["L0", "L3"]]
    assert list(alt.table["objective"]) == pytest.approx([11.0, 12.0, 13.0])
    assert "beyond the tolerance" in alt.stopped
    assert all(o <= 11.0 * 1.2 for o in alt.table["objective"])
    assert len({frozenset(s.leads) for s in alt.solutions}) == len(alt.solutions)
    for s in alt.solutions:  # each is the best network with its lead set
        fixed = inst.with_changes(
            [f"providers.{p}.can_lead=false" for p in inst.providers.index if p not in s.leads]
        )
        ref = oracle_solve(fixed)
        assert ref is not None and s.objective == pytest.approx(ref.objective)
    assert alt.common_leads == ["L0"]
    assert alt.common_assignments == {"C2": "L0"}  # C1's network is a coin-flip
    text = "\n".join(format_alternatives(alt))
    assert "robust): L0" in text and "CCGs whose network differs: C1" in text

    assert len(alternatives(inst, k=2, within=0.2, options=OPTS).solutions) == 2
    one = alternatives(inst, k=5, within=0.05, options=OPTS)
    assert [sorted(s.leads) for s in one.solutions] == [["L0", "L1"]]


def test_alternatives_of_an_infeasible_instance() -> None:
    inst = load("alternatives").with_changes(["settings.lead_providers.min=5"])
    alt = alternatives(inst, k=3, within=0.1, options=OPTS)
    assert alt.solutions == [] and "infeasible" in alt.stopped


def test_grid_and_fraction_parsing() -> None:
    from csu_opt.analysis.tradeoff import parse_grid
    from csu_opt.cli.whatif import parse_fraction

    assert parse_grid("0:6:2") == [0, 2, 4, 6]
    assert parse_grid("5,0,1") == [0, 1, 5]
    with pytest.raises(UsageError):
        parse_grid("1,-2")
    assert parse_fraction("2%") == pytest.approx(0.02)
    assert parse_fraction("0.05") == pytest.approx(0.05)
    with pytest.raises(UsageError):
        parse_fraction("two")


def test_warm_start_maps_the_base_onto_a_relaxed_model() -> None:
    """The base solution, mapped onto a model with more eligible pairs, is a feasible start."""
    from csu_opt.analysis.whatif import pyomo_session, solution_values

    inst = load("rules")
    base = solve(inst, OPTS)
    relaxed = replace(inst, service_lines=inst.service_lines.assign(quality_threshold=0.0))
    session = pyomo_session(relaxed, OPTS)
    values = solution_values(session.ix, base)
    assert len(session.ix.flows) > len(build_index(inst).flows)  # L1 is eligible in A now
    lead = session.ix.leads.index("L2")
    assert values["u"][lead] == 1.0 and values["u"].sum() == 1.0
    x = session.ix.flows.assign(v=values["x"])
    assert x.loc[x["v"] > 0, "p"].tolist() == ["L2", "L2"]
    assert x["v"].sum() == pytest.approx(20.0)
