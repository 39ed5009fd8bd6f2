"""The fast loop (``make test-fast``: ``pytest -m "not slow"``) keeps covering every family.

tests/conftest.py names, for each rule family of model/formulation.md, the mergers, the
what-ifs and the verifier, the tests that exercise it, and in its SLOW table the tests the
fast loop leaves out. Here: every family keeps a test the fast loop runs, every name in the
tables is a test in the source, and the marking follows the tables.
"""

from __future__ import annotations

import ast
from types import ModuleType

import pytest

#: the families the fast loop must cover (model/formulation.md's C1-C11, and the rest)
REQUIRED = [
    *(f"C{i}" for i in range(1, 12)),
    "mergers",
    "what-if: resilience",
    "what-if: disruption",
    "what-if: rule costs",
    "what-if: alternatives",
    "verify",
]


def test_every_family_keeps_a_fast_test(loop: ModuleType) -> None:
    assert set(REQUIRED) <= set(loop.FAMILIES), set(REQUIRED) - set(loop.FAMILIES)
    uncovered = {
        family
        for family, texts in loop.FAMILIES.items()
        if not any(loop.runs_fast(loop.Key.parse(t)) for t in texts)
    }
    assert not uncovered, f"only slow tests cover {sorted(uncovered)}"


def _test_functions(loop: ModuleType) -> dict[str, set[str]]:
    """module basename -> the test functions defined in it (anywhere under tests/)."""
    found: dict[str, set[str]] = {}
    for path in loop.TESTS.rglob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found.setdefault(path.stem, set()).update(
            node.name
            for node in tree.body
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
        )
    return found


def test_every_table_entry_names_a_test_in_the_source(loop: ModuleType) -> None:
    tests = _test_functions(loop)
    keys = [(table, text, loop.Key.parse(text)) for table, text in loop.table_entries()]
    missing = [
        f"{table}: {text}" for table, text, k in keys if k.name not in tests.get(k.module, set())
    ]
    assert not missing, missing


def test_a_stale_entry_is_refused(loop: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    """The collection hook's check: a renamed test, a removed case, a gone module."""
    collected = [loop.Key("test_loop", "test_a_stale_entry_is_refused")]
    monkeypatch.setattr(loop, "SLOW", {})
    monkeypatch.setattr(loop, "FAMILIES", {})
    assert loop.stale_entries(collected, whole_modules=True) == []
    loop.SLOW["test_loop::test_renamed_away"] = loop.ALL
    loop.SLOW["test_loop::test_a_stale_entry_is_refused[gone]"] = loop.ALL
    loop.FAMILIES["C1"] = ("test_no_such_module::test_x",)
    stale = loop.stale_entries(collected, whole_modules=True)
    assert len(stale) == 3, stale
    assert any("test_renamed_away" in s for s in stale)
    assert any("[gone]" in s for s in stale)
    assert any("no module test_no_such_module.py" in s for s in stale)
    # part of a module collected (a node id given): only modules are checked
    assert len(loop.stale_entries(collected, whole_modules=False)) == 1


def test_slow_means_every_case_but_the_sample(
    loop: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loop, "SLOW", {"m::t": loop.Slow(fast=("1",)), "m::u[b]": loop.ALL})
    Key = loop.Key
    assert loop.is_slow(Key("m", "t", "0")) and not loop.is_slow(Key("m", "t", "1"))
    assert loop.is_slow(Key("m", "u", "b")) and not loop.is_slow(Key("m", "u", "a"))
    assert not loop.is_slow(Key("m", "v")) and loop.is_slow(Key("m", "t"))
    # a test named without a case runs fast when some case of it does
    assert loop.runs_fast(Key("m", "t")) and loop.runs_fast(Key("m", "u"))
    monkeypatch.setitem(loop.SLOW, "m::u", loop.ALL)
    assert not loop.runs_fast(Key("m", "u")) and loop.runs_fast(Key("m", "u", "a")) is False


def test_the_hook_marks_what_the_table_names(
    loop: ModuleType, request: pytest.FixtureRequest
) -> None:
    """This very session: an item is marked slow exactly when the table says so."""
    for item in request.session.items:
        slow = item.get_closest_marker("slow") is not None
        assert slow == loop.is_slow(loop.Key.of(item)), item.nodeid
