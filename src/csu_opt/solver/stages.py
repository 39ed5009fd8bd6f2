"""The pieces a solve's stages share: progress reports per stage, the reduction's log, the
callbacks HiGHS calls (progress, the main share of a concurrent race).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csu_opt.solver.highs import Highs, finite_or_none, gap
from csu_opt.solver.late import LateReduction
from csu_opt.solver.options import Progress, SolveOptions
from csu_opt.solver.reduce import Reduction

#: The solve's own log records (the root reduction's account), written after HiGHS's log.
log = logging.getLogger("csu_opt.solver")


@contextlib.contextmanager
def logging_to(path: Path | None) -> Iterator[None]:
    """While inside, ``csu_opt.solver``'s records (INFO and above) are appended to ``path``
    (the solve's highs.log) as plain lines; without a path they go where the application's
    logging sends them."""
    if path is None:
        yield
        return
    handler = logging.FileHandler(path, mode="a", encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.setLevel(logging.INFO)
    level = log.level
    log.addHandler(handler)
    if log.getEffectiveLevel() > logging.INFO:
        log.setLevel(logging.INFO)
    try:
        yield
    finally:
        log.removeHandler(handler)
        handler.close()
        log.setLevel(level)


def stage_reporter(
    report: Callable[[Progress], None] | None, t_start: float
) -> Callable[[str, float | None, float | None], None] | None:
    """The root reduction's (stage, incumbent, bound) as Progress, timed from the solve's start."""
    if report is None:
        return None

    def on_stage(stage: str, incumbent: float | None, bound: float | None) -> None:
        elapsed = time.perf_counter() - t_start
        report(Progress(elapsed, incumbent, bound, gap(incumbent, bound), stage))

    return on_stage


def combined_reporter(
    report: Callable[[Progress], None], red: Reduction
) -> Callable[[Progress], None]:
    """A progress callback that reports HiGHS's bound combined with the reduction's."""

    def on_progress(p: Progress) -> None:
        bound = red.combined_bound(p.bound)
        report(Progress(p.elapsed_s, p.incumbent, bound, gap(p.incumbent, bound)))

    return on_progress


def log_reduction(red: Reduction, skipped: bool) -> None:
    """Log what the root reduction did (into highs.log, inside :func:`logging_to`)."""
    rounds = f", {red.lp_rounds} column-generation rounds" if red.lp_rounds else ""
    lines = [
        "",
        "csu-opt root reduction (csu_opt.solver.reduce), before the run above:",
        f"  aggregate relaxation (csu_opt.solver.bounds): bound {red.aggregate_bound}",
        f"  LP relaxation: {red.lp_status}, bound {red.lp_objective}, {red.lp_s:.2f} s{rounds}",
    ]
    if red.lagrangian_bound is not None:
        ascent = (
            f" (raised from {red.ascent_from} by {red.ascent_steps} subgradient steps in "
            f"{red.ascent_s:.2f} s)"
            if red.ascent_steps
            else ""
        )
        found = red.lagrangian_bound
        lines.append(f"  Lagrangian bound (csu_opt.solver.lagrange): {found}{ascent}")
    lines += [
        f"  incumbent: {red.incumbent_objective} from {red.incumbent_source} "
        f"(restricted MIP {red.sub_s:.2f} s)",
        f"  reduced-cost fixing: {len(red.fixed_zero)} binaries to 0, {len(red.fixed_one)} to 1",
    ]
    if skipped:
        lines.append("  HiGHS's branch-and-bound was not run (gap reached, interrupted or no time)")
    log.info("\n".join(lines))


def log_late_reduction(late: LateReduction) -> None:
    """Log what the watch on HiGHS's root did (into highs.log, inside :func:`logging_to`)."""
    found = late.root_gap
    shown = "no network" if found is None else f"gap {found:.2%}"
    lines = [
        "",
        "csu-opt root reduction after HiGHS's root (csu_opt.solver.late), inside the run above:",
        f"  at {late.at_s:.2f} s HiGHS's root left {shown} (threshold {late.threshold:.0%})",
    ]
    red = late.reduction
    if red is not None:
        handed = "handed to HiGHS" if late.handed else "not better than HiGHS's own"
        lines += [
            f"  LP relaxation: {red.lp_status}, bound {red.lp_objective}, {red.lp_s:.2f} s",
            f"  incumbent: {red.incumbent_objective} from {red.incumbent_source} "
            f"(restricted MIP {red.sub_s:.2f} s; {late.time_s:.2f} s in all), {handed}",
        ]
        comp = late.complement
        if comp is not None:
            again = "; unproven, the whole model searched again" if late.whole_again else ""
            lines.append(
                f"  restricted MIP proven: search split, complement ({comp.columns} binaries in "
                f"the piercing cut, cutoff {comp.cutoff:,.2f}) {comp.end.model_status} in "
                f"{comp.time_s:.2f} s{again}"
            )
    elif late.error is not None:
        lines.append(f"  the reduction failed, the search went on without it: {late.error}")
    else:
        lines.append("  the reduction was not run")
    log.info("\n".join(lines))


def reduction_settles(red: Reduction, options: SolveOptions, t_start: float) -> bool:
    """True when the root reduction leaves HiGHS nothing to do: interrupted, the incumbent
    within the gap of the LP bound, or no time left."""
    if red.interrupted or red.settled(options.mip_gap):
        return True
    return (
        options.time_limit is not None
        and time.perf_counter() - t_start >= options.time_limit
        and red.incumbent is not None
    )


@dataclass
class MainShare:
    """Ends the main search at its share of the time limit (``--polish``) once it has a
    network; without one it searches on, and the polish gets whatever time is left."""

    deadline: float
    ended: bool = False

    def due(self, incumbent: float | None) -> bool:
        if not self.ended and incumbent is not None and time.perf_counter() >= self.deadline:
            self.ended = True
        return self.ended


def attach_callbacks(h: Highs, options: SolveOptions, share: MainShare | None = None) -> None:
    if (
        options.callbacks.on_progress is None
        and options.callbacks.should_stop is None
        and share is None
    ):
        h.cbMipInterrupt.clear()
        return

    def on_interrupt(event: Any) -> None:
        out = event.data_out
        if options.callbacks.on_progress is not None:
            options.callbacks.on_progress(
                Progress(
                    elapsed_s=float(out.running_time),
                    incumbent=finite_or_none(out.mip_primal_bound),
                    bound=finite_or_none(out.mip_dual_bound),
                    gap=finite_or_none(out.mip_gap)
                    if finite_or_none(out.mip_primal_bound)
                    else None,
                )
            )
        stop = options.callbacks.should_stop is not None and options.callbacks.should_stop()
        ended = share is not None and share.due(finite_or_none(out.mip_primal_bound))
        # set, or reset: HiGHS keeps an interrupt request across runs of one object (highspy
        # 1.15.1, measured), and the polish or the next solve runs on this one
        event.data_in.user_interrupt = bool(stop or ended)

    h.cbMipInterrupt.clear()
    h.cbSimplexInterrupt.clear()
    h.cbIpmInterrupt.clear()
    h.cbMipInterrupt.subscribe(on_interrupt)
    if options.callbacks.should_stop is not None:
        stop_lp = lambda event: event.interrupt() if options.callbacks.should_stop() else None  # noqa: E731
        h.cbSimplexInterrupt.subscribe(stop_lp)
        h.cbIpmInterrupt.subscribe(stop_lp)
