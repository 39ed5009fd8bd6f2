"""The valid inequalities V2-V4 (model/formulation.md): they cut LP points, never an optimum.

- V2, quality cover: a lead that falls short of a line's network quality target needs a
  whole link to a partner that meets it. Worked by hand on a two-provider instance.
- V3/V4, role split: viability and capacity hold for the lead role and the subcontractor
  role apart.

Validity is checked against the brute-force oracle (tests/oracle.py) on random tiny
instances built so that every family has rows (full demand, targets, minimum volumes,
providers that may both lead and subcontract), and on the shipped instances by the LP
bounds they reach (measured once, see model/formulation.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import csu_opt
from csu_opt.instance.load import Instance
from csu_opt.model.index import build_index, quality_covers
from csu_opt.model.matrix import build_matrix
from factories.cuts import CUT_SEEDS, lp_bound
from factories.oracle_refs import cut_case
from factories.rules import build

ROOT = Path(__file__).resolve().parents[2]
REL = 1e-6


def cover_instance(demand: list[tuple[str, str, float]] | None = None, **lead: Any) -> Instance:
    """Lead L (quality 50 < Q = 60, v = 10) and partner H (quality 100, G = 10); one CCG
    of demand 20; every unit cost 0.

    By hand: L must lead (H cannot) and deliver >= 10 itself; quality needs
    -10 x_L + 40 x_H >= 0 with x_L + x_H = 20, so H delivers at least 4 (x_L = 16) and
    joins L's network: optimum F + G = 10. The LP relaxation without V2 needs only
    x_H = 4 <= 100 w: bound 10 * 0.04 = 0.4. V2 (w >= u = 1) closes the gap: bound 10.
    """
    rec = {"id": "L", "can_lead": True, "can_subcontract": False, "lead_fixed_cost": 0}
    rec.update({"min_volume": 10, **lead})
    return build(
        lines={"A": {"network_quality_target": 60}},
        providers=[
            rec,
            {"id": "H", "can_lead": False, "subcontractor_fixed_cost": 10},
        ],
        caps=[("L", "A", 100, 50, 0.0), ("H", "A", 100, 100, 0.0)],
        demand=demand or [("C1", "A", 20)],
        settings={"lead_providers": {"min": 1}},
        name="quality-cover",
    )


def test_quality_cover_by_hand() -> None:
    inst = cover_instance()
    keys, members = quality_covers(build_index(inst))
    assert list(map(tuple, keys.itertuples(index=False))) == [("L", "A")]
    assert members["row"].tolist() == [0]  # the one link H -> L
    assert lp_bound(inst, cuts=False) == pytest.approx(0.4, abs=1e-9)
    assert lp_bound(inst, cuts=True) == pytest.approx(10.0, abs=1e-9)
    for cuts in (False, True):
        sol = csu_opt.solve(inst, mip_gap=1e-9, valid_inequalities=cuts)
        assert sol.status == "optimal"
        assert sol.objective == pytest.approx(10.0, abs=1e-9)


@pytest.mark.parametrize(
    ("why", "inst"),
    [
        (
            "the lead meets the target",
            cover_instance().with_changes(["service_lines.A.network_quality_target=50"]),
        ),
        ("the lead has no minimum volume", cover_instance(min_volume=0)),
        (
            "a CCG has no demand in the line",
            cover_instance(demand=[("C1", "A", 20), ("C2", "A", 0)]),
        ),
    ],
)
def test_quality_cover_left_out(why: str, inst: Instance) -> None:
    keys, _ = quality_covers(build_index(inst))
    assert keys.empty, why


def test_quality_cover_does_not_repeat_full_coverage() -> None:
    # L is not eligible at all and the only eligible partner meets the target: C8 says it all
    inst = cover_instance().with_changes(["service_lines.A.quality_threshold=60"])
    keys, _ = quality_covers(build_index(inst))
    assert keys.empty


@pytest.mark.parametrize("seed", CUT_SEEDS)
def test_cuts_keep_the_oracle_optimum(seed: int) -> None:
    inst, ref = cut_case(seed)
    for cuts in (True, False):
        sol = csu_opt.solve(inst, mip_gap=1e-9, time_limit=60, valid_inequalities=cuts)
        if ref is None:
            assert sol.status == "infeasible"
        else:
            assert sol.status == "optimal"
            assert sol.objective == pytest.approx(ref.objective, rel=REL, abs=REL)


def test_cut_instances_exercise_every_family() -> None:
    """The random set above is only a check of V2-V4 if they have rows there (and bind)."""
    seen = {"quality_cover": 0, "viability_lead": 0, "viability_sub": 0, "capacity_sub": 0}
    feasible = tighter = 0
    for seed in CUT_SEEDS:
        inst, ref = cut_case(seed)
        comps = build_matrix(build_index(inst)).components
        for name in seen:
            lo, hi = comps.get(name, (0, 0))
            seen[name] += hi > lo
        if ref is not None:
            feasible += 1
            tighter += lp_bound(inst, True) > lp_bound(inst, False) + 1e-6
    assert min(seen.values()) >= 5, seen
    assert feasible >= 30, feasible
    assert tighter >= 6, tighter


@pytest.mark.parametrize(
    ("name", "without", "with_cuts"),
    [("england-2014", 639_190.61, 640_709.78), ("england-2013", 657_733.47, 658_387.59)],
)
def test_cuts_tighten_the_shipped_instances(name: str, without: float, with_cuts: float) -> None:
    # measured once on the real-CCG instances (instances/README.md); the optimum of 2014 is
    # 641,523.7 and the best 2013 network known 660,870.1: the cuts close 65% and 21% of
    # the LP gap
    inst = csu_opt.load_instance(ROOT / "instances" / f"{name}.yaml")
    assert lp_bound(inst, cuts=False) == pytest.approx(without, abs=0.05)
    assert lp_bound(inst, cuts=True) == pytest.approx(with_cuts, abs=0.05)
