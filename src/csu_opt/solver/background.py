"""Network exchange in the background, while the LP stage runs (issue 19).

On national models the root reduction's LP stage (column generation, then the Lagrangian
ascent) holds this process's core for most of the first half of the time limit, and with
``--concurrent N`` the other cores would wait. :class:`Background` runs network exchange
(:func:`csu_opt.solver.exchange.exchange`) from the greedy start meanwhile: its loop on a
thread of this process, its sub-MIPs on N - 1 worker processes (:class:`SubPool`). HiGHS
lets go of Python's lock while it solves, so the loop's own work (cutting sub-MIPs out of
the matrix, checking the rows a result moves) goes on beside the LP. When the LP stage ends,
:meth:`Background.finish` stops the exchange and hands over its network, which is a whole
network whatever the moment: every network the exchange keeps meets every row.

Only the main thread handles signals: the loop stops at a Ctrl-C or SIGTERM as soon as it
next looks (:func:`csu_opt.stops.requested`), and :meth:`finish`, called from the main
thread's ``finally``, ends the worker processes.
"""

from __future__ import annotations

import math
import threading
import time

import numpy as np

from csu_opt import stops
from csu_opt.model.blocks import MatrixModel
from csu_opt.solver import exchange
from csu_opt.solver.alternate import Shape
from csu_opt.solver.submip import SubPool

#: What summary.json's ``network_exchange`` records say the background exchange ran during.
DURING = "LP stage"


class Background:
    """Network exchange from ``network`` (layout order) on a thread, its sub-MIPs on
    ``workers`` worker processes, until :meth:`finish` (or until it ends by itself: a pass
    of every kind of move with no gain). :attr:`best` is the cost of its best network so
    far, for the heartbeat."""

    def __init__(self, mm: MatrixModel, shape: Shape, network: np.ndarray, workers: int):
        self.best = mm.cost(network)
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

    def _better(self, cost: float) -> None:
        self.best = cost

    def _run(self, mm: MatrixModel, shape: Shape, network: np.ndarray) -> None:
        try:
            self._got = exchange.exchange(
                mm, shape, network, math.inf, self._stop, self._better, pool=self._pool
            )
        except BaseException as exc:  # handed to the main thread by finish
            self._error = exc

    def ended(self) -> bool:
        """Whether the exchange has ended by itself (or by a stop request)."""
        return not self._thread.is_alive()

    def finish(self) -> exchange.Exchange:
        """Stop the exchange (a sub-MIP running returns its best so far), end the worker
        processes and return what it found (``interrupted`` only if a stop request ended
        it); an error in it is raised here."""
        self._halt.set()
        self._thread.join()
        self._pool.close()
        self.seconds = time.perf_counter() - self._t0
        if self._error is not None:
            raise self._error
        got = self._got
        assert got is not None
        got.interrupted = stops.requested() is not None  # not when finish ended it
        return got
