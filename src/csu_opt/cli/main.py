"""The ``csu-opt`` command line (README.md, "Commands"): parse, call the library, print.

Exit codes: csu_opt.cli.errors, the one place that turns errors into exit codes and lines.
"""

from __future__ import annotations

import importlib
import json
import shlex
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click
from rich.console import Console

from csu_opt import stops
from csu_opt.analysis.necessary import data_checks
from csu_opt.analysis.runner import (
    ProgressLine,
    RunResult,
    default_folder,
    progress_line,
    run_solve,
    verify_into,
)
from csu_opt.cli import options as opts
from csu_opt.cli.errors import (
    UNVERIFIED,
    Command,
    boundary,
    on_stop,
    print_error,
    set_debug,
    status_exit,
)
from csu_opt.errors import InstanceError, UsageError
from csu_opt.instance.generate import DEFAULT_TIGHTNESS, generate_to_folder
from csu_opt.instance.load import Instance, load_instance
from csu_opt.numbers import clean_record, money, pct
from csu_opt.present.render import (
    comparison_table,
    err_console,
    instance_summary,
    print_lines,
    solution_summary,
)
from csu_opt.results.solution import Solution
from csu_opt.results.verify import format_report, verify_run
from csu_opt.solver.options import SolveOptions
from csu_opt.version import __version__

if TYPE_CHECKING:
    from csu_opt.analysis.findings import ExtraRule
    from csu_opt.solver.options import Backend


#: Commands that live in their own modules (figures, reports, the sweep and the what-ifs), by
#: name: each module is imported when its command is run or listed (``--help``), so
#: ``csu-opt solve`` never imports the what-ifs' Pyomo models or the sweep's executor
#: (issue 19, the fixed cost of a run). tests/cli/test_startup.py checks the names.
LAZY_COMMANDS = {
    "alternatives": "csu_opt.cli.whatif",
    "compare": "csu_opt.cli.figures",
    "plot": "csu_opt.cli.figures",
    "report": "csu_opt.cli.figures",
    "resilience": "csu_opt.cli.whatif",
    "rule-costs": "csu_opt.cli.whatif",
    "sweep": "csu_opt.cli.sweep",
    "tradeoff": "csu_opt.cli.whatif",
}


class _Commands(click.Group):
    """The command group: every command runs inside the one exception boundary
    (csu_opt.cli.errors: each error its exit code and one line) with Ctrl-C and SIGTERM
    handled as :mod:`csu_opt.stops` says (a stop ends with exit 128 + the signal's number).

    The commands of :data:`LAZY_COMMANDS` are loaded from their modules when first asked for.
    """

    command_class = Command

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in LAZY_COMMANDS:
            self.add_command(lazy_command(cmd_name))
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        with boundary(), stops.handling():
            return super().invoke(ctx)


def lazy_command(name: str) -> click.Command:
    """The command ``name`` of :data:`LAZY_COMMANDS`, imported from its module."""
    module = importlib.import_module(LAZY_COMMANDS[name])
    found = [c for c in vars(module).values() if isinstance(c, click.Command) and c.name == name]
    if len(found) != 1:
        raise LookupError(f"{LAZY_COMMANDS[name]} defines no single command {name!r}")
    return found[0]


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="csu-opt")
@click.option(
    "--debug",
    is_flag=True,
    help="On an internal error (a bug, exit 70), also print its traceback for the report.",
)
def main(debug: bool) -> None:
    """csu-opt: who leads, who subcontracts, who exits, and which network serves each CCG."""
    set_debug(debug)


@main.command()
@click.argument("instances", nargs=-1, required=True, type=click.Path(path_type=Path))
@opts.overrides(help="Override a setting or field, e.g. settings.lead_providers.max=12.")
def validate(instances: tuple[Path, ...], overrides: tuple[str, ...]) -> None:
    """Check instance files, print a short summary of each, and run explain's necessary
    conditions (from the data alone, no solve).

    Exit 0 valid; 1 invalid input (every problem listed), or well-formed but a necessary
    condition fails, so no network can satisfy every rule (csu-opt explain suggests the
    smallest relaxation; solve and explain exit 3 on such an instance).
    """

    console = Console()
    failed = infeasible = False
    for path in instances:
        try:
            inst = load_instance(path, overrides)
        except InstanceError as exc:  # every file is checked: report it, go on
            print_error(exc)
            failed = True
            continue
        instance_summary(console, inst)
        proofs = [f for f in data_checks(inst) if f.proves_infeasible]
        if proofs:
            infeasible = True
            n = len(proofs)
            console.print(
                f"  [bold red]infeasible:[/] {n} necessary condition{'s' if n > 1 else ''} "
                f"(checked from the data, no solve) {'fail' if n > 1 else 'fails'}, so no "
                "network can satisfy every rule:",
                highlight=False,
            )
            print_lines(console, (str(f) for f in proofs), prefix="    - ")
            again = shlex.join(
                ["csu-opt", "explain", str(path), *(a for o in overrides for a in ("--set", o))]
            )
            print_lines(console, [f"  `{again}` suggests the smallest relaxation."])
        else:
            console.print(
                "  necessary conditions (checked from the data, no solve): all pass; only a "
                "solve proves feasibility",
                highlight=False,
            )
    sys.exit(1 if failed or infeasible else 0)


