"""How csu-opt stops on Ctrl-C and SIGTERM: one mechanism for every command.

Ctrl-C sends SIGINT; ``kill``, ``timeout`` and batch schedulers send SIGTERM. Both end a
command the same way: every solve and every child process stops, nothing half-written is
left where a result would be, a message says what was kept, and the exit code is 128 plus
the signal's number (130 for Ctrl-C, 143 for SIGTERM).

**The main process.** The command line installs :func:`handling` around every command
(``cli.main``; :func:`~csu_opt.analysis.runner.run_solve` installs it too, for library callers).
While installed, the first SIGINT or SIGTERM

- outside a run of HiGHS, raises :class:`Interrupted` at once (a ``KeyboardInterrupt``, so
  no ``except Exception`` swallows it); it unwinds through the ``with`` blocks that remove
  half-written folders (``runner.atomic_folder``) and stop worker pools, to the command's
  boundary, which prints the message and exits;
- while HiGHS runs (every ``run()`` is a :func:`deferred` region), only records the signal.
  Every HiGHS callback reads :func:`requested` (``ModelSession.solve`` adds it to the
  solve's ``should_stop``) and interrupts HiGHS at its next call; the region raises
  :class:`Interrupted` when the run returns. An exception is never raised inside a HiGHS
  callback: HiGHS would carry on for seconds and return the status "Not Set", which is not
  a result.

Later signals are ignored, so the clean-up is not cut short (SIGKILL still ends everything).

**Child processes** (sweep workers, the searches of ``--concurrent``) call
:func:`supervise` when they start. They ignore SIGINT (Ctrl-C reaches the whole process
group; the parent decides) and take SIGTERM as above, except that an idle child exits at
once. Their parent stops them with :func:`end_processes`: SIGTERM, then SIGKILL for any
still running :data:`STOP_GRACE_S` seconds later. A watch thread in every child also
stops it when its parent has gone (killed with SIGKILL, say), and ends it
:data:`CHILD_GRACE_S` seconds after any stop request, whatever its solve is doing. A child
runs each task in :func:`working`, which ends the process once an interrupted task has
cleaned up.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType

#: How long a child process may take to stop after SIGTERM before its parent kills it.
STOP_GRACE_S = 3.0
#: How long a child gives its own task to stop after a stop request before it exits anyway.
CHILD_GRACE_S = 2.0
#: How often a child's watch thread looks at its parent and at stop requests.
WATCH_S = 0.1

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """Stopped by Ctrl-C (SIGINT) or SIGTERM; whatever was half-done has been removed."""

    def __init__(self, signum: int):
        self.signum = int(signum)
        super().__init__(f"interrupted by {signal.Signals(self.signum).name}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class _State:
    """The process's stop state (signal handlers run in the main thread only)."""

    def __init__(self) -> None:
        self.installed = False  # the handlers of this module are in place
        self.child = False  # this process is a child started by csu-opt (supervise)
        self.caught: int | None = None  # the first signal caught, and when
        self.caught_at: float | None = None
        self.depth = 0  # nested deferred regions the main thread is in
        self.busy = False  # a child is running a task (working)
        self.on_stop: list[Callable[[], None]] = []  # what the deferred regions want told

    def reset(self) -> None:
        self.caught = self.caught_at = None


_state = _State()


def requested() -> int | None:
    """The signal that asked this process to stop, or None."""
    return _state.caught


def check() -> None:
    """Raise :class:`Interrupted` if a stop was requested."""
    if _state.caught is not None:
        raise Interrupted(_state.caught)


def or_requested(should_stop: Callable[[], bool] | None) -> Callable[[], bool]:
    """``should_stop`` that also answers True once a stop was requested (for HiGHS callbacks)."""
    if should_stop is None:
        return lambda: _state.caught is not None
    return lambda: _state.caught is not None or should_stop()


