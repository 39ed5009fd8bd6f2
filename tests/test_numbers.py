"""One way to show numbers to planners, and result files without float noise."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import csu_opt
from csu_opt.numbers import (
    as_float,
    clean,
    clean_array,
    clean_frame,
    clean_record,
    exact,
    money,
    number,
    pct,
    points,
    seconds,
    staff,
)
from csu_opt.results.solution import read_results, write_files

TINY = Path(__file__).parent / "data" / "tiny.yaml"
NOISY = 12841.699999999999  # 12841.7 after a few sums in binary floating point


@pytest.mark.parametrize(
    ("fraction", "shown"),
    [
        (1e-4, "0.01%"),  # the default MIP gap: never "0.00"
        (8.269154447093046e-05, "0.0083%"),
        (0.0027, "0.27%"),
        (0.028, "2.8%"),
        (70 / 370, "19%"),
        (0.5, "50%"),
        (0.0, "0%"),
        (-0.0034, "-0.34%"),
        (None, "-"),
        (float("nan"), "-"),
    ],
)
def test_percentages_keep_two_significant_digits(fraction, shown):
    assert pct(fraction) == shown


@pytest.mark.parametrize(
    ("value", "as_money", "as_number"),
    [
        (NOISY, "12,841.70", "12,841.70"),
        (3100.0, "3,100.00", "3,100"),
        (3100.25, "3,100.25", "3,100.25"),
        (22.5, "22.50", "22.5"),
        (0.1 + 0.2, "0.30", "0.3"),
        (47.304499999999997, "47.30", "47.3045"),
        (None, "-", "-"),
    ],
)
def test_money_and_numbers(value, as_money, as_number):
    assert money(value) == as_money
    assert number(value) == as_number


def test_staff_seconds_and_exact_text():
    assert staff(1233.6) == "1,234" and staff(80.0) == "80" and staff(None) == "-"
    assert seconds(0.2499) == "0.25s" and seconds(12.34) == "12.3s" and seconds(301.2) == "301s"
    assert exact(NOISY) == "12841.7" and exact(90.0) == "90" and exact(0.1 + 0.2) == "0.3"


def test_clean_removes_noise_and_keeps_twelve_digits():
    assert repr(clean(NOISY)) == "12841.7"
    assert repr(clean(0.1 + 0.2)) == "0.3"
    assert clean(123456.789012345) == 123456.789012
    assert clean(0.0) == 0.0 and np.isnan(clean(float("nan")))
    # the same as formatting with 12 significant digits, up to ties in the last digit
    rng = np.random.default_rng(0)
    values = rng.uniform(0, 1, 20_000) * 10.0 ** rng.integers(-9, 12, 20_000)
    values *= rng.choice([-1.0, 1.0], values.size)
    expected = np.array([float(f"{v:.12g}") for v in values])
    assert np.allclose(clean_array(values), expected, rtol=1e-11, atol=0)
    assert np.mean(clean_array(values) == expected) > 0.99


def test_clean_frame_and_record():
    frame = pd.DataFrame(
        {"id": ["a", "b"], "volume": [NOISY, 0.1 + 0.2], "n": [1, 2], "solve_s": [0.12345, 2.0]}
    )
    out = clean_frame(frame)
    assert out["volume"].tolist() == [12841.7, 0.3] and out["n"].tolist() == [1, 2]
    assert out["solve_s"].tolist() == [0.123, 2.0]  # durations in milliseconds
    assert frame["volume"].iloc[0] == NOISY  # the input is left alone
    rec = clean_record(
        {"objective": NOISY, "timings": {"solve_s": 0.08772467099970527}, "ok": True}
    )
    assert rec == {"objective": 12841.7, "timings": {"solve_s": 0.088}, "ok": True}


def test_result_files_carry_no_float_noise(tmp_path):
    sol = csu_opt.solve(csu_opt.load_instance(TINY))
    flows = sol.flows.copy()
    flows.loc[0, "volume"] = NOISY
    noisy = dataclasses.replace(sol, flows=flows, objective=NOISY, mip_gap=0.1 + 0.2)
    write_files(noisy, tmp_path)
    text = (tmp_path / "flows.csv").read_text() + (tmp_path / "summary.json").read_text()
    assert "12841.7" in text
    assert "99999" not in text and "0000000000" not in text
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["objective"] == 12841.7 and summary["mip_gap"] == 0.3
    assert all(len(str(v).split(".")[-1]) <= 3 for v in summary["timings"].values())
    back = read_results(tmp_path)
    assert back.flows["volume"].iloc[0] == 12841.7


def test_suggested_overrides_carry_no_noise():
    # explain's relaxations are --set overrides a planner copies (csu_opt.analysis.suggest
    # writes them with exact): 12841.7, not ...99999
    assert exact(NOISY) == "12841.7" and exact(60.0) == "60" and exact(0.57) == "0.57"


@pytest.mark.parametrize(
    ("fraction", "shown"),
    [
        (0.995, "100%"),  # two significant digits round up to a whole hundred
        (1.234, "123%"),  # from 100% up whole: two significant digits would say 120%
        (12.345, "1,234%"),
        (-1.5, "-150%"),
        (1e-7, "0.00001%"),  # never in exponent notation
        (float("inf"), "-"),  # no bound: no gap to show
    ],
)
def test_large_and_tiny_gaps_read_plainly(fraction, shown):
    assert pct(fraction) == shown


def test_a_gap_reads_the_same_in_the_terminal_the_report_and_the_what_ifs():
    # proof.unproven_note (what-ifs), the report's sweep table and the terminal all use pct
    from csu_opt.analysis.proof import Optimum, not_proven

    stopped = Optimum("feasible", 1000.0, 0.0, 1.234)
    assert not_proven(stopped) == f"not proven (gap {pct(1.234)})" == "not proven (gap 123%)"
    assert not_proven(Optimum("feasible", 1.0, 1.0, 1e-7)) == "not proven (gap 0.00001%)"


@pytest.mark.parametrize(
    ("value", "shown"),
    [(72.5, "72.5"), (80, "80.0"), (79.96, "80.0"), (0.0, "0.0"), (None, "-"), (np.nan, "-")],
)
def test_quality_points_to_one_decimal(value, shown):
    assert points(value) == shown


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("12841.7", 12841.7),
        (3, 3.0),
        (np.float64(0.5), 0.5),
        ("", None),
        ("n/a", None),
        (None, None),
        (pd.NA, None),
        (float("nan"), None),
    ],
)
def test_cells_read_back_as_a_float_or_none(cell, value):
    assert as_float(cell) == value


def test_counts_agree_with_their_noun_and_verb() -> None:
    """'1 CCGs change network' was printed; a count now agrees with its noun and verb."""
    from csu_opt.numbers import ccgs_that, count

    assert count(1, "CCG") == "1 CCG"
    assert count(0, "CCG") == "0 CCGs"
    assert count(1200, "provider") == "1,200 providers"
    assert count(2, "body", "bodies") == "2 bodies"
    assert ccgs_that(1, "changes network", "change network") == "1 CCG changes network"
    assert ccgs_that(3, "moves", "move") == "3 CCGs move"
