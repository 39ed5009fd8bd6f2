"""The published facility-location benchmarks as pytest parameters, and the tolerance of a
published optimum (test_benchmarks, test_reduce)."""

from __future__ import annotations

import pytest

from csu_opt.benchmarks import Benchmark, BenchmarksNotFound, benchmark_catalogue

ABS_TOL = 1e-3  # published optima are printed to 3 decimals, rounded inconsistently


REL_TOL = 1e-8


def catalogue_or_reason() -> tuple[list[Benchmark], str | None]:
    try:
        return benchmark_catalogue(), None
    except BenchmarksNotFound as exc:
        return [], f"shared benchmark folder absent: {exc}"


def published_cases(names: list[str]) -> list[object]:
    catalogue, reason = catalogue_or_reason()
    if reason is not None:
        return [
            pytest.param(name, None, id=name, marks=pytest.mark.skip(reason=reason))
            for name in names
        ]
    by_name = {b.name: b for b in catalogue}
    # a name missing from the catalogue fails in the test (it must be there)
    return [pytest.param(name, by_name.get(name), id=name) for name in names]


def close_to_published(value: float, published: float) -> bool:
    return abs(value - published) <= max(ABS_TOL, REL_TOL * abs(published))
