"""The click options several commands share, declared once, with their defaults in one place.

``--mip-gap`` has two defaults, on purpose: ``solve`` and ``sweep`` report one optimum, and
1e-4 (within 0.01 % of the best bound) is as good as the data; the what-ifs (resilience,
tradeoff, rule-costs, alternatives) report *differences* of two optima, and each optimum's
gap can move a difference by up to its whole width, which for a small difference can be a
large share of it: their solves run to 1e-6.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

#: ``solve`` and ``sweep``: one optimum, within 0.01 % of the best bound.
MIP_GAP = 1e-4
#: The what-ifs: differences of two optima, so each optimum to within 0.0001 %.
MIP_GAP_WHATIF = 1e-6

MIP_GAP_HELP = (
    "Relative optimality gap at which HiGHS stops: 0.01 % of the best bound is as good as "
    "the data (the what-ifs, which report differences of optima, use 1e-6)."
)
MIP_GAP_WHATIF_HELP = (
    "Relative optimality gap of every solve. Tighter than solve's 1e-4: the answer is a "
    "difference of two optima, and each one's gap can shift it by up to its width."
)
SET_HELP = (
    "Override a setting or field (repeatable), e.g. settings.lead_providers.max=12, "
    "service_lines.BI.quality_threshold=70, demand.volume*=1.5."
)


def time_limit(help: str, default: float | None = None) -> Callable[[F], F]:
    """``--time-limit S`` (seconds, > 0); no limit unless ``default``."""
    return click.option(
        "--time-limit",
        type=click.FloatRange(min=0, min_open=True),
        default=default,
        show_default=default is not None,
        metavar="S",
        help=help,
    )


def mip_gap(default: float = MIP_GAP, help: str = MIP_GAP_HELP) -> Callable[[F], F]:
    """``--mip-gap`` (>= 0): :data:`MIP_GAP`, or :data:`MIP_GAP_WHATIF` for the what-ifs."""
    return click.option(
        "--mip-gap", type=click.FloatRange(min=0), default=default, show_default=True, help=help
    )


def threads(default: int | None = None, help: str = "HiGHS threads.") -> Callable[[F], F]:
    """``--threads N`` (>= 1); HiGHS's own choice unless ``default``."""
    return click.option(
        "--threads",
        type=click.IntRange(min=1),
        default=default,
        show_default=default is not None,
        help=help,
    )


def overrides(help: str = SET_HELP) -> Callable[[F], F]:
    """``--set KEY=VALUE`` (repeatable), into the parameter ``overrides``."""
    return click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=help)


def polish(help: str) -> Callable[[F], F]:
    """``--polish F``: the last share F in [0, 1) of the time limit; 0 (no polishing)."""
    return click.option(
        "--polish",
        type=click.FloatRange(min=0, max=1, max_open=True),
        default=0.0,
        show_default=True,
        metavar="F",
        help=help,
    )


def out(help: str, required: bool = False) -> Callable[[F], F]:
    """``--out PATH``: what it names (a folder, a file) is each command's, said in ``help``."""
    return click.option("--out", type=click.Path(path_type=Path), required=required, help=help)
