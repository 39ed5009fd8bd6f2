"""The test loop in one place: which tests are slow, which tests cover each rule family, and
the hypothesis profiles.

Tests are named by their module's basename and function name ("test_rules::test_x", or
"test_rules::test_x[case]" for one parametrisation), never by folder, so a test keeps its
entry wherever its file moves under tests/.

- ``make test-fast`` runs ``pytest -m "not slow"``: every test not in ``SLOW``, and the cases
  of a slow parametrised test that its ``Slow.fast`` keeps as a representative sample.
- ``make test`` (CI) runs everything.
- ``FAMILIES`` says which tests exercise each family of model/formulation.md (C1..C11), the
  mergers, the what-ifs and the verifier; tests/test_loop.py asserts each family keeps a fast
  test, so the fast loop cannot silently stop covering one.
- An entry of either table that names no test is a collection error: the tables cannot rot.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

TESTS = Path(__file__).resolve().parent

# --------------------------------------------------------------------------- hypothesis

#: dev: small, quick feedback (the default, and make test-fast); ci: large (make test)
settings.register_profile("dev", max_examples=12, deadline=None)
settings.register_profile(
    "ci",
    max_examples=300,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


# --------------------------------------------------------------------------- slow tests


@dataclass(frozen=True)
class Slow:
    """A slow test: all its cases, except the parametrisation ids in ``fast`` (a
    representative sample kept in the fast loop)."""

    fast: tuple[str, ...] = ()


ALL = Slow()

#: module basename::test name (or ::test name[id]) -> which cases are slow
SLOW: dict[str, Slow] = {}

# --------------------------------------------------------------------------- rule families

#: family -> tests that exercise it (module basename::test name, optionally [id])
FAMILIES: dict[str, tuple[str, ...]] = {}


# --------------------------------------------------------------------------- the hook


@dataclass(frozen=True)
class Key:
    """A test as the tables name it."""

    module: str
    name: str
    case: str | None = None

    @classmethod
    def parse(cls, text: str) -> Key:
        module, _, rest = text.partition("::")
        name, _, case = rest.partition("[")
        return cls(module, name, case[:-1] if case else None)

    @classmethod
    def of(cls, item: pytest.Item) -> Key:
        case = item.callspec.id if hasattr(item, "callspec") else None
        name = getattr(item, "originalname", item.name)
        return cls(Path(str(item.path)).stem, name, case)


def is_slow(key: Key) -> bool:
    """Whether the table ``SLOW`` marks this test case slow."""
    if key.case is not None and f"{key.module}::{key.name}[{key.case}]" in SLOW:
        return True
    entry = SLOW.get(f"{key.module}::{key.name}")
    return entry is not None and key.case not in entry.fast


def table_entries() -> Iterable[tuple[str, str]]:
    """(table, entry) for every test named by SLOW, Slow.fast and FAMILIES."""
    for text, slow in SLOW.items():
        yield "SLOW", text
        for case in slow.fast:
            yield "SLOW", f"{text}[{case}]"
    for family, texts in FAMILIES.items():
        for text in texts:
            yield f"FAMILIES[{family}]", text


def stale_entries(collected: Iterable[Key], whole_modules: bool) -> list[str]:
    """Entries naming a test that does not exist.

    A module with no file under tests/ is stale. A test (or case) is checked against the
    collected ones of its module when that module was collected; a node id on the command
    line collects part of a module only, so ``whole_modules=False`` checks modules only.
    """
    files = {p.stem for p in TESTS.rglob("test_*.py")}
    names: dict[str, set[str]] = {}
    for k in collected:
        names.setdefault(k.module, set()).add(k.name)
        if k.case is not None:
            names[k.module].add(f"{k.name}[{k.case}]")
    stale = []
    for table, text in table_entries():
        key = Key.parse(text)
        if key.module not in files:
            stale.append(f"{table}: {text} (no module {key.module}.py under tests/)")
        elif whole_modules and key.module in names:
            wanted = key.name if key.case is None else f"{key.name}[{key.case}]"
            if wanted not in names[key.module]:
                stale.append(f"{table}: {text} (no such test)")
    return stale


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: named in tests/conftest.py's SLOW table")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the slow tests (before -m selects), then refuse stale table entries."""
    keys = []
    for item in items:
        key = Key.of(item)
        keys.append(key)
        if is_slow(key):
            item.add_marker(pytest.mark.slow)
    whole = not any("::" in str(a) for a in config.args)
    stale = stale_entries(keys, whole_modules=whole)
    if stale:
        raise pytest.UsageError(
            "tests/conftest.py names tests that do not exist:\n  " + "\n  ".join(stale)
        )
