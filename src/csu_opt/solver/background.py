"""Network exchange in the background, while the LP stage runs (issue 19).

On national models the root reduction's LP stage (column generation, then the Lagrangian
ascent) and its restricted MIPs hold this process's core for most of the time limit, and
with ``--concurrent N`` the other cores would wait for the reduction's own network
exchange at its end. :class:`Background` runs network exchange
(:func:`csu_opt.solver.exchange.exchange`) from the greedy start meanwhile: its loop on a
thread of this process, its sub-MIPs on N - 1 worker processes (:class:`SubPool`). HiGHS
lets go of Python's lock while it solves, so the loop's own work (cutting sub-MIPs out of
the matrix, checking the rows a result moves) goes on beside the LP. The reduction reads
its best network when the LP stage ends (:meth:`Background.peek`) and stops it before its
own exchange (:meth:`Background.finish`); either network is whole whatever the moment:
every network the exchange keeps meets every row.

Only the main thread handles signals: the loop stops at a Ctrl-C or SIGTERM as soon as it
next looks (:func:`csu_opt.stops.requested`), and :func:`during_reduction` ends the worker
processes when the reduction is left, however it is left.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Iterator

import numpy as np

from csu_opt import stops
from csu_opt.model.blocks import MatrixModel
from csu_opt.solver import exchange
from csu_opt.solver.alternate import Shape
from csu_opt.solver.submip import SubPool

#: What summary.json's ``network_exchange`` records say the background exchange ran during.
DURING = "LP stage and restricted MIPs"


class Background:
    """Network exchange from ``network`` (layout order) on a thread, its sub-MIPs on
    ``workers`` worker processes, until :meth:`finish` (or until it ends by itself: a pass
    of every kind of move with no gain). :attr:`best` is the cost of its best network so
    far, for the heartbeat."""

    def __init__(self, mm: MatrixModel, shape: Shape, network: np.ndarray, workers: int):
        self._best = (network, mm.cost(network))  # (one assignment: read whole by peek)
        self.seconds = 0.0
        self._halt = threading.Event()
        self._got: exchange.Exchange | None = None
        self._error: BaseException | None = None
        self._t0 = time.perf_counter()
        self._pool = SubPool(workers)  # here, in the main thread (the workers' set-up)
        self._thread = threading.Thread(
            target=self._run, args=(mm, shape, network), name="csu-opt-exchange", daemon=True
        )
        self._thread.start()

    def _stop(self) -> bool:
        return self._halt.is_set() or stops.requested() is not None

    def _better(self, network: np.ndarray, cost: float) -> None:
        self._best = (network, cost)

    @property
    def best(self) -> float:
        """The cost of its best network so far."""
        return self._best[1]

    def peek(self) -> tuple[np.ndarray, float]:
        """Its best network so far (layout order; whole) and its cost, while it goes on."""
        return self._best

    def _run(self, mm: MatrixModel, shape: Shape, network: np.ndarray) -> None:
        try:
            self._got = exchange.exchange(
                mm, shape, network, math.inf, self._stop, pool=self._pool, on_network=self._better
            )
        except BaseException as exc:  # handed to the main thread by finish
            self._error = exc

    def ended(self) -> bool:
        """Whether the exchange has ended by itself (or by a stop request)."""
        return not self._thread.is_alive()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` (or :meth:`finish`) was called."""
        return self._halt.is_set()

    def close(self) -> None:
        """Stop the exchange and end the worker processes (again: nothing). Should a
        signal interrupt the wait for the thread, the workers are ended all the same."""
        if self.closed:
            return
        self._halt.set()
        try:
            self._thread.join()
        finally:
            self._pool.close()
            self.seconds = time.perf_counter() - self._t0

    def finish(self) -> exchange.Exchange:
        """Stop the exchange (a sub-MIP running returns its best so far), end the worker
        processes (:meth:`close`) and return what it found (``interrupted`` only if a stop
        request ended it); an error in it is raised here."""
        self.close()
        if self._error is not None:
            raise self._error
        got = self._got
        assert got is not None
        got.interrupted = stops.requested() is not None  # not when finish ended it
        return got


@contextlib.contextmanager
def during_reduction(
    mm: MatrixModel, shape: Shape | None, start: np.ndarray | None, workers: int, national: bool
) -> Iterator[Background | None]:
    """A :class:`Background` exchange from ``start`` on ``workers`` - 1 worker processes for
    the root reduction of a ``national`` model (the LP by column generation over links and
    flows) with partner links, when it has a start and more than one worker (else None);
    stopped, its workers ended, on leaving."""
    behind = None
    if national and workers > 1 and start is not None and shape is not None and mm.layout.n_w:
        behind = Background(mm, shape, start, workers - 1)
    try:
        yield behind
    finally:
        if behind is not None:
            behind.close()
