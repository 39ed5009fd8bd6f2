"""The greedy start's fifth step, attaching would-be exits as subcontractors (issue 7).

Hand-worked: one lead L (fixed cost 10, unit cost 1.0, capacity 100) serves one CCG of 60;
a subcontractor P (link cost G + k = 2 + 1) exits at a cost of 10 unless it delivers. The
greedy's steps 1-4 give L delivering all 60 and P exiting: 10 + 60 + 10 = 80. With P
taking y of L's delivery at unit cost c_P the network costs 10 + (60 - y) + c_P·y + 3; each
case below is also the model's optimum, and the start must be a feasible network.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import csu_opt.solver.start as start_mod
from csu_opt.model.index import build_index
from csu_opt.model.matrix import build_matrix
from csu_opt.solver.options import SolveOptions
from csu_opt.solver.solve import solve
from csu_opt.solver.start import greedy_start
from factories.generated import generated
from factories.rules import build, lead_only, sub_only


def market(c_p: float, q_p: float, v_p: float, target: float = 0.0) -> Any:
    return build(
        providers=[
            lead_only("L", lead_fixed_cost=10),
            sub_only("P", exit_cost=10, subcontractor_fixed_cost=2, min_volume=v_p),
        ],
        caps=[("L", "A", 100, 90, 1.0), ("P", "A", 50, q_p, c_p)],
        demand=[("C1", "A", 60)],
        lines={"A": {"quality_threshold": 50, "network_quality_target": target}},
        settings={"lead_self_delivery_min_share": 0.25},
        k={("P", "L"): 1},
    )


@pytest.mark.parametrize(
    ("c_p", "q_p", "v_p", "target", "y", "cost"),
    [
        # cheaper: P takes all C10 allows, 60 - 0.25 * 60 = 45 (capacity 50): 73 - 0.2 * 45
        (0.8, 90, 0, 0, 45, 64.0),
        # C9: L's slack (90 - 80) * 60 = 600 lets P (quality 60) take 600 / 30 = 20
        (0.8, 60, 0, 80, 20, 69.0),
        # dearer, but joining at its minimum 20 saves its exit: 73 + 0.1 * 20 = 75 < 80
        (1.1, 90, 20, 0, 20, 75.0),
        # its minimum 50 is above the 45 C10 allows: it exits
        (0.8, 90, 50, 0, 0, 80.0),
    ],
    ids=["cheaper", "quality", "minimum-volume", "cannot-reach-minimum"],
)
def test_attached_subcontractor_by_hand(
    c_p: float, q_p: float, v_p: float, target: float, y: float, cost: float
) -> None:
    inst = market(c_p, q_p, v_p, target)
    ix = build_index(inst)
    mm = build_matrix(ix)
    col = greedy_start(ix, mm)
    assert col is not None
    assert mm.violation(col) <= 1e-9
    assert mm.cost(col) == pytest.approx(cost)
    sub = (ix.flows["p"] == "P").to_numpy()
    assert col[mm.layout.X + np.flatnonzero(sub)].sum() == pytest.approx(y)
    sol = solve(inst, SolveOptions(threads=1))
    assert sol.objective == pytest.approx(cost)


def test_attaching_lowers_the_start_on_a_generated_market(monkeypatch: pytest.MonkeyPatch) -> None:
    inst = generated(60, 600, 0)
    ix = build_index(inst)
    mm = build_matrix(ix)
    col = greedy_start(ix, mm)
    monkeypatch.setattr(start_mod, "attach_subcontractors", lambda ix, cd, mm, col: col)
    plain = greedy_start(ix, mm)
    assert col is not None and plain is not None
    assert mm.violation(col) <= 1e-6
    # fewer exits: every provider the plain greedy keeps is kept, and more
    a = slice(mm.layout.A, mm.layout.W)
    assert (col[a] >= plain[a]).all() and col[a].sum() > plain[a].sum()
    assert mm.cost(col) < mm.cost(plain)
