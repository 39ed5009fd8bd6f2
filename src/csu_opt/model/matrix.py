"""The network-formation MIP as sparse arrays, for handing to HiGHS directly (issue 7).

The same model as :mod:`csu_opt.model.pyomo_model` (maths in ``model/formulation.md``),
built from the :class:`~csu_opt.model.index.ModelIndex` frames with numpy alone: no Python loop
runs over variables or nonzeros. The row blocks of each constraint family come from
the registry :mod:`csu_opt.model.families` (its row builders are in :mod:`csu_opt.model.rows`),
the containers from
:mod:`csu_opt.model.blocks`; this module assembles them, and
:func:`csu_opt.solver.highs.pass_to_highs` hands them to HiGHS.
``tests/model/test_matrix.py`` checks row for row that the two models agree.

Columns are laid out u | a | w | z | x, each family in its frame's row order (``x`` column
``X + k`` is row k of ``ix.flows``). Rows are the blocks in registry order, as build_model
builds them. The matrix is assembled row-wise (CSR), as HiGHS's ``passModel`` takes it.

Mutable parameters (``mutable=True``, as ``build_model(..., mutable=True)``): the lead-count
row always exists, and the entries and row bounds that scale with demand (C5's d[c,s] z[l,c]
terms and V1's right-hand side) are kept by position, so that :meth:`MatrixModel.set_parameters`
and a live HiGHS model can change them without a rebuild.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from csu_opt.model.blocks import (
    INDEX,
    Layout,
    MatrixModel,
    index_codes,
)
from csu_opt.model.families import active_families
from csu_opt.model.index import ModelIndex
from csu_opt.model.rows import objective

if TYPE_CHECKING:
    import scipy.sparse as sp

# --------------------------------------------------------------------------- assembly


def build_matrix(
    ix: ModelIndex, valid_inequalities: bool = True, mutable: bool = False
) -> MatrixModel:
    """The full model as arrays: the same rows as ``build_model(ix, ...)``, in its order."""
    lay = Layout(len(ix.leads), len(ix.providers), len(ix.links), len(ix.assign), len(ix.flows))
    cd = index_codes(ix)
    blocks = [
        b
        for fam in active_families(valid_inequalities, mutable)
        for b in fam.rows(ix, lay, cd, mutable)
    ]

    # columns
    cost, offset = objective(ix, lay)
    upper = np.concatenate([np.ones(lay.X), ix.flows["cap"].to_numpy(dtype=float)])
    integrality = np.zeros(lay.n_cols, dtype=np.int32)
    integrality[: lay.Z] = 1
    if ix.single_sourcing:
        integrality[lay.Z : lay.X] = 1

    # rows: stack the blocks, drop explicit zeros, sort entries by row (stable: the parts of
    # a block come in long sorted runs, which the stable sort merges cheaply)
    starts = np.cumsum([0] + [b.n_rows for b in blocks])
    components = {b.name: (int(starts[i]), int(starts[i + 1])) for i, b in enumerate(blocks)}
    rows = np.concatenate([b.rows + starts[i] for i, b in enumerate(blocks)] + [np.zeros(0, INDEX)])
    cols = np.concatenate([b.cols for b in blocks] + [np.zeros(0, INDEX)])
    vals = np.concatenate([b.vals for b in blocks] + [np.zeros(0)])
    scaled = np.concatenate(
        [b.scaled if b.scaled is not None else np.zeros(len(b.rows), bool) for b in blocks]
        + [np.zeros(0, bool)]
    )
    keep = vals != 0.0
    rows, cols, vals, scaled = rows[keep], cols[keep], vals[keep], scaled[keep]
    order = np.argsort(rows, kind="stable")
    n_rows = int(starts[-1])
    start = np.zeros(n_rows + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=start[1:])
    value = vals[order]
    model = MatrixModel(
        layout=lay,
        col_cost=cost,
        col_lower=np.zeros(lay.n_cols),
        col_upper=upper,
        integrality=integrality,
        offset=offset,
        row_lower=np.concatenate([b.lower for b in blocks] + [np.zeros(0)]),
        row_upper=np.concatenate([b.upper for b in blocks] + [np.zeros(0)]),
        start=start,
        index=cols[order].astype(np.int32),
        value=value,
        components=components,
        highs_col=np.zeros(0, np.int32),
    )
    model.highs_col = _highs_order(model)
    if mutable:
        model.lead_row = components["lead_count"][0]
        pos = np.flatnonzero(scaled[order])
        model.scaled_pos = pos
        model.scaled_base = value[pos].copy()
        lower_rows = [np.arange(*components[b.name], dtype=INDEX) for b in blocks if b.scaled_lower]
        model.scaled_lower_rows = np.concatenate([*lower_rows, np.zeros(0, INDEX)])
        model.scaled_lower_base = model.row_lower[model.scaled_lower_rows].copy()
    return model


def _highs_order(mm: MatrixModel) -> np.ndarray:
    """HiGHS's column of each layout column: columns in order of first appearance in the rows.

    That is the order in which Pyomo's appsi interface adds variables to HiGHS, so HiGHS
    receives the very same model from both backends and searches it the same way (its
    heuristics and branching depend on the column order). Columns in no row come last.
    """
    first = np.full(mm.n_cols, np.iinfo(INDEX).max, dtype=INDEX)
    np.minimum.at(first, mm.index, np.arange(mm.nnz, dtype=INDEX))
    highs_col = np.empty(mm.n_cols, dtype=np.int32)
    highs_col[np.argsort(first, kind="stable")] = np.arange(mm.n_cols, dtype=np.int32)
    return highs_col


def csr(mm: MatrixModel) -> sp.csr_matrix:
    """The constraint matrix as a scipy CSR matrix. scipy is imported on first use: with
    Pyomo loaded, importing it costs 0.6 s (Pyomo's deferred scipy hooks import scipy.stats),
    which every CLI start paid when it was imported at the top."""
    import scipy.sparse as sp  # noqa: PLC0415 (heavy optional dependency, loaded when used)

    return sp.csr_matrix((mm.value, mm.index, mm.start), shape=(mm.n_rows, mm.n_cols))
