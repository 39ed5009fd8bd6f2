"""The root reduction (csu_opt.solver.reduce) never changes the optimum, only the way to it.

Known answers: the brute-force oracle on the 36 random instances of test_rules (split and
single sourcing, infeasible ones included), the hand-worked demo optimum, and published
facility-location optima, all solved with the reduction forced on (matrix and Pyomo paths).
"""

from __future__ import annotations

import json
from pathlib import Path

import highspy
import numpy as np
import pytest
from benchmarks.readers import convert_benchmark

import csu_opt
from csu_opt.model.blocks import MatrixModel
from csu_opt.model.index import build_index
from csu_opt.model.matrix import build_matrix
from csu_opt.solver.highs import pass_to_highs
from csu_opt.solver.options import SolveOptions
from csu_opt.solver.reduce import implications, root_reduction
from csu_opt.solver.solve import solve
from factories.benchmarks import close_to_published, published_cases
from factories.oracle_refs import random_case
from factories.rules import RANDOM_SEEDS, REL

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "instances" / "demo.yaml"
DEMO_OPTIMUM = 87_849.44


@pytest.mark.parametrize("seed", RANDOM_SEEDS)
def test_reduction_keeps_the_oracle_optimum(seed: int) -> None:
    inst, ref = random_case(seed)
    for backend in ("matrix", "pyomo"):
        opts = SolveOptions(mip_gap=1e-9, time_limit=60, backend=backend, root_reduction=True)
        sol = solve(inst, opts)
        if ref is None:
            assert sol.status == "infeasible", (backend, sol.message)
            continue
        assert sol.status == "optimal", (backend, sol.message)
        assert sol.objective == pytest.approx(ref.objective, rel=REL, abs=REL), backend
        assert sol.best_bound is not None and sol.best_bound <= sol.objective + 1e-6
        assert sol.cost_breakdown.total == pytest.approx(sol.objective, rel=REL, abs=REL)


def test_reduced_cost_fixing_is_valid_on_the_demo() -> None:
    inst = csu_opt.load_instance(DEMO)
    ix = build_index(inst)
    mm = build_matrix(ix)
    imp = implications(ix, mm)
    red = root_reduction(mm, time_limit=None, mip_gap=1e-9, highs_options={"threads": 1}, imp=imp)
    assert red.lp_status == "Optimal" and red.lower_bound is not None
    assert red.lower_bound <= DEMO_OPTIMUM + 1e-6
    assert red.incumbent is not None and mm.violation(red.incumbent) <= 1e-6
    assert red.incumbent_objective == pytest.approx(mm.cost(red.incumbent))
    assert red.incumbent_objective >= DEMO_OPTIMUM - 1e-6
    # the demo fixes binaries both ways; every fixing agrees with the optimal network
    assert len(red.fixed_zero) > 0 and len(red.fixed_one) > 0
    assert red.threshold > red.incumbent_objective
    full = solve(inst, SolveOptions(mip_gap=1e-9, root_reduction=False, backend="matrix"))
    assert full.objective == pytest.approx(DEMO_OPTIMUM, abs=1e-6)
    reduced = solve(inst, SolveOptions(mip_gap=1e-9, root_reduction=True, backend="matrix"))
    assert reduced.status == "optimal"
    assert reduced.objective == pytest.approx(DEMO_OPTIMUM, abs=1e-6)
    assert reduced.solver["reduction"]["fixed_to_zero"] == len(red.fixed_zero)


