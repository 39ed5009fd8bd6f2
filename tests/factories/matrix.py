"""The matrix model against the Pyomo model as appsi hands it to HiGHS, row for row."""

from __future__ import annotations

from typing import Any

import highspy
import numpy as np
import pytest
from pyomo.contrib.appsi.solvers import Highs

from csu_opt.instance.load import Instance
from csu_opt.model.index import build_index
from csu_opt.model.matrix import build_matrix
from csu_opt.model.pyomo_model import build_model
from csu_opt.solver.appsi_engine import appsi_columns, appsi_highs
from csu_opt.solver.highs import pass_to_highs


def rowwise(lp: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, col, val) of a HighsLp's matrix, whichever its format."""
    a = lp.a_matrix_
    start = np.asarray(a.start_, dtype=np.int64)
    index = np.asarray(a.index_, dtype=np.int64)
    value = np.asarray(a.value_, dtype=float)
    outer = np.repeat(np.arange(len(start) - 1), np.diff(start))
    if a.format_ == highspy.MatrixFormat.kRowwise:
        return outer, index, value
    return index, outer, value


def sorted_triples(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray) -> tuple[np.ndarray, ...]:
    order = np.lexsort((cols, rows))
    return rows[order], cols[order], vals[order]


def assert_same_model(
    inst: Instance,
    valid_inequalities: bool = True,
    mutable: bool = False,
    params: tuple[int | None, int | None, float] | None = None,
) -> None:
    """The matrix model equals the Pyomo model as appsi hands it to HiGHS."""
    ix = build_index(inst)
    mm = build_matrix(ix, valid_inequalities=valid_inequalities, mutable=mutable)
    m = build_model(ix, valid_inequalities=valid_inequalities, mutable=mutable)
    if params is not None:
        lead_min, lead_max, scale = params
        mm.set_parameters(lead_min, lead_max, scale)
        m.lead_min.value = float(lead_min or 0)
        m.lead_max.value = float(lead_max if lead_max is not None else len(ix.leads))
        m.demand_scale.value = scale
    opt = Highs()
    opt.set_instance(m)
    h = appsi_highs(opt)
    assert h is not None
    lp = h.getLp()
    assert (lp.num_row_, lp.num_col_) == (mm.n_rows, mm.n_cols)
    assert len(lp.a_matrix_.value_) == mm.nnz

    # columns: appsi's column of each variable in the u|a|w|z|x layout
    vmap = appsi_columns(opt)
    appsi_col = np.array([vmap[id(v)] for n in "uawzx" for v in getattr(m, n).values()])
    # HiGHS receives the columns in the same order from both backends
    np.testing.assert_array_equal(appsi_col, mm.highs_col)
    np.testing.assert_array_equal(np.asarray(lp.col_lower_)[appsi_col], mm.col_lower)
    np.testing.assert_array_equal(np.asarray(lp.col_upper_)[appsi_col], mm.col_upper)
    integrality = np.array([int(t) for t in lp.integrality_])[appsi_col]
    np.testing.assert_array_equal(integrality, mm.integrality)
    np.testing.assert_allclose(np.asarray(lp.col_cost_)[appsi_col], mm.col_cost, rtol=1e-12)
    assert lp.offset_ == pytest.approx(mm.offset, rel=1e-12)

    # rows: identical, in the same order
    np.testing.assert_array_equal(np.asarray(lp.row_lower_), mm.row_lower)
    np.testing.assert_array_equal(np.asarray(lp.row_upper_), mm.row_upper)
    to_layout = np.empty(mm.n_cols, dtype=np.int64)
    to_layout[appsi_col] = np.arange(mm.n_cols)
    r, c, v = rowwise(lp)
    ra, ca, va = sorted_triples(r, to_layout[c], v)
    rb, cb, vb = sorted_triples(mm.row_of(), mm.index.astype(np.int64), mm.value)
    np.testing.assert_array_equal(ra, rb)
    np.testing.assert_array_equal(ca, cb)
    np.testing.assert_allclose(va, vb, rtol=1e-12)

    # and HiGHS holds the same arrays, whichever backend handed them over
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    pass_to_highs(h, mm)
    mine = h.getLp()
    for name in ("col_cost_", "col_lower_", "col_upper_", "row_lower_", "row_upper_"):
        np.testing.assert_allclose(getattr(mine, name), getattr(lp, name), rtol=1e-12)
    assert [int(t) for t in mine.integrality_] == [int(t) for t in lp.integrality_]
    for part in (rowwise(mine), rowwise(lp)):
        assert len(part[0]) == mm.nnz
    np.testing.assert_allclose(
        np.stack(sorted_triples(*rowwise(mine))), np.stack(sorted_triples(*rowwise(lp))), rtol=1e-12
    )
