"""``csu-opt resilience``, ``tradeoff``, ``rule-costs`` and ``alternatives``: the planner's
hard questions (issue 8). Thin click commands over resilience, disruption, rulecosts and
alternatives, loaded by name by :mod:`csu_opt.cli.main` (``LAZY_COMMANDS``). Each command
imports its analysis modules (they build Pyomo models) itself, so ``csu-opt --help``, which
lists these commands, never loads Pyomo (issue 19, the fixed cost of a run).

Exit codes (csu_opt.cli.errors): 0 done; 1 invalid input (instance, incumbent or result
folder); 2 usage error; 3 the instance (or the run) is infeasible, so there is nothing to
analyse; 4 no solution within the limits.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from csu_opt.analysis.runner import ProgressLine, progress_line
from csu_opt.cli import options as opts
from csu_opt.cli.errors import INFEASIBLE, OK, Command, status_exit
from csu_opt.cli.options import F
from csu_opt.errors import UsageError
from csu_opt.instance.load import load_instance
from csu_opt.present.render import print_lines
from csu_opt.results.run import NoNetwork
from csu_opt.solver.options import SolveOptions


def _echo(lines: list[str], quiet: bool = False, written: list[Path] | None = None) -> None:
    """The answer, then the files written; under --quiet nothing the files already hold."""
    if quiet and written:
        return
    print_lines(Console(), lines)
    if written:
        click.echo(f"written: {', '.join(map(str, written))}")


def _options(
    time_limit: float | None,
    mip_gap: float,
    threads: int | None,
    progress: ProgressLine | None = None,
) -> SolveOptions:
    return SolveOptions(
        time_limit=time_limit, mip_gap=mip_gap, threads=threads, on_progress=progress
    )


def parse_fraction(text: str) -> float:
    """``2%`` -> 0.02, ``0.02`` -> 0.02."""
    t = text.strip()
    try:
        value = float(t[:-1]) / 100 if t.endswith("%") else float(t)
    except ValueError:
        raise UsageError(f"--within {text!r}: expected a share such as 2% or 0.02") from None
    if value < 0:
        raise UsageError(f"--within {text!r}: the tolerance cannot be negative")
    return value


def solver_options(f: F) -> F:
    """--time-limit (per solve), --mip-gap (1e-6: differences of optima), --threads."""
    f = opts.threads()(f)
    f = opts.mip_gap(opts.MIP_GAP_WHATIF, opts.MIP_GAP_WHATIF_HELP)(f)
    return opts.time_limit(help="Time limit of each solve, in seconds.")(f)


quiet_option = click.option(
    "--quiet",
    "-q",
    is_flag=True,
    help="No progress line; with files written (--out), print nothing on success.",
)

_set = opts.overrides(help="Override a setting or field (repeatable), as for solve.")


@click.command(cls=Command)
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--robust", is_flag=True, help="Analyse the robust network (every line twice).")
@click.option(
    "--repair",
    type=click.Choice(["min-change", "reoptimise"]),
    default="min-change",
    show_default=True,
    help="min-change: fewest moved CCGs and changed roles, then cost; reoptimise: cost only.",
)
@opts.out(help="Folder for resilience.csv and resilience.json (and robust/) [default: RUN].")
@click.option("--instance", type=click.Path(path_type=Path), help="The run's instance file.")
@solver_options
@quiet_option
def resilience(
    run: Path,
    robust: bool,
    repair: str,
    out: Path | None,
    instance: Path | None,
    time_limit: float | None,
    mip_gap: float,
    threads: int | None,
    quiet: bool,
) -> None:
    """N-1: each active provider of RUN's network fails in turn; rank by the damage."""
    from csu_opt.analysis.resilience import format_resilience, load_run, write_resilience  # noqa: PLC0415 (Pyomo)
    from csu_opt.analysis.resilience import resilience as analyse  # noqa: PLC0415 (Pyomo)

    with progress_line("resilience", quiet) as progress:
        inst, sol = load_run(run, instance)
        if not sol.status.has_solution:
            raise NoNetwork(f"{run}: status {sol.status.value}, no network to analyse", sol.status)
        r = analyse(  # NoNetwork when there is none (csu_opt.cli.errors: its status's exit)
            inst,
            sol,
            _options(time_limit, mip_gap, threads, progress),
            repair="min_change" if repair == "min-change" else "reoptimise",
            robust=robust,
        )
        written = write_resilience(r, out or run)
    _echo(format_resilience(r), quiet, written)


