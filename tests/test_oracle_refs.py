"""The stored oracle answers (tests/data/oracle, factories/oracle_refs.py) are the oracle's.

The fast tests that compare the model with the oracle read the stored answers; here every
stored file is checked to hold exactly its seeds, for the instances the generators make
today, and (slow) every answer is recomputed by the brute-force oracle and compared.
"""

from __future__ import annotations

import pytest

from factories.oracle_refs import SETS, compute, from_json, stored


@pytest.mark.parametrize("name", list(SETS))
def test_every_seed_has_an_answer(name: str) -> None:
    """(Each answer is checked to be for today's instance when a test reads it, and all of
    them by the slow test below.)"""
    ref_set = SETS[name]
    assert sorted(map(int, stored(name)["cases"])) == list(ref_set.seeds)
    answers = [from_json(stored(name)["cases"][str(seed)]["oracle"]) for seed in ref_set.seeds]
    # both kinds of answer are stored: optima with their networks, and infeasibility
    assert any(a is None for a in answers)
    assert sum(a is not None for a in answers) >= len(answers) // 2
    for a in answers:
        if a is not None:
            assert a.leads and {role for role, _ in a.roles.values()} >= {"lead"}


@pytest.mark.parametrize("name", list(SETS))
def test_the_oracle_reproduces_the_stored_answers(name: str) -> None:
    ref_set = SETS[name]
    for seed in ref_set.seeds:
        fresh = compute(ref_set, seed)
        kept = stored(name)["cases"][str(seed)]
        assert fresh["instance"] == kept["instance"], (name, seed)
        if kept["oracle"] is None or fresh["oracle"] is None:
            assert fresh["oracle"] == kept["oracle"], (name, seed)
            continue
        assert fresh["oracle"]["objective"] == pytest.approx(
            kept["oracle"]["objective"], rel=1e-9, abs=1e-9
        ), (name, seed)
        assert {**fresh["oracle"], "objective": 0} == {**kept["oracle"], "objective": 0}, (
            name,
            seed,
        )
