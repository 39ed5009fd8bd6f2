"""The two ways a model reaches HiGHS: the Pyomo model through appsi (the reference path,
:mod:`csu_opt.solver.appsi_engine`) and the same model as arrays straight into highspy
(``matrix``, here), chosen by size (``auto``).

This module imports no Pyomo: a matrix-path solve never loads it (issue 19, the fixed cost of a
run); only :mod:`csu_opt.solver.appsi_engine` does.

Each engine builds the model once, hands it over, changes the mutable parameters of a sweep
and maps HiGHS's columns back to the model's variables.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from csu_opt import stops
from csu_opt.model.blocks import Layout
from csu_opt.model.index import ModelIndex
from csu_opt.model.matrix import build_matrix
from csu_opt.solver.highs import (
    Highs,
    log_to,
    pass_to_highs,
    quiet_highs,
    set_options,
    set_time_limit,
)
from csu_opt.solver.options import SolveOptions

#: ``backend="auto"`` uses the matrix path from this many (estimated) nonzeros up, and Pyomo
#: below: 0, the matrix path for every plain solve. Pyomo's build + hand-over + load costs
#: about 10-30 µs per nonzero against the matrix path's 0.5-3 µs, and loading Pyomo itself
#: 0.2-0.5 s a process (benchmarks/README.md, "The fixed cost of a run"); the two hand HiGHS
#: the same model (tests/model/test_matrix.py), so Pyomo, the reference modelling layer, is
#: used where a caller adds terms to the model (the what-ifs) or asks for it (--backend pyomo).
AUTO_MATRIX_NNZ = 0

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
