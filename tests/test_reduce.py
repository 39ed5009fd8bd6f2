"""The root reduction (csu_opt.reduce) never changes the optimum, only the way to it.

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

import csu_opt
from csu_opt.benchmarks import convert_benchmark
from csu_opt.indices import build_index
from csu_opt.matrix import MatrixModel, build_matrix, pass_to_highs
from csu_opt.reduce import implications, root_reduction
from csu_opt.solve import SolveOptions, solve
from test_benchmarks import _cases, _close
from test_rules import RANDOM_SEEDS, REL, random_case

ROOT = Path(__file__).resolve().parent.parent
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

    from csu_opt.cli import main

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


REDUCED_BENCHMARKS = ["cap41", "cap64", "cap71", "cap104", "cap131", "p1", "p7", "p13", "p20"]


@pytest.mark.parametrize(("name", "bench"), _cases(REDUCED_BENCHMARKS))
def test_published_optimum_with_reduction(name: str, bench: object, tmp_path: Path) -> None:
    assert bench is not None, name
    instance = csu_opt.load_instance(convert_benchmark(name, tmp_path))
    sol = solve(instance, SolveOptions(mip_gap=1e-9, root_reduction=True, backend="matrix"))
    assert sol.status == "optimal", sol.message
    assert sol.objective is not None and _close(sol.objective, bench.optimum)  # type: ignore[attr-defined]
    red = sol.solver["reduction"]
    assert red["lp_bound"] <= sol.objective + 1e-6
    assert np.isfinite(red["lp_s"])
