"""The brute-force oracle's answers on the seeded random instances, stored as reference files.

The oracle (tests/oracle.py) enumerates every network, which takes seconds per instance; its
answers are stored in tests/data/oracle/<set>.json (instance seed -> the instance's
fingerprint, optimum, leads, roles; ``null`` for infeasible), so the fast tests compare the
model with the stored optimum. One slow test (test_oracle_refs) regenerates every answer
with the oracle and compares it with the file; after a deliberate change of a generator or
of the oracle, regenerate the files with ``make oracle-refs`` and review their diff.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from csu_opt.instance.load import Instance
from factories import TESTS
from factories.cuts import CUT_SEEDS, cut_instance
from factories.rules import RANDOM_SEEDS, random_instance
from oracle import OracleResult
from oracle import solve as oracle_solve

REFS = TESTS / "data" / "oracle"


@dataclass(frozen=True)
class RefSet:
    """Seeded instances whose oracle answers are stored in one file."""

    name: str
    make: Callable[[int], Instance]
    seeds: range
    about: str

    @property
    def path(self) -> Path:
        return REFS / f"{self.name}.json"


SETS = {
    s.name: s
    for s in (
        RefSet(
            "rules-random",
            random_instance,
            RANDOM_SEEDS,
            "factories.rules.random_instance(seed): tiny random instances, some infeasible",
        ),
        RefSet(
            "cuts",
            cut_instance,
            CUT_SEEDS,
            "factories.cuts.cut_instance(seed): tiny instances where V2-V4 have rows",
        ),
    )
}


def fingerprint(inst: Instance) -> str:
    """A digest of the instance's tables: a changed generator shows as a changed instance."""
    text = json.dumps(inst.to_document(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def to_json(result: OracleResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {
        "objective": result.objective,
        "leads": list(result.leads),
        "roles": {p: [role, list(leads)] for p, (role, leads) in sorted(result.roles.items())},
        "assignment": result.assignment,
    }


def from_json(data: dict[str, Any] | None) -> OracleResult | None:
    if data is None:
        return None
    return OracleResult(
        objective=data["objective"],
        leads=tuple(data["leads"]),
        roles={p: (role, tuple(leads)) for p, (role, leads) in data["roles"].items()},
        assignment=data["assignment"],
    )


def compute(ref_set: RefSet, seed: int) -> dict[str, Any]:
    """One entry of a reference file, by the brute-force oracle."""
    inst = ref_set.make(seed)
    return {"instance": fingerprint(inst), "oracle": to_json(oracle_solve(inst))}


def document(ref_set: RefSet, cases: dict[str, Any]) -> dict[str, Any]:
    return {
        "about": ref_set.about,
        "answers": "tests/oracle.py (brute force); regenerate with `make oracle-refs`",
        "cases": cases,
    }


@cache
def stored(name: str) -> dict[str, Any]:
    """The reference file of set ``name`` as stored."""
    return json.loads(SETS[name].path.read_text(encoding="utf-8"))


def case(name: str, seed: int) -> tuple[Instance, OracleResult | None]:
    """Instance ``seed`` of set ``name`` and its stored oracle answer; the instance must
    still be the one the answer was computed for."""
    ref_set = SETS[name]
    inst = ref_set.make(seed)
    entry = stored(name)["cases"][str(seed)]
    assert entry["instance"] == fingerprint(inst), (
        f"{ref_set.path.name}: seed {seed} is no longer the instance its oracle answer was "
        "computed for; after a deliberate change run `make oracle-refs` and review the diff"
    )
    return inst, from_json(entry["oracle"])


@cache
def shared_case(name: str, seed: int) -> tuple[Instance, OracleResult | None]:
    """:func:`case`, made once per test session for the modules that all read the same sets
    (collection time; the instance must not be changed)."""
    return case(name, seed)


def random_case(seed: int) -> tuple[Instance, OracleResult | None]:
    """factories.rules.random_instance(seed) and its stored oracle answer."""
    return case("rules-random", seed)


def cut_case(seed: int) -> tuple[Instance, OracleResult | None]:
    """factories.cuts.cut_instance(seed) and its stored oracle answer."""
    return case("cuts", seed)


def solved_to_the_oracle(name: str, seed: int) -> tuple[Any, float]:
    """Solve the case with the root reduction on (matrix backend, gap 1e-9, 60 s), assert it
    proves the oracle's optimum, and return the solution and that optimum."""
    import pytest

    from csu_opt.solver.options import SolveOptions
    from csu_opt.solver.solve import solve
    from factories.rules import REL

    inst, ref = case(name, seed)
    assert ref is not None
    sol = solve(
        inst, SolveOptions(mip_gap=1e-9, time_limit=60, backend="matrix", root_reduction=True)
    )
    assert sol.status == "optimal", sol.message
    assert sol.objective == pytest.approx(ref.objective, rel=REL, abs=REL)
    return sol, ref.objective


def write(ref_set: RefSet) -> None:
    cases = {str(seed): compute(ref_set, seed) for seed in ref_set.seeds}
    REFS.mkdir(parents=True, exist_ok=True)
    # one line per case: a changed answer is a one-line diff
    doc = document(ref_set, {})
    head = ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in doc.items() if k != "cases")
    rows = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in cases.items())
    text = f'{{\n{head},\n "cases": {{\n{rows}\n }}\n}}\n'
    ref_set.path.write_text(text, encoding="utf-8")


def main(names: list[str]) -> None:
    """``PYTHONPATH=tests python -m factories.oracle_refs [SET...]``: rewrite the files."""
    for name in names or list(SETS):
        write(SETS[name])
        print(f"wrote {SETS[name].path.relative_to(TESTS.parent)}")


if __name__ == "__main__":
    main(sys.argv[1:])
