"""Free choice (C12, issue 18 section 3): every CCG is served by the formed network it prefers.

Known answers: a hand-worked case; the brute-force oracle (tests/oracle.py, which reads the
preferences on its own) on random tiny instances, managed and free, with and without a
preference table; an independent formulation (pairwise rows u[l] + z[l',c] <= 1 for every
l' that c ranks below l, with its own preference order) solved separately; the matrix
backend row for row against the Pyomo model.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest
from pyomo.contrib.appsi.solvers import Highs

import csu_opt
from csu_opt.errors import InstanceError
from csu_opt.instance.load import Instance, instance_from_document
from csu_opt.instance.preferences import first_choice, preference_order
from csu_opt.model.index import build_index
from csu_opt.model.pyomo_model import build_model
from csu_opt.results.verify import verify_solution
from factories.matrix import assert_same_model
from factories.rules import build, lead_only
from oracle import OracleResult, read
from oracle import solve as oracle_solve

REL = 1e-6
N_RANDOM = 48


def with_preferences(
    inst: Instance, choice: str, prefs: list[dict[str, Any]] | None, name: str | None = None
) -> Instance:
    """``inst`` with settings.ccg_choice and (if given) a ccg_preferences table."""
    doc = inst.to_document()
    doc["settings"] = {**doc["settings"], "ccg_choice": choice}
    if choice == "free":
        doc["settings"]["single_sourcing"] = True
    doc["ccg_preferences"] = prefs
    if name:
        doc["name"] = name
    return instance_from_document(doc, Path("<test>"))


def random_preferences(inst: Instance, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Each CCG ranks a random subset of the providers (ranks whole, distinct, with gaps)."""
    rows = []
    for c in inst.ccgs.index:
        ps = [p for p in inst.providers.index if rng.random() < 0.6]
        ranks = rng.choice(np.arange(1, 10), size=len(ps), replace=False)
        rows += [{"ccg": c, "lead": p, "rank": int(r)} for p, r in zip(ps, ranks, strict=True)]
    return rows


def market_instance(seed: int, managed: bool) -> Instance:
    """A random tiny market where several leads pay: cheap leads, dear distances (t up to
    40), capacities that often bind, some subcontractors, quality rules now and then."""
    rng = np.random.default_rng(seed)
    n_prov = int(rng.integers(3, 5))
    lines = [f"S{i}" for i in range(int(rng.integers(1, 3)))]
    ps = [f"P{i}" for i in range(n_prov)]
    cs = [f"C{i}" for i in range(int(rng.integers(2, 4 if managed else 6)))]
    providers = []
    for i, p in enumerate(ps):
        providers.append(
            {
                "id": p,
                "can_lead": bool(i == 0 or rng.random() < 0.8),
                "can_subcontract": bool(rng.random() < 0.4),
                "lead_fixed_cost": int(rng.integers(5, 30)),
                "subcontractor_fixed_cost": int(rng.integers(0, 10)),
                "exit_cost": int(rng.integers(0, 15)),
                **({"min_volume": int(rng.integers(5, 20))} if rng.random() < 0.2 else {}),
            }
        )
    line_recs = {
        s: {"quality_threshold": 0, "network_quality_target": int(rng.choice([0, 0, 0, 60]))}
        for s in lines
    }
    caps = [
        (p, s, int(rng.integers(1, 6)) * 10, int(rng.integers(40, 101)), float(rng.integers(0, 5)))
        for p in ps
        for s in lines
        if rng.random() < 0.9
    ]
    demand = [(c, s, int(rng.integers(5, 20))) for c in cs for s in lines]
    t = {(p, c): int(rng.integers(0, 41)) for p in ps for c in cs}
    hi = [None, None, 2, 3][int(rng.integers(4))]
    settings = {"lead_providers": {"max": hi} if hi else {}}
    return build(
        lines=line_recs,
        providers=providers,
        caps=caps,
        demand=demand,
        ccgs=cs,
        t=t,
        settings=settings,
        name=f"market-{seed}",
    )


