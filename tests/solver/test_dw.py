"""The Dantzig-Wolfe bound (benchmarks.dw) against the LP bound and the brute-force optimum."""

from __future__ import annotations

import functools

import pytest
from benchmarks.dw import DWResult, dw_bound, network_blocks

from csu_opt.model.blocks import MatrixModel
from csu_opt.model.index import build_index
from csu_opt.model.matrix import build_matrix
from factories.cuts import CUT_SEEDS
from factories.oracle_refs import cut_case

TOL = 1e-6


def _feasible_seeds(n: int) -> list[int]:
    return [s for s in CUT_SEEDS if cut_case(s)[1] is not None][:n]


SEEDS = _feasible_seeds(12)


@functools.cache
def dw_case(seed: int) -> DWResult:
    return dw_bound(build_index(cut_case(seed)[0]), time_limit=60)


@pytest.mark.parametrize("seed", SEEDS)
def test_dw_bound_lies_between_lp_and_optimum(seed: int) -> None:
    ref = cut_case(seed)[1]
    assert ref is not None
    res = dw_case(seed)
    scale = max(1.0, abs(ref.objective))
    assert res.converged
    assert res.lp_bound <= res.bound + TOL * scale
    assert res.bound <= ref.objective + TOL * scale
    # once no network prices out, the Lagrangian bound meets the master's value
    assert res.bound == pytest.approx(res.master, rel=1e-6, abs=1e-6)


def test_dw_bound_is_stronger_than_lp_somewhere() -> None:
    """Whole links within each network: on some tiny instances the bound rises above the LP
    (a bound that never did would be the LP's under another name)."""
    gains = 0
    for seed in SEEDS:
        res = dw_case(seed)
        gains += res.bound > res.lp_bound + 1e-6 * max(1.0, abs(res.lp_bound))
    assert gains >= 3, gains


def test_network_blocks_put_each_row_in_one_network_or_the_master() -> None:
    inst, _ = cut_case(SEEDS[0])
    ix = build_index(inst)
    mm = build_matrix(ix)
    col, row = network_blocks(ix, mm)
    for r in range(mm.n_rows):
        blocks = set(col[mm.index[mm.start[r] : mm.start[r + 1]]].tolist())
        if row[r] >= 0:
            assert blocks == {row[r]}
        else:
            assert len(blocks) > 1 or blocks <= {-1} or not blocks


@functools.cache
def dw_network(seed: int) -> tuple[DWResult, MatrixModel]:
    ix = build_index(cut_case(seed)[0])
    return dw_bound(ix, time_limit=60, master_mip_time=10), build_matrix(ix)


def test_price_and_branch_returns_feasible_networks_often_the_optimum() -> None:
    """The master with whole λ over the networks column generation found: a heuristic, so
    it may find no combination; what it returns must be a feasible network of the whole
    model, no cheaper than the optimum, and on most tiny instances it is the optimum."""
    hits = 0
    for seed in SEEDS:
        ref = cut_case(seed)[1]
        assert ref is not None
        res, mm = dw_network(seed)
        if res.network is None:
            continue
        assert mm.violation(res.network) <= 1e-6, seed
        assert res.network_cost == pytest.approx(mm.cost(res.network))
        tol = 1e-6 * max(1.0, abs(ref.objective))
        assert res.network_cost is not None and res.network_cost >= ref.objective - tol
        hits += abs(res.network_cost - ref.objective) <= tol
    assert hits >= 2 * len(SEEDS) // 3, hits  # measured: 11 of 12
