"""The national LP by HiGHS's first-order method (csu_opt.solver.first_order): its duals give
a bound no higher than the brute-force oracle's optimum, the reduction on the national path
with it ends at the oracle's optimum, no duals fall back to the column generation, and a
stop ends its worker process."""

from __future__ import annotations

import multiprocessing
import signal

import numpy as np
import pytest

from csu_opt import stops
from csu_opt.model.matrix import build_matrix
from csu_opt.solver import first_order
from csu_opt.solver.first_order import FirstOrderLP, first_order_lp
from csu_opt.solver.lagrange import bound_from_duals
from csu_opt.stops import Interrupted
from test_lagrange import FEASIBLE, TOL, feasible, solved_on_the_network_path, whole_lp


@pytest.mark.parametrize(("name", "seed"), FEASIBLE[::4])
def test_its_duals_bound_the_oracle_optimum(name: str, seed: int) -> None:
    """On tiny cases the first-order LP returns values within the columns' bounds, an
    objective near the LP's optimum, and duals at which the Lagrangian bound is at most the
    oracle's optimum."""
    case = feasible(name, seed)
    assert case is not None
    ix, optimum = case
    mm = build_matrix(ix)
    got = first_order_lp(mm, time_limit=60.0)
    assert got.row_dual is not None and got.value is not None and got.objective is not None
    assert len(got.row_dual) == mm.n_rows and len(got.value) == mm.n_cols
    assert np.all(got.value >= mm.col_lower) and np.all(got.value <= mm.col_upper)
    lp, _ = whole_lp(mm)
    assert got.objective == pytest.approx(lp, rel=0.05)
    bound = bound_from_duals(ix, mm)(got.row_dual)
    assert bound <= optimum + TOL * max(1.0, abs(optimum))


@pytest.mark.parametrize(("name", "seed"), FEASIBLE[1::6])
def test_the_reduction_with_it_keeps_the_oracle_optimum(
    name: str, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The national path with the first-order LP forced on tiny models: the reduction says
    it ran, its bound is at most the oracle's optimum, and the solve ends at that optimum."""
    monkeypatch.setattr(first_order, "FIRST_ORDER_NNZ", 0)
    record, optimum = solved_on_the_network_path(name, seed, monkeypatch)
    assert record["lp_status"].startswith("first-order LP")
    assert record["lp_rounds"] == 0
    assert record["lagrangian_bound"] is not None
    assert record["lagrangian_bound"] <= optimum + TOL * max(1.0, abs(optimum))


def test_no_duals_fall_back_to_the_column_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    """A first-order LP that returns no duals (its time limit) leaves the LP stage to the
    column generation, whose bound still holds and whose solve ends at the optimum."""
    monkeypatch.setattr(first_order, "FIRST_ORDER_NNZ", 0)
    called: list[float | None] = []

    def nothing(mm: object, *, time_limit: float | None, **_: object) -> FirstOrderLP:
        called.append(time_limit)
        return FirstOrderLP("Time limit reached", 0.0)

    monkeypatch.setattr(first_order, "first_order_lp", nothing)
    name, seed = FEASIBLE[0]
    record, optimum = solved_on_the_network_path(name, seed, monkeypatch)
    assert len(called) == 1
    assert not record["lp_status"].startswith("first-order")
    assert record["lp_rounds"] >= 1
    assert record["lagrangian_bound"] <= optimum + TOL * max(1.0, abs(optimum))


def test_a_stop_while_it_runs_ends_its_worker() -> None:
    """Asked to stop while it runs, it returns at once, interrupted and without duals, its
    worker process ended; SIGTERM while it runs raises the stop as every solve does
    (Interrupted), its worker process ended too."""
    name, seed = FEASIBLE[0]
    case = feasible(name, seed)
    assert case is not None
    mm = build_matrix(case[0])
    got = first_order_lp(mm, time_limit=60.0, should_stop=lambda: True)
    assert got.interrupted and got.row_dual is None and got.value is None
    assert multiprocessing.active_children() == []

    asked: list[int] = []

    def should_stop() -> bool:
        asked.append(1)
        signal.raise_signal(signal.SIGTERM)
        return False

    with stops.handling():
        with pytest.raises(Interrupted) as caught:
            first_order_lp(mm, time_limit=60.0, should_stop=should_stop)
        assert caught.value.signum == signal.SIGTERM and asked
        assert multiprocessing.active_children() == []


def test_the_threshold_lies_between_the_sizes_it_was_measured_at() -> None:
    """200 x 2,000 (877,735 nonzeros: the column generation converges there) stays below
    FIRST_ORDER_NNZ, 500 x 7,000 (7,269,594: it does not) is above it."""
    assert 877_735 < first_order.FIRST_ORDER_NNZ < 7_269_594