def free_instance(seed: int) -> Instance:
    """Seed s: a random market; even seeds free choice with a preference table, odd free
    without one (each CCG prefers its cheapest lead); every fourth seed (s % 4 == 3)
    managed with a table (which it ignores)."""
    managed = seed % 4 == 3
    base = market_instance(seed, managed)
    rng = np.random.default_rng(1000 + seed)
    prefs = random_preferences(base, rng)
    if managed:
        return with_preferences(base, "managed", prefs)
    return with_preferences(base, "free", prefs if seed % 2 == 0 else None)


@functools.cache
def free_case(seed: int) -> tuple[Instance, OracleResult | None]:
    inst = free_instance(seed)
    return inst, oracle_solve(inst)


# --------------------------------------------------------------------------- hand-worked


def two_leads(**settings: Any) -> Instance:
    """Two leads of capacity 10 each, two CCGs of demand 10: both leads must be formed
    (F 10 and 25). Each CCG is cheap to serve from one lead (t 0) and dear from the other
    (t 20). Managed: C1 to P1, C2 to P2, 10 + 25 = 35."""
    return build(
        providers=[lead_only("P1", lead_fixed_cost=10), lead_only("P2", lead_fixed_cost=25)],
        caps=[("P1", "A", 10, 100, 0), ("P2", "A", 10, 100, 0)],
        demand=[("C1", "A", 10), ("C2", "A", 10)],
        t={("P1", "C2"): 20, ("P2", "C1"): 20},
        settings=settings,
    )


def test_hand_worked_free_choice_costs_the_dear_assignments() -> None:
    managed = two_leads()
    assert csu_opt.solve(managed, mip_gap=1e-9).objective == pytest.approx(35)
    # C1 prefers P2 and C2 prefers P1: with both formed (as capacity needs) each goes to the
    # lead it prefers, 10 + 25 + 20 + 20 = 75
    prefs = [
        {"ccg": "C1", "lead": "P2", "rank": 1},
        {"ccg": "C2", "lead": "P1", "rank": 1},
    ]
    free = with_preferences(managed, "free", prefs)
    for backend in ("pyomo", "matrix"):
        sol = csu_opt.solve(free, backend=backend, mip_gap=1e-9)
        assert sol.objective == pytest.approx(75)
        assert dict(sol.assignments[["ccg", "lead"]].to_numpy()) == {"C1": "P2", "C2": "P1"}
    # without a table each CCG prefers its cheapest lead: free choice costs nothing
    unranked = with_preferences(managed, "free", None)
    assert csu_opt.solve(unranked, mip_gap=1e-9).objective == pytest.approx(35)
    assert oracle_solve(free).objective == pytest.approx(75)


def test_order_ranked_first_then_by_cost_then_by_id() -> None:
    inst = build(
        providers=[lead_only(p, lead_fixed_cost=1) for p in ("P1", "P2", "P3", "P4")],
        caps=[(p, "A", 100, 100, 0) for p in ("P1", "P2", "P3", "P4")],
        demand=[("C1", "A", 1)],
        t={("P1", "C1"): 9, ("P2", "C1"): 2, ("P3", "C1"): 2, ("P4", "C1"): 0},
    )
    inst = with_preferences(inst, "free", [{"ccg": "C1", "lead": "P1", "rank": 4}])
    order = preference_order(inst)
    # P1 ranked (costliest, still first); then P4 (t 0), P2 and P3 (t 2, by id)
    assert list(order["lead"]) == ["P1", "P4", "P2", "P3"]
    assert list(order["position"]) == [1, 2, 3, 4]
    assert dict(first_choice(order, {"P2", "P3"})) == {"C1": "P2"}


# --------------------------------------------------------------------------- oracle


