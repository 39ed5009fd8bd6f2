"""Golden LP files: the model of five tiny instances against the canonical LP text stored in
tests/data/golden (factories/golden.py writes it). A change of the formulation fails here
with a readable unified diff; after a deliberate one, ``make golden-lp`` rewrites the files
and their diff goes into the commit for review."""

from __future__ import annotations

import difflib
import re

import pytest

from factories.golden import CASES, GOLDEN, case_text


@pytest.mark.parametrize("case", list(CASES))
def test_model_equals_golden_lp_file(case: str) -> None:
    path = GOLDEN / f"{case}.lp"
    want = path.read_text(encoding="utf-8")
    got = case_text(case)
    if got != want:
        diff = difflib.unified_diff(
            want.splitlines(keepends=True),
            got.splitlines(keepends=True),
            fromfile=f"tests/data/golden/{case}.lp (stored)",
            tofile=f"{case} (built now)",
        )
        pytest.fail(
            "the model differs from its golden LP file; if the change is deliberate, run "
            "`make golden-lp` and review the diff:\n" + "".join(diff),
            pytrace=False,
        )


def test_golden_cases_give_every_component_rows() -> None:
    """Each constraint component of the model has rows in at least one golden file."""
    counts: dict[str, int] = {}
    for case in CASES:
        text = (GOLDEN / f"{case}.lp").read_text(encoding="utf-8")
        for name, n in re.findall(r"^\\ (\w+): (\d+) rows$", text, flags=re.M):
            counts[name] = counts.get(name, 0) + int(n)
    assert len(counts) >= 23
    assert [n for n, c in counts.items() if c == 0] == []
