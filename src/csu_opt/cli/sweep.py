"""``csu-opt sweep``: the command, and its glue to the sweep library (specs, progress, export)."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from csu_opt.analysis.sweep import (
    Axis,
    Case,
    SweepSpec,
    export_frame,
    load_sweep_file,
    mark_lead_changes,
    parse_axis,
)
from csu_opt.analysis.sweep_exec import Executor, SweepRun, find_thresholds, validate_cases
from csu_opt.cli import options as opts
from csu_opt.cli.errors import Command, on_stop
from csu_opt.errors import UsageError
from csu_opt.files import write_json, write_text
from csu_opt.numbers import clean_frame
from csu_opt.stops import Interrupted


def _spec(
    instance: Path | None,
    vary: tuple[str, ...],
    scales: tuple[str, ...],
    sweep_file: Path | None,
    overrides: tuple[str, ...],
    one_at_a_time: bool,
) -> tuple[SweepSpec, dict[str, Any]]:
    extra: dict[str, Any] = {}
    axes: list[Axis] = []
    base = tuple(overrides)
    if sweep_file is not None:
        doc = load_sweep_file(sweep_file)
        instance = instance or doc["instance"]
        axes.extend(doc["axes"])
        base = (*doc["set"], *base)
        one_at_a_time = one_at_a_time or doc["one_at_a_time"]
        extra = {k: doc[k] for k in ("time_limit", "mip_gap", "polish") if doc[k] is not None}
    if instance is None:
        raise UsageError("give an INSTANCE (or a sweep file with 'instance:')")
    axes.extend(parse_axis(v) for v in vary)
    axes.extend(parse_axis(v, scale=True) for v in scales)
    return SweepSpec(Path(instance), axes, base, one_at_a_time), extra


def run(  # noqa: C901 (frozen, issue 17: to be split)
    *,
    console: Console,
    instance: Path | None,
    vary: tuple[str, ...],
    scales: tuple[str, ...],
    sweep_file: Path | None,
    overrides: tuple[str, ...],
    one_at_a_time: bool,
    out: Path,
    workers: int,
    scheduler: str | None,
    export: Path | None,
    time_limit: float | None,
    mip_gap: float,
    polish: float,
    threads: int,
    persist: bool,
    threshold_key: str | None,
    threshold_range: str | None,
    tol: float | None,
) -> int:
    spec, extra = _spec(instance, vary, scales, sweep_file, overrides, one_at_a_time)
    time_limit = time_limit if time_limit is not None else extra.get("time_limit")
    mip_gap = extra.get("mip_gap", mip_gap)
    polish = polish or float(extra.get("polish", 0.0))
    if not 0 <= polish < 1:
        raise UsageError(f"polish must be a fraction in [0, 1), not {polish}")
    if polish and time_limit is None:
        raise UsageError("--polish keeps a share of the time limit: give --time-limit too")
    key, axis_scale = "", False  # the searched key, and whether it scales a column
    if threshold_key is not None:
        if threshold_range is None or threshold_range.count(":") != 1:
            raise UsageError("--find-threshold needs --range A:B")
        try:
            lo, hi = (float(v) for v in threshold_range.split(":"))
        except ValueError:
            raise UsageError(f"--range {threshold_range!r}: expected two numbers A:B") from None
        if not lo < hi:
            raise UsageError("--range A:B needs A < B")
        axis_scale = threshold_key in ("demand.volume",) or threshold_key.endswith("*")
        key = threshold_key.rstrip("*")
    elif not spec.axes:
        raise UsageError("nothing to vary: give --vary, --scale, a sweep file or --find-threshold")

    cases = spec.cases() if threshold_key is None else []
    if cases:
        validate_cases(spec.instance, spec.base_overrides, cases)
    out.mkdir(parents=True, exist_ok=True)
    write_json(
        out / "sweep.json",
        {
            "instance": str(spec.instance.resolve()),
            "set": list(spec.base_overrides),
            "axes": [{"key": a.key, "values": list(a.values), "scale": a.scale} for a in spec.axes],
            "one_at_a_time": spec.one_at_a_time,
            "time_limit": time_limit,
            "mip_gap": mip_gap,
            "polish": polish,
            "threshold": {
                "key": key,
                "scale": axis_scale,
                "range": threshold_range,
                "tol": tol,
                "as_given": threshold_key,
            }
            if threshold_key
            else None,
        },
    )

    client = None
    if scheduler is not None:
        from dask.distributed import Client

        try:
            client = Client(scheduler, timeout=20)
        except OSError as exc:
            raise UsageError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    executor = Executor(workers=workers, client=client)
    progress = Progress(
        TextColumn("[bold]sweep[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )
    task_id = progress.add_task("cases", total=len(cases) or None, failed=0)
    failed = 0

    def on_row(row: dict[str, Any]) -> None:
        nonlocal failed
        if row["status"] == "error":
            failed += 1
            progress.console.print(
                f"[red]case {row['case_key']} failed:[/] {row['error']}", highlight=False
            )
        progress.update(task_id, advance=1, failed=failed)

    runner = SweepRun(
        spec.instance,
        spec.base_overrides,
        out,
        executor,
        time_limit=time_limit,
        mip_gap=mip_gap,
        threads=threads,
        persist=persist,
        polish=polish,
        on_row=on_row,
    )
    interrupted: Interrupted | None = None
    try:
        with progress:
            if threshold_key is None:
                already = len(cases) - len(
                    [c for c in cases if c.key not in runner.store.finished()]
                )
                progress.update(task_id, completed=already)
                counts = runner.run(cases)
            else:
                probe = SweepSpec(
                    spec.instance, [parse_axis(f"{key}={lo}", axis_scale)], spec.base_overrides
                )
                validate_cases(spec.instance, spec.base_overrides, probe.cases())
                integer = lo.is_integer() and hi.is_integer() and "lead_providers" in key
                tips, evaluated = find_thresholds(
                    runner, key, lo, hi, scale=axis_scale, tol=tol, integer=integer
                )
                counts = {
                    "total": len(evaluated),
                    "done": len(evaluated),
                    "failed": failed,
                    "skipped": 0,
                }
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM (csu_opt.stops)
        interrupted = exc if isinstance(exc, Interrupted) else Interrupted(signal.SIGINT)
        executor.close(cancel=True)  # every worker stopped, or killed
        runner.remove_partial()  # what they left half-done
    else:
        executor.close()
    if client is not None:
        client.close()
    done = runner.store.finished()
    if interrupted is not None:
        console.print(
            f"[bold red]stopped:[/] {interrupted}; {len(done)} cases are saved in "
            f"{out / 'sweep.db'}; run the same command again to resume.",
            highlight=False,
            soft_wrap=True,
        )
        runner.store.close()
        return interrupted.exit_code
    if threshold_key is not None:
        _print_thresholds(console, key, tips)
        write_json(
            out / "thresholds.json",
            {
                "key": key,
                "range": [lo, hi],
                "tipping_points": [tp.__dict__ for tp in tips],
                "evaluated": [{"value": v, "leads": leads} for v, leads in evaluated],
            },
        )
    else:
        console.print(
            f"{counts['done']} solved, {counts['skipped']} already done, "
            f"{counts['failed']} failed; results in {out / 'sweep.db'}",
            highlight=False,
        )
    if export is not None:
        if threshold_key is None:
            frame = export_frame(runner.store, cases, spec.axes)
        else:  # the values searched, in order, and where the set of leads changes
            axis = Axis(key, tuple(v for v, _ in evaluated), axis_scale)
            searched = [Case.make({key: v}, (axis.override(v),)) for v in axis.values]
            frame = mark_lead_changes(export_frame(runner.store, searched, [axis]), key)
        write_text(export, clean_frame(frame).to_csv(index=False))
        console.print(f"exported {len(frame)} cases to {export}", highlight=False)
    runner.store.close()
    return 1 if failed else 0


@click.command(cls=Command)
@click.argument("instance", required=False, type=click.Path(path_type=Path))
@click.option(
    "--vary",
    "vary",
    multiple=True,
    metavar="KEY=V1,V2|A:B:STEP",
    help="A varied parameter, e.g. settings.lead_providers.max=10,12,15 or "
    "service_lines.BI.quality_threshold=50:80:10 (repeatable).",
)
@click.option(
    "--scale",
    "scales",
    multiple=True,
    metavar="TABLE.COLUMN=F1,F2",
    help="Scale a numeric column by each factor, e.g. demand.volume=1.0,1.5,2.0.",
)
@click.option(
    "--file",
    "sweep_file",
    type=click.Path(exists=True, path_type=Path),
    help="A YAML sweep file (instance, vary, scale, set, one_at_a_time, time_limit).",
)
@opts.overrides(help="A fixed override applied to every case.")
@click.option("--one-at-a-time", is_flag=True, help="Vary one parameter at a time around the base.")
@opts.out(help="Sweep folder (sweep.db, cases/); running again resumes.", required=True)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Worker processes on this machine.",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Run on an existing Dask distributed cluster, e.g. tcp://10.0.0.5:8786.",
)
@click.option("--export", type=click.Path(path_type=Path), help="Write one row per case to CSV.")
@opts.time_limit(help="Time limit per case (seconds).")
@opts.mip_gap()
@opts.polish(
    help="Per case, keep the last share F of --time-limit for polishing the best network's "
    "lead set (as csu-opt solve --polish)."
)
@opts.threads(help="HiGHS threads per case.", default=1)
@click.option(
    "--no-persist",
    is_flag=True,
    help="Rebuild the model for every case (for comparison with re-solves).",
)
@click.option(
    "--find-threshold",
    "threshold_key",
    metavar="KEY",
    help="Find, by bisection, the values of KEY where the set of leads changes.",
)
@click.option(
    "--range", "threshold_range", metavar="A:B", help="The interval for --find-threshold."
)
@click.option(
    "--tol",
    type=click.FloatRange(min=0, min_open=True),
    help="Width at which --find-threshold stops bisecting.",
)
def sweep(no_persist: bool, **params: Any) -> None:
    """Solve many what-ifs of one instance; resumable, parallel, optionally on a cluster."""
    console = Console(stderr=True)
    on_stop("run the same command again to resume")
    sys.exit(run(console=console, persist=not no_persist, **params))


def _print_thresholds(console: Console, key: str, tips: list[Any]) -> None:
    if not tips:
        console.print(f"the set of leads does not change over the range of {key}")
        return
    t = Table(title=f"Tipping points of {key}", title_justify="left")
    for col in ("between", "and", "leads below", "leads above", "proven"):
        t.add_column(col)
    for tp in tips:
        t.add_row(
            f"{tp.below:g}",
            f"{tp.above:g}",
            ", ".join(tp.leads_below) if tp.leads_below else "no solution",
            ", ".join(tp.leads_above) if tp.leads_above else "no solution",
            "yes" if tp.proven else "no *",
        )
    console.print(t)
    if not all(tp.proven for tp in tips):
        console.print(
            "* not proven: a case beside it stopped at a limit, so its lead set may not be "
            "the optimum's",
            highlight=False,
        )