@pytest.mark.parametrize("seed", range(N_RANDOM))
def test_random_model_equals_oracle(seed: int) -> None:
    inst, ref = free_case(seed)
    sol = csu_opt.solve(inst, mip_gap=1e-9, time_limit=60)
    if ref is None:
        assert sol.status == "infeasible"
        return
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(ref.objective, rel=REL, abs=REL)
    assert verify_solution(inst, sol).ok
    if inst.settings.free_choice:  # every CCG with its first choice among the formed leads
        leads = set(sol.roles.query("role == 'lead'")["provider"])
        want = first_choice(preference_order(inst), leads)
        got = sol.assignments.set_index("ccg")["lead"]
        assert dict(got) == dict(want)


def test_random_set_mixes_markets_tables_and_outcomes() -> None:
    cases = [free_case(seed) for seed in range(N_RANDOM)]
    free = [(i, r) for i, r in cases if i.settings.free_choice]
    assert len(free) >= 30
    assert any(len(i.ccg_preferences) for i, _ in free)
    assert any(not len(i.ccg_preferences) for i, _ in free)
    assert sum(r is None for _, r in cases) >= 3
    # free choice costs something on some instances: the managed optimum is lower
    dearer = 0
    for inst, ref in free:
        if ref is None:
            continue
        managed = oracle_solve(inst.with_changes(["settings.ccg_choice=managed"]))
        assert managed is not None
        assert managed.objective <= ref.objective + 1e-6
        dearer += managed.objective < ref.objective - 1e-6
    assert dearer >= 3


# --------------------------------------------------------------------------- independent form


def pairwise_optimum(inst: Instance) -> float | None:
    """The managed model plus pairwise closest-assignment rows u[l] + z[l',c] <= 1 for every
    l' that c ranks below l (order from tests/oracle.py), solved by HiGHS."""
    managed = inst.with_changes(["settings.ccg_choice=managed"])
    ix = build_index(managed)
    m = build_model(ix)
    assert not hasattr(m, "free_choice")
    prefs = read(inst).prefs
    assert prefs is not None
    lead_pos = {lead: i for i, lead in enumerate(ix.leads)}
    zpos = {(r.l, r.c): k for k, r in enumerate(ix.assign.itertuples(index=False))}
    pairs = [
        (lead_pos[better], zpos[(worse, c)])
        for c, order in prefs.items()
        for i, better in enumerate(order)
        for worse in order[i + 1 :]
    ]
    m.pairwise = pyo.Constraint(
        range(len(pairs)), rule=lambda _m, i: m.u[pairs[i][0]] + m.z[pairs[i][1]] <= 1
    )
    opt = Highs()
    opt.config.load_solution = False
    opt.config.stream_solver = False
    opt.highs_options = {"mip_rel_gap": 1e-9, "log_to_console": False}
    res = opt.solve(m)
    if res.best_feasible_objective is None:
        return None
    return float(res.best_feasible_objective)


@pytest.mark.parametrize("seed", [s for s in range(N_RANDOM) if s % 4 != 3])
def test_independent_pairwise_formulation_same_optimum(seed: int) -> None:
    inst = free_instance(seed)
    sol = csu_opt.solve(inst, mip_gap=1e-9, time_limit=60)
    other = pairwise_optimum(inst)
    if other is None:
        assert sol.status == "infeasible"
    else:
        assert sol.objective == pytest.approx(other, rel=REL, abs=REL)


def test_aggregated_rows_are_at_least_as_tight_as_pairwise_in_the_lp() -> None:
    """The LP bound with C12 is >= the LP bound with the pairwise rows (C12 sums them)."""
    from factories.cuts import lp_bound

    for seed in range(0, 16, 2):
        inst = free_instance(seed)
        if free_case(seed)[1] is None:
            continue
        assert lp_bound(inst, cuts=True) >= pairwise_lp(inst) - 1e-6


