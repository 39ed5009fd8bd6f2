"""The shipped instances: they validate, agree with the published facts, and solve.

Facts are the published ones (instances/README.md) and the public data in instances/data/nhs-
england-2013 (211 CCGs; North West 24 and Yorkshire and Humber 23 CCGs; Greater Manchester
CSU's 550 staff; nearly 9,000 CSU staff; five service lines; 10-15 lead providers; 19 CSUs in
spring 2013). The real CCGs themselves are checked in test_real_ccgs.py. Solves use the default
gap (1e-4).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

import csu_opt

INSTANCES = Path(__file__).resolve().parents[2] / "instances"
LINES = ["BST", "PROC", "REDES", "COMMS", "BI"]
#: "nearly 9,000" CSU staff: the instances put exactly 9,000 (rounded per CSU) within 1%.
STAFF, STAFF_TOL = 9_000, 0.01


@cache
def load(name: str) -> csu_opt.Instance:
    return csu_opt.load_instance(INSTANCES / f"{name}.yaml")


@cache
def solved(name: str) -> csu_opt.Solution:
    # england-2014 is proven optimal in 45-101 s of HiGHS on a busy 2-core machine
    return csu_opt.solve(load(name), time_limit=300)


@pytest.mark.parametrize("name", ["demo", "england-2014", "england-2014-xlsx", "england-2013"])
def test_instance_validates_and_is_consistent(name: str) -> None:
    inst = load(name)
    assert inst.warnings == ()
    assert inst.line_ids == LINES
    # every lead candidate can cover all five lines with eligible members (C8 is satisfiable)
    elig = inst.eligible
    for lead in inst.providers.index[inst.providers["can_lead"]]:
        own = set(elig.loc[elig["provider"] == lead, "service_line"])
        subs = inst.providers.index[inst.providers["can_subcontract"]].drop(lead, errors="ignore")
        partners = set(elig.loc[elig["provider"].isin(subs), "service_line"])
        assert own | partners == set(LINES), lead
    # eligible capacity covers demand in every line
    need = inst.total_demand()
    cap = elig.groupby("service_line")["capacity"].sum().reindex(need.index, fill_value=0)
    assert (cap >= need).all()


@pytest.mark.parametrize("name", ["england-2014", "england-2013"])
def test_england_facts(name: str) -> None:
    inst = load(name)
    prov, ccgs, demand = inst.providers, inst.ccgs, inst.demand
    assert len(ccgs) == 211
    assert (inst.settings.lead_min, inst.settings.lead_max) == (10, 15)
    csus = prov[prov["kind"] == "csu"]
    assert len(csus) == (9 if name == "england-2014" else 19)
    assert abs(csus["staff"].sum() - STAFF) <= STAFF_TOL * STAFF
    assert (prov.loc[prov["kind"] != "csu", "staff"] == 0).all()
    # non-NHS bidders named in the published facts, two councils, a charity or social enterprise
    assert {"CAPITA", "OPTUM", "MBED"} <= set(prov.index)
    assert (prov["kind"] == "council").sum() == 2
    assert (prov["kind"] == "charity").sum() >= 1
    # NW and YH: 24 and 23 CCGs at the 2014 footprint level (a CSU's region is its 2014
    # footprint); Greater Manchester CSU's 550 staff (2013; NW's share in 2014)
    fp = ccgs["csu"].map(prov["region"])
    assert (fp == "NW").sum() == 24 and (fp == "YH").sum() == 23
    assert prov.loc["GM" if name == "england-2013" else "NW", "staff"] >= 550
    if name == "england-2013":
        assert prov.loc["GM", "staff"] == 550
    # a CSU's turnover is the spend of the CCGs it served: v = 50%, F = 1,500 + 1% of it
    spend = demand.groupby("ccg")["volume"].sum()
    turnover = spend.groupby(ccgs["csu"]).sum().reindex(csus.index)
    # (turnover is the CCGs' spend before each line is rounded to £1k)
    assert csus["min_volume"].to_numpy() == pytest.approx(0.5 * turnover.to_numpy(), rel=1e-3)
    f = csus["lead_fixed_cost"].to_numpy()
    assert f == pytest.approx(1500 + 0.01 * turnover.to_numpy(), abs=1.0)
    # every lead-capable provider x CCG pair has a locality cost
    leads = set(prov.index[prov["can_lead"]])
    ac = inst.assignment_costs
    assert set(ac["lead"]) == leads and len(ac) == len(leads) * 211
    # non-NHS unit costs carry VAT inside the published 5-9%
    cap = inst.capabilities.merge(prov["kind"], left_on="provider", right_index=True)
    non_nhs = cap.loc[cap["kind"] != "csu", "unit_cost"]
    assert ((non_nhs >= 1.05) & (non_nhs <= 1.09)).all()


def test_2013_csus_merge_into_2014_footprints() -> None:
    """The 2013 CSUs' CCGs are exactly the 2014 footprints; the CCGs are the same, their
    demand follows each year's registered patients, and each CSU's staff carries over."""
    a, b = load("england-2013"), load("england-2014")
    assert list(a.ccgs.index) == list(b.ccgs.index)
    nw_2013 = set(a.ccgs.index[a.ccgs["csu"].isin(["GM", "CM"])])
    assert nw_2013 == set(b.ccgs.index[b.ccgs["csu"] == "NW"])
    alliance = a.providers["region"]  # a 2013 CSU's 2014 footprint
    assert a.ccgs["csu"].map(alliance).tolist() == b.ccgs["csu"].tolist()
    csu_a = a.providers[a.providers["kind"] == "csu"]
    staff_2014 = csu_a.groupby("region")["staff"].sum()
    assert staff_2014.to_dict() == b.providers.loc[staff_2014.index, "staff"].to_dict()
    # 2014 Q2 registered patients grew 0.8% over 2013 Q2; spend per head fell with the
    # running-cost allowance (£25 -> £24.73): total demand within half a per cent
    total_a, total_b = a.demand["volume"].sum(), b.demand["volume"].sum()
    assert total_b / total_a == pytest.approx(56_452_350 / 56_002_534 * 24.73 / 25, abs=1e-3)


def test_demo_solves_fast_and_shows_every_role() -> None:
    sol = solved("demo")
    assert sol.status == csu_opt.Status.OPTIMAL
    assert sol.timings.total_s < 10
    roles = sol.roles.set_index("provider")["role"]
    assert sorted(sol.leads) == ["NORTH", "SOUTH"]
    assert set(roles) == {"lead", "subcontractor", "exit"}
    assert roles["MIDS"] == "subcontractor" and roles["LEGACY"] == "exit"
    assert sol.objective == pytest.approx(87_849.44, rel=1e-3)


def test_england_2014_solves_to_optimality() -> None:
    sol = solved("england-2014")
    assert sol.status == csu_opt.Status.OPTIMAL
    assert sol.mip_gap is not None and sol.mip_gap <= 1e-4
    assert 10 <= len(sol.leads) <= 15
    assert sol.objective == pytest.approx(641_523.7, rel=2e-4)
    # every CCG is placed once, in a lead's network
    assert sol.assignments["ccg"].nunique() == 211
    assert set(sol.assignments["lead"]) <= set(sol.leads)


def test_workbook_version_has_the_same_optimum() -> None:
    a, b = solved("england-2014"), solved("england-2014-xlsx")
    assert b.status == csu_opt.Status.OPTIMAL
    assert b.objective == pytest.approx(a.objective, rel=1e-9)
    assert sorted(b.leads) == sorted(a.leads)


def test_england_2013_finds_a_verified_solution() -> None:
    """Not proven optimal within minutes (about 0.5% gap after 300 s; instances/README.md):
    the test asks for a feasible network that passes the independent verifier, with a bound
    below it, not for a speed that would depend on the machine's load. The first network
    comes after 40-120 s on a busy 2-core machine, hence the limit."""
    from csu_opt.results.verify import verify_solution

    inst = load("england-2013")
    sol = csu_opt.solve(inst, time_limit=120, polish=0.33)  # as instances/README.md advises
    assert sol.status in (csu_opt.Status.OPTIMAL, csu_opt.Status.FEASIBLE)
    assert sol.objective is not None and sol.best_bound is not None
    assert sol.best_bound <= sol.objective * (1 + 1e-9)
    assert verify_solution(inst, sol).ok
    assert 10 <= len(sol.leads) <= 15
    # the last 40 s polished the search's network within its lead set: never worse
    polish = sol.solver["polish"]
    if sol.status is csu_opt.Status.FEASIBLE:
        assert polish["ran"] and polish["leads_fixed"] == len(sol.leads)
        assert sol.objective <= polish["objective_before"] * (1 + 1e-9)
