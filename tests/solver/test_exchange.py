"""Network exchange (csu_opt.solver.exchange): a whole network improved two or three networks
at a time by sub-MIPs cut out of the matrix. Known answers: the brute-force oracle's optima of the
feasible tiny instances."""

from __future__ import annotations

import functools
import itertools
import time
from typing import Any

import highspy
import numpy as np
import pytest

from csu_opt.model.blocks import MatrixModel
from csu_opt.model.index import ModelIndex, build_index
from csu_opt.model.matrix import build_matrix
from csu_opt.solver import alternate, background, exchange, reduce
from csu_opt.solver.background import Background
from csu_opt.solver.highs import pass_to_highs, quiet_highs
from csu_opt.solver.submip import SubPool
from factories.cuts import CUT_SEEDS
from factories.oracle_refs import shared_case, solved_to_the_oracle
from factories.rules import RANDOM_SEEDS, REL

TOL = 1e-6
CASES = [("cuts", s) for s in CUT_SEEDS] + [("rules-random", s) for s in RANDOM_SEEDS]


def _feasible(name: str, seed: int) -> bool:
    _, ref = shared_case(name, seed)
    return ref is not None


FEASIBLE = [c for c in CASES if _feasible(*c)]


@functools.cache
def _first(name: str, seed: int) -> tuple[MatrixModel, alternate.Shape, float, np.ndarray]:
    """The model, its shape, the oracle's optimum and HiGHS's first network (presolve off,
    so that it is a plain first feasible point, seldom the optimum)."""
    inst, ref = shared_case(name, seed)
    assert ref is not None
    ix = build_index(inst)
    mm = build_matrix(ix)
    h = quiet_highs({"mip_max_improving_sols": 1, "presolve": "off", "threads": 1})
    pass_to_highs(h, mm)
    h.run()
    first = np.asarray(h.getSolution().col_value)[mm.highs_col]
    return mm, alternate.shape_of(ix), ref.objective, first


@functools.cache
def _dearest(name: str, seed: int) -> np.ndarray:
    """The dearest network (the model maximised): a start far from the optimum."""
    return _maximised(_first(name, seed)[0])


def test_the_cases_are_many() -> None:
    assert len(FEASIBLE) >= 40


@pytest.mark.parametrize(("name", "seed"), FEASIBLE)
def test_solve_free_with_every_column_free_is_the_whole_model(name: str, seed: int) -> None:
    """The sub-MIP cut out of the matrix with every column free is the model itself: from
    HiGHS's first network it returns the oracle's optimum (None when that network already
    is optimal)."""
    mm, _, optimum, first = _first(name, seed)
    cuts = exchange.cuts_of(mm)
    every = np.arange(mm.n_cols)
    got, stopped = exchange.solve_free(mm, cuts, first, every, 30.0, cuts.by_row @ first)
    assert not stopped
    best = first if got is None else got
    scale = max(1.0, abs(optimum))
    assert mm.violation(best) <= TOL * scale
    assert mm.cost(best) == pytest.approx(optimum, rel=REL, abs=REL)


@pytest.mark.parametrize(("name", "seed"), FEASIBLE)
def test_exchange_keeps_whole_networks_between_start_and_optimum(name: str, seed: int) -> None:
    """From the dearest network: a network meeting every row, no dearer than the start and
    no cheaper than the optimum; its cost is its columns' cost."""
    mm, shape, optimum, _ = _first(name, seed)
    first = _dearest(name, seed)
    got = exchange.exchange(mm, shape, first, 30.0)
    scale = max(1.0, abs(optimum))
    assert mm.violation(got.network) <= TOL * scale
    assert got.objective == pytest.approx(mm.cost(got.network))
    assert got.objective <= mm.cost(first) + TOL * scale
    assert got.objective >= optimum - TOL * scale
    assert all(got.improved[k] <= got.tried[k] for k in exchange.KINDS)


