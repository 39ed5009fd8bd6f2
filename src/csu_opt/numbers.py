"""Numbers as planners read them, and numbers written to files without float noise.

One module decides how every number of csu-opt is shown (terminal, HTML report, figures'
labels) and how it is written (result files, sweep exports, what-if tables):

- :func:`money`: amounts per year with thousands separators and two decimals,
  ``12,841.70``;
- :func:`number`: any other quantity (volumes, capacities, quality points, shares of a
  volume) with thousands separators from 1,000 up and at most six significant digits below,
  ``3,100``, ``3,100.25``, ``22.5``, ``0.6``;
- :func:`pct`: a fraction as a percentage (a MIP gap, a share, a cost increase) with two
  significant digits, never rounded to a misleading zero, and whole from 100% up: a MIP gap
  of 1e-4 is ``0.01%``, 8.27e-5 is ``0.0083%``, 0.028 is ``2.8%``, 1.234 is ``123%``;
- :func:`points`: quality points (0-100) to one decimal, ``72.5``;
- :func:`staff`: headcounts as whole numbers, ``1,234``;
- :func:`seconds`: durations, ``0.25s``, ``12.3s``, ``301s``;
- :func:`exact`: the shortest text that reads back as the value (for ``--set`` overrides);
- :func:`as_float`: a cell read back from a file or a record, as a float or None.

Every formatter shows a missing value (None, NaN, NA) as ``-``.

Writing: binary floating point turns 12,841.7 into 12841.699999999999 after a few sums.
:func:`clean` rounds such values to 12 significant digits, far below any digit that means
something (data are given to a few digits; verification tolerances are 1e-6 relative) and far
above the noise (the 16th-17th digit), so files read back to the same numbers and show no
noise. Durations are written in milliseconds (3 decimals). :func:`clean_frame` and
:func:`clean_record` apply this to a table and to a JSON-like record.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

#: Significant digits kept when a number is written to a file.
FILE_DIGITS = 12
#: Decimals kept for durations (keys ending in ``_s``) in files: milliseconds.
SECONDS_DECIMALS = 3

DASH = "-"


def missing(x: Any) -> bool:
    """None, NaN or pandas' NA: nothing to show."""
    if x is None or x is pd.NA:
        return True
    try:
        return bool(math.isnan(float(x)))
    except (TypeError, ValueError):
        return False


def money(x: float | None, decimals: int = 2) -> str:
    """``12,841.70``; ``-`` when missing."""
    if missing(x):
        return DASH
    return f"{clean(float(x)):,.{decimals}f}"  # type: ignore[arg-type]


def number(x: float | None) -> str:
    """``3,100``, ``3,100.25``, ``22.5``, ``0.6``; ``-`` when missing."""
    if missing(x):
        return DASH
    v = clean(float(x))  # type: ignore[arg-type]
    if abs(v) >= 1000:
        return f"{v:,.0f}" if abs(v - round(v)) < 1e-9 * abs(v) + 1e-9 else f"{v:,.2f}"
    return _positional(v, 6)


def pct(fraction: float | None, digits: int = 2) -> str:
    """A fraction as a percentage with ``digits`` significant digits, whole from 100% up:
    1e-4 -> ``0.01%``, 0.19 -> ``19%``, 12.345 -> ``1,234%``; ``-`` when missing or infinite."""
    if missing(fraction) or not math.isfinite(float(fraction)):  # type: ignore[arg-type]
        return DASH
    value = 100.0 * float(fraction)  # type: ignore[arg-type]
    if value == 0:
        return "0%"
    if abs(value) >= 10**digits:  # two significant digits would round 123% to 120%
        return f"{value:,.0f}%"
    return f"{_positional(value, digits)}%"


def points(x: float | None) -> str:
    """Quality points (0-100) to one decimal: ``72.5``, ``80.0``; ``-`` when missing."""
    if missing(x):
        return DASH
    return f"{float(x):.1f}"  # type: ignore[arg-type]