def _forced_optimum(mm: MatrixModel, column: int, value: float) -> float | None:
    """The MIP optimum with one column forced to ``value`` (None when infeasible)."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    pass_to_highs(h, mm)
    h.setOptionValue("mip_rel_gap", 1e-9)
    c = int(mm.highs_col[column])
    h.changeColBounds(c, value, value)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return float(h.getInfo().objective_function_value)


@pytest.mark.parametrize("case", ["demo", *(s for s in RANDOM_SEEDS if s % 3 == 0)])
def test_every_fixing_is_proven_by_a_forced_solve(case: str | int) -> None:
    # brute force over the fixings: forcing any fixed binary the other way costs at least
    # the excluded bound (or is infeasible), which is above the incumbent
    if case == "demo":
        instance = csu_opt.load_instance(DEMO)
    else:
        instance, ref = random_case(int(case))
        if ref is None:
            pytest.skip("infeasible case")
    ix = build_index(instance)
    mm = build_matrix(ix)
    red = root_reduction(
        mm, time_limit=None, mip_gap=1e-9, highs_options={}, imp=implications(ix, mm)
    )
    assert red.incumbent_objective is not None
    for column, forced in [(j, 1.0) for j in red.fixed_zero] + [(j, 0.0) for j in red.fixed_one]:
        best = _forced_optimum(mm, int(column), forced)
        assert best is None or best >= red.threshold - 1e-6, (column, best, red.threshold)
        assert best is None or best > red.incumbent_objective


def test_reduction_alone_can_prove_the_gap(tmp_path: Path) -> None:
    # demo: LP bound 87,795.17, restricted MIP 87,849.44 (0.06%): within a 1% gap without
    # branch-and-bound; the result folder is written and verified as usual
    from click.testing import CliRunner

    from csu_opt.cli.main import main

    out = tmp_path / "res"
    args = ["solve", str(DEMO), "--reduction", "--mip-gap", "0.01", "--out", str(out), "-q"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "optimal"
    assert summary["objective"] == pytest.approx(DEMO_OPTIMUM, abs=1e-6)
    assert summary["best_bound"] == pytest.approx(87_795.1703, abs=1e-3)
    assert summary["solver"]["reduction"]["gap_after_reduction"] <= 0.01
    assert summary["verified"] is True


def test_reduction_can_be_turned_off() -> None:
    inst = csu_opt.load_instance(DEMO)
    sol = solve(inst, SolveOptions(backend="matrix", root_reduction=False))
    assert "reduction" not in sol.solver
    assert sol.objective == pytest.approx(DEMO_OPTIMUM, abs=1e-2)


def test_stop_request_during_the_reduction_is_clean() -> None:
    inst = csu_opt.load_instance(DEMO)
    opts = SolveOptions(backend="matrix", root_reduction=True, should_stop=lambda: True)
    sol = solve(inst, opts)
    assert sol.status in ("feasible", "no_solution")
    if sol.objective is not None:  # only ever a checked solution
        assert sol.objective >= DEMO_OPTIMUM - 1e-6


def test_interrupted_reduced_solve_keeps_a_valid_bound() -> None:
    # test_rules.big_instance: the restricted MIP finds 9,831.77 and fixes 5 binaries to 1
    # (threshold 9,872.08); HiGHS is then stopped before its root: the bound reported must
    # be the LP bound, not the fixings' threshold (which is above the incumbent)
    from factories.rules import solve_big_until

    # the reduction reports its stages too; stop once HiGHS's own search has reported
    _, sol = solve_big_until(lambda lines: sum(p.stage == "branch-and-bound" for p in lines) >= 3)
    assert sol.status == "feasible" and "interrupt" in sol.message
    red = sol.solver["reduction"]
    assert sol.best_bound == pytest.approx(red["lp_bound"])
    assert sol.objective is not None and sol.best_bound <= sol.objective
    assert sol.objective >= 9803.62 - 1e-6  # the optimum (test_rules)


def test_column_generation_lp_equals_the_direct_lp(monkeypatch: pytest.MonkeyPatch) -> None:
    # the LP by column generation over z (csu_opt.solver.lp) against the LP in one run, on models
    # small enough to force it on: same bound, and its duals make every column's rc >= 0
    from csu_opt.model.blocks import index_codes
    from csu_opt.solver import lp as lp_mod
    from csu_opt.solver import reduce as reduce_mod

    monkeypatch.setattr(lp_mod, "FIRST_SHARE", 0.0)
    monkeypatch.setattr(lp_mod, "FIRST_MIN", 1)  # one lead per CCG first: many rounds
    for seed in [s for s in RANDOM_SEEDS if s % 5 == 1]:
        inst, _ = random_case(seed)
        ix = build_index(inst)
        mm = build_matrix(ix)
        cg = lp_mod.assignment_lp(mm, index_codes(ix).z_c, time_limit=None, highs_options={})
        direct = reduce_mod._direct_lp(reduce_mod._full_highs(mm, {}, None), mm, None, "ipm")
        if direct.objective is None:
            assert cg.objective is None
            continue
        assert cg.status == "Optimal" and cg.objective is not None, seed
        assert cg.objective == pytest.approx(direct.objective, rel=1e-7, abs=1e-6), seed
        assert cg.value is not None and cg.reduced_cost is not None
        act = mm.activity(cg.value)
        assert np.all(act <= mm.row_upper + 1e-6) and np.all(act >= mm.row_lower - 1e-6)
        at_lower = cg.value <= mm.col_lower + 1e-9
        assert np.all(cg.reduced_cost[at_lower] >= -1e-6), seed


@pytest.mark.parametrize("seed", [s for s in RANDOM_SEEDS if s % 2 == 0])
def test_reduction_with_column_generation_keeps_the_optimum(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from csu_opt.solver import lp as lp_mod
    from csu_opt.solver import reduce as reduce_mod

    monkeypatch.setattr(reduce_mod, "COLGEN_MIN_Z", 0)
    monkeypatch.setattr(reduce_mod, "COLGEN_MIN_LEADS", 0)
    monkeypatch.setattr(lp_mod, "FIRST_MIN", 1)
    inst, ref = random_case(seed)
    sol = solve(inst, SolveOptions(mip_gap=1e-9, backend="matrix", root_reduction=True))
    if ref is None:
        assert sol.status == "infeasible"
        return
    assert sol.status == "optimal", sol.message
    assert sol.objective == pytest.approx(ref.objective, rel=REL, abs=REL)
    assert sol.solver["reduction"]["lp_rounds"] >= 1


REDUCED_BENCHMARKS = ["cap41", "cap64", "cap71", "cap104", "cap131", "p1", "p7", "p13", "p20"]


@pytest.mark.parametrize(("name", "bench"), published_cases(REDUCED_BENCHMARKS))
def test_published_optimum_with_reduction(name: str, bench: object, tmp_path: Path) -> None:
    assert bench is not None, name
    instance = csu_opt.load_instance(convert_benchmark(name, tmp_path))
    sol = solve(instance, SolveOptions(mip_gap=1e-9, root_reduction=True, backend="matrix"))
    assert sol.status == "optimal", sol.message
    assert sol.objective is not None and close_to_published(sol.objective, bench.optimum)  # type: ignore[attr-defined]
    red = sol.solver["reduction"]
    assert red["lp_bound"] <= sol.objective + 1e-6
    assert np.isfinite(red["lp_s"])


# --------------------------------------------------------------------------- aggregate bound


@pytest.mark.parametrize("seed", RANDOM_SEEDS)
def test_aggregate_bound_is_below_the_lp_bound_and_the_optimum(seed: int) -> None:
    from csu_opt.solver.bounds import aggregate_bound
    from csu_opt.solver.reduce import _direct_lp, _full_highs

    inst, ref = random_case(seed)
    ix = build_index(inst)
    bound = aggregate_bound(ix)
    if ref is None or bound is None:
        return  # infeasible: nothing to bound (the aggregate may itself be infeasible)
    mm = build_matrix(ix)
    lp = _direct_lp(_full_highs(mm, {}, None), mm, None, "ipm")
    assert lp.objective is not None
    assert bound <= lp.objective + 1e-7 * max(1.0, abs(lp.objective))
    assert bound <= ref.objective + 1e-7 * max(1.0, abs(ref.objective))


def test_aggregate_bound_of_the_demo_by_hand() -> None:
    # demo: no subcontracting needed to bound it; the aggregate must sit below the optimum
    # 87,849.44 and above the assignment and cheapest-lead constants alone
    from csu_opt.solver.bounds import aggregate_bound

    inst = csu_opt.load_instance(DEMO)
    ix = build_index(inst)
    bound = aggregate_bound(ix)
    assert bound is not None
    t_min = ix.assign.groupby("c")["t"].min().sum()
    lead_F = np.sort(ix.providers.loc[ix.leads, "F"].to_numpy())
    floor = t_min + lead_F[: max(int(ix.lead_min or 0), 1)].sum()
    assert floor < bound <= DEMO_OPTIMUM + 1e-6


def test_bound_when_the_lp_does_not_finish_is_the_aggregate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # an LP stopped by its time limit leaves the aggregate relaxation as the bound, and the
    # solve still ends with a valid gap
    from csu_opt.solver import reduce as reduce_mod
    from csu_opt.solver.bounds import aggregate_bound
    from csu_opt.solver.lp import LPResult

    monkeypatch.setattr(
        reduce_mod, "_direct_lp", lambda *a, **k: LPResult(status="Time limit reached")
    )
    monkeypatch.setattr(reduce_mod, "COLGEN_MIN_Z", 10**9)  # the direct LP, i.e. the stub
    inst = csu_opt.load_instance(DEMO)
    sol = solve(inst, SolveOptions(backend="matrix", root_reduction=True, mip_gap=1e-9))
    red = sol.solver["reduction"]
    assert red["lp_bound"] is None
    assert red["aggregate_bound"] == pytest.approx(aggregate_bound(build_index(inst)))
    assert sol.status == "optimal"  # HiGHS's own search still proves it
    assert sol.objective == pytest.approx(DEMO_OPTIMUM, abs=0.01)


def test_reduction_account_is_logged_into_the_solve_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # the root reduction's account goes through `logging` (csu_opt.solver): into highs.log
    # after HiGHS's own log when the solve has one, else wherever the application logs
    inst = csu_opt.load_instance(DEMO)
    log = tmp_path / "highs.log"
    opts = SolveOptions(mip_gap=1e-9, root_reduction=True, backend="matrix", log_file=log)
    sol = solve(inst, opts)
    assert sol.objective == pytest.approx(DEMO_OPTIMUM, abs=1e-6)
    text = log.read_text(encoding="utf-8")
    head, account = text.split("csu-opt root reduction (csu_opt.solver.reduce)")
    assert "HiGHS" in head  # HiGHS's log comes first
    assert "reduced-cost fixing:" in account and account.endswith("\n")
    caplog.clear()
    with caplog.at_level("INFO", logger="csu_opt.solver"):
        solve(inst, SolveOptions(mip_gap=1e-9, root_reduction=True, backend="matrix"))
    (record,) = [r for r in caplog.records if "root reduction" in r.getMessage()]
    assert record.name == "csu_opt.solver" and record.levelname == "INFO"
