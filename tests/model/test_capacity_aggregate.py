"""V5, the aggregate capacity rows (model/formulation.md): Σ_{p eligible in s}
min(cap[p,s], D[s]) a[p] >= D[s] for every line with demand.

- By hand: a lead with little capacity of its own and two partners of ample capacity: the
  LP relaxation without V5 pays half a partner, with V5 nine tenths, the optimum a whole one.
- Validity: at every optimum the brute-force oracle found (tests/oracle.py, the stored random
  and cut sets), every V5 row holds; and the solve with V5 reaches the oracle's optimum
  (tests/model/test_cuts.py and test_rules.py solve with the valid inequalities on).
"""

from __future__ import annotations

import numpy as np
import pytest

import csu_opt
from csu_opt.instance.load import Instance
from csu_opt.model.index import build_index
from csu_opt.model.matrix import build_matrix
from factories.cuts import CUT_SEEDS, lp_bound
from factories.oracle_refs import SETS, case, stored
from factories.rules import build
from oracle import OracleResult


def two_partner_instance() -> Instance:
    """Lead L (capacity 10 in B, may not subcontract) and partners H1, H2 (capacity 200 each,
    subcontractor fixed cost 10, may not lead); one CCG of demand 100 in B; unit costs 0.

    By hand: L delivers at most 10, so a partner delivers >= 90 and joins: optimum 10.
    LP without V5: x_H1 + x_H2 >= 90 with x_H <= 200 w_H, so w_H1 + w_H2 >= 0.45: bound 4.5.
    V5: 10 a_L + 100 a_H1 + 100 a_H2 >= 100 with a_L <= 1 and a_H <= w_H (a partner is
    active only in a network), so w_H1 + w_H2 >= 0.9: bound 9.
    """
    return build(
        lines={"B": {}},
        providers=[
            {"id": "L", "can_lead": True, "can_subcontract": False, "lead_fixed_cost": 0},
            {"id": "H1", "can_lead": False, "subcontractor_fixed_cost": 10},
            {"id": "H2", "can_lead": False, "subcontractor_fixed_cost": 10},
        ],
        caps=[("L", "B", 10, 100, 0.0), ("H1", "B", 200, 100, 0.0), ("H2", "B", 200, 100, 0.0)],
        demand=[("C1", "B", 100)],
        settings={"lead_providers": {"min": 1}},
        name="aggregate-capacity",
    )


def test_aggregate_capacity_by_hand() -> None:
    inst = two_partner_instance()
    mm = build_matrix(build_index(inst))
    start, stop = mm.components["capacity_aggregate"]
    assert stop - start == 1
    assert mm.row_lower[start] == pytest.approx(100.0)
    row = slice(mm.start[start], mm.start[start + 1])
    a = mm.layout.A
    # coefficients capped at D = 100: L 10, H1 and H2 100 each (not 200)
    assert dict(zip((mm.index[row] - a).tolist(), mm.value[row].tolist(), strict=True)) == {
        0: 10.0,
        1: 100.0,
        2: 100.0,
    }
    assert lp_bound(inst, cuts=False) == pytest.approx(4.5)
    assert lp_bound(inst, cuts=True) == pytest.approx(9.0)
    sol = csu_opt.solve(inst, mip_gap=1e-9, time_limit=60)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(10.0)


def active_columns(inst: Instance, ref: OracleResult) -> tuple[np.ndarray, np.ndarray]:
    """The V5 rows' activity at the oracle's optimum (a[p] = 1 for every provider that leads
    or subcontracts) and their right-hand sides."""
    ix = build_index(inst)
    mm = build_matrix(ix)
    col = np.zeros(mm.n_cols)
    active = [p for p, (role, _) in ref.roles.items() if role != "exit"]
    col[mm.layout.A + ix.providers.index.get_indexer(active)] = 1.0
    start, stop = mm.components.get("capacity_aggregate", (0, 0))
    return mm.activity(col)[start:stop], mm.row_lower[start:stop]


#: the feasible cases of both stored sets (an infeasible one has no optimum to check)
FEASIBLE = [
    (name, seed)
    for name, s in SETS.items()
    for seed in s.seeds
    if stored(name)["cases"][str(seed)]["oracle"] is not None
]


@pytest.mark.parametrize(("ref_set", "seed"), FEASIBLE)
def test_aggregate_capacity_holds_at_every_oracle_optimum(ref_set: str, seed: int) -> None:
    inst, ref = case(ref_set, seed)
    assert ref is not None
    activity, lower = active_columns(inst, ref)
    assert len(lower) >= 1  # every instance of both sets has demand
    assert np.all(activity >= lower - 1e-9), (activity, lower)


def test_aggregate_capacity_binds_somewhere() -> None:
    """The oracle check above means something only if V5 is tight at some optima: capacity
    must be scarce on some of the cut instances."""
    tight = 0
    for seed in CUT_SEEDS:
        inst, ref = case("cuts", seed)
        if ref is not None:
            activity, lower = active_columns(inst, ref)
            tight += bool(np.any(activity - lower < 0.5 * lower))
    assert tight >= 3, tight
