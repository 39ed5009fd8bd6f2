"""A Dantzig-Wolfe bound: the model decomposed into one block per lead, its network.

Not part of ``csu-opt solve``: a measuring instrument for instances whose proof is out of
reach (england-2013, instances/README.md), run by ``benchmarks/dw_bound.py``.

Every column of the model belongs to one lead's network (u[l], the links w[p,l], the
assignments z[l,c], the flows x[p,l,s]) except the providers' a[p]. A row whose columns all
belong to one network is a *block row* (C5, C6's links, C8, C9, C10, V2, V3's lead row, C3,
z <= u); every other row (C1, C2, C4's assign-once, C6's capacity, C11, V1, V3's subcontract
row, V4) is a *master row*. Each block, with integrality, is a small MIP: the networks one lead
can form. The Dantzig-Wolfe master convexifies each block separately, so its bound is at
least the LP relaxation's, and it sees that a link is whole within each network. The bound
is computed by column generation:

- master: min Σ_k c_k λ_k + Σ_p c_a[p] a[p] subject to the master rows over the columns
  found so far (λ_k a network of lead l(k), Σ_{k of l} λ_k <= 1), plus a box-step
  stabilisation (Marsten, Hogan and Blankenship 1975): artificial columns ±e_r priced at
  π°_r ± δ_r bound the master's row duals π to a box around a centre π°, which starts at the
  LP relaxation's duals and moves to each π that raises the bound;
- pricing: for the master's duals π, each block's MIP min (c - A_mᵀπ)·x over its networks,
  solved by HiGHS; a network with negative reduced cost becomes a column;
- bound: for any π with the signs of the rows' bounds (π_r >= 0 on a row with only a lower
  bound, <= 0 with only an upper),

      L(π) = offset + Σ_r π_r b_r(π) + Σ_p min_{a∈[0,1]} (c_a[p] - A_rᵀπ) a + Σ_l min(0, B_l(π))

  is a lower bound on the optimum (Lagrangian relaxation of the master rows; b_r(π) the
  bound the sign of π_r selects, B_l(π) the pricing MIP's proven bound). At the LP's duals
  it is at least the LP bound; its maximum is the Dantzig-Wolfe bound.

The method is the textbook one (Desrosiers and Lübbecke 2005); ``tests/solver/test_dw.py`` checks
on random tiny instances that the bound lies between the LP bound and the brute-force
optimum and that, once no column prices out, it meets the master's value.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import highspy
import numpy as np

from csu_opt.model.blocks import MatrixModel
from csu_opt.model.index import ModelIndex
from csu_opt.model.matrix import build_matrix, csr
from csu_opt.solver.highs import pass_submodel, pass_to_highs, quiet_highs

ONE_THREAD = {"threads": 1}


@dataclass
class Iteration:
    """One round of column generation."""

    iteration: int
    time_s: float
    lagrangian: float  # L(π) at this round's duals
    bound: float  # the best L so far: the bound
    master: float  # the restricted master's value (artificials included)
    artificial: float  # the artificials' total activity in the master
    columns: int  # networks in the master
    added: int  # networks added this round


@dataclass
class DWResult:
    lp_bound: float
    bound: float
    master: float
    converged: bool  # no network priced out and no artificial active
    history: list[Iteration] = field(default_factory=list)
    # the best whole network combination among the columns found (price-and-branch), if asked
    network: np.ndarray | None = None  # layout order
    network_cost: float | None = None


def network_blocks(ix: ModelIndex, mm: MatrixModel) -> tuple[np.ndarray, np.ndarray]:
    """The block of every column (lead number, or -1 for a[p]) and of every row (-1: master)."""
    lay = mm.layout
    lead_no = {lead: i for i, lead in enumerate(ix.leads)}
    col = np.full(mm.n_cols, -1, dtype=np.int64)
    col[lay.U : lay.A] = np.arange(lay.n_u)
    col[lay.W : lay.Z] = ix.links["l"].map(lead_no).to_numpy(dtype=np.int64)
    col[lay.Z : lay.X] = ix.assign["l"].map(lead_no).to_numpy(dtype=np.int64)
    col[lay.X :] = ix.flows["l"].map(lead_no).to_numpy(dtype=np.int64)
    blocks = col[mm.index]
    row_of = np.repeat(np.arange(mm.n_rows), np.diff(mm.start))
    lo = np.full(mm.n_rows, np.iinfo(np.int64).max)
    hi = np.full(mm.n_rows, -2)
    np.minimum.at(lo, row_of, blocks)
    np.maximum.at(hi, row_of, blocks)
    row = np.where((lo == hi) & (lo >= 0), lo, -1)
    return col, row


def dw_bound(
    ix: ModelIndex,
    time_limit: float = 600.0,
    box: float = 0.002,
    pricing_time: float = 20.0,
    start: np.ndarray | None = None,
    on_iteration: Callable[[Iteration], None] | None = None,
    master_mip_time: float = 0.0,
) -> DWResult:
    """The Dantzig-Wolfe bound by network, or the best Lagrangian bound within ``time_limit``.

    ``box`` sets the stabilisation's half-width δ_r = box · (|π°_r| + 10); it doubles when the
    master needs artificials and no network prices out. ``start``, a feasible solution in
    layout order, seeds the master with its networks. With ``master_mip_time`` > 0, the
    master is then solved with whole λ and a[p] over the networks found (price-and-branch, a
    heuristic): at most one network per lead, every master row kept, so its solution is a
    feasible network of the whole model (``DWResult.network``).
    """
    t0 = time.perf_counter()
    mm = build_matrix(ix)
    col_block, row_block = network_blocks(ix, mm)
    n_blocks = mm.layout.n_u
    A = csr(mm)
    master_rows = np.flatnonzero(row_block == -1)
    Am = A[master_rows].tocsc()
    lo, up = mm.row_lower[master_rows], mm.row_upper[master_rows]
    n_m = len(master_rows)
    lo_finite, up_finite = np.where(np.isfinite(lo), lo, 0.0), np.where(np.isfinite(up), up, 0.0)
    cost = mm.col_cost
    direct = np.flatnonzero(col_block == -1)
    block_cols = [np.flatnonzero(col_block == b) for b in range(n_blocks)]
    integer = mm.integrality.astype(bool)

    # the LP relaxation: its bound and duals (the first centre)
    lp = quiet_highs(ONE_THREAD)
    pass_to_highs(lp, mm)
    lp.setOptionValue("solve_relaxation", True)
    lp.run()
    lp_bound = float(lp.getInfo().objective_function_value)
    centre = _signed(np.asarray(lp.getSolution().row_dual)[master_rows], lo, up)

    pricers = []
    for b in range(n_blocks):
        cols, rows = block_cols[b], np.flatnonzero(row_block == b)
        h = quiet_highs(ONE_THREAD)
        h.setOptionValue("mip_rel_gap", 1e-9)
        h.setOptionValue("mip_abs_gap", 1e-6)
        h.setOptionValue("time_limit", float(pricing_time))
        pass_submodel(h, mm, A, rows, cols, offset=0.0, integral=True)
        pricers.append(h)

    def lagrangian(pi: np.ndarray) -> tuple[float, list[np.ndarray], np.ndarray]:
        """L(π), each block's best network at π and the reduced costs c - A_mᵀπ."""
        side = np.where(pi > 0, lo_finite, up_finite)  # the bound π_r's sign selects
        red = cost - Am.T @ pi
        value = mm.offset + float(pi @ side)
        rc = red[direct]
        value += float(np.minimum(rc * mm.col_lower[direct], rc * mm.col_upper[direct]).sum())
        best = []
        for b, h in enumerate(pricers):
            cols = block_cols[b]
            h.changeColsCost(len(cols), np.arange(len(cols), dtype=np.int32), red[cols])
            h.run()
            info = h.getInfo()
            value += min(0.0, float(info.mip_dual_bound))  # the empty network costs 0
            if info.primal_solution_status == 2:
                x = np.asarray(h.getSolution().col_value, dtype=float)
                best.append(np.where(integer[cols], np.round(x), x))
            else:
                best.append(np.zeros(len(cols)))
        return value, best, red

    # the master: rows, convexity rows, a[p], artificials
    M = quiet_highs(ONE_THREAD)
    empty = np.zeros(0, np.int32)
    M.addRows(n_m, lo, up, 0, np.zeros(n_m, np.int32), empty, np.zeros(0))
    M.addRows(
        n_blocks,
        np.full(n_blocks, -np.inf),
        np.ones(n_blocks),
        0,
        np.zeros(n_blocks, np.int32),
        empty,
        np.zeros(0),
    )
    for j in direct:
        c = Am[:, j]
        rows_j = c.indices.astype(np.int32)
        M.addCol(cost[j], mm.col_lower[j], mm.col_upper[j], c.nnz, rows_j, c.data)
    first_art = M.getNumCol()
    for sign in (1.0, -1.0):
        at = np.arange(n_m, dtype=np.int32)
        zero = np.zeros(n_m)
        M.addCols(n_m, zero, zero, zero, n_m, at, at, np.full(n_m, sign))
    plus = np.arange(first_art, first_art + n_m, dtype=np.int32)
    minus = plus + n_m

    def set_box(pi0: np.ndarray, width: float) -> None:
        # +e_r priced c+ caps π_r <= c+; -e_r priced c- caps π_r >= -c-
        delta = width * (np.abs(pi0) + 10.0)
        # a side the row's own sign already caps (π <= 0 on a <= row) gets no artificial
        off_plus = np.isinf(lo) & (pi0 + delta >= 0)
        off_minus = np.isinf(up) & (pi0 - delta <= 0)
        M.changeColsCost(n_m, plus, np.where(off_plus, 0.0, pi0 + delta))
        M.changeColsCost(n_m, minus, np.where(off_minus, 0.0, delta - pi0))
        zero = np.zeros(n_m)
        M.changeColsBounds(n_m, plus, zero, np.where(off_plus, 0.0, np.inf))
        M.changeColsBounds(n_m, minus, zero, np.where(off_minus, 0.0, np.inf))

    columns = 0
    found: list[np.ndarray] = []  # every column's network, layout order

    def add_network(b: int, x: np.ndarray) -> None:
        nonlocal columns
        full = np.zeros(mm.n_cols)
        full[block_cols[b]] = x
        coef = Am @ full
        nz = np.flatnonzero(np.abs(coef) > 1e-12)
        idx = np.concatenate([nz, [n_m + b]]).astype(np.int32)
        M.addCol(
            float(cost[block_cols[b]] @ x),
            0.0,
            np.inf,
            len(idx),
            idx,
            np.concatenate([coef[nz], [1.0]]),
        )
        columns += 1
        found.append(full)

    if start is not None:
        for b in range(n_blocks):
            x = start[block_cols[b]]
            if np.abs(x).sum() > 1e-9:
                add_network(b, np.where(integer[block_cols[b]], np.round(x), x))

    width = box
    set_box(centre, width)
    best, _, _ = lagrangian(centre)
    result = DWResult(lp_bound=lp_bound, bound=best, master=np.inf, converged=False)
    for it in range(1, 1_000_000):
        if time.perf_counter() - t0 > time_limit:
            break
        M.run()
        master = float(M.getObjectiveValue()) + mm.offset
        sol = M.getSolution()
        y = np.asarray(sol.row_dual)
        activity = np.asarray(sol.col_value)
        artificial = float(activity[plus].sum() + activity[minus].sum())
        pi, sigma = _signed(y[:n_m], lo, up), np.minimum(y[n_m:], 0.0)
        value, networks, red = lagrangian(pi)
        added = 0
        for b, x in enumerate(networks):
            if float(red[block_cols[b]] @ x) - sigma[b] < -1e-6 and np.abs(x).sum() > 0:
                add_network(b, x)
                added += 1
        if value > best + 1e-9:
            best, centre = value, pi
            set_box(centre, width)
        result.master = master
        result.bound = best
        record = Iteration(
            it, time.perf_counter() - t0, value, best, result.master, artificial, columns, added
        )
        result.history.append(record)
        if on_iteration is not None:
            on_iteration(record)
        if added == 0:
            if artificial < 1e-9:
                result.converged = True
                break
            width *= 2.0
            set_box(centre, width)
    if master_mip_time > 0 and found:
        _master_mip(M, mm, direct, found, first_art, 2 * n_m, master_mip_time, result)
    return result


