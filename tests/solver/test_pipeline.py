"""A solve's stages one by one (csu_opt.solver.pipeline, csu_opt.solver.outcome).

Known answers: tests/data/tiny.yaml, whose optimum 142 (P2 the one lead) is hand-worked and
the brute-force oracle's (tests/model/test_rules.py); a seeded random instance the oracle
proves infeasible; and hand-worked bounds for the settling rules.
"""

from __future__ import annotations

import importlib
import time
from pathlib import Path

import numpy as np
import pytest

import csu_opt
from csu_opt.model.blocks import MatrixModel
from csu_opt.model.index import build_index
from csu_opt.model.matrix import build_matrix
from csu_opt.results.solution import Status
from csu_opt.solver.engines import layout_of
from csu_opt.solver.highs import pass_to_highs, quiet_highs, read_end
from csu_opt.solver.options import SolveOptions
from csu_opt.solver.outcome import Outcome, outcome_of_reduction, outcome_of_run, settle
from csu_opt.solver.pipeline import (
    Workspace,
    main_share,
    polish_stage,
    reduction_stage,
    search_stage,
    start_stage,
)
from csu_opt.solver.reduce import Reduction
from csu_opt.solver.solve import ModelSession
from factories.oracle_refs import random_case

TINY = Path(__file__).resolve().parents[1] / "data" / "tiny.yaml"
OPTIMUM = 142.0  # hand-worked; the oracle agrees (test_rules.test_tiny_yaml_known_optimum)


def workspace(options: SolveOptions, inst: csu_opt.Instance | None = None) -> Workspace:
    session = ModelSession(inst or csu_opt.load_instance(TINY), options)
    h = session.engine.prepare(options)
    return Workspace(h, session.engine, session.ix, session.arrays, time.perf_counter())


def leads(ws: Workspace, solution: dict[str, np.ndarray] | None) -> list[str]:
    assert solution is not None
    return [lead for lead, u in zip(ws.ix.leads, solution["u"], strict=True) if u > 0.5]


# --------------------------------------------------------------------------- the outcome


def test_outcome_gap_and_judgement() -> None:
    out = Outcome(Status.FEASIBLE, "stopped", objective=100.0, bound=99.0)
    assert out.gap() == pytest.approx(0.01)
    assert out.judged(0.001) is out  # 1% is not within 0.1%
    proven = out.judged(0.02)
    assert proven.status is Status.OPTIMAL and proven.message.startswith("proven optimal")
    # only a FEASIBLE network is ever proven: the other statuses stay as they are
    assert Outcome(Status.NO_SOLUTION, "none", None, 99.0).judged(1.0).status is Status.NO_SOLUTION
    assert Outcome(Status.FEASIBLE, "no bound", 100.0, None).gap() is None
    with pytest.raises(AttributeError):
        out.status = Status.OPTIMAL  # type: ignore[misc]  # frozen: stages return new ones


def test_outcome_of_a_run_and_of_a_solver_fault(monkeypatch: pytest.MonkeyPatch) -> None:
    mm = build_matrix(build_index(csu_opt.load_instance(TINY)))

    def run() -> Outcome:
        h = quiet_highs({"mip_rel_gap": 0.0})
        pass_to_highs(h, mm)
        h.run()
        return outcome_of_run(read_end(h), lambda col: mm.layout.split(col[mm.highs_col]))

    out = run()
    assert out.status is Status.OPTIMAL
    assert out.objective == pytest.approx(OPTIMUM) and out.bound == pytest.approx(OPTIMUM)
    assert out.solution is not None and mm.cost(mm.layout.join(out.solution)) == pytest.approx(142)
    # HiGHS's objective made to disagree with its solution's cost: the true cost, no bound
    highs_module = importlib.import_module("csu_opt.solver.highs")
    true_cost = highs_module.solution_cost
    monkeypatch.setattr(highs_module, "solution_cost", lambda h, c: true_cost(h, c) + 50.0)
    fault = run()
    assert fault.status is Status.FEASIBLE and fault.bound is None
    assert fault.objective == pytest.approx(OPTIMUM + 50.0)
    assert "inconsistent" in fault.message


