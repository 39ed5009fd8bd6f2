"""The network-formation MIP in Pyomo (maths in ``model/formulation.md``).

The constraints are generated from the row blocks of the family registry
(:mod:`csu_opt.model.families`; one ``rows_*`` builder per family in
:mod:`csu_opt.model.rows`, its docstring holding the formula), the same blocks the matrix
backend assembles: :func:`add_rows` turns a block into the indexed Pyomo constraint of its
name. Variables are indexed by position in the frames of
:class:`~csu_opt.model.index.ModelIndex` (``m.x[k]`` is the k-th row of ``ix.flows``), so that
building and reading back are vectorised over those frames.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pyomo.core as pyo
from pyomo.core.expr.numeric_expr import LinearExpression
from pyomo.repn import plugins as writers

from csu_opt.model.blocks import INDEX, Layout, RowBlock, index_codes
from csu_opt.model.families import active_families
from csu_opt.model.index import ModelIndex
from csu_opt.model.rows import objective

# pyomo.core, not pyomo.environ: environ loads every Pyomo plugin (solvers, DAE, GDP, contrib),
# about 0.3 s of each Pyomo-path run (issue 19). The model needs the core components, and
# model.write() the file writers, registered here; a caller who wants Pyomo's solver factory
# imports pyomo.environ itself (csu-opt solves through appsi).
writers.load()


def linear(
    coefs: Iterable[float], vars_: Iterable[pyo.Var], constant: float = 0.0
) -> LinearExpression:
    """A linear expression built in one call (much faster than summing terms)."""
    coefs = list(coefs)
    vars_ = list(vars_)
    return LinearExpression(constant=constant, linear_coefs=coefs, linear_vars=vars_)


def row_groups(frame: pd.DataFrame, by: str | list[str]) -> dict:
    """Row positions of ``frame`` per value of ``by``."""
    if frame.empty:
        return {}
    return frame.groupby(by, sort=False).indices


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector paused: building a model creates some 10^5 Pyomo objects
    and no garbage cycles, and the collector's passes over them took most of the build time
    (0.78 s against 0.21 s on generated(150, 400, 1))."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def build_model(
    ix: ModelIndex, valid_inequalities: bool = True, mutable: bool = False
) -> pyo.ConcreteModel:
    """The full model: variables, the registry's families (C1-C12, M1, optional valid
    inequalities V1-V5) generated from their row blocks, in registry order, the objective.

    With ``mutable=True`` the lead band (C1) and a global demand scale (C5, V1) are mutable
    Pyomo parameters (``m.lead_min``, ``m.lead_max``, ``m.demand_scale``), so a persistent
    solver can re-solve sweep cases that change only those without rebuilding.
    """
    with gc_paused():
        return _build(ix, valid_inequalities, mutable)


def _build(ix: ModelIndex, valid_inequalities: bool, mutable: bool) -> pyo.ConcreteModel:
    m = pyo.ConcreteModel(name="csu-opt")
    if mutable:
        m.lead_min = pyo.Param(mutable=True, initialize=float(ix.lead_min or 0))
        m.lead_max = pyo.Param(
            mutable=True,
            initialize=float(ix.lead_max if ix.lead_max is not None else len(ix.leads)),
        )
        m.demand_scale = pyo.Param(mutable=True, initialize=1.0)
    add_variables(m, ix)
    lay = Layout(len(ix.leads), len(ix.providers), len(ix.links), len(ix.assign), len(ix.flows))
    cd = index_codes(ix)
    columns = layout_columns(m)
    for fam in active_families(valid_inequalities, mutable):
        for block in fam.rows(ix, lay, cd, mutable):
            add_rows(m, block, columns)
    add_objective(m, ix, lay, columns)
    return m


def add_variables(m: pyo.ConcreteModel, ix: ModelIndex) -> None:
    """u[l], a[p], w[p,l] binary; z[l,c] in [0,1] (binary under single sourcing); x >= 0."""
    m.u = pyo.Var(range(len(ix.leads)), within=pyo.Binary, doc="l is a lead provider")
    m.a = pyo.Var(range(len(ix.providers)), within=pyo.Binary, doc="p stays active")
    m.w = pyo.Var(range(len(ix.links)), within=pyo.Binary, doc="p subcontracts to l")
    m.z = pyo.Var(
        range(len(ix.assign)),
        within=pyo.Binary if ix.single_sourcing else pyo.UnitInterval,
        doc="share of c's demand placed in l's network",
    )
    cap = ix.flows["cap"].to_numpy()
    m.x = pyo.Var(
        range(len(ix.flows)),
        within=pyo.NonNegativeReals,
        bounds=lambda _m, k: (0.0, float(cap[k])),
        doc="volume of line s that p delivers in l's network",
    )


def layout_columns(m: pyo.ConcreteModel) -> np.ndarray:
    """The variables in the matrix backend's column layout u | a | w | z | x (object array)."""
    vars_ = [*m.u.values(), *m.a.values(), *m.w.values(), *m.z.values(), *m.x.values()]
    return np.fromiter(vars_, dtype=object, count=len(vars_))


