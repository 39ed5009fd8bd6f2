"""Golden LP files: the model of a few tiny instances written as a canonical, readable LP
text and stored under tests/data/golden/<case>.lp, so that a change of the formulation shows
up as a readable diff (tests/model/test_golden.py).

The text is written from the Pyomo model (``build_model``), whose components the row-for-row
test (tests/model/test_matrix.py) keeps equal to the matrix backend's row blocks. Variables
carry their ids instead of positions (``x[P2,P1,A]`` is the volume of line A that P2 delivers
in P1's network), coefficients are printed to 10 significant digits, the terms of a row are
sorted by variable name, the rows of a component by their name; components stay in the
order the model builds them. After a deliberate change of the formulation regenerate the
files with ``make golden-lp`` and review their diff.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyomo.environ as pyo
from pyomo.repn import generate_standard_repn

import csu_opt
from csu_opt.instance.load import Instance, instance_from_document
from csu_opt.model.index import ModelIndex, build_index
from csu_opt.model.pyomo_model import build_model
from factories import TESTS
from factories.mergers import random_instance as merger_instance

GOLDEN = TESTS / "data" / "golden"


def tiny() -> Instance:
    return csu_opt.load_instance(TESTS / "data" / "tiny.yaml")


def tiny_rules() -> Instance:
    """tiny with the rules it leaves unset: self-delivery share (C10), minimum volumes (C11,
    V3), two leads per subcontractor (C2's m), a network quality target in line B (C9)."""
    doc = tiny().to_document()
    doc["name"] = "tiny-rules"
    doc["settings"] = {
        **doc["settings"],
        "lead_self_delivery_min_share": 0.25,
        "max_leads_per_subcontractor": 2,
    }
    lines = doc["service_lines"].copy()
    lines["network_quality_target"] = lines["id"].map({"A": 0.0, "B": 65.0})
    doc["service_lines"] = lines
    providers = doc["providers"].copy()
    providers["min_volume"] = providers["id"].map({"P1": 20, "P2": 10, "P3": 5})
    doc["providers"] = providers
    return instance_from_document(doc, Path("tiny-rules.yaml"))


def tiny_free() -> Instance:
    """tiny under free choice (C12): each CCG ranks the two leads."""
    doc = tiny().to_document()
    doc["name"] = "tiny-free"
    doc["settings"] = {**doc["settings"], "ccg_choice": "free", "single_sourcing": True}
    doc["ccg_preferences"] = pd.DataFrame(
        [("C1", "P2", 1), ("C1", "P1", 2), ("C2", "P1", 1), ("C3", "P2", 1)],
        columns=["ccg", "lead", "rank"],
    )
    return instance_from_document(doc, Path("tiny-free.yaml"))


def mergers() -> Instance:
    """A seeded random instance with mergers (M1) from factories.mergers."""
    return merger_instance(3)


#: case name -> (instance, build_model keyword arguments)
CASES: dict[str, tuple[Callable[[], Instance], dict[str, Any]]] = {
    "tiny": (tiny, {}),
    "tiny-no-cuts": (tiny, {"valid_inequalities": False}),
    "tiny-rules": (tiny_rules, {}),
    "tiny-free": (tiny_free, {}),
    "mergers": (mergers, {}),
}


def var_names(ix: ModelIndex) -> dict[str, list[str]]:
    """Readable names of the variables of each family, in position order."""

    def names(v: str, frame: Any, cols: list[str]) -> list[str]:
        return [f"{v}[{','.join(map(str, r))}]" for r in frame[cols].itertuples(index=False)]

    return {
        "u": [f"u[{l}]" for l in ix.leads],
        "a": [f"a[{p}]" for p in ix.providers.index],
        "w": names("w", ix.links, ["p", "l"]),
        "z": names("z", ix.assign, ["l", "c"]),
        "x": names("x", ix.flows, ["p", "l", "s"]),
    }


def num(v: float) -> str:
    return f"{v:.10g}"


def linear_terms(expr: Any, name: dict[int, str]) -> tuple[list[str], float]:
    repn = generate_standard_repn(expr, compute_values=True)
    if not repn.is_linear():
        raise ValueError(f"not linear: {expr}")
    terms = {}
    for c, v in zip(repn.linear_coefs, repn.linear_vars, strict=True):
        if c != 0.0:
            terms[name[id(v)]] = float(c)
    text = [f"{'+' if c >= 0 else '-'} {num(abs(c))} {n}" for n, c in sorted(terms.items())]
    return text, float(repn.constant)


def lp_text(m: pyo.ConcreteModel, ix: ModelIndex) -> str:
    """The model as canonical LP text (see the module docstring)."""
    readable = var_names(ix)
    name = {id(v): readable[f][k] for f in "uawzx" for k, v in getattr(m, f).items()}
    out = [f"\\ {m.name}: {sum(len(n) for n in readable.values())} columns", "minimize"]
    (obj,) = m.component_objects(pyo.Objective, active=True)
    terms, const = linear_terms(obj.expr, name)
    out += [f"  total_cost: {' '.join(terms)} + {num(const)}", "subject to"]
    for con in m.component_objects(pyo.Constraint, active=True):
        rows = []
        for key, c in sorted(con.items(), key=lambda kc: key_order(kc[0])):
            label = con.name if key is None else f"{con.name}[{key_text(key)}]"
            terms, const = linear_terms(c.body, name)
            lo = None if c.lower is None else pyo.value(c.lower) - const
            hi = None if c.upper is None else pyo.value(c.upper) - const
            body = " ".join(terms) if terms else "0"
            if lo is not None and hi is not None and lo == hi:
                rows.append(f"  {label}: {body} = {num(lo)}")
            elif lo is not None and hi is not None:
                rows.append(f"  {label}: {num(lo)} <= {body} <= {num(hi)}")
            elif lo is not None:
                rows.append(f"  {label}: {body} >= {num(lo)}")
            else:
                rows.append(f"  {label}: {body} <= {num(hi)}")
        out.append(f"\\ {con.name}: {len(rows)} rows")
        out += rows
    out.append("bounds")
    for k, v in m.x.items():
        out.append(f"  0 <= {readable['x'][k]} <= {num(v.ub)}")
    for f in "uawz":
        for k, v in getattr(m, f).items():
            if not v.is_binary():
                out.append(f"  {num(v.lb)} <= {readable[f][k]} <= {num(v.ub)}")
    out.append("binary")
    out += [
        f"  {readable[f][k]}" for f in "uawz" for k, v in getattr(m, f).items() if v.is_binary()
    ]
    out.append("end")
    return "\n".join(out) + "\n"


def key_order(key: Any) -> tuple:
    """Rows sorted by their index, numbers as numbers."""
    parts = key if isinstance(key, tuple) else (key,)
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in parts)


def key_text(key: Any) -> str:
    return ",".join(map(str, key)) if isinstance(key, tuple) else str(key)


def case_text(case: str) -> str:
    make, kw = CASES[case]
    ix = build_index(make())
    return lp_text(build_model(ix, **kw), ix)


def main() -> None:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for case in CASES:
        path = GOLDEN / f"{case}.lp"
        path.write_text(case_text(case), encoding="utf-8")
        print(f"wrote {path.relative_to(TESTS.parent)}", file=sys.stderr)


if __name__ == "__main__":
    main()