def test_settle_by_hand() -> None:
    # LB 100, fixings excluding only networks costing 103 or more, incumbent 102
    lay = layout_of(build_index(csu_opt.load_instance(TINY)))
    incumbent = np.zeros(lay.n_cols)
    red = Reduction(
        lower_bound=100.0, threshold=103.0, incumbent=incumbent, incumbent_objective=102.0
    )
    # the reduced model infeasible: no network beats the incumbent, which is optimal
    infeasible = Outcome(Status.INFEASIBLE, "proven infeasible")
    out = settle(infeasible, red, 1e-4, lay)
    assert out.status is Status.OPTIMAL and out.objective == 102.0 and out.bound == 102.0
    assert "root reduction's incumbent" in out.message
    # HiGHS's bound 99 on the reduced model is 100 on the whole model (max with LB) ...
    feasible = Outcome(Status.FEASIBLE, "stopped at the time limit", 102.0, 99.0)
    out = settle(feasible, red, 0.01, lay)
    assert out.status is Status.FEASIBLE and out.bound == 100.0
    assert out.gap() == pytest.approx(2 / 102)
    # ... which proves 102 within a 2% gap
    assert settle(feasible, red, 0.02, lay).status is Status.OPTIMAL
    # HiGHS's bound 105 on the reduced model: the fixings' threshold 103 caps it
    assert settle(replace_bound(feasible, 105.0), red, 1e-4, lay).bound == 103.0
    # a race's bound is already the whole model's; no reduction: nothing to settle
    assert settle(feasible, red, 0.02, lay, combine=False) == feasible
    assert settle(feasible, None, 0.02, lay) is feasible


def replace_bound(out: Outcome, bound: float) -> Outcome:
    return Outcome(out.status, out.message, out.objective, bound, out.solution)


# --------------------------------------------------------------------------- the stages


def test_main_share() -> None:
    plain = SolveOptions(time_limit=10)
    assert main_share(plain, 0.0) == (plain, None)
    polish = SolveOptions(time_limit=10, polish=0.25)
    options, share = main_share(polish, 100.0)
    assert options is polish and share is not None and share.deadline == 107.5
    raced, share = main_share(SolveOptions(time_limit=10, polish=0.25, concurrent=2), 0.0)
    assert share is None and raced.time_limit == 7.5


@pytest.mark.parametrize("backend", ["pyomo", "matrix"])
def test_start_stage_hands_the_greedy_network(backend: str) -> None:
    options = SolveOptions(backend=backend, start_heuristic=True)  # type: ignore[arg-type]
    ws = workspace(options)
    started = start_stage(ws, options, previous=None)
    assert started.record is not None and started.record["found"] is True
    assert started.record["objective"] >= OPTIMUM - 1e-6  # a network, never below the optimum
    mm = ws.same_matrix()
    assert mm is not None and started.col is not None and mm.violation(started.col) <= 1e-6
    # no greedy start when asked not to, or when the previous solve's solution is at hand
    off = SolveOptions(backend=backend, start_heuristic=False)  # type: ignore[arg-type]
    assert start_stage(workspace(off), off, previous=None).record is None
    assert start_stage(ws, options, previous=read_end_solution(ws)).record is None


def read_end_solution(ws: Workspace) -> object:
    ws.engine.run()
    return read_end(ws.h).solution


def test_reduction_stage_fixes_and_undo_restores() -> None:
    options = SolveOptions(backend="matrix", root_reduction=True, mip_gap=1e-9)
    ws = workspace(options)
    started = start_stage(ws, options, previous=None)
    reduced = reduction_stage(ws, options, started.col, None, None)
    red = reduced.reduction
    assert red is not None and red.lower_bound is not None
    assert red.lower_bound <= OPTIMUM + 1e-6 <= red.incumbent_objective + 2e-6  # type: ignore[operator]
    mm = reduced.mm
    assert isinstance(mm, MatrixModel)
    assert len(reduced.fixed_cols) == len(red.fixed_zero) + len(red.fixed_one)
    reduced.undo(ws.h)
    lp = ws.h.getLp()
    order = np.argsort(mm.highs_col)  # HiGHS's columns in layout order
    assert np.array_equal(np.asarray(lp.col_lower_), mm.col_lower[order])
    assert np.array_equal(np.asarray(lp.col_upper_), mm.col_upper[order])
    # off on the Pyomo backend by default
    pyomo = SolveOptions(backend="pyomo")
    assert reduction_stage(workspace(pyomo), pyomo, None, None, None).reduction is None


