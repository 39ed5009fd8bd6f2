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
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

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
SLOW: dict[str, Slow] = {
    # minutes-long solves and full stop-and-rerun cycles
    "test_generate::test_england_scale_files_load_and_keep_the_witness": ALL,
    "test_instances::test_england_2013_finds_a_verified_solution": ALL,
    "test_interrupt::test_sigterm_during_a_solve_held_to_an_incumbent": ALL,
    "test_interrupt::test_sigterm_stops_a_what_if": Slow(fast=("rule-costs",)),
    "test_interrupt::test_sigterm_during_a_sweep_stops_every_worker_and_the_rerun_completes": ALL,
    "test_interrupt::test_workers_stop_when_the_sweep_is_killed": ALL,
    "test_polish::test_a_long_search_stops_at_its_share_and_polishes": ALL,
    "test_tutorial::test_every_tutorial_command_runs": ALL,
    # the brute-force oracle recomputed for every stored answer
    "test_oracle_refs::test_the_oracle_reproduces_the_stored_answers": ALL,
}

# --------------------------------------------------------------------------- rule families

#: family -> tests that exercise it (module basename::test name, optionally [id])
_RULE = "test_rules::test_rule_switches_the_answer"
_ROWS = "test_matrix::test_rule_instances_same_model"
FAMILIES: dict[str, tuple[str, ...]] = {
    "C1": (f"{_RULE}[C1_lead_max]", f"{_RULE}[C1_lead_min]", f"{_ROWS}[C1_lead_max-tight]"),
    "C2": (
        f"{_RULE}[C2_max_leads_per_subcontractor]",
        f"{_RULE}[C2_exit_or_stay]",
        f"{_ROWS}[C2_exit_or_stay-tight]",
    ),
    "C3": (
        f"{_RULE}[C3_subcontract_only_to_a_lead]",
        f"{_ROWS}[C3_subcontract_only_to_a_lead-tight]",
    ),
    "C4": (
        f"{_RULE}[C4_every_ccg_placed]",
        "test_rules::test_c4_ccg_without_demand_is_still_placed_with_a_lead",
    ),
    "C5": (f"{_RULE}[C5_network_balance]", f"{_ROWS}[C5_network_balance-tight]"),
    "C6": (f"{_RULE}[C6_capacity]", f"{_RULE}[C6_capacity_shared_across_networks]"),
    "C7": (f"{_RULE}[C7_eligibility]",),
    "C8": (
        f"{_RULE}[C8_full_coverage_without_demand]",
        f"{_RULE}[C8_zero_capacity_is_not_eligible]",
    ),
    "C9": (f"{_RULE}[C9_network_quality]", f"{_ROWS}[C9_network_quality-tight]"),
    "C10": (f"{_RULE}[C10_self_delivery]", f"{_ROWS}[C10_self_delivery-tight]"),
    "C11": (f"{_RULE}[C11_viability]", f"{_ROWS}[C11_viability-tight]"),
    "single sourcing": (f"{_RULE}[single_sourcing]",),
    "random instances against the oracle": (
        "test_rules::test_random_model_equals_oracle",
        "test_cuts::test_cuts_keep_the_oracle_optimum",
    ),
    "mergers": (
        "test_mergers::test_merger_chosen_exactly_when_synergy_beats_separate_costs",
        "test_mergers::test_random_instances_agree_with_the_merger_oracle",
        "test_mergers::test_roles_verify_and_a_corrupted_solution",
    ),
    "what-if: resilience": (
        "test_whatif::test_reoptimise_repair_matches_brute_force",
        "test_whatif_cli::test_resilience_command_writes_ranked_csv",
    ),
    "what-if: disruption": (
        "test_whatif::test_zero_moves_reproduces_the_incumbent",
        "test_whatif::test_tradeoff_curve",
        "test_whatif_cli::test_tradeoff_command",
    ),
    "what-if: rule costs": (
        "test_whatif::test_rule_costs_known_answers",
        "test_whatif_cli::test_rule_costs_command",
    ),
    "what-if: alternatives": (
        "test_whatif::test_alternatives_distinct_within_tolerance",
        "test_whatif_cli::test_alternatives_command",
    ),
    "verify": (
        "test_verify::test_accepts_the_optimum_of_tiny",
        "test_verify::test_catches_corrupted_results",
    ),
}


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


@pytest.fixture
def loop() -> ModuleType:
    """This module: its tables and their checks, for tests/test_loop.py."""
    return sys.modules[__name__]


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
