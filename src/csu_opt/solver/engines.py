"""The two ways a model reaches HiGHS: the Pyomo model through appsi (the reference path) and the
same model as arrays straight into highspy (``matrix``), chosen by size (``auto``).

Each engine builds the model once, hands it over, changes the mutable parameters of a sweep
and maps HiGHS's columns back to the model's variables.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import numpy as np
from pyomo.contrib.appsi import solvers as appsi

from csu_opt import stops
from csu_opt.model.blocks import Layout
from csu_opt.model.index import ModelIndex
from csu_opt.model.matrix import build_matrix
from csu_opt.model.pyomo_model import build_model
from csu_opt.solver.highs import (
    Highs,
    log_to,
    pass_to_highs,
    quiet_highs,
    set_options,
    set_time_limit,
)
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

#: ``backend="auto"`` uses the matrix path from this many (estimated) nonzeros up, and Pyomo
#: below. Measured (benchmarks/README.md): Pyomo's build + hand-over + load costs about
#: 10-30 µs per nonzero (0.5 s for England 2014's 36k), the matrix path 0.5-3 µs; below
#: 50k nonzeros Pyomo's cost stays under about 0.7 s, so the reference modelling layer
#: keeps the small instances and everything larger goes the fast way.
AUTO_MATRIX_NNZ = 50_000

#: A demand-scale change on a live matrix model is pushed coefficient by coefficient
#: (``changeCoeff``, about 1.2 µs each) up to this many entries; above, the model is handed
#: over again (passModel, cheaper at that size; HiGHS does not warm-start a MIP after a
#: coefficient change either way).
COEFF_LOOP_MAX = 200_000


def estimate_nonzeros(ix: ModelIndex) -> int:
    """Nonzeros of the model, estimated from the index frames without building it.

    z appears in C4 (twice) and once per demanded line in C5; x in C5, C6 (twice) and often
    C9/C11; w in C2 (three times), C3 (once) and C8.
    """
    per_ccg = len(ix.demand) / max(len(ix.ccgs), 1)
    return int(len(ix.assign) * (3 + per_ccg) + 4 * len(ix.flows) + 6 * len(ix.links))


def choose_backend(ix: ModelIndex, backend: str) -> str:
    """``pyomo`` or ``matrix`` for ``backend`` (``auto`` decides by model size)."""
    if backend == "auto":
        return "matrix" if estimate_nonzeros(ix) >= AUTO_MATRIX_NNZ else "pyomo"
    if backend not in ("pyomo", "matrix"):
        raise ValueError(f"unknown backend {backend!r}: use 'auto', 'pyomo' or 'matrix'")
    return backend


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


class MatrixEngine:
    """The fast path: the same model as arrays (:mod:`csu_opt.model.matrix`) handed to highspy."""

    interface = "highspy.matrix"

    def __init__(self, ix: ModelIndex, options: SolveOptions, mutable: bool):
        self.ix = ix
        self.mm = build_matrix(ix, valid_inequalities=options.valid_inequalities, mutable=mutable)
        self.h = quiet_highs()
        self.loaded = False
        self.scale = 1.0

    def set_parameters(self, lead_min: int | None, lead_max: int | None, scale: float) -> None:
        mm, h = self.mm, self.h
        rescaled = mm.set_parameters(lead_min, lead_max, scale)
        if not self.loaded:
            return
        r = int(mm.lead_row)  # type: ignore[arg-type]
        h.changeRowBounds(r, mm.row_lower[r], mm.row_upper[r])
        if not rescaled:
            return
        rows = mm.scaled_lower_rows
        if len(rows):
            h.changeRowsBounds(  # type: ignore[attr-defined]
                len(rows), rows.astype(np.int32), mm.row_lower[rows], mm.row_upper[rows]
            )
        if len(mm.scaled_pos) > COEFF_LOOP_MAX:
            self.loaded = False  # hand the whole model over again at the next solve
            return
        row_of = np.searchsorted(mm.start, mm.scaled_pos, side="right") - 1
        for r, c, v in zip(
            row_of.tolist(),
            mm.highs_col[mm.index[mm.scaled_pos]].tolist(),
            mm.value[mm.scaled_pos].tolist(),
            strict=True,
        ):
            h.changeCoeff(r, c, v)

    def prepare(self, options: SolveOptions) -> Highs:
        h = self.h
        if not self.loaded:
            h.setOptionValue("output_flag", False)
            pass_to_highs(h, self.mm)
            self.loaded = True
        # the settings appsi makes in the Pyomo path, in the same order
        log_to(h, str(options.log_file) if options.log_file else "")
        set_time_limit(h, options.time_limit)
        h.setOptionValue("mip_rel_gap", float(options.mip_gap))
        set_options(h, highs_options_of(options))
        return h

    def set_time_limit(self, seconds: float | None) -> None:
        set_time_limit(self.h, seconds)

    def run(self) -> None:
        with stops.deferred():
            self.h.run()

    def solver_columns(self) -> np.ndarray:
        """HiGHS's column of every variable in the u|a|w|z|x layout."""
        return self.mm.highs_col

    def values(self, col: np.ndarray) -> dict[str, np.ndarray]:
        return self.mm.layout.split(col[self.mm.highs_col])


def layout_of(ix: ModelIndex) -> Layout:
    return Layout(len(ix.leads), len(ix.providers), len(ix.links), len(ix.assign), len(ix.flows))


def highs_options_of(options: SolveOptions) -> dict[str, Any]:
    opts: dict[str, Any] = {"log_to_console": False, "random_seed": int(options.seed)}
    if options.threads:
        opts["threads"] = int(options.threads)
    opts.update(options.highs_options)
    return opts