def _solve_options(
    time_limit: float | None, mip_gap: float, threads: int | None, seed: int, no_cuts: bool
) -> SolveOptions:

    return SolveOptions(
        time_limit=time_limit,
        mip_gap=mip_gap,
        threads=threads,
        seed=seed,
        valid_inequalities=not no_cuts,
    )


@main.command()
@click.argument("instances", nargs=-1, required=True, type=click.Path(path_type=Path))
@opts.out(
    help="Result folder (with several instances: the parent of one folder each). "
    "Default: results/<name>-<timestamp>/."
)
@opts.time_limit(help="Stop after S seconds and report the best solution and its gap.")
@opts.mip_gap()
@opts.threads()
@click.option("--seed", type=int, default=0, show_default=True, help="HiGHS random seed.")
@opts.overrides()
@click.option("--json", "as_json", is_flag=True, help="Print summary.json to stdout.")
@click.option(
    "--quiet",
    "-q",
    is_flag=True,
    help="Print nothing on success (no progress, summary or comparison; the result "
    "folders and the exit code say it all); problems still go to stderr.",
)
@click.option("--no-cuts", is_flag=True, help="Leave out the valid inequalities (for comparison).")
@click.option(
    "--backend",
    type=click.Choice(["auto", "pyomo", "matrix"]),
    default="auto",
    show_default=True,
    help="How the model reaches HiGHS: Pyomo (appsi), or arrays built from the same "
    "index frames (no Pyomo loaded); auto: the arrays.",
)
@click.option(
    "--start/--no-start",
    default=None,
    help="Hand HiGHS a greedy starting network (default: from 150,000 estimated nonzeros, "
    "where HiGHS may take long to find its first).",
)
@click.option(
    "--concurrent",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    metavar="N",
    help="Race N HiGHS searches (own seed and heuristic effort, one core each) and stop "
    "when the best solution of any is within the gap of the best bound of any. Faster "
    "proofs on several cores; with N > 1 two runs may return different networks that are "
    "equally good within the gap.",
)
@opts.polish(
    help="Keep the last share F of --time-limit for polishing: if the search has not "
    "proven optimality by then, search the best network's lead set only (partners, CCGs, "
    "exits chosen again). For hard instances, e.g. --time-limit 300 --polish 0.33."
)
@click.option(
    "--reduction/--no-reduction",
    default=None,
    help="Root reduction before branch-and-bound: LP bound, LP-guided incumbent, "
    "reduced-cost fixing (default: from 50,000 estimated nonzeros, on the matrix backend).",
)
@click.option(
    "--incumbent",
    type=click.Path(exists=True, path_type=Path),
    help="Today's arrangement: a CSV (ccg, lead[, share]) or a result folder.",
)
@click.option(
    "--max-moves",
    type=click.IntRange(min=0),
    help="With --incumbent: at most K CCGs change network.",
)
@click.option(
    "--churn-cost",
    type=click.FloatRange(min=0),
    help="With --incumbent: a cost per CCG moved (per year).",
)
def solve(
    instances: tuple[Path, ...],
    out: Path | None,
    time_limit: float | None,
    mip_gap: float,
    threads: int | None,
    seed: int,
    overrides: tuple[str, ...],
    as_json: bool,
    quiet: bool,
    no_cuts: bool,
    backend: str,
    start: bool | None,
    concurrent: int,
    polish: float,
    reduction: bool | None,
    incumbent: Path | None,
    max_moves: int | None,
    churn_cost: float | None,
) -> None:
    """Solve one or more instance files, each into its own result folder."""
    console = Console(stderr=as_json)
    results: list[RunResult] = []

    def stopped() -> str:  # with several instances, the folders solved before the stop stay
        kept = ", ".join(str(r.folder) for r in results)
        return "no result folder was written" + (
            f" for the instance being solved; kept: {kept}" if kept else ""
        )

    on_stop(stopped)
    if (max_moves is not None or churn_cost is not None) and incumbent is None:
        raise UsageError("--max-moves and --churn-cost need --incumbent")
    if polish and time_limit is None:
        raise UsageError("--polish keeps a share of the time limit: give --time-limit too")
    solver = None
    rules: list[ExtraRule] = []
    if incumbent is not None:
        solver = _incumbent_rules(incumbent, max_moves, churn_cost, rules)
    loaded = _load_all(instances, overrides)
    for inst in loaded:
        folder = _folder_for(inst, out, several=len(loaded) > 1)
        options = replace(
            _solve_options(time_limit, mip_gap, threads, seed, no_cuts),
            backend=cast("Backend", backend),  # click.Choice checked it
            start_heuristic=start,
            root_reduction=reduction,
            concurrent=concurrent,
            polish=polish,
        )
        results.append(
            _solve_one(inst, folder, options, console, quiet or as_json, solver=solver, rules=rules)
        )
    if as_json:
        summaries = [r.solution.summary() | {"folder": str(r.folder)} for r in results]
        shown = clean_record(summaries[0] if len(summaries) == 1 else summaries)
        click.echo(json.dumps(shown, indent=2))
    elif len(results) > 1 and not quiet:
        comparison_table(console, [_row(r) for r in results])
    codes = [status_exit(r.solution.status) for r in results]
    if any(r.solution.extra.get("verified") is False for r in results):
        codes.append(UNVERIFIED)  # a solution that fails independent verification is never silent
    sys.exit(max(codes))


