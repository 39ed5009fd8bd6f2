"""The shared options (csu_opt.cli.options): declared once, each command's defaults."""

from __future__ import annotations

import click
import pytest

from csu_opt.cli import options as opts
from csu_opt.cli.main import main


def _param(command: str, name: str) -> click.Option:
    cmd = main.commands[command]
    found = [p for p in cmd.params if p.name == name]
    assert len(found) == 1, f"{command} has no --{name}"
    assert isinstance(found[0], click.Option)
    return found[0]


@pytest.mark.parametrize(
    ("command", "gap"),
    [
        ("solve", 1e-4),
        ("sweep", 1e-4),
        ("resilience", 1e-6),
        ("tradeoff", 1e-6),
        ("rule-costs", 1e-6),
        ("alternatives", 1e-6),
    ],
)
def test_mip_gap_defaults_and_why(command, gap):
    option = _param(command, "mip_gap")
    assert option.default == gap
    assert (opts.MIP_GAP, opts.MIP_GAP_WHATIF) == (1e-4, 1e-6)
    if gap == opts.MIP_GAP_WHATIF:  # the help says why it is tighter
        assert option.help is not None and "difference" in option.help


def test_shared_options_are_the_same_everywhere():
    solvers = ("solve", "sweep", "resilience", "tradeoff", "rule-costs", "alternatives")
    for command in (*solvers, "explain"):
        option = _param(command, "time_limit")
        assert option.metavar == "S" and isinstance(option.type, click.FloatRange)
        assert option.type.min == 0 and option.type.min_open
    assert _param("explain", "time_limit").default == 60.0
    assert _param("solve", "time_limit").default is None
    for command in solvers:
        option = _param(command, "threads")
        assert isinstance(option.type, click.IntRange) and option.type.min == 1
    assert _param("sweep", "threads").default == 1  # one core per case: the workers share
    assert _param("solve", "threads").default is None
    for command in ("validate", "solve", "explain", "sweep", "tradeoff", "rule-costs"):
        option = _param(command, "overrides")
        assert option.opts == ["--set"] and option.multiple and option.metavar == "KEY=VALUE"
    for command in ("solve", "sweep"):
        option = _param(command, "polish")
        assert option.default == 0.0 and option.metavar == "F"
        assert isinstance(option.type, click.FloatRange) and option.type.max_open
    assert _param("sweep", "out").required and _param("generate", "out").required
    assert not _param("solve", "out").required