def staff(x: float | None) -> str:
    """A headcount as a whole number: ``1,234``."""
    if missing(x):
        return DASH
    return f"{round(float(x)):,d}"  # type: ignore[arg-type]


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``1 CCG``, ``0 CCGs``, ``12 CCGs``: a whole count with its noun agreeing."""
    return f"{n:,d} {noun if n == 1 else plural or noun + 's'}"


def ccgs_that(n: int, verb: str, verb_plural: str) -> str:
    """``1 CCG moves``, ``3 CCGs move``: a count of CCGs with its verb agreeing."""
    return f"{count(n, 'CCG')} {verb if n == 1 else verb_plural}"


def seconds(x: float | None) -> str:
    """``0.25s`` below 10 s, ``12.3s`` below 100 s, ``301s`` above."""
    if missing(x):
        return DASH
    v = float(x)  # type: ignore[arg-type]
    if abs(v) < 10:
        return f"{v:.2f}s"
    return f"{v:.1f}s" if abs(v) < 100 else f"{v:,.0f}s"


def exact(x: float) -> str:
    """The shortest text that reads back as the (noise-free) value: ``90``, ``0.6``."""
    v = clean(float(x))
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)


def as_float(x: Any) -> float | None:
    """A value read back (a CSV cell, a JSON field) as a float; None when it is missing or
    not a number."""
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _positional(v: float, digits: int) -> str:
    """``v`` with ``digits`` significant digits, never in exponent notation."""
    return str(
        np.format_float_positional(v, precision=digits, unique=True, fractional=False, trim="-")
    )


# --------------------------------------------------------------------------- files


def clean_array(values: Any, digits: int = FILE_DIGITS) -> np.ndarray:
    """Floats rounded to ``digits`` significant digits (vectorised; NaN and inf kept).

    The rounding divides an integer by an exact power of ten, so the result is the double
    nearest to the decimal number, which prints as that decimal number. (Values below
    about 1e-10, where 10**k is no longer exact, are scaled by a power of ten first.)
    """
    a = np.asarray(values, dtype=float)
    out = a.copy()
    ok = np.isfinite(a) & (a != 0)
    if not ok.any():
        return out
    v = a[ok]
    k = (digits - 1 - np.floor(np.log10(np.abs(v)))).astype(int)
    extra = np.clip(k - 22, 0, None)  # 10**k is exact for k <= 22
    v = v * 10.0**extra
    k = np.clip(k - extra, -22, 22)
    up = k >= 0
    res = np.empty_like(v)
    p = 10.0 ** k[up]
    res[up] = np.round(v[up] * p) / p
    q = 10.0 ** (-k[~up])
    res[~up] = np.round(v[~up] / q) * q
    out[ok] = res / 10.0**extra
    return out


def clean(x: float, digits: int = FILE_DIGITS) -> float:
    """One float without binary noise: ``12841.699999999999`` -> ``12841.7``."""
    if not math.isfinite(x) or x == 0:
        return x
    return float(clean_array([x], digits)[0])


def clean_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose float columns carry no noise (other columns untouched);
    durations (columns ending in ``_s``) in milliseconds."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col].dtype):
            values = out[col].to_numpy()
            if str(col).endswith("_s"):
                out[col] = np.round(values, SECONDS_DECIMALS)
            else:
                out[col] = clean_array(values)
    return out


def clean_record(obj: Any, key: str = "") -> Any:
    """A JSON-like record with every float cleaned; durations (``*_s``) to milliseconds."""
    if isinstance(obj, bool) or obj is None:
        return obj
    if isinstance(obj, float | np.floating):
        x = float(obj)
        if not math.isfinite(x):
            return x
        if key.endswith("_s"):
            return round(x, SECONDS_DECIMALS)
        return clean(x)
    if isinstance(obj, Mapping):
        return {k: clean_record(v, str(k)) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [clean_record(v, key) for v in obj]
    return obj