def _incumbent_rules(
    incumbent: Path, max_moves: int | None, churn_cost: float | None, rules: list[ExtraRule]
) -> Any:
    """The solver held close to today's arrangement; a moves limit is added to ``rules``.

    csu_opt.analysis.disruption and .whatif_rules build Pyomo models: imported only when
    --incumbent is given, so a plain matrix-path solve never loads Pyomo (issue 19).
    """
    from csu_opt.analysis.disruption import incumbent_solver, read_incumbent  # noqa: PLC0415 (Pyomo)
    from csu_opt.analysis.whatif_rules import MovesLimit  # noqa: PLC0415 (Pyomo)

    today = read_incumbent(incumbent)
    if max_moves is not None:  # a churn cost is a price, never a rule
        rules.append(MovesLimit(today, max_moves))
    return incumbent_solver(today, max_moves, churn_cost)


def _load_all(paths: tuple[Path, ...], overrides: tuple[str, ...]) -> list[Instance]:
    """Every instance validated before any is solved; all problems of all files reported."""
    loaded, problems = [], []
    for path in paths:
        try:
            loaded.append(load_instance(path, overrides))
        except InstanceError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InstanceError(problems)
    return loaded


def _folder_for(inst: Instance, out: Path | None, several: bool) -> Path:
    if out is None:
        return default_folder(inst)
    return out / inst.name if several else out


def _solve_one(
    inst: Instance,
    folder: Path,
    options: SolveOptions,
    console: Console,
    quiet: bool,
    solver: Any = None,
    rules: Sequence[ExtraRule] = (),
) -> RunResult:
    progress = None if quiet else ProgressLine()
    options = replace(options, on_progress=progress)
    failures: list[str] = []

    def after_solve(solution: Solution, _tmp: Path) -> None:
        failures.extend(verify_into(inst, solution))

    try:
        if not quiet:
            console.print(f"solving {inst.name} ...", highlight=False)
        result = run_solve(
            inst, folder, options, after_solve=after_solve, solver=solver, rules=rules
        )
    finally:
        if progress is not None:
            progress.close()
    if not quiet:
        solution_summary(console, result.solution, result.folder)
        if "incumbent" in result.solution.extra:
            from csu_opt.analysis.disruption import incumbent_summary  # noqa: PLC0415 (Pyomo)

            print_lines(console, incumbent_summary(result.solution))
    if result.explanation and not quiet:
        print_lines(console, result.explanation)
    if failures:
        err_console.print(
            "[bold red]error: the solution FAILED independent verification[/] "
            f"(summary.json says verified: false; {result.folder}):",
            highlight=False,
        )
        print_lines(err_console, failures, prefix="  ")
    return result