def test_exchange_improves_first_networks_here() -> None:
    """Measured (2026-12-07) over the feasible oracle cases from the dearest network: how
    many are not optimal, how many of those exchange improves, and on how many it reaches
    the optimum; and on how many cases each kind of move improved. With pairs of open
    leads alone (stop 32) it was 37 improved, 23 optimal: the openings (an open lead freed
    with a closed one) reach 35 more optima. The tiny cases' networks shrink to one or two
    before triples run (those are tested below)."""
    worse = improved = optima = 0
    kinds = dict.fromkeys(exchange.KINDS, 0)
    for name, seed in FEASIBLE:
        mm, shape, optimum, _ = _first(name, seed)
        first = _dearest(name, seed)
        scale = max(1.0, abs(optimum))
        if mm.cost(first) <= optimum + TOL * scale:
            continue
        worse += 1
        got = exchange.exchange(mm, shape, first, 30.0)
        improved += got.objective < mm.cost(first) - TOL * scale
        optima += got.objective <= optimum + TOL * scale
        for kind in exchange.KINDS:
            kinds[kind] += got.improved[kind] > 0
    assert (worse, improved, optima) == (65, 63, 58)
    assert kinds == {"pairs": 37, "openings": 37, "triples": 0}


def _three_networks() -> list[tuple[MatrixModel, alternate.Shape, float, np.ndarray]]:
    """The cases whose dearest network has three open leads or more."""
    out = []
    for c in FEASIBLE:
        mm, shape, optimum, _ = _first(*c)
        first = _dearest(*c)
        if (first[mm.layout.U : mm.layout.A] > 0.5).sum() >= 3:
            out.append((mm, shape, optimum, first))
    return out