def pairwise_lp(inst: Instance) -> float:
    managed = inst.with_changes(["settings.ccg_choice=managed"])
    ix = build_index(managed)
    m = build_model(ix)
    prefs = read(inst).prefs
    assert prefs is not None
    lead_pos = {lead: i for i, lead in enumerate(ix.leads)}
    zpos = {(r.l, r.c): k for k, r in enumerate(ix.assign.itertuples(index=False))}
    pairs = [
        (lead_pos[b], zpos[(w, c)])
        for c, o in prefs.items()
        for i, b in enumerate(o)
        for w in o[i + 1 :]
    ]
    m.pairwise = pyo.Constraint(
        range(len(pairs)), rule=lambda _m, i: m.u[pairs[i][0]] + m.z[pairs[i][1]] <= 1
    )
    pyo.TransformationFactory("core.relax_integer_vars").apply_to(m)
    opt = Highs()
    opt.config.stream_solver = False
    res = opt.solve(m)
    return float(res.best_feasible_objective)


# --------------------------------------------------------------------------- matrix


@pytest.mark.parametrize("seed", range(0, N_RANDOM, 5))
def test_matrix_same_model_row_for_row(seed: int) -> None:
    assert_same_model(free_instance(seed))


# --------------------------------------------------------------------------- validation


def _problems(prefs: list[dict[str, Any]], **settings: Any) -> list[str]:
    base = two_leads()
    doc = base.to_document()
    doc["settings"] = {**doc["settings"], **settings}
    doc["ccg_preferences"] = prefs
    with pytest.raises(InstanceError) as err:
        instance_from_document(doc, Path("market.yaml"))
    return [str(p) for p in err.value.problems]


@pytest.mark.parametrize(
    ("prefs", "field", "words"),
    [
        ([{"ccg": "C9", "lead": "P1", "rank": 1}], "ccg", "'C9' is not an id in ccgs"),
        ([{"ccg": "C1", "lead": "PX", "rank": 1}], "lead", "'PX' is not an id in providers"),
        ([{"ccg": "C1", "lead": "P1", "rank": 1.5}], "rank", "expected a whole number, got 1.5"),
        ([{"ccg": "C1", "lead": "P1", "rank": 0}], "rank", "expected at least 1"),
        ([{"ccg": "C1", "lead": "P1", "rank": "first"}], "rank", "expected a number"),
        ([{"ccg": None, "lead": "P1", "rank": 1}], "ccg", "a value is required"),
        ([{"ccg": float("nan"), "lead": "P1", "rank": 1}], "ccg", "NaN"),
        (
            [{"ccg": "C1", "lead": "P1", "rank": 1}, {"ccg": "C1", "lead": "P1", "rank": 2}],
            "ccg/lead",
            "duplicate ccg/lead C1/P1",
        ),
        (
            [{"ccg": "C1", "lead": "P1", "rank": 2}, {"ccg": "C1", "lead": "P2", "rank": 2}],
            "rank",
            "CCG C1 gives rank 2 to two leads (P1 at",
        ),
    ],
)
def test_bad_preferences_are_located(prefs: list[dict[str, Any]], field: str, words: str) -> None:
    problems = _problems(prefs)
    assert len(problems) == 1, problems
    assert "market.yaml" in problems[0] and "ccg_preferences" in problems[0]
    assert f"field {field}" in problems[0] or f"{field}:" in problems[0] or field in problems[0]
    assert words in problems[0]
    assert "row" in problems[0] or "record" in problems[0]


def test_free_choice_cannot_split_demand() -> None:
    problems = _problems([], ccg_choice="free", single_sourcing=False)
    assert len(problems) == 1
    assert "single_sourcing: false cannot go with ccg_choice: free" in problems[0]


def test_unknown_market_is_reported() -> None:
    problems = _problems([], ccg_choice="auction")
    assert len(problems) == 1 and "ccg_choice" in problems[0] and "'free'" in problems[0]


def test_preferences_naming_a_provider_that_cannot_lead_warn() -> None:
    inst = two_leads().with_changes(["providers.P2.can_lead=false"])
    inst = with_preferences(inst, "free", [{"ccg": "C1", "lead": "P2", "rank": 1}])
    assert any(
        "ccg_preferences: 1 rows name providers that cannot lead" in w for w in inst.warnings
    )
    assert list(preference_order(inst)["lead"]) == ["P1", "P1"]