@click.command(cls=Command)
@click.argument("instance", type=click.Path(path_type=Path))
@click.option(
    "--incumbent",
    type=click.Path(path_type=Path),
    required=True,
    help="Today's arrangement: a CSV (ccg, lead[, share]) or a result folder.",
)
@click.option(
    "--partnerships",
    type=click.Path(path_type=Path),
    help="Today's partnerships: a CSV (subcontractor, lead).",
)
@click.option(
    "--max-moves-grid",
    metavar="K1,K2|A:B[:STEP]",
    help="The K values [default: 0, 1, ... up to the moves of the unconstrained optimum].",
)
@opts.out(help="tradeoff.csv, or a folder to hold it.")
@_set
@solver_options
@quiet_option
def tradeoff(
    instance: Path,
    incumbent: Path,
    partnerships: Path | None,
    max_moves_grid: str | None,
    out: Path | None,
    overrides: tuple[str, ...],
    time_limit: float | None,
    mip_gap: float,
    threads: int | None,
    quiet: bool,
) -> None:
    """Cost of the cheapest network against the number of CCGs allowed to move."""
    from csu_opt.analysis.disruption import read_incumbent  # noqa: PLC0415 (Pyomo)
    from csu_opt.analysis.tradeoff import format_tradeoff, parse_grid  # noqa: PLC0415 (Pyomo)
    from csu_opt.analysis.tradeoff import tradeoff as curve  # noqa: PLC0415 (Pyomo)
    from csu_opt.analysis.whatif import out_path, write_csv  # noqa: PLC0415 (Pyomo)

    with progress_line("tradeoff", quiet) as progress:
        grid = parse_grid(max_moves_grid) if max_moves_grid else None
        inst = load_instance(instance, overrides)
        inc = read_incumbent(incumbent, partnerships)
        t = curve(inst, inc, _options(time_limit, mip_gap, threads, progress), grid)
        written = [write_csv(t.table, out_path(out, "tradeoff.csv"))] if out else []
    _echo(format_tradeoff(t), quiet, written)
    sys.exit(OK if t.optimum is not None else INFEASIBLE)


@click.command("rule-costs", cls=Command)
@click.argument("instance", type=click.Path(path_type=Path))
@opts.out(help="rule_costs.csv, or a folder to hold it.")
@_set
@solver_options
@quiet_option
def rule_costs(
    instance: Path,
    out: Path | None,
    overrides: tuple[str, ...],
    time_limit: float | None,
    mip_gap: float,
    threads: int | None,
    quiet: bool,
) -> None:
    """What each rule costs a year: the optimum with it minus the optimum without it."""
    from csu_opt.analysis.rulecosts import format_rule_costs  # noqa: PLC0415 (Pyomo)
    from csu_opt.analysis.rulecosts import rule_costs as price  # noqa: PLC0415 (Pyomo)
    from csu_opt.analysis.whatif import out_path, write_csv  # noqa: PLC0415 (Pyomo)

    with progress_line("rule-costs", quiet) as progress:
        inst = load_instance(instance, overrides)
        rc = price(inst, _options(time_limit, mip_gap, threads, progress))
        written = [write_csv(rc.table, out_path(out, "rule_costs.csv"))] if out else []
    _echo(format_rule_costs(rc), quiet, written)
    sys.exit(status_exit(rc.base.status))


@click.command(cls=Command)
@click.argument("instance", type=click.Path(path_type=Path))
@click.option("--k", type=click.IntRange(min=1), default=5, show_default=True)
@click.option(
    "--within", default="2%", show_default=True, help="Tolerance over the optimum: 2% or 0.02."
)
@opts.out(
    help="Folder for alternatives.csv and alternatives_decisions.csv (or alternatives.csv "
    "itself, the decisions beside it)."
)
@_set
@solver_options
@quiet_option
def alternatives(
    instance: Path,
    k: int,
    within: str,
    out: Path | None,
    overrides: tuple[str, ...],
    time_limit: float | None,
    mip_gap: float,
    threads: int | None,
    quiet: bool,
) -> None:
    """The k best structurally different lead sets within a tolerance of the optimum, and
    the decisions they all share."""
    from csu_opt.analysis.alternatives import alternatives as search  # noqa: PLC0415 (Pyomo)
    from csu_opt.analysis.alternatives import format_alternatives  # noqa: PLC0415 (Pyomo)
    from csu_opt.analysis.whatif import out_path, write_csv  # noqa: PLC0415 (Pyomo)

    with progress_line("alternatives", quiet) as progress:
        tol = parse_fraction(within)
        inst = load_instance(instance, overrides)
        alt = search(inst, k, tol, _options(time_limit, mip_gap, threads, progress))
        written = []
        if out is not None:
            path = out_path(out, "alternatives.csv")
            written.append(write_csv(alt.table, path))
            decisions = path.with_name(f"{path.stem}_decisions.csv")
            written.append(write_csv(alt.decisions, decisions))
    _echo(format_alternatives(alt), quiet, written)
    sys.exit(OK if alt.solutions else INFEASIBLE)


COMMANDS = (resilience, tradeoff, rule_costs, alternatives)