def _row(r: RunResult) -> dict[str, Any]:
    s = r.solution
    gap = pct(s.mip_gap)
    obj = money(s.objective)
    return {
        "instance": s.instance.get("name"),
        "status": s.status.value,
        "objective": obj,
        "gap": gap,
        "leads": len(s.leads),
        "exits": len(s.exits),
        "results": r.folder,
    }


@main.command()
@click.option("--providers", type=click.IntRange(min=1), required=True, help="Number of providers.")
@click.option(
    "--ccgs",
    type=click.IntRange(min=1),
    required=True,
    help="Number of customers (CCGs, or GP practices at the finest grain).",
)
@click.option(
    "--lines",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Service lines (the five of the 2014 framework first, then L6, L7, ...).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--tightness",
    type=float,
    default=None,
    help="Total demand / eligible capacity per line, in (0, 1) [default: 0.6].",
)
@opts.out(help="Output folder.", required=True)
def generate(
    providers: int, ccgs: int, lines: int, seed: int, tightness: float | None, out: Path
) -> None:
    """Write a synthetic, feasible-by-construction instance (deterministic for a seed)."""

    path = generate_to_folder(
        out,
        providers,
        ccgs,
        lines=lines,
        seed=seed,
        tightness=DEFAULT_TIGHTNESS if tightness is None else tightness,
    )
    click.echo(str(path))


@main.command()
@click.argument(
    "paths", nargs=-1, required=True, metavar="[INSTANCE] RUN", type=click.Path(path_type=Path)
)
def verify(paths: tuple[Path, ...]) -> None:
    """Check a result folder against every rule C1-C11 (C12 under free choice), without the model.

    csu-opt verify RUN checks RUN against the instance file its summary.json names (with
    the overrides it was solved with); csu-opt verify INSTANCE RUN against INSTANCE. Exit 0
    when the solution satisfies every rule, 1 otherwise.
    """

    console = Console()
    if len(paths) > 2:
        raise UsageError("verify takes RUN, or INSTANCE RUN")
    instance, run = (None, paths[0]) if len(paths) == 1 else paths
    checked = verify_run(instance, run)
    print_lines(console, format_report(checked))
    sys.exit(0 if checked.ok else 1)


@main.command()
@click.argument("instance", type=click.Path(path_type=Path))
@opts.overrides()
@opts.time_limit(help="Time limit of each feasibility solve.", default=60.0)
@click.option(
    "--incumbent",
    type=click.Path(exists=True, path_type=Path),
    help="Today's arrangement (a CSV ccg, lead[, share] or a result folder), with --max-moves.",
)
@click.option(
    "--max-moves",
    type=click.IntRange(min=0),
    help="With --incumbent: explain the what-if 'at most K CCGs change network'.",
)
@click.option(
    "--robust",
    is_flag=True,
    help="Explain the what-if 'a network that survives any single exit' (resilience --robust).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress line (the answer is printed).")
def explain(
    instance: Path,
    overrides: tuple[str, ...],
    time_limit: float,
    incumbent: Path | None,
    max_moves: int | None,
    robust: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Explain why an instance (or a what-if on it) is infeasible, and the smallest
    relaxation that fixes it.

    Exit 0 feasible, 3 infeasible, 4 undecided within the time limit.
    """

    # the explanation's what-ifs build Pyomo models: imported by this command only (issue 19)
    from csu_opt.analysis.disruption import check_incumbent, read_incumbent  # noqa: PLC0415
    from csu_opt.analysis.explain import explain as explain_instance  # noqa: PLC0415
    from csu_opt.analysis.explain import format_explanation  # noqa: PLC0415
    from csu_opt.analysis.whatif_rules import DoubleCoverage, MovesLimit  # noqa: PLC0415

    console = Console()
    with progress_line("explain", quiet):
        if (incumbent is None) != (max_moves is None):
            raise UsageError("--incumbent and --max-moves go together")
        inst = load_instance(instance, overrides)
        rules: list[ExtraRule] = []
        if incumbent is not None and max_moves is not None:
            today = read_incumbent(incumbent)
            check_incumbent(inst, today)
            rules.append(MovesLimit(today, max_moves))
        if robust:
            rules.append(DoubleCoverage())
        e = explain_instance(inst, time_limit=time_limit, rules=rules)
    if as_json:
        click.echo(json.dumps(clean_record(e.as_record()), indent=2, default=str))
    else:
        print_lines(console, format_explanation(e))
    sys.exit(0 if e.feasible else 3 if e.feasible is False else 4)


if __name__ == "__main__":  # pragma: no cover
    main()
