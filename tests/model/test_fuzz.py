"""Hardening: random damage to a valid instance is either solved or rejected cleanly, and the
same instance with the same options always gives the same solution.

The property: ``instance_from_document`` on a mutated tiny.yaml either returns an Instance,
which ``csu_opt.solver.solve`` then solves to some status without raising (any solution it finds
passes the independent checker; an infeasible one is explained, and a verified suggestion
really is feasible), or raises ``InstanceError`` whose every problem names a table or a
field. Any other exception is a bug. ``HYPOTHESIS_PROFILE=ci`` runs a longer search
(the profiles are in tests/conftest.py).
"""

from __future__ import annotations

import copy
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import csu_opt
from csu_opt.analysis.explain import explain, format_explanation
from csu_opt.instance.load import instance_from_document
from csu_opt.instance.schema import TABLES, TOP_LEVEL_FIELDS
from csu_opt.results.solution import write_files
from csu_opt.results.verify import format_report, verify_solution
from factories import TESTS
from factories.markets import market

DATA = Path(__file__).parents[1] / "data"
TINY: dict[str, Any] = yaml.safe_load((DATA / "tiny.yaml").read_text())
LIST_TABLES = [t for t in TABLES if isinstance(TINY.get(t), list)]

BAD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 10**6),
    st.floats(-1e6, 1e6),
    st.sampled_from([math.nan, math.inf, -math.inf, -1, -0.5, 0, 1e12]),
    st.sampled_from(["", " ", "12", "abc", "nan", "-1", "1e400", "true", "P1", "A", "C1", "ZZ"]),
    st.text(max_size=4),
    st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.sampled_from(["a", "min", "csv"]), st.integers(0, 3), max_size=2),
)
OPS = [
    "set_cell", "delete_cell", "rename_field", "negate", "unknown_id", "duplicate_row",
    "delete_row", "empty_table", "delete_top", "set_top", "add_top", "set_setting",
    "csv_table",
    # changes that keep the instance valid, so that the solver sees odd but legal markets
    "valid_number", "valid_number", "valid_number", "flip_bool", "valid_setting",
    "valid_setting",
]  # fmt: skip
VALID_SETTINGS = {
    ("lead_providers", "min"): st.integers(0, 4),
    ("lead_providers", "max"): st.integers(1, 4),
    ("single_sourcing",): st.booleans(),
    ("max_leads_per_subcontractor",): st.integers(1, 3),
    ("lead_self_delivery_min_share",): st.floats(0, 1),
}


def _mutate(doc: dict[str, Any], data: st.DataObject) -> str:
    """Apply one random mutation to ``doc`` in place; return a description for failures."""
    op = data.draw(st.sampled_from(OPS), label="op")
    tables = [t for t in LIST_TABLES if isinstance(doc.get(t), list) and doc[t]]
    if op == "valid_setting":
        key = data.draw(st.sampled_from(sorted(VALID_SETTINGS)), label="setting")
        value = data.draw(VALID_SETTINGS[key], label="value")
        node = doc.get("settings")
        if isinstance(node, dict) and isinstance(node.get("lead_providers"), dict | None):
            if len(key) == 2:
                node[key[0]] = {**(node.get(key[0]) or {}), key[1]: value}
            else:
                node[key[0]] = value
        return f"settings.{'.'.join(key)} = {value!r}"
    if op in ("set_top", "delete_top", "add_top", "set_setting", "csv_table") or not tables:
        if op == "delete_top":
            key = data.draw(st.sampled_from(sorted(doc)), label="key")
            del doc[key]
            return f"delete {key}"
        if op == "add_top":
            doc[data.draw(st.sampled_from(["servce_lines", "extra", "Providers"]))] = 1
            return "add an unknown field"
        if op == "csv_table":
            t = data.draw(st.sampled_from(LIST_TABLES), label="table")
            doc[t] = {"csv": "nowhere.csv"}
            return f"{t} from a missing CSV"
        if op == "set_setting":
            path = data.draw(st.sampled_from([
                ("lead_providers", "min"), ("lead_providers", "max"), ("lead_providers", "mx"),
                ("single_sourcing",), ("max_leads_per_subcontractor",),
                ("lead_self_delivery_min_share",), ("lead_providers",), ("colour",),
            ]), label="setting")  # fmt: skip
            value = data.draw(BAD_VALUES, label="value")
            node = doc.setdefault("settings", {})
            if not isinstance(node, dict):
                return "settings not a mapping already"
            for part in path[:-1]:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    return "setting parent not a mapping"
            node[path[-1]] = value
            return f"settings.{'.'.join(path)} = {value!r}"
        key = data.draw(st.sampled_from(list(TOP_LEVEL_FIELDS)), label="key")
        value = data.draw(BAD_VALUES, label="value")
        doc[key] = value
        return f"{key} = {value!r}"
    t = data.draw(st.sampled_from(tables), label="table")
    rows = doc[t]
    i = data.draw(st.integers(0, len(rows) - 1), label="row")
    row = rows[i]
    if op == "duplicate_row":
        rows.append(copy.deepcopy(row))
        return f"duplicate {t} row {i + 1}"
    if op == "delete_row":
        del rows[i]
        return f"delete {t} row {i + 1}"
    if op == "empty_table":
        doc[t] = []
        return f"empty {t}"
    if not isinstance(row, dict):
        return "row is not a mapping"
    columns = [c.name for c in TABLES[t].cols]
    field = data.draw(st.sampled_from(sorted({*columns, *map(str, row)})), label="field")
    if op == "valid_number":
        nums = [c for c in TABLES[t].cols if c.kind == "num"]
        if not nums:
            return f"{t} has no numbers"
        col = data.draw(st.sampled_from(nums), label="number column")
        hi = col.hi if col.hi is not None else 500.0
        row[col.name] = data.draw(st.floats(0, hi) | st.integers(0, int(hi)), label="value")
        return f"{t} row {i + 1}: {col.name} = {row[col.name]!r}"
    if op == "flip_bool":
        if t == "providers":
            flag = data.draw(st.sampled_from(["can_lead", "can_subcontract"]), label="flag")
            row[flag] = not row.get(flag, True)
            return f"providers row {i + 1}: {flag} = {row[flag]}"
        return "no flag"
    if op == "set_cell":
        value = data.draw(BAD_VALUES, label="value")
        row[field] = value
        return f"{t} row {i + 1}: {field} = {value!r}"
    if op == "delete_cell":
        row.pop(field, None)
        return f"{t} row {i + 1}: delete {field}"
    if op == "rename_field":
        if field in row:
            row[field + data.draw(st.sampled_from(["_", "s", "X"]))] = row.pop(field)
        return f"{t} row {i + 1}: rename {field}"
    if op == "negate":
        if isinstance(row.get(field), int | float) and not isinstance(row.get(field), bool):
            row[field] = -row[field] - 1
        return f"{t} row {i + 1}: negate {field}"
    # unknown_id: point an id or a reference at something that does not exist
    ids = [c.name for c in TABLES[t].cols if c.kind == "id"]
    col = data.draw(st.sampled_from(ids), label="id column")
    row[col] = data.draw(st.sampled_from(["ZZ", "p1", "", "A ", "C1", "P1"]), label="id")
    return f"{t} row {i + 1}: {col} = {row[col]!r}"