@pytest.mark.parametrize("backend", ["pyomo", "matrix"])
def test_search_stage_reaches_the_optimum(backend: str) -> None:
    options = SolveOptions(backend=backend, mip_gap=1e-9)  # type: ignore[arg-type]
    ws = workspace(options)
    searched = search_stage(ws, options, red=None, start_col=None)
    out = searched.outcome
    assert out.status is Status.OPTIMAL and out.objective == pytest.approx(OPTIMUM)
    assert leads(ws, out.solution) == ["P2"]
    assert not searched.skipped and searched.race is None and searched.warm is not None


def test_search_stage_is_skipped_when_the_reduction_settles() -> None:
    # the LP bound and the restricted MIP's network agree within 50%: HiGHS is not run
    options = SolveOptions(backend="matrix", root_reduction=True, mip_gap=0.5)
    ws = workspace(options)
    reduced = reduction_stage(ws, options, None, None, None)
    assert reduced.reduction is not None
    searched = search_stage(ws, options, reduced.reduction, None)
    assert searched.skipped and searched.nodes is None
    out = searched.outcome
    assert out == outcome_of_reduction(reduced.reduction, 0.5, layout_of(ws.ix))
    assert out.status is Status.OPTIMAL and "LP bound and restricted MIP" in out.message
    assert out.objective is not None and OPTIMUM - 1e-6 <= out.objective <= 1.5 * OPTIMUM


def test_search_stage_on_an_infeasible_instance() -> None:
    inst, ref = random_case(5)
    assert ref is None  # the oracle finds no network
    options = SolveOptions(backend="matrix")
    searched = search_stage(workspace(options, inst), options, None, None)
    assert searched.outcome.status is Status.INFEASIBLE and searched.outcome.solution is None
    assert searched.warm is None


def test_polish_stage_improves_within_the_lead_set() -> None:
    options = SolveOptions(backend="matrix", mip_gap=1e-9, time_limit=30, polish=0.5)
    ws = workspace(options)
    mm = ws.same_matrix()
    assert mm is not None
    # a worse network with P2 the lead: P3 made to exit, then the model restored
    a_p3 = mm.layout.A + list(ws.ix.providers.index).index("P3")
    col = int(mm.highs_col[a_p3])
    ws.h.changeColBounds(col, 0.0, 0.0)
    ws.engine.run()
    worse = outcome_of_run(read_end(ws.h), ws.engine.values)
    ws.h.changeColBounds(col, mm.col_lower[a_p3], mm.col_upper[a_p3])
    assert worse.objective is not None and worse.objective > OPTIMUM + 1
    assert leads(ws, worse.solution) == ["P2"]
    start = Outcome(Status.FEASIBLE, "stopped", worse.objective, OPTIMUM - 1, worse.solution)
    polished = polish_stage(ws, options, start)
    assert polished.result is not None and polished.result.improved
    assert polished.outcome.objective == pytest.approx(OPTIMUM)
    assert polished.outcome.status is Status.FEASIBLE  # 141 does not prove 142 within 1e-9
    assert polished.outcome.message == "stopped; the network polished within its lead set"
    proven = polish_stage(ws, options, replace_bound(start, OPTIMUM))
    assert proven.outcome.status is Status.OPTIMAL and "after polishing" in proven.outcome.message
    # nothing to polish: an optimal outcome, or no polish asked
    done = polish_stage(ws, options, proven.outcome)
    assert done.result is not None and not done.result.ran and done.col is None
    assert polish_stage(ws, SolveOptions(), start) == type(polished)(start)
