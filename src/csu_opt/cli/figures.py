"""``csu-opt plot``, ``compare`` and ``report``: figures, comparisons and HTML reports from
result folders (and sweep folders). Thin click commands over plots, compare and report.

Exit codes (csu_opt.cli.errors): 0 done; 1 a folder is not a result (or sweep) folder, the
message naming what is missing; 2 usage error. The README's figures are drawn by
``tools/readme_figures.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console

from csu_opt.analysis.compare import compare_runs
from csu_opt.cli import options as opts
from csu_opt.cli.errors import Command
from csu_opt.errors import CsuOptError, UsageError
from csu_opt.files import atomic_path
from csu_opt.results.run import ResultFolderError, load_run

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from csu_opt.results.run import Run

RUN_KINDS = ("network", "lines", "costs", "map", "resilience-map")
SWEEP_KINDS = ("lines", "heatmap", "leads")
FIGURE_SUFFIXES = (".png", ".svg", ".pdf")

err_console = Console(stderr=True)


def _is_sweep(folder: Path) -> bool:
    return (folder / "sweep.db").is_file()


def _check_suffix(out: Path) -> None:
    if out.suffix.lower() not in FIGURE_SUFFIXES:
        raise UsageError(f"--out {out}: the file name must end in {', '.join(FIGURE_SUFFIXES)}")


def _parse_fix(fix: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in fix:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--fix {item!r}: expected KEY=VALUE")
        out[key.strip()] = value.strip()
    return out


def _save(fig: Figure, out: Path, dpi: int) -> None:
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=dpi)


@click.command(cls=Command)
@click.argument("target", type=click.Path(path_type=Path))
@click.option(
    "--kind",
    type=click.Choice(sorted(set(RUN_KINDS + SWEEP_KINDS))),
    help="Result folder: network (default), lines, costs, map (the CCGs' boundaries when the "
    "instance names them, else regional tiles), resilience-map (the CCGs that move when the "
    "most critical provider fails; needs resilience.csv). "
    "Sweep folder: lines (default), heatmap, leads.",
)
@opts.out(help="PNG, SVG or PDF by suffix [default: TARGET/<kind>.png].")
@click.option(
    "--x",
    "x",
    metavar="KEY",
    help="Sweep: the varied key on the x axis "
    "(full key or its ending, e.g. max) [default: the first varied key].",
)
@click.option(
    "--y",
    "y",
    default="objective",
    show_default=True,
    metavar="METRIC",
    help="Sweep: objective, leads, subcontractors, exits, staff_exiting, quality, "
    "gap, solve_s or a cost part (delivery, exit, ...).",
)
@click.option("--y2", "y2", metavar="KEY", help="Sweep heatmap: the varied key on the y axis.")
@click.option(
    "--fix",
    multiple=True,
    metavar="KEY=VALUE",
    help="Sweep: keep only cases with this value of a varied key (repeatable).",
)
@click.option(
    "--instance",
    type=click.Path(path_type=Path),
    help="The run's instance file, when it has moved since the solve.",
)
@click.option("--dpi", type=click.IntRange(30, 600), default=110, show_default=True)
def plot(
    target: Path,
    kind: str | None,
    out: Path | None,
    x: str | None,
    y: str,
    y2: str | None,
    fix: tuple[str, ...],
    instance: Path | None,
    dpi: int,
) -> None:
    """Draw a figure of a result folder (one solve) or a sweep folder."""
    # matplotlib (through the figure modules) loads only when a figure is drawn
    from csu_opt.present import plots_sweep as ps  # noqa: PLC0415
    from csu_opt.present.plots import RUN_FIGURES  # noqa: PLC0415
    from csu_opt.present.plots_moves import resilience_map_figure  # noqa: PLC0415

    if out is not None:
        _check_suffix(out)
    if _is_sweep(target):
        kind = kind or "lines"
        if kind not in SWEEP_KINDS:
            raise UsageError(
                f"--kind {kind} is for a result folder; a sweep draws {', '.join(SWEEP_KINDS)}"
            )
        sw = ps.load_sweep(target)
        fixed = _parse_fix(fix)
        if kind == "leads":
            fig = ps.sweep_leads_figure(sw, fixed)
        elif not sw.axes:
            raise UsageError("this sweep varies nothing: only --kind leads applies")
        elif kind == "lines":
            fig = ps.sweep_lines_figure(sw, x or sw.axes[0], y, fixed)
        else:
            if len(sw.axes) < 2 and (x is None or y2 is None):
                raise UsageError("a heatmap needs two varied keys: --x KEY --y2 KEY")
            fig = ps.sweep_heatmap_figure(sw, x or sw.axes[0], y2 or sw.axes[1], y, fixed)
    else:
        kind = kind or "network"
        if kind not in RUN_KINDS:
            raise UsageError(
                f"--kind {kind} is for a sweep folder; a result folder draws {', '.join(RUN_KINDS)}"
            )
        run = _load_run(target, instance)
        if not run.solution.status.has_solution:
            raise CsuOptError(f"{target}: status {run.solution.status.value}, nothing to draw")
        make = resilience_map_figure if kind == "resilience-map" else RUN_FIGURES[kind]
        fig = make(run)
    out = out or target / f"{kind}.png"
    _check_suffix(out)
    _save(fig, out, dpi)
    click.echo(str(out))


def _load_run(target: Path, instance: Path | None) -> Run:

    try:
        run = load_run(target, instance)
    except ResultFolderError as exc:
        raise ResultFolderError(f"{exc} (and no sweep.db: not a sweep folder either)") from None
    if run.note:
        err_console.print(
            f"note: {run.note} (--instance FILE names the instance)",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    return run


@click.command(cls=Command)
@click.argument("runs", nargs=-1, required=True, type=click.Path(path_type=Path))
@opts.out(help="Also draw the comparison as a figure (PNG, SVG or PDF by suffix).")
@click.option(
    "--map",
    "map_out",
    type=click.Path(path_type=Path),
    help="Also draw a map of the CCGs that change network (PNG, SVG or PDF by suffix); "
    "with more than two runs, one map per run against the first (FILE-2, FILE-3, ...).",
)
@click.option(
    "--report",
    "report_out",
    type=click.Path(path_type=Path),
    help="Also write the comparison as one HTML page.",
)
@click.option(
    "--max-rows",
    type=click.IntRange(min=1),
    default=40,
    show_default=True,
    help="Rows shown per table of changes.",
)
def compare(
    runs: tuple[Path, ...],
    out: Path | None,
    map_out: Path | None,
    report_out: Path | None,
    max_rows: int,
) -> None:
    """Compare result folders against the first: costs, leads, roles, CCG moves, quality.

    Works across instances (e.g. 2013 against 2014): a provider or CCG present in one only
    is shown as 'not in instance'. A managed run against a free-choice run of the same
    instance (settings.ccg_choice) also gives the cost of free choice, the leads that survive
    under one market only, the CCGs that move and the providers that exit."""
    # matplotlib (through the figure modules) loads only when a figure is drawn
    from csu_opt.present.compare import comparison_figure, render_comparison  # noqa: PLC0415
    from csu_opt.present.plots_moves import compare_map_figure  # noqa: PLC0415

    if len(runs) < 2:
        raise click.UsageError("give at least two result folders to compare")

    for path in (out, map_out):
        if path is not None:
            _check_suffix(path)
    loaded = [_load_run(r, None) for r in runs]
    cmp = compare_runs(loaded)
    render_comparison(Console(), cmp, max_rows)
    if report_out is not None:
        from csu_opt.present.report import comparison_report, write_html  # noqa: PLC0415

        write_html(comparison_report(cmp), report_out)
        click.echo(f"report: {report_out}")
    if out is not None:
        _save(comparison_figure(cmp), out, 110)
        click.echo(f"figure: {out}")
    if map_out is not None:
        for i in range(1, len(cmp.runs)):
            path = map_out
            if len(cmp.runs) > 2:
                path = map_out.with_name(f"{map_out.stem}-{i + 1}{map_out.suffix}")
            _save(compare_map_figure(cmp, i), path, 110)
            click.echo(f"map: {path}")


@click.command(cls=Command)
@click.argument("target", type=click.Path(path_type=Path))
@opts.out(help="The HTML file [default: TARGET/report.html].")
@click.option(
    "--instance",
    type=click.Path(path_type=Path),
    help="The run's instance file, when it has moved since the solve.",
)
def report(target: Path, out: Path | None, instance: Path | None) -> None:
    """Write one self-contained HTML report (figures embedded) of a run or a sweep."""

    # matplotlib (through the figure modules) loads only when a figure is drawn
    from csu_opt.present import report as rep  # noqa: PLC0415
    from csu_opt.present.plots_sweep import load_sweep  # noqa: PLC0415

    if out is not None and out.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"--out {out}: the report is HTML; name it *.html")
    if _is_sweep(target):
        text = rep.sweep_report(load_sweep(target))
    else:
        text = rep.run_report(_load_run(target, instance))
    path = rep.write_html(text, out or target / "report.html")
    click.echo(str(path))
