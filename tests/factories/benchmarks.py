"""The published facility-location benchmarks as pytest parameters, and the tolerance of a
published optimum (test_benchmarks, test_reduce)."""

from __future__ import annotations

import pytest
from benchmarks.readers import benchmark_catalogue

ABS_TOL = 1e-3  # published optima are printed to 3 decimals, rounded inconsistently
REL_TOL = 1e-8


def published_cases(names: list[str]) -> list[object]:
    by_name = {b.name: b for b in benchmark_catalogue()}  # vendored in benchmarks/data
    # a name missing from the catalogue fails in the test (it must be there)
    return [pytest.param(name, by_name.get(name), id=name) for name in names]


def close_to_published(value: float, published: float) -> bool:
    return abs(value - published) <= max(ABS_TOL, REL_TOL * abs(published))