def test_round_trip_keeps_market_and_preferences(tmp_path: Path) -> None:
    from csu_opt.instance.writer import write_document

    inst = with_preferences(
        two_leads(), "free", [{"ccg": "C1", "lead": "P2", "rank": 1}], name="round"
    )
    path = write_document(inst.to_document(), tmp_path)
    back = csu_opt.load_instance(path)
    assert back.settings.ccg_choice == "free"
    assert back.ccg_preferences.to_dict("records") == [{"ccg": "C1", "lead": "P2", "rank": 1.0}]
    from csu_opt.instance.export import write_workbook

    write_workbook(path, tmp_path / "book.xlsx", tmp_path / "book.yaml")
    book = csu_opt.load_instance(tmp_path / "book.yaml")
    assert book.settings.ccg_choice == "free"
    assert book.ccg_preferences.to_dict("records") == back.ccg_preferences.to_dict("records")


# --------------------------------------------------------------------------- verify


def hand_free() -> Instance:
    prefs = [
        {"ccg": "C1", "lead": "P2", "rank": 1},
        {"ccg": "C2", "lead": "P1", "rank": 1},
    ]
    return with_preferences(two_leads(), "free", prefs, name="hand-free")


def test_verify_accepts_the_free_optimum_and_catches_a_managed_assignment(
    tmp_path: Path,
) -> None:
    from csu_opt.results.solution import write_files
    from csu_opt.results.verify import format_report, verify

    inst = hand_free()
    sol = csu_opt.solve(inst, mip_gap=1e-9)
    write_files(sol, tmp_path)
    report = verify(inst, tmp_path)
    assert report.ok, format_report(report)
    assert "every rule C1-C12" in format_report(report)[0]
    # the planner's assignment (C1 to P1, C2 to P2) keeps C1-C11 (equal demands) but not C12
    a = pd.read_csv(tmp_path / "assignments.csv")
    a["lead"] = a["ccg"].map({"C1": "P1", "C2": "P2"})
    a.to_csv(tmp_path / "assignments.csv", index=False)
    report = verify(inst, tmp_path)
    assert not report.ok
    c12 = report.by_rule("C12")
    assert [v.message for v in c12] == [
        "CCG C1 is served by P1 (its choice no. 2), but under free choice it buys from the "
        "formed network it prefers: P2 (its choice no. 1)",
        "CCG C2 is served by P2 (its choice no. 2), but under free choice it buys from the "
        "formed network it prefers: P1 (its choice no. 1)",
    ]
    # the rest says only that the recomputed cost (35) is not the reported one (75)
    assert set(report.rules_violated) <= {"C12", "objective", "breakdown"}
    # the same files are fine for the managed market
    assert not verify(inst.with_changes(["settings.ccg_choice=managed"]), tmp_path).by_rule("C12")


# --------------------------------------------------------------------------- explain, rule-costs


def test_explain_names_free_choice_when_it_makes_the_instance_infeasible() -> None:
    from csu_opt.analysis.explain import explain, format_explanation

    # both CCGs prefer P1; each lead holds one CCG only: both must be formed, and then both
    # CCGs go to P1, which cannot hold them. Managed: C1 to P1, C2 to P2.
    prefs = [{"ccg": c, "lead": "P1", "rank": 1} for c in ("C1", "C2")]
    inst = with_preferences(two_leads(), "free", prefs)
    assert csu_opt.solve(inst).status == "infeasible"
    assert oracle_solve(inst) is None
    e = explain(inst, time_limit=30)
    assert e.feasible is False
    assert e.conflict == ["C6", "C12"]
    text = "\n".join(format_explanation(e))
    assert "C12 free choice (each CCG buys from the formed network it prefers)" in text
    managed = [s for s in [e.suggestion, *e.alternatives] if s and s.rule == "C12"]
    assert len(managed) == 1 and managed[0].verified
    assert managed[0].overrides == ("settings.ccg_choice=managed",)
    assert managed[0].objective == pytest.approx(35)
    # a managed instance has no C12 group at all
    assert "C12" not in explain(two_leads(), time_limit=30).rules


