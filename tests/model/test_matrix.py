"""The matrix backend (``csu_opt.model.matrix``) builds exactly the Pyomo model (issue 7).

Row for row: the arrays handed to highspy equal what Pyomo's appsi interface hands HiGHS for
the model of ``csu_opt.model.pyomo_model`` (same rows in the same order, same columns after mapping,
same coefficients, bounds, integrality, costs and objective constant) on the rule instances,
seeded random instances, generated ones, England 2014 and published benchmarks. Then both
backends solve to the same optima, a kept matrix session re-solves parameter changes like a
fresh solve, options and callbacks behave as on the Pyomo path, and the greedy start is
feasible.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from benchmarks.readers import BenchmarksNotFound, find_benchmark

import csu_opt
from csu_opt.instance.load import Instance
from csu_opt.model.index import build_index
from csu_opt.model.matrix import build_matrix
from csu_opt.model.pyomo_model import build_model
from csu_opt.solver.engines import choose_backend
from csu_opt.solver.options import Progress, SolveOptions
from csu_opt.solver.solve import ModelSession, solve
from csu_opt.solver.start import greedy_start
from factories.cuts import lp_bound
from factories.generated import benchmark, generated
from factories.matrix import assert_same_model
from factories.mergers import random_instance as merger_instance
from factories.rules import RULE_CASES, big_instance, random_instance

#: the module (``csu_opt.solver.solve`` the attribute is the function of that name)
engines_mod = importlib.import_module("csu_opt.solver.engines")
ROOT = Path(__file__).resolve().parents[2]
REL = 1e-6


# --------------------------------------------------------------------------- instances


def england() -> Instance:
    path = ROOT / "instances" / "england-2014.yaml"
    if not path.is_file():
        pytest.skip("instances/england-2014.yaml absent")
    return csu_opt.load_instance(path)


RULES = {
    f"{rule}-{'slack' if slack else 'tight'}": (rule, slack)
    for rule in RULE_CASES
    for slack in (False, True)
}


def rule_instance(key: str) -> Instance:
    rule, slack = RULES[key]
    return RULE_CASES[rule][0](slack)


@pytest.mark.parametrize("key", list(RULES))
def test_rule_instances_same_model(key: str) -> None:
    assert_same_model(rule_instance(key))


@pytest.mark.parametrize("seed", range(36))
def test_random_instances_same_model(seed: int) -> None:
    assert_same_model(random_instance(seed))


@pytest.mark.parametrize(("providers", "ccgs", "seed"), [(6, 20, 0), (20, 120, 1), (50, 211, 2)])
def test_generated_same_model(providers: int, ccgs: int, seed: int) -> None:
    assert_same_model(generated(providers, ccgs, seed))


def test_england_same_model_with_and_without_cuts() -> None:
    inst = england()
    assert_same_model(inst)
    assert_same_model(inst, valid_inequalities=False)


@pytest.mark.parametrize("name", ["cap41", "cap71", "cap101", "cap131", "p1", "p13", "p24"])
def test_benchmarks_same_model(name: str) -> None:
    assert_same_model(benchmark(name))


@pytest.mark.parametrize("seed", range(8))
def test_merger_instances_same_model(seed: int) -> None:
    assert_same_model(merger_instance(seed))


def test_demo_mergers_same_model_and_optimum() -> None:
    path = ROOT / "instances" / "demo-mergers.yaml"
    if not path.is_file():
        pytest.skip("instances/demo-mergers.yaml absent")
    inst = csu_opt.load_instance(path)
    assert_same_model(inst)
    solve_both(inst)


@pytest.mark.parametrize("seed", [0, 3, 11])
def test_mutable_same_model(seed: int) -> None:
    inst = random_instance(seed)
    assert_same_model(inst, mutable=True)
    gen = generated(12, 60, seed)
    assert_same_model(gen, mutable=True)
    assert_same_model(gen, valid_inequalities=False, mutable=True, params=(2, 5, 1.3))


def test_mutable_models_leave_out_the_cardinality_cover() -> None:
    # k[s] depends on demand, which a mutable model may scale: both backends omit V1 there
    ix = build_index(generated(12, 60, 1))
    assert "capacity_cover" not in build_matrix(ix, mutable=True).components
    assert not hasattr(build_model(ix, mutable=True), "capacity_cover")
    assert "capacity_cover" in build_matrix(ix).components


def test_cardinality_cover_counts_and_tightens_cap44(tmp_path: Path) -> None:
    # cap44: 16 warehouses of capacity 5000, demand 58268: 11 * 5000 < 58268 <= 12 * 5000
    try:
        bench = find_benchmark("cap44")
    except BenchmarksNotFound as exc:
        pytest.skip(str(exc))
    from benchmarks.readers import convert_benchmark

    from csu_opt.model.index import cover_counts

    inst = csu_opt.load_instance(convert_benchmark("cap44", tmp_path))
    assert bench.optimum == pytest.approx(1_235_500.45, abs=0.01)
    ix = build_index(inst)
    assert cover_counts(ix)["k"].tolist() == [12]

    # LP bounds measured once (benchmarks/lp_bound.py); the optimum is 1,235,500.45
    assert lp_bound(inst, cuts=False) == pytest.approx(1_232_073.66, abs=0.01)
    assert lp_bound(inst, cuts=True) == pytest.approx(1_235_437.23, abs=0.01)


# --------------------------------------------------------------------------- same optima


def solve_both(inst: Instance, **kw: Any) -> tuple[csu_opt.Solution, csu_opt.Solution]:
    sols = [
        solve(inst, SolveOptions(backend=b, mip_gap=1e-9, time_limit=120, **kw))
        for b in ("pyomo", "matrix")
    ]
    py, mx = sols
    assert py.status == mx.status, (py.status, mx.status)
    assert py.solver["interface"] == "pyomo.appsi"
    assert mx.solver["interface"] == "highspy.matrix"
    if py.objective is None:
        assert mx.objective is None
    else:
        assert mx.objective == pytest.approx(py.objective, rel=REL, abs=REL)
        assert mx.cost_breakdown is not None
        assert mx.cost_breakdown.total == pytest.approx(mx.objective, rel=REL, abs=REL)
    return py, mx


@pytest.mark.parametrize("key", list(RULES))
def test_rule_instances_same_optimum(key: str) -> None:
    rule, slack = RULES[key]
    _, mx = solve_both(rule_instance(key))
    hand = RULE_CASES[rule][2 if slack else 1]
    assert mx.objective == pytest.approx(hand, rel=REL, abs=REL)


@pytest.mark.parametrize("seed", range(0, 36, 3))
def test_random_instances_same_optimum(seed: int) -> None:
    solve_both(random_instance(seed))


@pytest.mark.parametrize(("name", "optimum"), [("cap41", 1040444.375), ("p1", 8848.0)])
def test_benchmarks_same_optimum(name: str, optimum: float) -> None:
    _, mx = solve_both(benchmark(name))
    assert mx.objective == pytest.approx(optimum, abs=1e-3)


@pytest.mark.parametrize(("providers", "ccgs", "seed"), [(8, 40, 0), (10, 60, 5)])
def test_generated_same_optimum(providers: int, ccgs: int, seed: int) -> None:
    py, mx = solve_both(
        generated(providers, ccgs, seed), threads=1, start_heuristic=False, root_reduction=False
    )
    # the same model, columns in the same order: HiGHS searches it the same way (the root
    # reduction, on by default for the matrix backend only, is off for both)
    assert py.solver["nodes"] == mx.solver["nodes"]


def test_without_start_same_optimum() -> None:
    inst = generated(8, 40, 2)
    a = solve(inst, SolveOptions(backend="matrix", mip_gap=1e-9, start_heuristic=False))
    b = solve(inst, SolveOptions(backend="matrix", mip_gap=1e-9, start_heuristic=True))
    assert a.solver.get("start") is None and b.solver["start"]["found"]
    assert a.objective == pytest.approx(b.objective, rel=REL)


@pytest.mark.parametrize("backend", ["pyomo", "matrix"])
def test_started_solve_reaches_the_published_optimum(backend: str) -> None:
    # HiGHS 1.16.0 with a start and presolve on reported 625,574.06 as "optimal" on cap71
    # (its returned solution, the start, cost 1,241,842.69); the published optimum is 932,615.75
    sol = solve(
        benchmark("cap71"), SolveOptions(backend=backend, mip_gap=1e-9, start_heuristic=True)
    )
    assert sol.solver["start"]["found"]
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(932_615.75, abs=1e-3)


@pytest.mark.parametrize("backend", ["pyomo", "matrix"])
def test_objective_that_disagrees_with_its_solution_is_not_optimal(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a solver fault like the one above: HiGHS's objective is not the cost of its solution
    highs_module = importlib.import_module("csu_opt.solver.highs")
    true_cost = highs_module.solution_cost
    monkeypatch.setattr(highs_module, "solution_cost", lambda h, c: true_cost(h, c) + 50.0)
    sol = solve(benchmark("cap41"), SolveOptions(backend=backend, root_reduction=False))
    assert sol.status == "feasible"
    assert "inconsistent" in sol.message
    assert sol.best_bound is None and sol.mip_gap is None
    assert sol.objective == pytest.approx(1040444.375 + 50.0, abs=1e-3)


# --------------------------------------------------------------------------- sessions


@pytest.mark.parametrize("loop_max", [engines_mod.COEFF_LOOP_MAX, 0], ids=["changeCoeff", "repass"])
def test_matrix_session_resolves_like_fresh_solves(
    loop_max: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engines_mod, "COEFF_LOOP_MAX", loop_max)
    base = generated(10, 50, 4)
    opts = SolveOptions(backend="matrix", mip_gap=1e-9, threads=1)
    session = ModelSession(base, opts, mutable=True)
    lo, hi = base.settings.lead_min, base.settings.lead_max
    for case_lo, case_hi, scale in [(lo, hi, 1.0), (lo, lo, 1.25), (lo, hi, 0.8), (lo, hi, 1.0)]:
        session.set_parameters(case_lo, case_hi, scale)
        changed = base.with_changes(
            [
                f"settings.lead_providers.min={case_lo}",
                f"settings.lead_providers.max={case_hi}",
                f"demand.volume*={scale}",
            ]
        )
        kept = session.solve(changed, opts)
        fresh = solve(changed, SolveOptions(backend="pyomo", mip_gap=1e-9, threads=1))
        assert kept.status == fresh.status == "optimal"
        assert kept.objective == pytest.approx(fresh.objective, rel=REL)
    assert kept.solver["warm_start"] is True


def test_backend_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    ix = build_index(random_instance(0))
    assert choose_backend(ix, "auto") == "matrix"  # every plain solve, however small
    assert choose_backend(ix, "pyomo") == "pyomo"
    monkeypatch.setattr(engines_mod, "AUTO_MATRIX_NNZ", 10**9)
    assert choose_backend(ix, "auto") == "pyomo"
    with pytest.raises(ValueError, match="backend"):
        choose_backend(ix, "gurobi")


# --------------------------------------------------------------------------- options, callbacks


@pytest.mark.parametrize("backend", ["pyomo", "matrix"])
def test_progress_stop_and_log_file(backend: str, tmp_path: Path) -> None:
    inst = big_instance()
    seen: list[Progress] = []
    log = tmp_path / "highs.log"
    sol = solve(
        inst,
        SolveOptions(
            backend=backend,  # type: ignore[arg-type]
            mip_gap=1e-9,
            threads=1,
            log_file=log,
            on_progress=seen.append,
            should_stop=lambda: len(seen) >= 3,
            start_heuristic=False,
        ),
    )
    assert len(seen) >= 3
    assert "interrupt" in sol.message
    assert sol.status in ("feasible", "no_solution")
    if sol.objective is not None and sol.best_bound is not None:  # never a bound above it
        assert sol.best_bound <= sol.objective + 1e-6
    assert log.is_file() and "HiGHS" in log.read_text()
    assert sol.solver["options"]["backend"] == backend


@pytest.mark.parametrize("backend", ["pyomo", "matrix"])
def test_time_limit_and_options(backend: str) -> None:
    inst = big_instance()
    sol = solve(
        inst,
        SolveOptions(
            backend=backend,  # type: ignore[arg-type]
            time_limit=1.0,
            mip_gap=1e-9,
            threads=1,
            seed=3,
            highs_options={"mip_heuristic_effort": 0.1},
        ),
    )
    assert sol.status == "feasible"
    assert sol.mip_gap is not None and sol.mip_gap > 0
    assert sol.solver["options"]["mip_heuristic_effort"] == 0.1
    assert sol.solver["options"]["random_seed"] == 3


def test_interrupted_matrix_solve_reports_no_solution_without_start() -> None:
    sol = solve(
        generated(20, 120, 1),
        SolveOptions(backend="matrix", should_stop=lambda: True, start_heuristic=False),
    )
    assert sol.status in ("no_solution", "feasible")
    assert "interrupt" in sol.message


# --------------------------------------------------------------------------- greedy start


@pytest.mark.parametrize(
    "make",
    [lambda: generated(20, 120, 1), lambda: generated(30, 211, 7), lambda: benchmark("cap41")],
    ids=["gen20x120", "gen30x211", "cap41"],
)
def test_greedy_start_is_feasible(make: Any) -> None:
    inst = make()
    ix = build_index(inst)
    mm = build_matrix(ix)
    col = greedy_start(ix, mm)
    assert col is not None
    assert mm.violation(col) <= 1e-6
    assert mm.cost(col) > 0
    sol = solve(inst, SolveOptions(backend="matrix", time_limit=5, threads=1, start_heuristic=True))
    assert sol.status.has_solution and sol.solver["start"]["found"]
    assert sol.solver["start"]["objective"] == pytest.approx(mm.cost(col))
    assert sol.objective is not None
    assert sol.objective <= sol.solver["start"]["objective"] + 1e-6