# how many examples: the hypothesis profile (tests/conftest.py; HYPOTHESIS_PROFILE=dev|ci)
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_instances_solve_or_fail_cleanly(data: st.DataObject) -> None:
    doc = copy.deepcopy(TINY)
    n = data.draw(st.integers(1, 3), label="mutations")
    done = [_mutate(doc, data) for _ in range(n)]
    try:
        inst = instance_from_document(doc, DATA / "mutated.yaml")
    except csu_opt.InstanceError as exc:
        event("rejected")
        assert exc.problems, done
        for p in exc.problems:
            assert p.table or p.field, (str(p), done)
            assert p.message.strip(), done
        return
    sol = csu_opt.solve(inst, time_limit=10)
    event(f"solved: {sol.status.value}")
    assert isinstance(sol.status, csu_opt.Status), done
    if sol.status.has_solution:
        report = verify_solution(inst, sol)
        assert report.ok, (done, format_report(report))
    elif sol.status is csu_opt.Status.INFEASIBLE:
        why = explain(inst, time_limit=10, alternatives=False)
        assert why.feasible is False, (done, format_explanation(why))
        if why.suggestion is not None and why.suggestion.verified:
            fixed = csu_opt.solve(inst.with_changes(list(why.suggestion.overrides)))
            assert fixed.status.has_solution, (done, format_explanation(why))


def test_unmutated_tiny_passes_the_property() -> None:
    """The fuzz baseline: tiny.yaml itself loads and solves to its known optimum."""
    inst = instance_from_document(copy.deepcopy(TINY), DATA / "tiny.yaml")
    sol = csu_opt.solve(inst)
    assert sol.objective == 142.0


# --------------------------------------------------------------------------- reproducibility


def test_same_instance_and_options_give_the_same_solution(tmp_path: Path) -> None:
    inst = market()
    runs = []
    for k in range(2):
        sol = csu_opt.solve(inst, mip_gap=1e-6, seed=3, threads=1)
        assert sol.status is csu_opt.Status.OPTIMAL
        assert verify_solution(inst, sol).ok
        folder = tmp_path / f"run{k}"
        folder.mkdir()
        write_files(sol, folder)
        runs.append((sol, folder))
    (a, fa), (b, fb) = runs
    assert a.objective == b.objective
    assert a.leads == b.leads and len(a.leads) >= 2
    pd.testing.assert_frame_equal(a.roles, b.roles)
    pd.testing.assert_frame_equal(a.assignments, b.assignments)
    pd.testing.assert_frame_equal(a.flows, b.flows)
    for name in ("roles.csv", "assignments.csv", "flows.csv"):
        assert (fa / name).read_bytes() == (fb / name).read_bytes(), name


_RUN = """
import sys
from pathlib import Path
sys.path.insert(0, {tests!r})
import csu_opt
from csu_opt.results.solution import write_files
from factories.markets import market
sol = csu_opt.solve(market(), mip_gap=1e-6, seed=3, threads=1)
write_files(sol, Path({out!r}))
"""


def test_same_solution_in_fresh_processes(tmp_path: Path) -> None:
    """Across processes with different hash seeds (set and dict orders) the files agree."""
    outs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"hash{hash_seed}"
        out.mkdir()
        code = _RUN.format(tests=str(TESTS), out=str(out))
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=120)
        outs.append(out)
    for name in ("roles.csv", "assignments.csv", "flows.csv"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    objectives = [json.loads((o / "summary.json").read_text())["objective"] for o in outs]
    assert objectives[0] == objectives[1]