def _exit_code(signum: int) -> int:
    return 128 + int(signum)


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    first = _state.caught is None
    if first:
        _state.caught, _state.caught_at = signum, time.monotonic()
    if _state.child and not _state.busy:
        os._exit(_exit_code(signum))  # an idle child has nothing to clean up
    if not first:
        return
    if _state.depth > 0:
        for tell in list(_state.on_stop):
            tell()
        return
    raise Interrupted(signum)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def handling() -> Iterator[None]:
    """Within: SIGINT and SIGTERM stop the work as the module's docstring says.

    Installs the handlers (main thread only; a signal ignored when the process started, as
    under ``nohup``, stays ignored) and restores the previous ones on leaving. Nested uses
    and other threads leave things as they are.
    """
    if _state.installed or not _main_thread():
        yield
        return
    previous = {}
    for sig in _SIGNALS:
        if signal.getsignal(sig) is not signal.SIG_IGN:
            previous[sig] = signal.signal(sig, _on_signal)
    _state.installed = True
    _state.reset()
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        _state.installed = False
        _state.reset()


@contextlib.contextmanager
def deferred(on_stop: Callable[[], None] | None = None) -> Iterator[None]:
    """A region (a run of HiGHS) in which a signal only records the stop request.

    ``on_stop`` is called (from the signal handler) when a signal arrives inside the region,
    for solvers that do not read :func:`requested` themselves. When the outermost region
    ends after a stop request, :class:`Interrupted` is raised, also in place of an error
    that the stop caused. Outside the main thread the region does nothing.
    """
    if not _main_thread():
        yield
        return
    _state.depth += 1
    if on_stop is not None:
        _state.on_stop.append(on_stop)
    try:
        yield
    except Exception as exc:
        if _state.depth == 1 and _state.caught is not None:
            raise Interrupted(_state.caught) from exc
        raise
    finally:
        _state.depth -= 1
        if on_stop is not None:
            _state.on_stop.remove(on_stop)
    if _state.depth == 0:
        check()


# --------------------------------------------------------------------------- children


def supervise(parent: int, grace_s: float = CHILD_GRACE_S) -> None:
    """Set up a child process started by the process ``parent`` (call first thing in it;
    ``parent`` is the starter's ``os.getpid()``, passed along: by the time a child runs
    this, a parent killed meanwhile is no longer ``os.getppid()``)."""
    _state.child = True
    _state.installed = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_signal)
    threading.Thread(
        target=_watch, args=(parent, grace_s), name="csu-opt-stop-watch", daemon=True
    ).start()


def _watch(parent: int, grace_s: float) -> None:
    """Stop this child when its parent has gone; end it ``grace_s`` after any stop request."""
    orphaned_at: float | None = None
    main = threading.main_thread().ident
    while True:
        if orphaned_at is None and os.getppid() != parent:
            orphaned_at = time.monotonic()
            if main is not None:  # as if the parent had sent SIGTERM
                signal.pthread_kill(main, signal.SIGTERM)
        asked = [t for t in (orphaned_at, _state.caught_at) if t is not None]
        if asked and (not _state.busy or time.monotonic() - min(asked) > grace_s):
            os._exit(_exit_code(_state.caught or signal.SIGTERM))
        time.sleep(WATCH_S)


@contextlib.contextmanager
def working() -> Iterator[None]:
    """In a child process: one task. A stop ends the process once the task has cleaned up."""
    _state.busy = True
    try:
        yield
    except Interrupted as exc:
        os._exit(exc.exit_code)
    finally:
        _state.busy = False


def end_processes(
    procs: Sequence[BaseProcess], wait_s: float = 0.0, kill_after_s: float = STOP_GRACE_S
) -> None:
    """Let ``procs`` end by themselves for up to ``wait_s`` seconds, then send the rest
    SIGTERM, and SIGKILL whatever is still running ``kill_after_s`` seconds later."""

    def running(timeout: float) -> list[BaseProcess]:
        left = [p for p in procs if p.exitcode is None]
        deadline = time.monotonic() + timeout
        while left:
            ready = wait([p.sentinel for p in left], max(0.0, deadline - time.monotonic()))
            left = [p for p in left if p.sentinel not in ready]
            if not ready:
                break
        return left

    alive = running(wait_s)
    for p in alive:
        p.terminate()
    for p in running(kill_after_s):
        p.kill()
    for p in procs:
        p.join(timeout=1.0)