def _master_mip(
    M: highspy.Highs,
    mm: MatrixModel,
    direct: np.ndarray,
    found: list[np.ndarray],
    first_art: int,
    n_art: int,
    time_limit: float,
    result: DWResult,
) -> None:
    """Whole λ and a[p], no artificials: the best combination of the networks found."""
    n = M.getNumCol()
    arts = np.arange(first_art, first_art + n_art, dtype=np.int32)
    M.changeColsBounds(n_art, arts, np.zeros(n_art), np.zeros(n_art))
    integer = np.arange(n, dtype=np.int32)
    integer = integer[(integer < first_art) | (integer >= first_art + n_art)]
    M.changeColsIntegrality(len(integer), integer, np.ones(len(integer), dtype=np.uint8))
    M.setOptionValue("time_limit", float(time_limit))
    M.run()
    if M.getInfo().primal_solution_status != 2:
        return
    value = np.asarray(M.getSolution().col_value)
    network = np.zeros(mm.n_cols)
    network[direct] = np.round(value[: len(direct)])
    lam = np.round(value[first_art + n_art :])
    for k in np.flatnonzero(lam > 0.5):
        network += found[k]
    result.network = network
    result.network_cost = float(mm.col_cost @ network) + mm.offset


def _signed(pi: np.ndarray, lo: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Duals with the signs their rows' bounds allow (any such π gives a valid L(π))."""
    pi = np.where(np.isinf(lo), np.minimum(pi, 0.0), pi)
    return np.where(np.isinf(up), np.maximum(pi, 0.0), pi)
