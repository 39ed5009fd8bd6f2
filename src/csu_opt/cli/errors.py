"""The command line's one exception boundary: each error class -> its exit code and one line.

Every command runs inside :func:`boundary` (the command group wraps them all), so no command
catches an error to print it. The exit codes are the README's ("Exit codes"):

====  =====================================================================================
0     done; a solution was found (optimal, or feasible at a limit)
1     invalid input: an instance (every problem listed), a result folder, a file
2     usage error: an option value or an override that cannot be applied
3     proven infeasible
4     no feasible solution within the limits
5     the solution failed independent verification (a bug, reported loudly)
70    internal error (a bug): "please report it"; ``csu-opt --debug`` shows the traceback
130   stopped by Ctrl-C (143 by SIGTERM): 128 + the signal's number, csu_opt.stops
====  =====================================================================================
"""

from __future__ import annotations

import signal
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, cast

import click
from rich.console import Console
from rich.markup import escape

from csu_opt.errors import CsuOptError, InstanceError, UsageError
from csu_opt.present.render import print_lines, print_problems
from csu_opt.results.run import NoNetwork, ResultFolderError
from csu_opt.results.solution import Status
from csu_opt.stops import Interrupted

OK = 0
INVALID = 1
USAGE = 2
INFEASIBLE = 3
NO_SOLUTION = 4
UNVERIFIED = 5
INTERNAL = 70  # EX_SOFTWARE of sysexits.h

#: A solve's status -> the command's exit code.
STATUS_EXIT: dict[Status, int] = {
    Status.OPTIMAL: OK,
    Status.FEASIBLE: OK,
    Status.INFEASIBLE: INFEASIBLE,
    Status.NO_SOLUTION: NO_SOLUTION,
}

#: Each error class, most specific first -> (exit code, the label of its line).
#: NoNetwork's code is its status's; InstanceError lists its problems after the line.
ERRORS: tuple[tuple[type[BaseException], int, str], ...] = (
    (InstanceError, INVALID, "error"),
    (UsageError, USAGE, "usage error"),
    (ResultFolderError, INVALID, "error"),
    (NoNetwork, NO_SOLUTION, "error"),
    (CsuOptError, INVALID, "error"),
)

#: click.get_current_context().meta key of what a stop keeps (see :func:`on_stop`).
_STOPPED = "csu_opt.stopped"
_DEBUG = "csu_opt.debug"
DEFAULT_STOPPED = "no result folder was written"

err_console = Console(stderr=True)


def status_exit(status: Status) -> int:
    """The exit code of a command whose answer is a solve with this status."""
    return STATUS_EXIT[status]


def on_stop(kept: str | Callable[[], str]) -> None:
    """Say what a stop (Ctrl-C, SIGTERM) of the running command keeps; a callable is asked
    at the stop. Default: "no result folder was written"."""
    click.get_current_context().meta[_STOPPED] = kept


def set_debug(debug: bool) -> None:
    """``csu-opt --debug``: an internal error shows its traceback."""
    click.get_current_context().meta[_DEBUG] = debug


def exit_code(exc: BaseException) -> int:
    """The exit code of an error (INTERNAL for anything that is not csu-opt's own)."""
    if isinstance(exc, NoNetwork):
        return status_exit(exc.status)
    for cls, code, _label in ERRORS:
        if isinstance(exc, cls):
            return code
    return INTERNAL


def print_error(exc: BaseException, console: Console = err_console, debug: bool = False) -> int:
    """Print ``exc`` as a person reads it (one red line; an instance's located problems;
    a traceback only for an internal error under ``debug``) and return its exit code."""
    code = exit_code(exc)
    if isinstance(exc, InstanceError):
        print_problems(console, exc)
        return code
    if code == INTERNAL:
        if debug:
            console.print(
                "".join(traceback.format_exception(exc)), markup=False, highlight=False, end=""
            )
        where = "" if debug else " (csu-opt --debug ... shows the traceback)"
        _line(console, "internal error, please report it", f"{type(exc).__name__}: {exc}{where}")
        return code
    label = next(label for cls, _code, label in ERRORS if isinstance(exc, cls))
    _line(console, label, str(exc))
    if isinstance(exc, NoNetwork) and exc.explanation:  # why, proven: the answer, on stdout
        print_lines(Console(), exc.explanation)
    return code


def _line(console: Console, label: str, message: str) -> None:
    console.print(f"[bold red]{label}:[/] {escape(message)}", highlight=False, soft_wrap=True)


def _stopped(exc: KeyboardInterrupt, kept: str | Callable[[], str]) -> int:
    stop = exc if isinstance(exc, Interrupted) else Interrupted(signal.SIGINT)
    said = escape(kept() if callable(kept) else kept)
    err_console.print(f"[bold red]stopped:[/] {stop}; {said}", highlight=False)
    return stop.exit_code


@contextmanager
def boundary() -> Iterator[None]:
    """Run a command: click's own exits and usage errors pass; everything else ends here
    as :func:`print_error` prints it, with its exit code; a stop as :mod:`csu_opt.stops` says."""
    try:
        yield
    except (click.exceptions.Exit, click.ClickException, click.Abort):
        raise
    except KeyboardInterrupt as exc:
        kept = cast("str | Callable[[], str]", _meta(_STOPPED, DEFAULT_STOPPED))
        _exit(_stopped(exc, kept))
    except Exception as exc:  # the boundary: every error ends here, never as a traceback
        _exit(print_error(exc, debug=bool(_meta(_DEBUG, False))))


class Command(click.Command):
    """A command that runs inside :func:`boundary` also when invoked alone (not through the
    ``csu-opt`` group, e.g. by a test's CliRunner)."""

    def invoke(self, ctx: click.Context) -> Any:
        with boundary():
            return super().invoke(ctx)


def _meta(key: str, default: object) -> object:
    ctx = click.get_current_context(silent=True)
    return default if ctx is None else ctx.meta.get(key, default)


def _exit(code: int) -> NoReturn:
    sys.exit(code)
