"""The root reduction after HiGHS's root (csu_opt.solver.late).

Known answers: the brute-force oracle's optima of the tiny instances (tests/data/oracle),
solved with the watch made to fire at HiGHS's first user-solution call (before the root, no
network yet), so that the reduction's network is handed to a running search on every case; the
hand-worked gap rule; and the optimum plain HiGHS proved for a generated single-source
instance (benchmarks/families/optima.csv), where the watch fires at its shipped settings.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from benchmarks.families import find_family, read_optima, write_instance

import csu_opt
from csu_opt.results.solution import Solution, Status
from csu_opt.solver import late, pipeline
from csu_opt.solver.engines import layout_of
from csu_opt.solver.highs import RunEnd
from csu_opt.solver.late import LateReduction
from csu_opt.solver.options import Progress, SolveOptions
from csu_opt.solver.outcome import Outcome, better_of
from csu_opt.solver.policy import StageChoice, late_choice, plan_stages
from csu_opt.solver.reduce import Reduction
from csu_opt.solver.solve import ModelSession, solve
from csu_opt.solver.split import Complement, cutoff_of
from factories.cuts import CUT_SEEDS
from factories.oracle_refs import shared_case
from factories.rules import RANDOM_SEEDS, REL, big_instance

CASES = [("cuts", s) for s in CUT_SEEDS] + [("rules-random", s) for s in RANDOM_SEEDS]
FEASIBLE = [c for c in CASES if shared_case(*c)[1] is not None]
AFTER_ROOT = ", after HiGHS's root"  # what the progress lines add to the reduction's stages
REACHED = ("cuts", 0)  # a case HiGHS takes past presolve (the watch fires on it)


@pytest.fixture
def fire_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The watch fires at HiGHS's first user-solution call, whatever the gap."""
    monkeypatch.setattr(late, "ROOT_AFTER_NODES", 0)
    monkeypatch.setattr(late, "ROOT_GAP", -1.0)


def test_the_cases_are_many() -> None:
    assert len(FEASIBLE) >= 40


def test_a_network_handed_to_the_running_search_keeps_the_optimum(fire_at_once: None) -> None:
    """On every case HiGHS takes to its MIP solver (presolve settles some), the reduction runs
    inside HiGHS's run and hands its network over; every solve ends at the oracle's optimum,
    never below it, with the watch's account in summary's record."""
    handed = 0
    for name, seed in FEASIBLE:
        inst, ref = shared_case(name, seed)
        assert ref is not None
        sol = solve(inst, SolveOptions(mip_gap=1e-9, threads=1))
        record = sol.solver["late_reduction"]
        assert sol.status is Status.OPTIMAL, (name, seed)
        assert sol.objective == pytest.approx(ref.objective, rel=REL, abs=REL), (name, seed)
        if not record["checked"]:
            assert not record["ran"]
            continue
        assert record["ran"] and record["error"] is None, (name, seed)
        assert record["root_incumbent"] is None  # before the root: HiGHS had no network
        found = record["incumbent"]
        assert record["handed"] == (found is not None), (name, seed)
        if found is not None:
            assert found >= ref.objective - REL * max(1.0, abs(ref.objective)), (name, seed)
            handed += 1
    assert handed >= len(FEASIBLE) // 2, (handed, len(FEASIBLE))


