"""Child processes for the stop tests: ``csu-opt`` in its own process group with its output
collected as it comes, the processes of a group, and waits with a deadline.

Waits are event-driven: a wait for the child's output wakes when a line arrives (the readers
notify a condition); a wait for something with no event to wake on (a file, a database row,
CPU time) re-checks it every ``POLL_S`` until its deadline. No test waits a fixed time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: how often a condition without an event (a file, a row, CPU time) is re-checked
POLL_S = 0.05


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (state, ppid, pgid, ..., utime,
    stime), or None when the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def group_alive(pgid: int) -> list[int]:
    """Live processes (zombies count as gone) of the process group ``pgid``."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat(int(entry.name))
        if fields is not None and int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(entry.name))
    return alive


def cpu_seconds(pid: int) -> float:
    fields = _stat(pid)
    if fields is None:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def holds_within(
    condition: Callable[[], object],
    timeout: float,
    event: threading.Condition | None = None,
) -> bool:
    """Whether ``condition()`` comes to hold within ``timeout`` seconds: re-checked whenever
    ``event`` is notified, and at least every POLL_S for what no event signals."""
    deadline = time.monotonic() + timeout
    event = event or threading.Condition()
    with event:
        while not condition():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            event.wait(min(left, POLL_S))
    return True


def wait_until(
    condition: Callable[[], object],
    timeout: float,
    what: str,
    event: threading.Condition | None = None,
) -> None:
    """Return once ``condition()`` holds; fail, naming ``what``, after ``timeout`` seconds."""
    assert holds_within(condition, timeout, event), f"{what} did not happen within {timeout:.0f}s"


def stderr_lines(capfd: Any, n: int, timeout: float, what: str) -> str:
    """What ``capfd`` captured on stderr, once it holds ``n`` whole lines (``what`` names them
    if they do not come within ``timeout`` seconds)."""
    text = ""

    def enough() -> bool:
        nonlocal text
        text += capfd.readouterr().err
        return text.count("\n") >= n

    wait_until(enough, timeout, what)
    return text


#: ``csu-opt`` with Ctrl-C's default action, as in a foreground shell, even when the tests
#: run where SIGINT is ignored (a background job)
CSU_OPT = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "from csu_opt.cli.main import main; sys.exit(main())"
)


class Command:
    """``csu-opt ARGS`` in its own process group, its output collected as it comes."""

    def __init__(self, *args: object, cwd: Path | None = None):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CSU_OPT, *map(str, args)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            start_new_session=True,
        )
        self.pgid = self.proc.pid
        self._out: list[str] = []
        self._err: list[str] = []
        #: notified on every line the command writes, and when it ends
        self.news = threading.Condition()
        self._readers = [
            threading.Thread(target=self._read, args=(s, b), daemon=True)
            for s, b in ((self.proc.stdout, self._out), (self.proc.stderr, self._err))
        ]
        for t in self._readers:
            t.start()

    def _read(self, stream, buffer: list[str]) -> None:
        for line in stream:
            with self.news:
                buffer.append(line)
                self.news.notify_all()
        with self.news:  # end of output: the command has ended (or closed its streams)
            self.news.notify_all()

    @property
    def out(self) -> str:
        return "".join(self._out)

    @property
    def err(self) -> str:
        return "".join(self._err)

    def wait_for(self, condition: Callable[[], object], timeout: float, what: str) -> None:
        """Wait until ``condition()`` holds while the command runs."""

        def met() -> object:
            assert self.proc.poll() is None, f"ended ({self.proc.returncode}): {self.err}"
            return condition()

        wait_until(met, timeout, what, event=self.news)

    def stop(self, sig: int, timeout: float = 60) -> int:
        """Send ``sig`` to the command (not its group, as kill or a scheduler does); its
        exit code."""
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        for t in self._readers:
            t.join(timeout=5)
        return code

    def left_after(self, seconds: float) -> list[int]:
        """Processes of the group still alive ``seconds`` after the command ended."""
        holds_within(lambda: not group_alive(self.pgid), seconds)
        return group_alive(self.pgid)

    def kill(self) -> None:
        for pid in group_alive(self.pgid):
            os.kill(pid, signal.SIGKILL)
