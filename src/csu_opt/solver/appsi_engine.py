"""The Pyomo path to HiGHS: the model of :mod:`csu_opt.model.pyomo_model` handed over by appsi.

Kept apart from :mod:`csu_opt.solver.engines` so that only a Pyomo-path solve imports Pyomo
(about 0.3-0.5 s of start-up, issue 19): :class:`csu_opt.solver.solve.ModelSession` imports this
module when it chooses the Pyomo backend.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import numpy as np
from pyomo.contrib.appsi import solvers as appsi

from csu_opt import stops
from csu_opt.model.index import ModelIndex
from csu_opt.model.pyomo_model import build_model
from csu_opt.solver.engines import highs_options_of, layout_of
from csu_opt.solver.highs import Highs
from csu_opt.solver.options import SolveOptions

_UPDATE_FLAGS = (
    "check_for_new_or_removed_constraints",
    "check_for_new_or_removed_vars",
    "check_for_new_or_removed_params",
    "check_for_new_objective",
    "update_constraints",
    "update_vars",
    "update_named_expressions",
    "update_objective",
)

# --------------------------------------------------------------------------- appsi's privates
# Pyomo's appsi (6.10) has no public way to reach the highspy object it drives or the HiGHS
# column of a variable; these two functions are the only places csu-opt reads its private
# attributes, and tests/solver/test_appsi.py fails loudly should a Pyomo upgrade remove them.


def appsi_highs(opt: appsi.Highs) -> Highs | None:
    """The highspy object appsi's ``opt`` drives (None before ``opt`` has created one)."""
    return getattr(opt, "_solver_model", None)


def appsi_columns(opt: appsi.Highs) -> dict[int, int]:
    """HiGHS's column of each variable appsi's ``opt`` handed over, by ``id(var)``."""
    columns: dict[int, int] = opt._pyomo_var_to_solver_var_map
    return columns


class _InterruptStatus(logging.Filter):
    """Drops appsi's warning "Received unhandled status=<HighsModelStatus.kInterrupt ...>"."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not ("unhandled status" in message and "kInterrupt" in message)


@contextlib.contextmanager
def handled_interrupt_status() -> Iterator[None]:
    """While inside, Pyomo's appsi does not warn of HiGHS's status kInterrupt.

    appsi (Pyomo 6.10) logs "Received unhandled status=kInterrupt" whenever HiGHS stops at a
    user interrupt: a stop request, or the end of the main search's share before a polish.
    csu-opt reads HiGHS's status itself (:func:`csu_opt.solver.highs.status_of`), so that
    warning is noise.
    """
    log = logging.getLogger("pyomo.contrib.appsi.solvers.highs")
    quiet = _InterruptStatus()
    log.addFilter(quiet)
    try:
        yield
    finally:
        log.removeFilter(quiet)


class PyomoEngine:
    """The reference path: the Pyomo model of :mod:`csu_opt.model.pyomo_model`, handed over by
    appsi."""

    interface = "pyomo.appsi"

    def __init__(self, ix: ModelIndex, options: SolveOptions, mutable: bool):
        self.ix = ix
        self.model = build_model(ix, valid_inequalities=options.valid_inequalities, mutable=mutable)
        self.mutable = mutable
        self.opt = appsi.Highs()
        self.loaded = False

    def set_parameters(self, lead_min: int | None, lead_max: int | None, scale: float) -> None:
        m = self.model
        m.lead_min.value = float(lead_min or 0)
        m.lead_max.value = float(lead_max if lead_max is not None else len(self.ix.leads))
        m.demand_scale.value = float(scale)

    def prepare(self, options: SolveOptions) -> Highs:
        opt = self.opt
        opt.config.stream_solver = False
        opt.config.load_solution = False
        opt.config.logfile = str(options.log_file) if options.log_file is not None else ""
        opt.config.time_limit = (
            float(options.time_limit) if options.time_limit is not None else None
        )
        opt.config.mip_gap = float(options.mip_gap)
        opt.highs_options = highs_options_of(options)
        if not self.loaded:
            opt.set_instance(self.model)
            for flag in _UPDATE_FLAGS:
                setattr(opt.update_config, flag, False)
            opt.update_config.update_params = self.mutable
            self.loaded = True
        h = appsi_highs(opt)
        assert h is not None  # set_instance created it
        return h

    def set_time_limit(self, seconds: float | None) -> None:
        self.opt.config.time_limit = seconds

    def run(self) -> None:
        with stops.deferred(), handled_interrupt_status():
            self.opt.solve(self.model)

    def solver_columns(self) -> np.ndarray:
        """HiGHS's column of every variable in the u|a|w|z|x layout (-1: not in HiGHS)."""
        vmap = appsi_columns(self.opt)
        return np.concatenate(
            [
                np.fromiter((vmap.get(id(v), -1) for v in var.values()), int, len(var))
                for var in (getattr(self.model, n) for n in ("u", "a", "w", "z", "x"))
            ]
        )

    def values(self, col: np.ndarray) -> dict[str, np.ndarray]:
        idx = self.solver_columns()
        vals = np.zeros(len(idx))
        vals[idx >= 0] = col[idx[idx >= 0]]
        return layout_of(self.ix).split(vals)
