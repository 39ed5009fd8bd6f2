"""The search split by a piercing cut (csu_opt.solver.split), against the brute-force oracle.

For every feasible tiny case, two neighbourhoods N are proven by HiGHS and their complements
searched with the piercing cut and the objective cutoff: the root reduction's own (where the
optimum usually lies inside N, so the complement is infeasible) and N = every network without
one of the optimum's leads (so the optimum lies in the complement). Either way the combined
outcome must be the oracle's optimum, proven, with a bound no higher than it. End to end:
tests/solver/test_late.py (tune-euclid-single 30 x 60, split by the watch on HiGHS's root).
"""

from __future__ import annotations

import numpy as np
import pytest

from csu_opt.model.blocks import MatrixModel, index_codes
from csu_opt.results.solution import Status
from csu_opt.solver.highs import pass_to_highs, quiet_highs, read_end
from csu_opt.solver.options import SolveOptions
from csu_opt.solver.outcome import Outcome, Values
from csu_opt.solver.reduce import root_reduction
from csu_opt.solver.solve import ModelSession
from csu_opt.solver.split import cutoff_of, search_complement, split_outcome
from factories.cuts import CUT_SEEDS
from factories.oracle_refs import shared_case
from factories.rules import RANDOM_SEEDS, REL

CASES = [("cuts", s) for s in CUT_SEEDS] + [("rules-random", s) for s in RANDOM_SEEDS]
FEASIBLE = [c for c in CASES if shared_case(*c)[1] is not None]
GAP = 1e-9
NOTHING = Outcome(Status.NO_SOLUTION, "stopped", None, None, None)


def _highs(mm: MatrixModel):  # type: ignore[no-untyped-def]
    h = quiet_highs({"threads": 1, "mip_rel_gap": GAP})
    pass_to_highs(h, mm)
    return h


def _split(mm: MatrixModel, out: np.ndarray, best: float, bound: float, net: Values) -> Outcome:
    comp = search_complement(_highs(mm), mm.highs_col[out], best, GAP)
    values = None if comp.end.col is None else mm.layout.split(comp.end.col[mm.highs_col])
    return split_outcome(NOTHING, (best, net), bound, comp, values, GAP)


def _check(out: Outcome, ref: float, case: object) -> None:
    assert out.status is Status.OPTIMAL, case
    assert out.objective == pytest.approx(ref, rel=REL, abs=REL), case
    assert out.bound is not None and out.bound <= ref + REL * max(1.0, abs(ref)), case


def test_the_cutoff_by_hand() -> None:
    assert cutoff_of(1000.0, 1e-4) == pytest.approx(999.95)
    assert cutoff_of(-1000.0, 1e-4) == pytest.approx(-1000.05)


def test_the_reductions_neighbourhood_and_its_complement() -> None:
    split = infeasible = 0
    for case in FEASIBLE:
        inst, ref = shared_case(*case)
        assert ref is not None
        session = ModelSession(inst, SolveOptions(threads=1))
        mm = session.arrays()
        codes = index_codes(session.ix)
        red = root_reduction(
            mm,
            time_limit=None,
            mip_gap=GAP,
            highs_options={"threads": 1},
            ccg_of_z=codes.z_c,
            lead_of_z=codes.z_l,
            single_sourcing=session.ix.single_sourcing,
        )
        if red.proven_out is None:
            continue
        assert red.incumbent is not None and red.incumbent_objective is not None
        assert red.proven_bound is not None
        split += 1
        net = mm.layout.split(red.incumbent)
        out = _split(mm, red.proven_out, red.incumbent_objective, red.proven_bound, net)
        _check(out, ref.objective, case)
        infeasible += out.objective == pytest.approx(red.incumbent_objective)
    assert split >= len(FEASIBLE) // 3, split
    assert infeasible >= 1


def test_the_optimum_in_the_complement() -> None:
    """N: every network without lead l, one of the optimum's leads (so the complement, with
    u[l] = 1 forced by the cut, holds the optimum)."""
    searched = 0
    for case in FEASIBLE:
        inst, ref = shared_case(*case)
        assert ref is not None
        mm = ModelSession(inst, SolveOptions(threads=1)).arrays()
        h = _highs(mm)
        h.run()
        whole = read_end(h)
        assert whole.col is not None
        col = whole.col[mm.highs_col]
        opened = np.flatnonzero(col[: mm.layout.n_u] > 0.5)
        if len(opened) == 0:
            continue
        lead = opened[:1]  # layout column of u[l]
        g = _highs(mm)
        hc = mm.highs_col[lead].astype(np.int32)
        g.changeColsBounds(1, hc, np.zeros(1), np.zeros(1))
        g.run()
        inside = read_end(g)
        if inside.objective is None or inside.col is None:
            continue  # no network without l
        assert inside.bound is not None or inside.optimal
        bound = inside.bound if inside.bound is not None else inside.objective
        net = mm.layout.split(inside.col[mm.highs_col])
        out = _split(mm, lead, inside.objective, bound, net)
        _check(out, ref.objective, case)
        searched += inside.objective > ref.objective + REL * max(1.0, abs(ref.objective))
    assert searched >= 5, searched