def add_rows(m: pyo.ConcreteModel, block: RowBlock, columns: np.ndarray) -> None:
    """A row block of :mod:`csu_opt.model.rows` as the Pyomo constraint of its name.

    Row i of the block becomes the constraint of index ``block.keys()[i]``:
    lower[i] <= Σ_j vals[j] columns[cols[j]] over the entries j of row i <= upper[i], its
    terms in the block's entry order (the matrix backend's order, so that appsi hands HiGHS
    the columns in the same order), explicit zeros dropped as the matrix backend drops them.
    Entries marked ``scaled`` are multiplied by ``m.demand_scale`` in a mutable model, and
    ``param_bounds`` name the mutable Params bounding the row.
    """
    keep = block.vals != 0.0
    rows = block.rows[keep]
    order = np.argsort(rows, kind="stable")
    start = np.zeros(block.n_rows + 1, dtype=INDEX)
    np.cumsum(np.bincount(rows, minlength=block.n_rows), out=start[1:])
    bounds = start.tolist()
    vars_ = columns[block.cols[keep][order]].tolist()
    coefs: list[object] = block.vals[keep][order].tolist()
    scale = getattr(m, "demand_scale", None)
    if scale is not None and block.scaled is not None:
        scaled = block.scaled[keep][order].tolist()
        coefs = [c * scale if sc else c for c, sc in zip(coefs, scaled, strict=True)]
    lower = [None if v == -np.inf else v for v in block.lower.tolist()]
    upper = [None if v == np.inf else v for v in block.upper.tolist()]
    params = (
        block.param_bounds if block.param_bounds and hasattr(m, block.param_bounds[0]) else None
    )

    def row(i: int) -> object:
        a, b = bounds[i], bounds[i + 1]
        body = LinearExpression(constant=0.0, linear_coefs=coefs[a:b], linear_vars=vars_[a:b])
        if params is not None:
            return pyo.inequality(getattr(m, params[0]), body, getattr(m, params[1]))
        lo, hi = lower[i], upper[i]
        if lo is not None and lo == hi:
            return body == lo
        return (lo, body, hi)

    if block.scalar:
        m.add_component(block.name, pyo.Constraint(expr=row(0)))
    elif block.keys is None:
        m.add_component(block.name, pyo.Constraint(range(block.n_rows), rule=lambda _m, i: row(i)))
    else:
        keys = block.keys()
        pos = {k: i for i, k in enumerate(keys)}
        m.add_component(
            block.name,
            pyo.Constraint(keys, rule=lambda _m, *k: row(pos[k[0] if len(k) == 1 else k])),
        )


def add_objective(m: pyo.ConcreteModel, ix: ModelIndex, lay: Layout, columns: np.ndarray) -> None:
    """min Σ F u + Σ (G + k) w + Σ c x + Σ t z + Σ X (1 - a)
    + Σ_M (merger_cost[M] - Σ_{p ∈ M} X[p]) a[M]: the column costs and constant of
    :func:`csu_opt.model.rows.objective` (zero costs left out), in layout order.
    """
    cost, offset = objective(ix, lay)
    keep = np.flatnonzero(cost != 0.0)
    m.total_cost = pyo.Objective(
        expr=linear(cost[keep].tolist(), columns[keep].tolist(), constant=offset),
        sense=pyo.minimize,
    )