def test_a_failing_reduction_leaves_the_search_alone(
    fire_at_once: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> Reduction:
        raise RuntimeError("broken on purpose")

    monkeypatch.setattr(pipeline, "run_reduction", broken)
    inst, ref = shared_case(*REACHED)
    assert ref is not None
    sol = solve(inst, SolveOptions(mip_gap=1e-9, threads=1))
    record = sol.solver["late_reduction"]
    assert record["error"] == "RuntimeError: broken on purpose" and not record["handed"]
    assert sol.status is Status.OPTIMAL
    assert sol.objective == pytest.approx(ref.objective, rel=REL, abs=REL)


def test_the_watch_is_removed_after_the_run(fire_at_once: None) -> None:
    """A session's next solve (here with the reduction switched off) runs without it."""
    inst, ref = shared_case(*REACHED)
    assert ref is not None
    session = ModelSession(inst, SolveOptions(threads=1))
    first = session.solve(inst, SolveOptions(mip_gap=1e-9, threads=1))
    assert first.solver["late_reduction"]["handed"]
    assert first.objective == pytest.approx(ref.objective, rel=REL, abs=REL)
    second = session.solve(inst, SolveOptions(mip_gap=1e-9, threads=1, root_reduction=False))
    assert "late_reduction" not in second.solver
    assert second.objective == pytest.approx(ref.objective, rel=REL, abs=REL)


def test_the_gap_rule_by_hand() -> None:
    assert not LateReduction(root_incumbent=101.0, root_bound=100.0).wanted()  # 0.99%
    assert LateReduction(root_incumbent=102.0, root_bound=100.0).wanted()  # 1.96%
    assert LateReduction(root_incumbent=None, root_bound=100.0).wanted()  # no network
    assert LateReduction(root_incumbent=100.0, root_bound=None).wanted()  # no bound


def test_the_plan() -> None:
    off = StageChoice(False, "small")
    on = StageChoice(True, "large")
    assert late_choice(SolveOptions(), "matrix", off).run
    assert not late_choice(SolveOptions(), "matrix", on).run
    assert not late_choice(SolveOptions(root_reduction=False), "matrix", off).run
    assert not late_choice(SolveOptions(root_reduction=True), "matrix", off).run
    assert not late_choice(SolveOptions(), "pyomo", off).run
    assert not late_choice(SolveOptions(concurrent=2), "matrix", off).run
    inst, _ = shared_case(*FEASIBLE[0])
    session = ModelSession(inst, SolveOptions())
    plan = plan_stages(session.ix, SolveOptions(), session.backend)
    assert plan.late_reduction.run and not plan.reduction.run
    assert plan.as_record()["late_reduction"] == {"run": True, "why": plan.late_reduction.why}


def test_better_of_keeps_the_cheaper_network() -> None:
    inst, ref = shared_case(*FEASIBLE[0])
    assert ref is not None
    session = ModelSession(inst, SolveOptions())
    mm = session.arrays()
    lay = layout_of(session.ix)
    col = np.zeros(mm.n_cols)
    red = Reduction(incumbent=col, incumbent_objective=90.0)
    worse = Outcome(Status.FEASIBLE, "time limit", 100.0, 89.99, None)
    kept = better_of(worse, red, 1e-3, lay)
    # 90 against the bound 89.99: within 0.1%, so proven
    assert kept.objective == 90.0 and kept.bound == 89.99 and kept.status is Status.OPTIMAL
    assert kept.solution is not None
    assert better_of(worse, red, 1e-6, lay).status is Status.FEASIBLE
    cheaper = Outcome(Status.OPTIMAL, "proven", 80.0, 80.0, None)
    assert better_of(cheaper, red, 1e-6, lay) is cheaper
    assert better_of(worse, None, 1e-6, lay) is worse
    assert better_of(worse, Reduction(), 1e-6, lay) is worse


def test_a_kept_network_is_the_sessions_next_start(
    fire_at_once: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When HiGHS ends without the handed network (made so here: its run reads as ending with
    nothing), the reduction's network is the answer and also the session's next warm start,
    not HiGHS's own last solution."""
    watches: list[LateReduction] = []
    real_watch = pipeline.watch_root

    def spy(*args: object, **kwargs: object) -> LateReduction:
        w = real_watch(*args, **kwargs)  # type: ignore[arg-type]
        watches.append(w)
        return w

    real_end = pipeline.read_end

    def nothing(h: object) -> RunEnd:
        end = real_end(h)  # type: ignore[arg-type]
        return replace(end, objective=None, reported_objective=None, col=None, solution=None)

    monkeypatch.setattr(pipeline, "watch_root", spy)
    monkeypatch.setattr(pipeline, "read_end", nothing)
    inst, ref = shared_case(*REACHED)
    assert ref is not None
    session = ModelSession(inst, SolveOptions(threads=1))
    sol = session.solve(inst, SolveOptions(mip_gap=1e-9, threads=1))
    record = sol.solver["late_reduction"]
    assert record["handed"] and watches and watches[0].handed_col is not None
    assert sol.objective == pytest.approx(record["incumbent"])
    assert sol.objective >= ref.objective - REL * max(1.0, abs(ref.objective))
    assert session.previous is not None
    start = np.asarray(session.previous.col_value)
    assert np.array_equal(start, watches[0].handed_col)
    lp = session.engine.h.getLp()
    cost = float(np.dot(lp.col_cost_, start)) + lp.offset_
    assert cost == pytest.approx(record["incumbent"], rel=REL, abs=REL)


def test_the_watch_fires_where_highs_root_leaves_a_wide_gap() -> None:
    """tune-euclid-single 30 x 60 (benchmarks/families.py), at the shipped settings: HiGHS's
    root leaves 3-4% (benchmarks/README.md), the reduction runs and hands a better network,
    and the solve proves the optimum plain HiGHS proved (families/optima.csv)."""
    family = find_family("tune-euclid-single")[1]
    name, n, m, seed = next(family.instances())
    optimum = float(read_optima()[name]["objective"])
    with tempfile.TemporaryDirectory() as tmp:
        inst = csu_opt.load_instance(write_instance(family, n, m, seed, Path(tmp)))
        log = Path(tmp) / "highs.log"
        sol = solve(inst, SolveOptions(mip_gap=1e-4, threads=1, time_limit=300.0, log_file=log))
        logged = log.read_text()
    assert "restricted MIP proven: search split" in logged
    record = sol.solver["late_reduction"]
    assert record["checked"] and record["root_gap"] > late.ROOT_GAP
    assert record["ran"] and record["handed"]
    assert record["incumbent"] < record["root_incumbent"]
    assert sol.status is Status.OPTIMAL
    assert sol.objective == pytest.approx(optimum, rel=1e-4)
    assert record["incumbent"] >= optimum * (1 - 1e-9)
    # its restricted MIP is proven, so the search is split (csu_opt.solver.split): the
    # complement, with the cut and the cutoff, holds nothing cheaper
    split = record["split"]
    assert split is not None and split["status"] == "Infeasible"
    assert split["cutoff"] == pytest.approx(record["incumbent"] * (1 - 0.5e-4))


def _big(stop: bool) -> tuple[list[Progress], Solution]:
    """test_rules.big_instance (single-sourced; the oracle's optimum 9,803.62) with the watch
    firing at once; ``stop``: stopped as soon as the late reduction reports its first stage."""
    seen: list[Progress] = []
    options = SolveOptions(
        mip_gap=1e-9,
        threads=1,
        on_progress=seen.append,
        should_stop=lambda: stop and any(p.stage.endswith(AFTER_ROOT) for p in seen),
    )
    return seen, solve(big_instance(), options)


def test_progress_names_the_late_reduction(fire_at_once: None) -> None:
    seen, sol = _big(stop=False)
    stages = {p.stage for p in seen}
    assert "LP relaxation" + AFTER_ROOT in stages
    assert sol.status == "optimal" and sol.objective == pytest.approx(9803.62, abs=1e-6)
    assert sol.solver["late_reduction"]["ran"]


def test_a_stop_in_the_late_reduction_is_clean(fire_at_once: None) -> None:
    """Stopped while the reduction runs inside HiGHS's run: HiGHS stops at its next callback,
    the solve returns (no exception), says it was interrupted, and any network it keeps is a
    real one (never below the optimum)."""
    seen, sol = _big(stop=True)
    assert any(p.stage.endswith(AFTER_ROOT) for p in seen)
    assert "interrupt" in sol.message
    assert sol.status in ("feasible", "no_solution")
    if sol.objective is not None:
        assert sol.objective >= 9803.62 - 1e-6


@pytest.mark.parametrize("budget", ["ample", "none"])
def test_a_split_search_keeps_every_optimum(
    fire_at_once: None, monkeypatch: pytest.MonkeyPatch, budget: str
) -> None:
    """The watch split every search it could (any proven restricted MIP, whatever its nodes):
    where HiGHS was still running when the reduction ended, it is stopped and the complement
    searched (csu_opt.solver.split); with no budget for the complement, the whole model is
    searched again. Every solve ends at the oracle's optimum, proven."""
    monkeypatch.setattr(late, "SPLIT_MIN_NODES", -1)
    monkeypatch.setattr(late, "SPLIT_GAP", float("inf"))
    if budget == "none":  # the complement's search ends at once, with nothing

        def stalled(h: object, cols: np.ndarray, best: float, gap: float) -> Complement:
            end = RunEnd(
                status=Status.NO_SOLUTION,
                message="stopped at the time limit",
                model_status="Time limit reached",
                interrupted=False,
                infeasible=False,
                optimal=False,
                objective=None,
                reported_objective=None,
                bound=None,
                col=None,
                solution=None,
                nodes=0,
                fault=False,
            )
            return Complement(len(cols), cutoff_of(best, gap), end, 0.0)

        monkeypatch.setattr(pipeline, "search_complement", stalled)
    split = again = 0
    for name, seed in FEASIBLE:
        inst, ref = shared_case(name, seed)
        assert ref is not None
        sol = solve(inst, SolveOptions(mip_gap=1e-9, threads=1))
        assert sol.status is Status.OPTIMAL, (name, seed)
        assert sol.objective == pytest.approx(ref.objective, rel=REL, abs=REL), (name, seed)
        bound = sol.best_bound
        assert bound is not None and bound <= ref.objective + REL * max(1.0, abs(ref.objective))
        record = sol.solver["late_reduction"]["split"]
        if record is not None:
            split += 1
            again += record["whole_again"]
            assert record["cutoff"] < sol.solver["late_reduction"]["incumbent"]
    assert split >= 1
    assert again == (split if budget == "none" else 0)


def test_the_split_rule_by_hand() -> None:
    """Split only after a restricted MIP proven with a tree (more than SPLIT_MIN_NODES nodes)
    whose network is within SPLIT_GAP (0.5%) of the best bound known."""
    watch = LateReduction(root_bound=100.0)
    out = np.array([3, 4])

    def red(objective: float, nodes: int, lower: float | None = None) -> Reduction:
        return Reduction(
            incumbent_objective=objective, proven_out=out, proven_nodes=nodes, lower_bound=lower
        )

    assert watch.splits(red(100.4, 5))  # 0.4% above the root's bound
    assert not watch.splits(red(100.6, 5))  # 0.6%
    assert watch.splits(red(100.6, 5, lower=100.2))  # the LP's bound is better: 0.4%
    assert not watch.splits(red(100.4, 1))  # proven at its root
    assert not watch.splits(Reduction(incumbent_objective=100.4, proven_nodes=5))  # not proven
    interrupted = red(100.4, 5)
    interrupted.interrupted = True
    assert not watch.splits(interrupted)
    assert not LateReduction().splits(red(100.4, 5))  # no bound at all


def test_the_roots_last_call_by_hand() -> None:
    """The root is done after a node, or (single sourcing: ``pair``) at the second of two calls
    at the root with the same finite incumbent and bound."""
    for pair in (True, False):
        watch = LateReduction(pair=pair)
        assert not watch.root_done(0, float("inf"), 5.0)
        assert not watch.root_done(0, float("inf"), 5.0)  # no network yet
        assert not watch.root_done(0, 10.0, 5.0)
        assert watch.root_done(0, 10.0, 5.0) is pair  # the pair
        assert not watch.root_done(0, 10.0, 6.0)
        assert watch.root_done(1, 10.0, 6.0)  # after a node, always