def test_rule_costs_price_free_choice_as_the_managed_market() -> None:
    from csu_opt.analysis.rulecosts import format_rule_costs, relaxations, rule_costs

    inst = hand_free()
    keys = [r.key for r in relaxations(inst)]
    assert "C12" in keys and "SS" not in keys  # free choice implies single sourcing
    rc = rule_costs(inst, keys=["C12"])
    row = rc.table.set_index("key").loc["C12"]
    assert row["cost"] == pytest.approx(75 - 35)
    assert row["overrides"] == "settings.ccg_choice=managed"
    assert bool(row["binding"]) is True
    assert any("free choice" in line for line in format_rule_costs(rc))
    assert "C12" not in [r.key for r in relaxations(two_leads())]


# --------------------------------------------------------------------------- compare, CLI


def test_cli_solves_both_markets_and_compare_gives_the_planners_answer(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from csu_opt.analysis.compare import compare_runs
    from csu_opt.cli.main import main
    from csu_opt.instance.writer import write_document
    from csu_opt.results.run import load_run

    def cli(*args: object) -> tuple[int, str]:
        res = CliRunner().invoke(main, [str(a) for a in args])
        if res.exception and not isinstance(res.exception, SystemExit):
            raise res.exception
        return res.exit_code, res.output

    # the file holds the preferences and says managed; free choice is one --set away
    doc = hand_free().to_document()
    doc["settings"]["ccg_choice"] = "managed"
    path = write_document(doc, tmp_path)
    code, out = cli("validate", path)
    assert code == 0, out
    runs = {}
    for market in ("managed", "free"):
        folder = tmp_path / market
        code, out = cli("solve", path, "--out", folder, "--set", f"settings.ccg_choice={market}")
        assert code == 0, out
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["instance"]["ccg_choice"] == market
        runs[market] = folder
    assert "market: free choice" in out
    cmp = compare_runs([load_run(runs["managed"]), load_run(runs["free"])])
    ans = cmp.market
    assert ans is not None and ans.same_model
    assert ans.value == pytest.approx(40) and ans.cost is not None and ans.cost.proven
    assert ans.cost.low == pytest.approx(40, abs=1e-3)
    assert ans.leads_managed_only == ans.leads_free_only == []  # both keep P1 and P2
    assert ans.moves.to_dict("records") == [
        {"ccg": "C1", "name": "C1", "managed": "P1", "free": "P2"},
        {"ccg": "C2", "name": "C2", "managed": "P2", "free": "P1"},
    ]
    assert ans.exits.empty
    code, out = cli("compare", runs["managed"], runs["free"], "--report", tmp_path / "markets.html")
    assert code == 0, out
    assert "Managed market or free choice" in out
    assert "Cost of free choice" in out and "40.00" in out
    assert "CCGs that move network under free choice: 2" in out
    html = (tmp_path / "markets.html").read_text()
    assert "Managed market or free choice" in html and "free choice (each CCG buys" in html
    code, out = cli("report", runs["free"])
    assert code == 0, out
    assert "Market solved:</strong> free choice" in (runs["free"] / "report.html").read_text()


def test_compare_lists_leads_and_exits_of_one_market_only(tmp_path: Path) -> None:
    """Every CCG prefers P1 (room for all; P2 holds two CCGs only). Managed: P1 serves C3 and
    P2 (minimum volume 10) serves C1 and C2, t 0 each: 10 + 10 = 20. Free: a formed P2 would
    serve nobody and fall below its minimum, so it exits (50) and P1 serves all at
    t 30 + 30 + 0: 10 + 50 + 60 = 120."""
    from csu_opt.analysis.compare import compare_runs
    from csu_opt.analysis.runner import run_solve
    from csu_opt.instance.writer import write_document
    from csu_opt.present.compare import market_lines
    from csu_opt.results.run import load_run

    inst = build(
        providers=[
            lead_only("P1", lead_fixed_cost=10),
            lead_only("P2", lead_fixed_cost=10, exit_cost=50, staff=120, min_volume=10),
        ],
        caps=[("P1", "A", 30, 100, 0), ("P2", "A", 20, 100, 0)],
        demand=[("C1", "A", 10), ("C2", "A", 10), ("C3", "A", 10)],
        t={("P1", "C1"): 30, ("P1", "C2"): 30},
        name="exits",
    )
    prefs = [{"ccg": c, "lead": "P1", "rank": 1} for c in ("C1", "C2", "C3")]
    path = write_document(with_preferences(inst, "managed", prefs).to_document(), tmp_path)
    folders = []
    for market in ("managed", "free"):
        one = csu_opt.load_instance(path, [f"settings.ccg_choice={market}"])
        assert oracle_solve(one).objective == pytest.approx(20 if market == "managed" else 120)
        run_solve(one, tmp_path / market, csu_opt.SolveOptions(mip_gap=1e-9))
        folders.append(tmp_path / market)
    cmp = compare_runs([load_run(f) for f in folders])
    ans = cmp.market
    assert ans is not None
    assert ans.value == pytest.approx(100)
    assert ans.leads_managed_only == ["P2"] and ans.leads_free_only == []
    assert list(ans.moves["ccg"]) == ["C1", "C2"]
    (row,) = ans.exits.to_dict("records")
    assert (row["provider"], row["managed"], row["free"]) == ("P2", "lead", "exit")
    assert (row["staff"], row["min_volume"], row["managed_volume"]) == (120, 10, 20)
    text = "\n".join(market_lines(ans, "£k"))
    assert "Leads only under management: P2; only under free choice: none" in text
    assert (
        "Exit only under free choice: P2 (120 staff; delivers 20.00 in the other market, " in text
    )
    assert "Exit only under management: none" in text
    # the free run first: the same answer
    again = compare_runs([load_run(f) for f in reversed(folders)]).market
    assert again is not None and again.value == pytest.approx(100)


def test_greedy_start_is_repaired_to_first_choices() -> None:
    """The greedy places C1 with P1 and C2 with P2 (t 0 each), which breaks C12 here; the
    repaired start sends each CCG to the lead it prefers and satisfies every row."""
    from csu_opt.model.matrix import build_matrix
    from csu_opt.solver.start import greedy_start
    from csu_opt.solver.tolerances import FEAS_TOL

    ix = build_index(hand_free())
    mm = build_matrix(ix)
    col = greedy_start(ix, mm)
    assert col is not None
    assert mm.violation(col) <= FEAS_TOL * 10
    assert mm.cost(col) == pytest.approx(75)
    z = col[mm.layout.Z : mm.layout.X]
    placed = {(r.l, r.c) for r, v in zip(ix.assign.itertuples(), z, strict=True) if v > 0.5}
    assert placed == {("P2", "C1"), ("P1", "C2")}


# --------------------------------------------------------------------------- every stage


ROOT = Path(__file__).resolve().parents[2]


def test_merged_body_takes_its_members_best_rank_and_both_backends_agree() -> None:
    inst = csu_opt.load_instance(ROOT / "instances" / "demo-mergers.yaml")
    ccg = str(inst.ccgs.index[0])
    prefs = [
        {"ccg": ccg, "lead": "PRIVCO", "rank": 1},
        {"ccg": ccg, "lead": "MIDS", "rank": 2},
        {"ccg": ccg, "lead": "NORTH", "rank": 5},
    ]
    free = with_preferences(inst, "free", prefs)
    order = preference_order(free)
    mine = order[order["ccg"] == ccg]
    # NORTHMIDS (NORTH;MIDS) and MIDSCOUNCIL (MIDS;COUNCIL) take MIDS's rank 2: they tie
    # with MIDS, with which neither can be formed (M1), and come before NORTH
    assert list(mine["lead"])[:5] == ["PRIVCO", "MIDS", "MIDSCOUNCIL", "NORTHMIDS", "NORTH"]
    py, mx = (
        csu_opt.solve(free, backend=b, mip_gap=1e-9, time_limit=60) for b in ("pyomo", "matrix")
    )
    assert py.status == mx.status == "optimal"
    assert mx.objective == pytest.approx(py.objective, rel=REL)
    assert verify_solution(free, mx).ok
    first = mx.assignments.set_index("ccg")["lead"][ccg]
    assert first == first_choice(order, set(mx.leads))[ccg]


def test_reduction_concurrent_and_polish_keep_the_free_optimum() -> None:
    """A generated 20 x 120 market under free choice: every speed-up reaches the plain
    optimum (they never change it) and a network that satisfies C12."""
    from csu_opt.instance.generate import generate
    from csu_opt.solver.solve import solve

    doc = generate(20, 120, seed=1)
    doc["settings"] = {**doc["settings"], "ccg_choice": "free"}
    inst = instance_from_document(doc, Path("gen-free.yaml"))
    plain = solve(
        inst,
        csu_opt.SolveOptions(backend="matrix", root_reduction=False, mip_gap=1e-9, time_limit=120),
    )
    assert plain.status == "optimal"
    for opts in (
        dict(root_reduction=True),
        dict(root_reduction=True, concurrent=2),
        dict(root_reduction=False, polish=0.3),
        dict(backend="pyomo"),
    ):
        kw: dict[str, Any] = {"backend": "matrix", "mip_gap": 1e-9, "time_limit": 120, **opts}
        sol = solve(inst, csu_opt.SolveOptions(**kw))
        assert sol.status == "optimal", opts
        assert sol.objective == pytest.approx(plain.objective, rel=1e-6), opts
        assert verify_solution(inst, sol).ok, opts


def test_n_minus_1_repairs_keep_free_choice() -> None:
    """hand_free plus a dear third lead P3 (F 40, capacity 10, t 0 to both CCGs), which C2
    ranks second; the optimum (75) keeps P1 and P2. When P1 fails, P2 and P3 lead: C1 still
    prefers P2 (t 20), C2 takes its second choice P3 (t 0): 25 + 40 + 20 = 85. When P2
    fails, C2 goes to P1 (rank 1) and so does C1 (unranked: P1 and P3 both t 0, P1 by id),
    more than P1's capacity: no network."""
    from csu_opt.analysis.resilience import resilience

    base = hand_free()
    doc = base.to_document()
    doc["providers"] = pd.concat(
        [doc["providers"], pd.DataFrame([lead_only("P3", lead_fixed_cost=40)])],
        ignore_index=True,
    )
    doc["capabilities"] = pd.concat(
        [
            doc["capabilities"],
            pd.DataFrame([{"provider": "P3", "service_line": "A", "capacity": 10, "quality": 100}]),
        ],
        ignore_index=True,
    )
    doc["ccg_preferences"] = pd.concat(
        [doc["ccg_preferences"], pd.DataFrame([{"ccg": "C2", "lead": "P3", "rank": 2}])],
        ignore_index=True,
    )
    inst = instance_from_document(doc, Path("three.yaml"))
    sol = csu_opt.solve(inst, mip_gap=1e-9)
    assert sol.objective == pytest.approx(75)
    res = resilience(inst, sol, csu_opt.SolveOptions(mip_gap=1e-9), repair="reoptimise")
    table = res.table.set_index("provider")
    assert table.at["P1", "status"] == "optimal"
    assert table.at["P1", "objective"] == pytest.approx(85)
    assert oracle_solve(inst.with_changes(["providers.P1.can_lead=false"])).objective == (
        pytest.approx(85)
    )
    assert table.at["P2", "status"] == "infeasible"
    assert oracle_solve(inst.with_changes(["providers.P2.can_lead=false"])) is None