def test_triples_alone_free_three_networks_and_reach_the_optimum(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Triples only: on the three cases whose dearest network has exactly three open leads,
    the one triple frees every open network, so its sub-MIP reaches the oracle's optimum
    whenever the optimum's leads are among them (measured: all three)."""
    monkeypatch.setattr(exchange, "KINDS", ("triples",))
    cases = _three_networks()
    assert len(cases) == 3
    for mm, shape, optimum, first in cases:
        triples = exchange.related_triples(mm, shape, first)
        open_leads = np.flatnonzero(first[mm.layout.U : mm.layout.A] > 0.5)
        assert triples == [tuple(int(i) for i in open_leads)]
        got = exchange.exchange(mm, shape, first, 30.0)
        assert got.tried == {"triples": 1}
        assert mm.violation(got.network) <= TOL * max(1.0, abs(optimum))
        assert got.objective == pytest.approx(optimum, rel=REL, abs=REL)


def test_openings_pair_an_open_lead_with_a_closed_one() -> None:
    """Every opening is (open lead, closed lead), each pair once, and its free columns hold
    the closed lead's u, links and flows."""
    seen = 0
    for c in FEASIBLE:
        mm, shape, _, _ = _first(*c)
        first = _dearest(*c)
        lay = mm.layout
        is_open = first[lay.U : lay.A] > 0.5
        pairs = exchange.openings(mm, shape, first)
        assert len(set(pairs)) == len(pairs)
        for l_open, l_closed in pairs:
            assert is_open[l_open] and not is_open[l_closed]
        if pairs:
            seen += 1
            l_open, l_closed = pairs[0]
            free = exchange.pair_columns(mm, shape, first, pairs[0])
            assert lay.U + l_closed in free
            w = free[(free >= lay.W) & (free < lay.Z)] - lay.W
            assert set(np.flatnonzero(shape.lead_of_w == l_closed)) <= set(w)
    assert seen >= 40


def test_pair_columns_free_only_the_pair() -> None:
    """On the dearest networks of the cases that have two networks, the pair's free
    columns: its leads' u, assignments only to its leads of CCGs now with them, links and
    flows only of its networks."""
    with_pairs = [
        (mm, shape, first)
        for (mm, shape, _, _), first in ((_first(*c), _dearest(*c)) for c in FEASIBLE)
        if exchange.related_pairs(mm, shape, first)
    ]
    assert len(with_pairs) >= 3
    mm, shape, first = with_pairs[0]
    lay = mm.layout
    pair = exchange.related_pairs(mm, shape, first)[0]
    free = exchange.pair_columns(mm, shape, first, pair)
    u = free[(free >= lay.U) & (free < lay.A)] - lay.U
    assert sorted(u) == sorted(pair)
    z = free[(free >= lay.Z) & (free < lay.X)] - lay.Z
    assert set(shape.lead_of_z[z]) <= set(pair)
    now = first[lay.Z : lay.X] > 0.5
    mine = set(shape.ccg_of_z[now & np.isin(shape.lead_of_z, pair)])
    assert set(shape.ccg_of_z[z]) == mine
    w = free[(free >= lay.W) & (free < lay.Z)] - lay.W
    assert set(shape.lead_of_w[w]) <= set(pair)
    x = free[free >= lay.X] - lay.X
    assert set(shape.lead_of_x[x]) <= set(pair)


@pytest.mark.parametrize(("name", "seed"), FEASIBLE[::4])
def test_reduction_with_exchange_keeps_the_optimum(
    name: str, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The root reduction with alternation and exchange forced on still proves the
    oracle's optimum."""
    monkeypatch.setattr(reduce, "ALTERNATE_NNZ", 0)
    solved_to_the_oracle(name, seed)


def test_a_stop_in_the_exchange_is_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stopped inside a pair's sub-MIP, the solve ends there, interrupted, with at most a
    checked network (test_rules.big_instance, optimum 9,803.62)."""
    from factories.rules import solve_big_until

    monkeypatch.setattr(reduce, "ALTERNATE_NNZ", 0)
    entered: list[bool] = []
    inner = exchange.solve_sub

    def spy(*args: Any, **kwargs: Any) -> Any:
        entered.append(True)
        return inner(*args, **kwargs)

    monkeypatch.setattr(exchange, "solve_sub", spy)
    _, sol = solve_big_until(lambda _seen: bool(entered))
    assert entered
    assert "interrupt" in sol.message and "during the root reduction" in sol.message
    assert sol.status in ("feasible", "no_solution")
    if sol.objective is not None:
        assert sol.objective >= 9803.62 - 1e-6


def test_exchange_time_takes_the_larger_share_within_the_limit() -> None:
    now = time.perf_counter()
    share = reduce.EXCHANGE_MIN_SHARE * 600.0
    assert reduce._exchange_time(10.0, 600.0, now) == pytest.approx(share, abs=0.5)
    assert reduce._exchange_time(share + 100.0, 600.0, now) == share + 100.0
    assert reduce._exchange_time(10.0, None, now) == 10.0
    late = now - 590.0  # 590 s of a 600 s limit gone: at most the 10 s left
    assert reduce._exchange_time(100.0, 600.0, late) == pytest.approx(10.0, abs=0.5)


def test_the_exchange_reports_its_best_network_while_it_works() -> None:
    """Every sub-MIP's callbacks tick the progress report (the heartbeat's news), each
    with the exchange's best network so far: never above the start, never increasing, and
    the last one the network the reduction keeps."""
    checked = 0
    for c in FEASIBLE:
        mm, shape, optimum, _ = _first(*c)
        first = _dearest(*c)
        if not exchange.related_pairs(mm, shape, first):
            continue
        start = mm.cost(first)
        red = reduce.Reduction(incumbent=first, incumbent_objective=start)
        red.lower_bound = optimum - 1e9  # far below: the exchange runs to its end
        seen: list[tuple[str, float | None]] = []

        def report(stage: str, incumbent: float | None, _b: float | None) -> None:
            seen.append((stage, incumbent))  # noqa: B023 (called before the loop goes on)

        reduce._exchange(red, [""], mm, shape, 30.0, 1e-4, None, report)
        assert seen and all(s == exchange.STAGE for s, _ in seen)
        values = [v for _, v in seen]
        assert all(v is not None and v <= start + TOL for v in values)
        assert all(b <= a + TOL for a, b in itertools.pairwise(values))  # type: ignore[operator]
        assert values[-1] == pytest.approx(red.incumbent_objective)
        assert red.exchange[0]["network"] == pytest.approx(red.incumbent_objective)
        checked += 1
    assert checked >= 10


def test_the_exchange_ends_at_a_network_that_is_enough() -> None:
    """With ``enough`` always true it ends at its first better network (one improving
    sub-MIP), no better than where the whole exchange goes on to."""
    checked = 0
    for c in FEASIBLE:
        mm, shape, _, _ = _first(*c)
        first = _dearest(*c)
        full = exchange.exchange(mm, shape, first, 30.0)
        if full.objective >= mm.cost(first) - TOL:
            continue
        got = exchange.exchange(mm, shape, first, 30.0, enough=lambda _cost: True)
        assert sum(got.improved.values()) == 1
        assert got.objective < mm.cost(first) - TOL
        assert got.objective >= full.objective - TOL
        checked += 1
    assert checked >= 40


@pytest.mark.parametrize(("name", "seed"), FEASIBLE[::4])
def test_solve_free_stops_within_its_absolute_gap(name: str, seed: int) -> None:
    """With every column free and an absolute gap of 1% of the optimum, the network
    returned lies between the oracle's optimum and the optimum plus that gap."""
    mm, _, optimum, first = _first(name, seed)
    cuts = exchange.cuts_of(mm)
    every = np.arange(mm.n_cols)
    gap = 0.01 * max(1.0, abs(optimum))
    got, _ = exchange.solve_free(mm, cuts, first, every, 30.0, cuts.by_row @ first, abs_gap=gap)
    best = first if got is None else got
    assert mm.violation(best) <= TOL * max(1.0, abs(optimum))
    assert optimum - TOL <= mm.cost(best) <= optimum + gap + TOL


def test_the_exchange_is_coarse_until_the_pairs_converge(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its sub-MIPs get the absolute gap PAIR_ABS_GAP of the start's cost until a pass of
    pairs first gains nothing, and HiGHS's own gap after (openings and triples always)."""
    gaps: list[tuple[int, float]] = []
    inner = exchange.solve_sub

    def spy(*args: Any, **kwargs: Any) -> Any:
        gaps.append((args[0].n_cols, args[2]))
        return inner(*args, **kwargs)

    monkeypatch.setattr(exchange, "solve_sub", spy)
    fine_seen = 0
    for c in FEASIBLE:
        mm, shape, _, _ = _first(*c)
        first = _dearest(*c)
        gaps.clear()
        got = exchange.exchange(mm, shape, first, 30.0)
        coarse = exchange.PAIR_ABS_GAP * abs(mm.cost(first))
        values = [g for _, g in gaps]
        assert values == sorted(values, reverse=True)  # coarse first, then fine
        assert set(values) <= {coarse, 0.0}
        later = got.tried["openings"] + got.tried["triples"]
        assert values.count(0.0) >= later
        fine_seen += later > 0
    assert fine_seen >= 40


# --------------------------------------------------------------------------- several at once


@functools.cache
def _big() -> tuple[MatrixModel, alternate.Shape, np.ndarray]:
    """test_rules.big_instance (optimum 9,803.62) and its dearest network (six open leads)."""
    ix, mm = _big_model()
    return mm, alternate.shape_of(ix), _maximised(mm)


def _big_model() -> tuple[ModelIndex, MatrixModel]:
    from factories.rules import big_instance

    ix = build_index(big_instance())
    return ix, build_matrix(ix)


def _maximised(mm: MatrixModel) -> np.ndarray:
    """The model maximised: its dearest network."""
    h = quiet_highs({"threads": 1, "time_limit": 30.0})
    pass_to_highs(h, mm)
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    h.run()
    return np.asarray(h.getSolution().col_value)[mm.highs_col]


BIG_OPTIMUM = 9803.62


def _outside(mm: MatrixModel, cuts: Any, x: np.ndarray) -> np.ndarray:
    """How far each row of ``mm`` is outside its bounds at ``x`` (0 inside)."""
    act = cuts.by_row @ x
    return np.maximum(np.maximum(mm.row_lower - act, act - mm.row_upper), 0.0)


def test_two_sub_mips_cut_from_one_network_land_together_or_again() -> None:
    """Two lead-disjoint pairs cut from the same network (as two workers get them): the
    first lands; the second's moves, made on the first's network, are kept exactly when
    no row they touch ends further outside its bounds than in the second's own solution,
    and then the network is that one: its cost the start's plus both gains (when they
    moved no column in common), every row met. Else the second is stale, to be solved
    again. On big_instance's dearest network, with its 6 open leads."""
    mm, shape, first = _big()
    start = mm.cost(first)
    pairs = exchange.related_pairs(mm, shape, first)
    seen = {"better": 0, "stale": 0, "same": 0}
    for i, a in enumerate(pairs):
        for b in pairs[i + 1 :]:
            if not set(a).isdisjoint(b):
                continue
            run = exchange._Run(mm, shape, first, 30.0, None, None)
            now = exchange._Pass(0, [])
            fa, fb = run.launch(a, now), run.launch(b, now)
            va, vb = fa.end.result().values, fb.end.result().values
            assert va is not None and vb is not None  # both improve the dearest network
            assert run.land(fa) == "better"
            after_a = run.out.network.copy()
            moved_b = fb.free[vb != fb.base]
            both = after_a.copy()
            both[moved_b] = vb[vb != fb.base]
            own = first.copy()
            own[fb.free] = vb
            rows = np.unique(run.cuts.by_col[:, moved_b].indices)
            fits = bool(
                np.all(
                    _outside(mm, run.cuts, both)[rows]
                    <= _outside(mm, run.cuts, own)[rows] + exchange.STILL_FITS_TOL
                )
            )
            landed = run.land(fb)
            if not fits:
                assert landed == "stale"
            elif mm.cost(both) < mm.cost(after_a) - 1e-9:
                assert landed == "better"
                assert np.array_equal(run.out.network, both)
                assert mm.violation(both) <= TOL * start
                moved_a = fa.free[va != fa.base]
                if not set(moved_a.tolist()) & set(moved_b.tolist()):
                    gains = [
                        float(mm.col_cost[f.free] @ (v - f.base)) for f, v in ((fa, va), (fb, vb))
                    ]
                    assert run.out.objective == pytest.approx(start + sum(gains), abs=1e-6)
            else:
                assert landed == "same"
            seen[landed] += 1
    assert seen["better"] >= 5


def test_moves_that_would_push_a_row_out_are_stale() -> None:
    """The second of two lead-disjoint pairs, landing on a kept network that has filled a
    row its moves add to (the row's activity put at its bound): its moves would push the
    row out, so it is stale and the network stays as it was."""
    mm, shape, first = _big()
    pairs = exchange.related_pairs(mm, shape, first)
    a, b = next((p, q) for i, p in enumerate(pairs) for q in pairs[i + 1 :] if not set(p) & set(q))
    run = exchange._Run(mm, shape, first, 30.0, None, None)
    now = exchange._Pass(0, [])
    fa, fb = run.launch(a, now), run.launch(b, now)
    assert run.land(fa) == "better"
    vb = fb.end.result().values
    assert vb is not None
    moved = vb != fb.base
    delta = run.cuts.by_col[:, fb.free[moved]] @ (vb[moved] - fb.base[moved])
    up = np.flatnonzero((delta > 1e-6) & (mm.row_upper < 1e20))
    down = np.flatnonzero((delta < -1e-6) & (mm.row_lower > -1e20))
    assert len(up) + len(down) > 0
    if len(up):
        run.act[up[0]] = mm.row_upper[up[0]]
    else:
        run.act[down[0]] = mm.row_lower[down[0]]
    kept = run.out.network.copy()
    assert run.land(fb) == "stale"
    assert run.out.stale == 1
    assert np.array_equal(run.out.network, kept)


def test_the_same_group_twice_is_not_kept_twice() -> None:
    """A group cut twice from one network: once the first lands, the second sets the same
    columns to the same values: nothing gained, the network is the first's."""
    mm, shape, first = _big()
    pair = exchange.related_pairs(mm, shape, first)[0]
    run = exchange._Run(mm, shape, first, 30.0, None, None)
    now = exchange._Pass(0, [])
    f1, f2 = run.launch(pair, now), run.launch(pair, now)
    assert run.land(f1) == "better"
    kept = run.out.network.copy()
    assert run.land(f2) in ("same", "stale")
    assert np.array_equal(run.out.network, kept)


@pytest.fixture(scope="module")
def pool() -> Any:
    with SubPool(2) as workers:
        yield workers


def test_a_pool_of_two_keeps_whole_networks_and_reaches_the_optimum(pool: SubPool) -> None:
    """With two workers, from big_instance's dearest network and from every oracle case's:
    networks meeting every row, no dearer than the start, no cheaper than the optimum; on
    the oracle's cases the optimum as often as one at a time (their networks have at most
    three leads, so one pair at a time is all there is). The pool serves one exchange
    after another, also after one that was stopped."""
    mm, shape, first = _big()
    stopped = exchange.exchange(mm, shape, first, 60.0, should_stop=lambda: True, pool=pool)
    assert stopped.interrupted and sum(stopped.tried.values()) == 0
    two = exchange.exchange(mm, shape, first, 60.0, pool=pool)
    assert two.workers == 2 and sum(two.tried.values()) >= 2
    assert mm.violation(two.network) <= TOL * BIG_OPTIMUM
    assert BIG_OPTIMUM - 0.01 <= two.objective < mm.cost(first)
    optima = 0
    for c in FEASIBLE:
        mm, shape, optimum, _ = _first(*c)
        start = _dearest(*c)
        got = exchange.exchange(mm, shape, start, 30.0, pool=pool)
        scale = max(1.0, abs(optimum))
        assert mm.violation(got.network) <= TOL * scale
        assert optimum - TOL * scale <= got.objective <= mm.cost(start) + TOL * scale
        optima += got.objective <= optimum + TOL * scale
    assert optima >= 58 + 3  # one at a time: 58 of the 65 not optimal, and 3 optimal already


def test_a_stop_ends_a_pool_exchange_with_a_whole_network() -> None:
    """Asked to stop after its first better network, the exchange on two workers ends
    interrupted, its network meeting every row and no dearer than that first one."""
    mm, shape, first = _big()
    better: list[float] = []
    with SubPool(2) as mine:
        got = exchange.exchange(
            mm,
            shape,
            first,
            60.0,
            should_stop=lambda: bool(better),
            on_better=better.append,
            pool=mine,
        )
    assert got.interrupted and better
    assert mm.violation(got.network) <= TOL * BIG_OPTIMUM
    assert got.objective <= better[0] + 1e-9


def test_the_reduction_exchanges_on_as_many_workers_as_it_is_given() -> None:
    """The root reduction's exchange with two workers (``--concurrent 2``) records them,
    keeps a whole network between big_instance's optimum and its start, and reports its
    best network while the workers run (never increasing, the last the one kept)."""
    mm, shape, first = _big()
    start = mm.cost(first)
    red = reduce.Reduction(incumbent=first, incumbent_objective=start)
    red.lower_bound = BIG_OPTIMUM - 1e6  # far below: the exchange runs to its end
    seen: list[float | None] = []
    report = lambda _stage, incumbent, _bound: seen.append(incumbent)  # noqa: E731
    reduce._exchange(red, [""], mm, shape, 60.0, 1e-4, None, report, workers=2)
    assert red.exchange[0]["workers"] == 2
    assert seen and all(v is not None and v <= start + TOL for v in seen)
    assert all(b <= a + TOL for a, b in itertools.pairwise(seen))  # type: ignore[operator]
    assert seen[-1] == pytest.approx(red.incumbent_objective)
    assert red.incumbent is not None and red.incumbent_objective is not None
    assert mm.violation(red.incumbent) <= TOL * BIG_OPTIMUM
    assert BIG_OPTIMUM - 0.01 <= red.incumbent_objective < start
    assert (red.incumbent_source or "").endswith("then network exchange")


def test_a_signal_during_a_pool_exchange_ends_its_workers() -> None:
    """SIGTERM in the parent while two workers solve (from its first better network): the
    stop is raised as in every solve (Interrupted), and the pool's processes have ended by
    the time it leaves the exchange."""
    import signal

    from csu_opt import stops
    from csu_opt.stops import Interrupted

    mm, shape, first = _big()
    procs: list[Any] = []
    mine = SubPool(2)

    def on_better(_cost: float) -> None:
        procs.extend((getattr(mine._pool, "_processes", None) or {}).values())
        signal.raise_signal(signal.SIGTERM)

    with stops.handling(), pytest.raises(Interrupted) as caught, mine:
        exchange.exchange(mm, shape, first, 60.0, on_better=on_better, pool=mine)
    assert caught.value.signum == signal.SIGTERM
    assert len(procs) == 2
    assert all(p.exitcode is not None for p in procs)


# ------------------------------------------------------- network exchange during the LP stage


def _pool_processes(behind: Background) -> list[Any]:
    return list((getattr(behind._pool._pool, "_processes", None) or {}).values())


def test_the_background_exchange_walks_as_one_at_a_time() -> None:
    """Run on a thread with one worker process and left to end by itself, the background
    exchange from big_instance's dearest network takes the walk the exchange takes one
    sub-MIP at a time here: the same network, the same sub-MIPs tried and improving; its
    ``best`` is that network's cost, and finish() calls it ended, not interrupted."""
    mm, shape, first = _big()
    alone = exchange.exchange(mm, shape, first, 60.0)
    behind = Background(mm, shape, first, 1)
    deadline = time.monotonic() + 60.0
    while not behind.ended() and time.monotonic() < deadline:
        time.sleep(0.05)  # (the LP stage's place)
    assert behind.ended()
    got = behind.finish()
    assert not got.interrupted
    assert got.objective == pytest.approx(alone.objective, abs=1e-6)
    assert (got.tried, got.improved) == (alone.tried, alone.improved)
    assert BIG_OPTIMUM - 0.01 <= got.objective < mm.cost(first)
    assert mm.violation(got.network) <= TOL * BIG_OPTIMUM
    assert behind.best == pytest.approx(got.objective)
    assert got.record(behind.seconds, background.DURING)["during"] == (
        "LP stage and restricted MIPs"
    )


def test_finish_stops_the_background_exchange_with_a_whole_network() -> None:
    """finish() as soon as the background exchange (two workers) has a better network:
    it returns a whole network no dearer than that one (not marked interrupted: no stop was
    requested), and both worker processes have ended."""
    mm, shape, first = _big()
    start = mm.cost(first)
    behind = Background(mm, shape, first, 2)
    deadline = time.monotonic() + 60.0
    while behind.best >= start and time.monotonic() < deadline:
        time.sleep(0.01)
    seen = behind.best
    procs = _pool_processes(behind)
    got = behind.finish()
    assert seen < start and not got.interrupted
    assert got.objective <= seen + 1e-9
    assert mm.violation(got.network) <= TOL * BIG_OPTIMUM
    assert procs and all(p.exitcode is not None for p in procs)


def test_an_error_in_the_background_exchange_is_raised_by_finish(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An exception on the thread is not lost: finish() raises it in the caller's thread."""
    mm, shape, first = _big()

    def broken(*_a: Any, **_k: Any) -> exchange.Exchange:
        raise RuntimeError("broken exchange")

    monkeypatch.setattr(background.exchange, "exchange", broken)
    behind = Background(mm, shape, first, 1)
    with pytest.raises(RuntimeError, match="broken exchange"):
        behind.finish()


def _national_reduction(
    monkeypatch: pytest.MonkeyPatch,
    workers: int,
    on_progress: Any = None,
) -> tuple[MatrixModel, float, reduce.Reduction]:
    """The root reduction of big_instance on the national path (links and flows generated,
    NETWORK_LP_NNZ and COLGEN_MIN_Z patched to 0) from its dearest network, with
    ``workers`` exchange workers; with more than one the LP stage is held (ticking, as
    HiGHS's callbacks do) until a better network is reported or 30 s, so that the
    background has time to work."""
    from csu_opt.model.blocks import index_codes
    from csu_opt.solver.lagrange import bound_from_duals

    monkeypatch.setattr(reduce, "NETWORK_LP_NNZ", 0)
    monkeypatch.setattr(reduce, "COLGEN_MIN_Z", 0)
    ix, mm = _big_model()
    first = _maximised(mm)
    start = mm.cost(first)
    real = reduce.network_lp
    heard: list[float] = []

    def reported(stage: str, incumbent: float | None, bound: float | None) -> None:
        if incumbent is not None:
            heard.append(incumbent)
        if on_progress is not None:
            on_progress(stage, incumbent, bound)

    def held(mm: MatrixModel, **kw: Any) -> Any:
        deadline = time.monotonic() + (30.0 if workers > 1 else 0.0)
        while (not heard or heard[-1] >= start) and time.monotonic() < deadline:
            kw["should_stop"]()
            time.sleep(0.02)
        return real(mm, **kw)

    monkeypatch.setattr(reduce, "network_lp", held)
    codes = index_codes(ix)
    shape = alternate.shape_of(ix, mm.demand_scale)
    with background.during_reduction(mm, shape, first, workers, national=True) as behind:
        red = reduce.root_reduction(
            mm,
            time_limit=10.0,
            mip_gap=1e-9,
            highs_options={"threads": 1},
            start=first,
            ccg_of_z=codes.z_c,
            lead_of_z=codes.z_l,
            shape=shape,
            single_sourcing=ix.single_sourcing,
            on_progress=reported,
            bound_of=bound_from_duals(ix, mm),
            exchange_workers=workers,
            behind=behind,
        )
        assert behind is None or behind.closed  # taken by the reduction, not by leaving
    return mm, start, red


def test_with_two_workers_the_reduction_exchanges_during_the_lp_stage(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``--concurrent 2`` on the national path: network exchange from the start runs on
    one worker while the LP stage holds this process; the reduction takes it once (one
    record, the first, on one worker, improving), and ends at a whole network no cheaper
    than the optimum, with a bound below it. With one worker there is no such run."""
    mm, start, red = _national_reduction(monkeypatch, workers=2)
    first = red.exchange[0]
    assert first["during"] == background.DURING and first["workers"] == 1
    assert [r["during"] for r in red.exchange].count(background.DURING) == 1
    assert sum(first[f"{k}_improved"] for k in exchange.KINDS) > 0
    assert BIG_OPTIMUM - 0.01 <= first["network"] < start
    assert red.incumbent is not None and red.incumbent_objective is not None
    assert mm.violation(red.incumbent) <= TOL * BIG_OPTIMUM
    assert BIG_OPTIMUM - 0.01 <= red.incumbent_objective <= first["network"] + 1e-6
    assert red.lower_bound is not None and red.lower_bound <= BIG_OPTIMUM + 0.01
    assert not red.interrupted

    _, _, alone = _national_reduction(monkeypatch, workers=1)
    assert all(r["during"] != background.DURING for r in alone.exchange)


def test_a_signal_during_the_lp_stage_ends_the_background_workers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SIGTERM while the LP stage runs and the background exchange has found a better
    network: the stop is raised as in every solve (Interrupted), and the background's
    worker process has ended by the time the reduction is left."""
    import signal

    from csu_opt import stops
    from csu_opt.stops import Interrupted

    made: list[Background] = []

    class Seen(Background):
        def __init__(self, *a: Any) -> None:
            super().__init__(*a)
            made.append(self)

    monkeypatch.setattr(background, "Background", Seen)
    procs: list[Any] = []
    start: list[float] = []

    def on_progress(_stage: str, incumbent: float | None, _bound: float | None) -> None:
        if not start and incumbent is not None:
            start.append(incumbent)
        elif start and incumbent is not None and incumbent < start[0] and not procs:
            procs.extend(_pool_processes(made[0]))
            signal.raise_signal(signal.SIGTERM)

    with stops.handling(), pytest.raises(Interrupted) as caught:
        _national_reduction(monkeypatch, workers=2, on_progress=on_progress)
    assert caught.value.signum == signal.SIGTERM
    assert len(made) == 1 and len(procs) == 1
    assert all(p.exitcode is not None for p in procs)
