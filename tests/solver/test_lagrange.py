"""The Lagrangian bound (csu_opt.solver.lagrange) and the column generation over assignments,
links and flows (csu_opt.solver.lp.network_lp), against the brute-force oracle's optima and
the LP relaxation solved whole."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from csu_opt.model.blocks import MatrixModel
from csu_opt.model.index import ModelIndex, build_index
from csu_opt.model.matrix import build_matrix
from csu_opt.solver import reduce
from csu_opt.solver.highs import pass_to_highs, quiet_highs
from csu_opt.solver.lagrange import (
    EXTREME,
    Multipliers,
    bound_from_duals,
    lagrange_data,
    lagrangian_value,
    multipliers_from_duals,
    repaired,
)
from csu_opt.solver.lp import BOUND_CLOSE, network_lp
from csu_opt.solver.options import SolveOptions
from csu_opt.solver.solve import solve
from factories.cuts import CUT_SEEDS
from factories.oracle_refs import case, shared_case
from factories.rules import RANDOM_SEEDS, REL

TOL = 1e-6
CASES = [("cuts", s) for s in CUT_SEEDS] + [("rules-random", s) for s in RANDOM_SEEDS]


@functools.cache
def feasible(name: str, seed: int) -> tuple[ModelIndex, float] | None:
    inst, ref = shared_case(name, seed)
    return None if ref is None else (build_index(inst), ref.objective)


FEASIBLE = [c for c in CASES if feasible(*c) is not None]


def whole_lp(mm: MatrixModel) -> tuple[float, np.ndarray]:
    """The LP relaxation solved in one HiGHS run: optimum and row duals."""
    h = quiet_highs({})
    pass_to_highs(h, mm)
    n = mm.n_cols
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.zeros(n, np.int32))
    h.run()
    assert h.modelStatusToString(h.getModelStatus()) == "Optimal"
    return float(h.getInfo().objective_function_value), np.asarray(h.getSolution().row_dual)


def random_multipliers(ix: ModelIndex, rng: np.random.Generator, scale: float) -> Multipliers:
    data = lagrange_data(ix)
    nL, nS = data.nL, data.nS

    def draw(*shape: int) -> np.ndarray:
        return rng.normal(0.0, scale, size=shape)

    return Multipliers(
        mu=draw(data.nC) + scale,
        pi=draw(nL, nS),
        tau=np.abs(draw(data.nK)),
        kappa=np.abs(draw(nL, nS)),
        eta=np.abs(draw(nL, nS)) / 10,
        zeta=np.abs(draw(nL)),
    )


def test_the_cases_cover_both_sets_and_several_leads_per_subcontractor() -> None:
    assert len(FEASIBLE) >= 60
    assert {n for n, _ in FEASIBLE} == {"cuts", "rules-random"}
    assert any(feasible(*c)[0].max_leads_per_sub > 1 for c in FEASIBLE)  # type: ignore[index]


@pytest.mark.parametrize(("name", "seed"), FEASIBLE)
def test_bound_never_exceeds_the_optimum_at_any_multipliers(name: str, seed: int) -> None:
    got = feasible(name, seed)
    assert got is not None
    ix, optimum = got
    data = lagrange_data(ix)
    rng = np.random.default_rng(seed)
    tol = TOL * max(1.0, abs(optimum))
    repairs = 0
    for scale in (0.1, 1.0, 10.0, 100.0):
        for _ in range(5):
            mult = random_multipliers(ix, rng, scale)
            assert lagrangian_value(data, mult) <= optimum + tol
            other = repaired(data, mult)
            if other is not None:
                repairs += 1
                assert lagrangian_value(data, other) <= optimum + tol
    if data.nL >= 2:  # one lead made extreme on purpose: the repair must take it
        mult = random_multipliers(ix, rng, 0.0)
        mult.pi[0] = 10 * EXTREME * (1 + float(np.max(data.cost[data.has], initial=0.0)))
        other = repaired(data, mult)
        assert other is not None
        assert lagrangian_value(data, other) <= optimum + tol
        repairs += 1
    assert repairs > 0 or data.nL < 2


@pytest.mark.parametrize(("name", "seed"), FEASIBLE)
def test_bound_at_the_lp_duals_is_the_lp_bound(name: str, seed: int) -> None:
    """At the optimal duals of the LP without valid inequalities, L is that LP's optimum
    (the duals read into the multipliers exactly) when a subcontractor serves one lead (with
    more, the providers' side decouples the leads and may fall below); with the valid
    inequalities, whose duals have no place in L, it stays a bound."""
    got = feasible(name, seed)
    assert got is not None
    ix, optimum = got
    data = lagrange_data(ix)
    tol = TOL * max(1.0, abs(optimum))
    plain = build_matrix(ix, valid_inequalities=False)
    lp, y = whole_lp(plain)
    value = lagrangian_value(data, multipliers_from_duals(ix, plain, y))
    if ix.max_leads_per_sub == 1:
        assert value >= lp - tol
    assert value <= optimum + tol
    strong = build_matrix(ix)
    _, y_strong = whole_lp(strong)
    value_strong = lagrangian_value(data, multipliers_from_duals(ix, strong, y_strong))
    assert value_strong <= optimum + tol


@pytest.mark.parametrize(("name", "seed"), FEASIBLE)
def test_network_lp_reaches_the_whole_lp_and_every_round_bounds(name: str, seed: int) -> None:
    """One assignment per CCG and one flow per network line to start with: column
    generation must bring in the rest, and its optimum is the LP's. With the Lagrangian
    read from each round's duals, every round's bound is at most the optimum, and the
    rounds stop only once the restricted LP is within BOUND_CLOSE of the best of them."""
    got = feasible(name, seed)
    assert got is not None
    ix, optimum = got
    mm = build_matrix(ix)
    lp, _ = whole_lp(mm)
    tol = TOL * max(1.0, abs(optimum))
    res = network_lp(mm, time_limit=60, highs_options={}, per_ccg=1, per_row=1)
    assert res.status == "Optimal"
    assert res.objective == pytest.approx(lp, rel=1e-7, abs=1e-6)
    assert res.value is not None
    act = mm.activity(res.value)
    assert np.all(act >= mm.row_lower - 1e-6) and np.all(act <= mm.row_upper + 1e-6)

    bound = bound_from_duals(ix, mm)
    seen: list[float] = []

    def recording(y: np.ndarray) -> float:
        seen.append(bound(y))
        return seen[-1]

    res = network_lp(mm, time_limit=60, highs_options={}, per_ccg=1, per_row=1, bound_of=recording)
    assert seen and max(seen) <= optimum + tol
    assert res.bound == max(seen)
    assert res.partial_objective is not None
    if res.status != "Optimal":
        assert res.status == "Bound within tolerance"
        assert res.partial_objective - res.bound <= BOUND_CLOSE * max(
            1.0, abs(res.partial_objective)
        )


@pytest.mark.parametrize(("name", "seed"), FEASIBLE[::3])
def test_the_reduction_by_network_keeps_the_oracle_optimum(
    name: str, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The root reduction on the path national models take (links and flows generated,
    the Lagrangian bound from every round), forced on tiny models: the optimum is the
    oracle's, and the reduction's bound never exceeds it."""
    monkeypatch.setattr(reduce, "NETWORK_LP_NNZ", 0)
    monkeypatch.setattr(reduce, "COLGEN_MIN_Z", 0)
    inst, ref = case(name, seed)
    assert ref is not None
    sol = solve(
        inst, SolveOptions(mip_gap=1e-9, time_limit=60, backend="matrix", root_reduction=True)
    )
    assert sol.status == "optimal", sol.message
    assert sol.objective == pytest.approx(ref.objective, rel=REL, abs=REL)
    record = sol.solver["reduction"]
    assert record["lagrangian_bound"] is not None
    assert record["lagrangian_bound"] <= ref.objective + TOL * max(1.0, abs(ref.objective))
