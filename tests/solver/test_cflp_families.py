"""The generated facility-location families of the held-out study (benchmarks/families.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from benchmarks.families import SETS, Family, generate, write_instance

import csu_opt
from oracle import solve as oracle_solve

TINY_MULTI = Family("tiny-euclid-multi", "multi", "euclid", 1.5, "bimodal", ((4, 8),), (3,))


def _same_document(a: dict, b: dict) -> bool:
    assert a.keys() == b.keys()
    for key, value in a.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(value, b[key])
        else:
            assert value == b[key], key
    return True


@pytest.mark.parametrize("family", [fams[0] for fams in SETS.values()], ids=lambda f: f.name)
def test_same_seed_same_document(family: Family) -> None:
    _name, n, m, seed = next(family.instances())
    assert _same_document(generate(family, n, m, seed), generate(family, n, m, seed))
    other = generate(family, n, m, seed + 1)
    assert not other["assignment_costs"]["cost"].equals(
        generate(family, n, m, seed)["assignment_costs"]["cost"]
    )


def test_sets_fixed_and_disjoint() -> None:
    names = [f.name for fams in SETS.values() for f in fams]
    assert len(names) == len(set(names)) == 12
    assert [len(SETS[s]) for s in ("tune", "heldout", "fresh")] == [4, 4, 4]
    unseen = [f for s in ("heldout", "fresh") for f in SETS[s]]
    assert {f.costs for f in unseen} == {"euclid", "clustered", "random", "fixed"}
    assert {f.source for f in unseen} == {"single", "multi"}
    tune_sizes = {size for f in SETS["tune"] for size in f.sizes}
    assert not tune_sizes & {size for f in SETS["fresh"] for size in f.sizes}


@pytest.mark.parametrize(
    "family",
    [
        Family("t-clustered-single", "single", "clustered", 1.3, "bimodal", ((6, 12),)),
        Family("t-random-multi", "multi", "random", 5.0, "uniform", ((6, 12),)),
        Family("t-fixed-multi", "multi", "fixed", 2.0, "uniform", ((6, 12),)),
    ],
    ids=lambda f: f.name,
)
def test_instances_load_through_the_validated_loader(family: Family, tmp_path: Path) -> None:
    name, n, m, seed = next(family.instances())
    inst = csu_opt.load_instance(write_instance(family, n, m, seed, tmp_path))
    assert inst.name == name
    assert len(inst.providers) == n and len(inst.ccgs) == m
    assert inst.settings.single_sourcing == (family.source == "single")
    ratio = inst.capabilities["capacity"].sum() / inst.demand["volume"].sum()
    assert family.tightness <= ratio <= family.tightness * 1.05  # capacities rounded up
    assert len(inst.assignment_costs) == n * m


def test_tiny_multi_source_optimum_equals_brute_force(tmp_path: Path) -> None:
    _name, n, m, seed = next(TINY_MULTI.instances())
    inst = csu_opt.load_instance(write_instance(TINY_MULTI, n, m, seed, tmp_path))
    best = oracle_solve(inst)
    assert best is not None
    sol = csu_opt.solve(inst, mip_gap=1e-9)
    assert sol.objective == pytest.approx(best.objective, rel=1e-7)
    assert sorted(sol.leads) == sorted(best.leads)
    assert 1 < len(best.leads) < n  # a real choice: neither one facility nor all
