"""The family registry (csu_opt.model.families): every registered family is built by both
backends, with the same component names and row counts (tests/model/test_matrix.py checks the
coefficients row for row)."""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo
import pytest

from csu_opt.model.families import FAMILIES, active_families, family
from csu_opt.model.index import build_index
from csu_opt.model.matrix import build_matrix
from csu_opt.model.pyomo_model import build_model
from factories.golden import CASES

SWITCHES = [
    {},
    {"valid_inequalities": False},
    {"mutable": True},
]


def components(kw: dict[str, Any]) -> list[str]:
    return [c for f in active_families(**kw) for c in f.components]


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("kw", SWITCHES, ids=["cuts", "no-cuts", "mutable"])
def test_every_family_in_both_backends_with_same_names_and_rows(
    case: str, kw: dict[str, Any]
) -> None:
    ix = build_index(CASES[case][0]())
    m = build_model(ix, **kw)
    mm = build_matrix(ix, **kw)
    built = [c.name for c in m.component_objects(pyo.Constraint)]
    # the same components in the same (registry) order in both backends
    assert built == list(mm.components)
    assert built == [c for c in components(kw) if c in built]
    for name in built:
        start, stop = mm.components[name]
        assert len(m.component(name)) == stop - start, name


def test_registry_names_labels_and_switches() -> None:
    names = [f.name for f in FAMILIES]
    assert len(set(names)) == len(names)
    comps = [c for f in FAMILIES for c in f.components]
    assert len(set(comps)) == len(comps)
    labels = {f.label for f in FAMILIES}
    assert {f"C{i}" for i in (1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12)} | {"M1", "V1"} <= labels
    assert family("network_balance").components == ("network_balance",)
    with pytest.raises(KeyError):
        family("eligibility")  # C7 holds by construction: no rows
    assert [f.name for f in active_families(valid_inequalities=False)] == [
        f.name for f in FAMILIES if not f.valid
    ]
    assert "capacity_cover" not in [f.name for f in active_families(mutable=True)]
    assert "role_split" in [f.name for f in active_families(mutable=True)]
