"""The network-formation MIP as sparse arrays, for handing to HiGHS directly (issue 7).

The same model as :mod:`csu_opt.model` (maths in ``model/formulation.md``),
built from the :class:`~csu_opt.indices.ModelIndex` frames with numpy alone: no Python loop
runs over variables or nonzeros. One function per constraint family, named like model.py's
(``rows_network_balance`` beside ``add_network_balance``), its docstring holding the same
formula; each returns one :class:`RowBlock` per Pyomo component of that family, in the same
order, with the same rows. ``tests/test_matrix.py`` checks row for row that the two agree.

Columns are laid out u | a | w | z | x, each family in its frame's row order (``x`` column
``X + k`` is row k of ``ix.flows``). Rows are the blocks in model.py's order. The matrix is
assembled row-wise (CSR) for :meth:`highspy.Highs.passModel`.

Mutable parameters (``mutable=True``, as ``build_model(..., mutable=True)``): the lead-count
row always exists, and the entries and row bounds that scale with demand (C5's d[c,s] z[l,c]
terms and V1's right-hand side) are kept by position, so that :meth:`MatrixModel.set_parameters`
and a live HiGHS model can change them without a rebuild.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from csu_opt.indices import ModelIndex, cover_counts, free_choice_rows, quality_covers

if TYPE_CHECKING:
    import scipy.sparse as sp

INF = np.inf
_I = np.int64


# --------------------------------------------------------------------------- containers


@dataclass(frozen=True)
class RowBlock:
    """The rows of one Pyomo component: entries (row, col, val), rows local to the block.

    ``scaled`` marks entries whose value is multiplied by the demand scale; ``scaled_lower``
    says that the block's lower bounds are.
    """

    name: str
    n_rows: int
    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    scaled: np.ndarray | None = None
    scaled_lower: bool = False


def _block(
    name: str,
    n_rows: int,
    parts: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray | float]],
    lower: float | np.ndarray,
    upper: float | np.ndarray,
    scaled_part: int | None = None,
    scaled_lower: bool = False,
) -> RowBlock:
    """A block from entry parts (rows, cols, vals); ``scaled_part`` indexes a scaled part."""
    rows = [np.asarray(r, dtype=_I) for r, _, _ in parts]
    cols = [np.asarray(c, dtype=_I) for _, c, _ in parts]
    vals = [
        np.broadcast_to(np.asarray(v, dtype=float), len(r))
        for r, (_, _, v) in zip(rows, parts, strict=True)
    ]
    scaled = None
    if scaled_part is not None:
        scaled = np.concatenate([np.full(len(r), i == scaled_part) for i, r in enumerate(rows)])
    return RowBlock(
        name=name,
        n_rows=n_rows,
        rows=np.concatenate(rows) if rows else np.zeros(0, _I),
        cols=np.concatenate(cols) if cols else np.zeros(0, _I),
        vals=np.concatenate(vals) if vals else np.zeros(0),
        lower=np.broadcast_to(np.asarray(lower, dtype=float), n_rows).copy(),
        upper=np.broadcast_to(np.asarray(upper, dtype=float), n_rows).copy(),
        scaled=scaled,
        scaled_lower=scaled_lower,
    )


@dataclass(frozen=True)
class Layout:
    """Column offsets of the variable families: u | a | w | z | x."""

    n_u: int
    n_a: int
    n_w: int
    n_z: int
    n_x: int

    @property
    def U(self) -> int:
        return 0

    @property
    def A(self) -> int:
        return self.n_u

    @property
    def W(self) -> int:
        return self.n_u + self.n_a

    @property
    def Z(self) -> int:
        return self.W + self.n_w

    @property
    def X(self) -> int:
        return self.Z + self.n_z

    @property
    def n_cols(self) -> int:
        return self.X + self.n_x

    def split(self, col: np.ndarray) -> dict[str, np.ndarray]:
        """Column values as the arrays ``solution_from_values`` reads (frame order)."""
        return {
            "u": col[self.U : self.A],
            "a": col[self.A : self.W],
            "w": col[self.W : self.Z],
            "z": col[self.Z : self.X],
            "x": col[self.X : self.n_cols],
        }

    def join(self, values: dict[str, np.ndarray]) -> np.ndarray:
        """The inverse of :meth:`split`: one column vector in layout order."""
        return np.concatenate([values[k] for k in ("u", "a", "w", "z", "x")])


@dataclass
class MatrixModel:
    """The MIP as arrays: columns, row bounds and the constraint matrix in CSR form."""

    layout: Layout
    col_cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray  # int32: 1 integer, 0 continuous
    offset: float
    row_lower: np.ndarray
    row_upper: np.ndarray
    start: np.ndarray  # int32, n_rows + 1
    index: np.ndarray  # int32 column of each nonzero
    value: np.ndarray
    components: dict[str, tuple[int, int]]  # Pyomo component -> row range [start, stop)
    highs_col: np.ndarray  # HiGHS's column of each layout column (see _highs_order)
    lead_row: int | None = None
    # demand-scaled parts (mutable): positions in ``value`` and their unscaled values
    scaled_pos: np.ndarray = field(default_factory=lambda: np.zeros(0, _I))
    scaled_base: np.ndarray = field(default_factory=lambda: np.zeros(0))
    scaled_lower_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, _I))
    scaled_lower_base: np.ndarray = field(default_factory=lambda: np.zeros(0))
    demand_scale: float = 1.0

    @property
    def n_rows(self) -> int:
        return len(self.row_lower)

    @property
    def n_cols(self) -> int:
        return self.layout.n_cols

    @property
    def nnz(self) -> int:
        return len(self.value)

    def row_of(self) -> np.ndarray:
        """The row of every nonzero (CSR expanded)."""
        return np.repeat(np.arange(self.n_rows, dtype=_I), np.diff(self.start))

    def activity(self, col: np.ndarray) -> np.ndarray:
        """A @ col, the row activities of a column vector."""
        prod = self.value * col[self.index]
        out = np.add.reduceat(prod, self.start[:-1]) if self.nnz else np.zeros(self.n_rows)
        out[np.diff(self.start) == 0] = 0.0  # reduceat repeats a value at empty rows
        return out

    def lead_band(self) -> tuple[float, float]:
        """C1's bounds on the number of leads (0 and the number of lead-capable providers
        when unset)."""
        if "lead_count" not in self.components:
            return 0.0, float(self.layout.n_u)
        r = self.components["lead_count"][0]
        return max(0.0, float(self.row_lower[r])), min(
            float(self.layout.n_u), float(self.row_upper[r])
        )

    def set_parameters(
        self, lead_min: int | None, lead_max: int | None, demand_scale: float
    ) -> bool:
        """Set C1's band and the demand scale in a mutable model, as Pyomo's mutable Params
        are set; returns whether the scaled coefficients changed."""
        if self.lead_row is None:
            raise ValueError("set_parameters needs a model built with mutable=True")
        self.row_lower[self.lead_row] = float(lead_min or 0)
        self.row_upper[self.lead_row] = float(lead_max if lead_max is not None else self.layout.n_u)
        if demand_scale == self.demand_scale:
            return False
        self.demand_scale = float(demand_scale)
        self.value[self.scaled_pos] = self.scaled_base * demand_scale
        self.row_lower[self.scaled_lower_rows] = self.scaled_lower_base * demand_scale
        return True

    def violation(self, col: np.ndarray) -> float:
        """The largest violation of a column bound or row by ``col`` (0 when feasible)."""
        act = self.activity(col)
        worst = [
            np.max(self.col_lower - col, initial=0.0),
            np.max(col - self.col_upper, initial=0.0),
            np.max(self.row_lower - act, initial=0.0),
            np.max(act - self.row_upper, initial=0.0),
        ]
        frac = np.abs(col - np.round(col))[self.integrality == 1]
        return float(max(*worst, np.max(frac, initial=0.0)))

    def cost(self, col: np.ndarray) -> float:
        """The objective value of ``col``."""
        return float(self.col_cost @ col + self.offset)


# --------------------------------------------------------------------------- codes


@dataclass(frozen=True)
class IndexCodes:
    """Integer positions of every frame's ids, computed once."""

    nP: int
    nL: int
    nS: int
    nC: int
    lead_prov: np.ndarray  # provider position of lead i
    link_p: np.ndarray
    link_l: np.ndarray  # lead position
    flow_p: np.ndarray
    flow_l: np.ndarray
    flow_s: np.ndarray
    flow_self: np.ndarray
    flow_cap: np.ndarray
    z_l: np.ndarray
    z_c: np.ndarray
    dem_c: np.ndarray
    dem_s: np.ndarray
    elig_p: np.ndarray
    elig_s: np.ndarray
    eligible: np.ndarray  # bool (nP, nS)
    link_of: np.ndarray  # (nP, nL) -> link position or -1


def _pos(index: pd.Index, values: pd.Series) -> np.ndarray:
    return np.asarray(index.get_indexer(values.to_numpy()), dtype=_I)


def index_codes(ix: ModelIndex) -> IndexCodes:
    prov = ix.providers.index
    leads = pd.Index(ix.leads)
    lines = ix.lines.index
    ccgs = pd.Index(ix.ccgs)
    nP, nL, nS = len(prov), len(leads), len(lines)
    link_p, link_l = _pos(prov, ix.links["p"]), _pos(leads, ix.links["l"])
    link_of = np.full((nP, max(nL, 1)), -1, dtype=_I)
    link_of[link_p, link_l] = np.arange(len(ix.links))
    elig_p, elig_s = _pos(prov, ix.eligible["p"]), _pos(lines, ix.eligible["s"])
    eligible = np.zeros((nP, nS), dtype=bool)
    eligible[elig_p, elig_s] = True
    f = ix.flows
    return IndexCodes(
        nP=nP,
        nL=nL,
        nS=nS,
        nC=len(ccgs),
        lead_prov=np.asarray(prov.get_indexer(ix.leads), dtype=_I),
        link_p=link_p,
        link_l=link_l,
        flow_p=_pos(prov, f["p"]),
        flow_l=_pos(leads, f["l"]),
        flow_s=_pos(lines, f["s"]),
        flow_self=f["self"].to_numpy(dtype=bool),
        flow_cap=f["cap"].to_numpy(dtype=float),
        z_l=_pos(leads, ix.assign["l"]),
        z_c=_pos(ccgs, ix.assign["c"]),
        dem_c=_pos(ccgs, ix.demand["c"]),
        dem_s=_pos(lines, ix.demand["s"]),
        elig_p=elig_p,
        elig_s=elig_s,
        eligible=eligible,
        link_of=link_of,
    )


def _first_seen(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, uniques) numbering ``keys`` in order of first appearance (groupby sort=False)."""
    codes, uniq = pd.factorize(keys, sort=False)
    return np.asarray(codes, dtype=_I), np.asarray(uniq, dtype=_I)


def _name_rank(names: list[str] | pd.Index) -> np.ndarray:
    """Rank of each name in sorted order (Pyomo's ``sorted`` of tuple keys)."""
    order = sorted(range(len(names)), key=lambda i: names[i])
    rank = np.empty(len(names), dtype=_I)
    rank[order] = np.arange(len(names))
    return rank


# --------------------------------------------------------------------------- families


def rows_lead_count(ix: ModelIndex, lay: Layout, mutable: bool = False) -> list[RowBlock]:
    """(C1) N_min <= Σ_l u[l] <= N_max (each side only where set, or always when mutable)."""
    n = lay.n_u
    if mutable:
        lo = float(ix.lead_min or 0)
        hi = float(ix.lead_max if ix.lead_max is not None else n)
    else:
        if not ix.lead_min and ix.lead_max is None:
            return []
        lo = float(ix.lead_min) if ix.lead_min else -INF
        hi = float(ix.lead_max) if ix.lead_max is not None else INF
    part = (np.zeros(n, _I), lay.U + np.arange(n), 1.0)
    return [_block("lead_count", 1, [part], lo, hi)]


def rows_one_role(ix: ModelIndex, lay: Layout, cd: IndexCodes) -> list[RowBlock]:
    """(C2) Σ_l w[p,l] <= m(1 - u[p]); u[p] <= a[p]; w[p,l] <= a[p]; a[p] <= u[p] + Σ_l w[p,l].

    The first row exists for every provider with a possible link, written
    Σ_l w[p,l] + m u[p] <= m (the u term only when p may lead).
    """
    mm = float(ix.max_leads_per_sub)
    nW, nL, nP = lay.n_w, lay.n_u, lay.n_a
    wcols = lay.W + np.arange(nW)
    codes, uniq = _first_seen(cd.link_p)
    lead_of_prov = np.full(nP, -1, _I)
    lead_of_prov[cd.lead_prov] = np.arange(nL)
    ul = lead_of_prov[uniq]
    one_role = _block(
        "one_role",
        len(uniq),
        [(codes, wcols, 1.0), (np.flatnonzero(ul >= 0), lay.U + ul[ul >= 0], mm)],
        -INF,
        mm,
    )
    lead_active = _block(
        "lead_active",
        nL,
        [(np.arange(nL), lay.U + np.arange(nL), 1.0), (np.arange(nL), lay.A + cd.lead_prov, -1.0)],
        -INF,
        0.0,
    )
    sub_active = _block(
        "sub_active",
        nW,
        [(np.arange(nW), wcols, 1.0), (np.arange(nW), lay.A + cd.link_p, -1.0)],
        -INF,
        0.0,
    )
    active_has_role = _block(
        "active_has_role",
        nP,
        [
            (np.arange(nP), lay.A + np.arange(nP), 1.0),
            (cd.link_p, wcols, -1.0),
            (cd.lead_prov, lay.U + np.arange(nL), -1.0),
        ],
        -INF,
        0.0,
    )
    return [one_role, lead_active, sub_active, active_has_role]


def rows_subcontract_to_lead(ix: ModelIndex, lay: Layout, cd: IndexCodes) -> list[RowBlock]:
    """(C3) w[p,l] <= u[l]."""
    k = np.arange(lay.n_w)
    parts = [(k, lay.W + k, 1.0), (k, lay.U + cd.link_l, -1.0)]
    return [_block("subcontract_to_lead", lay.n_w, parts, -INF, 0.0)]


def rows_ccg_assignment(ix: ModelIndex, lay: Layout, cd: IndexCodes) -> list[RowBlock]:
    """(C4) Σ_l z[l,c] = 1 for every CCG; z[l,c] <= u[l]."""
    k = np.arange(lay.n_z)
    once = _block("assign_once", cd.nC, [(cd.z_c, lay.Z + k, 1.0)], 1.0, 1.0)
    to_lead = _block(
        "assign_to_lead", lay.n_z, [(k, lay.Z + k, 1.0), (k, lay.U + cd.z_l, -1.0)], -INF, 0.0
    )
    return [once, to_lead]


def rows_network_balance(
    ix: ModelIndex, lay: Layout, cd: IndexCodes, demand_scale: float = 1.0
) -> list[RowBlock]:
    """(C5) Σ_p x[p,l,s] = Σ_c d[c,s] z[l,c] for every lead l and line s.

    Rows are the (l, s) pairs with a flow or a demand term, in sorted (l, s) order; the
    d[c,s] z[l,c] entries are marked as scaled by the demand scale.
    """
    nS = max(cd.nS, 1)
    flow_key = cd.flow_l * nS + cd.flow_s
    z_of = np.full((max(cd.nL, 1), max(cd.nC, 1)), -1, _I)
    z_of[cd.z_l, cd.z_c] = np.arange(lay.n_z)
    zk = z_of[:, cd.dem_c]  # (nL, n_demand): z column of lead l for demand row j
    dl, dj = np.nonzero(zk >= 0)
    dem_key = dl * nS + cd.dem_s[dj]
    keys = np.union1d(flow_key, dem_key)
    lead_rank, line_rank = _name_rank(ix.leads), _name_rank(ix.lines.index)
    keys = keys[np.argsort(lead_rank[keys // nS] * nS + line_rank[keys % nS], kind="stable")]
    row_of = np.full(max(cd.nL, 1) * nS, -1, _I)
    row_of[keys] = np.arange(len(keys))
    d = ix.demand["d"].to_numpy(dtype=float)
    parts = [
        (row_of[flow_key], lay.X + np.arange(lay.n_x), 1.0),
        (row_of[dem_key], lay.Z + zk[dl, dj], -d[dj] * demand_scale),
    ]
    return [_block("network_balance", len(keys), parts, 0.0, 0.0, scaled_part=1)]


def rows_capacity(ix: ModelIndex, lay: Layout, cd: IndexCodes) -> list[RowBlock]:
    """(C6) capacity and the strong links to the role variables.

    Σ_l x[p,l,s] <= cap[p,s] a[p];  x[p,l,s] <= cap[p,s] w[p,l];  x[l,l,s] <= cap[l,s] u[l].
    """
    nS = max(cd.nS, 1)
    cap = cd.flow_cap
    xk = np.arange(lay.n_x)
    codes, uniq = _first_seen(cd.flow_p * nS + cd.flow_s)
    cap_g = np.zeros(len(uniq))
    cap_g[codes] = cap
    capacity = _block(
        "capacity",
        len(uniq),
        [(codes, lay.X + xk, 1.0), (np.arange(len(uniq)), lay.A + uniq // nS, -cap_g)],
        -INF,
        0.0,
    )
    sub = np.flatnonzero(~cd.flow_self)
    j = np.arange(len(sub))
    link = cd.link_of[cd.flow_p[sub], cd.flow_l[sub]]
    link_sub = _block(
        "capacity_link_sub",
        len(sub),
        [(j, lay.X + sub, 1.0), (j, lay.W + link, -cap[sub])],
        -INF,
        0.0,
    )
    own = np.flatnonzero(cd.flow_self)
    j = np.arange(len(own))
    link_self = _block(
        "capacity_link_self",
        len(own),
        [(j, lay.X + own, 1.0), (j, lay.U + cd.flow_l[own], -cap[own])],
        -INF,
        0.0,
    )
    return [capacity, link_sub, link_self]


def rows_full_coverage(ix: ModelIndex, lay: Layout, cd: IndexCodes) -> list[RowBlock]:
    """(C8) Σ_{p eligible in s} w[p,l] >= u[l] for every l and s with (l, s) not eligible.

    (Trivial, and not written, where the lead is itself eligible in s.)
    """
    need = ~cd.eligible[cd.lead_prov]  # (nL, nS): a row for (l, s)
    row_of = np.full(need.shape, -1, _I)
    row_of[need] = np.arange(int(need.sum()))
    k, s = np.nonzero(cd.eligible[cd.link_p] & need[cd.link_l])  # links of p eligible in s
    rl, rs = np.nonzero(need)
    parts = [
        (row_of[cd.link_l[k], s], lay.W + k, 1.0),
        (row_of[rl, rs], lay.U + rl, -1.0),
    ]
    return [_block("full_coverage", int(need.sum()), parts, 0.0, INF)]


def rows_network_quality(ix: ModelIndex, lay: Layout, cd: IndexCodes) -> list[RowBlock]:
    """(C9) Σ_p (q[p,s] - Q[s]) x[p,l,s] >= 0 for every l, s (only where some q < Q)."""
    f = ix.flows
    nS = max(cd.nS, 1)
    slack = f["q"].to_numpy(dtype=float) - ix.lines["Q"].to_numpy(dtype=float)[cd.flow_s]
    key = cd.flow_l * nS + cd.flow_s
    below = pd.unique(key[slack < 0])
    row_of = np.full(max(cd.nL, 1) * nS, -1, _I)
    row_of[below] = np.arange(len(below))
    ks = np.flatnonzero(row_of[key] >= 0)
    parts = [(row_of[key[ks]], lay.X + ks, slack[ks])]
    return [_block("network_quality", len(below), parts, 0.0, INF)]


def rows_self_delivery(ix: ModelIndex, lay: Layout, cd: IndexCodes) -> list[RowBlock]:
    """(C10) Σ_s x[l,l,s] >= ρ Σ_{p,s} x[p,l,s], i.e. (1-ρ)·own - ρ·others >= 0."""
    rho = ix.self_share
    if rho <= 0:
        return []
    codes, uniq = _first_seen(cd.flow_l)
    coef = np.where(cd.flow_self, 1.0 - rho, -rho)
    parts = [(codes, lay.X + np.arange(lay.n_x), coef)]
    return [_block("self_delivery", len(uniq), parts, 0.0, INF)]


def rows_viability(ix: ModelIndex, lay: Layout, cd: IndexCodes) -> list[RowBlock]:
    """(C11) Σ_{l,s} x[p,l,s] >= v[p] a[p] for every provider with v[p] > 0."""
    v = ix.providers["v"].to_numpy(dtype=float)
    keep = np.flatnonzero(v > 0)
    row_of = np.full(cd.nP, -1, _I)
    row_of[keep] = np.arange(len(keep))
    ks = np.flatnonzero(row_of[cd.flow_p] >= 0)
    parts = [
        (row_of[cd.flow_p[ks]], lay.X + ks, 1.0),
        (np.arange(len(keep)), lay.A + keep, -v[keep]),
    ]
    return [_block("viability", len(keep), parts, 0.0, INF)]


def rows_mergers(ix: ModelIndex, lay: Layout, cd: IndexCodes) -> list[RowBlock]:
    """(M1) a[p] + Σ_{M ∋ p} a[M] <= 1 for every provider p that is a member of a merger.

    A provider stays itself or is absorbed into at most one formed merged body M. One row
    per member, in provider order.
    """
    pairs = ix.merger_pairs
    if pairs.empty:
        return []
    prov = ix.providers.index
    member = _pos(prov, pairs["member"])
    body = _pos(prov, pairs["body"])
    keys = np.unique(member)  # provider order
    row_of = np.full(cd.nP, -1, _I)
    row_of[keys] = np.arange(len(keys))
    parts = [
        (np.arange(len(keys)), lay.A + keys, 1.0),
        (row_of[member], lay.A + body, 1.0),
    ]
    return [_block("merger_exclusive", len(keys), parts, -INF, 1.0)]


def rows_free_choice(ix: ModelIndex, lay: Layout, cd: IndexCodes) -> list[RowBlock]:
    """(C12, free choice only) Σ_{l' ≽_c l} z[l',c] >= u[l] for every CCG c and lead l.

    l' ≽_c l: c ranks l' at or above l (``ix.preference``). The row of c's last choice (C4's
    Σ_l z[l,c] = 1) is left out; rows by CCG, then c's preference (``free_choice_rows``).
    """
    if not ix.free_choice:
        return []
    keys, rows, zpos = free_choice_rows(ix)
    n = len(keys)
    lead = np.asarray(pd.Index(ix.leads).get_indexer(keys["l"]), dtype=_I)
    parts = [(rows, lay.Z + zpos, 1.0), (np.arange(n), lay.U + lead, -1.0)]
    return [_block("free_choice", n, parts, 0.0, INF)]


def rows_capacity_cover(ix: ModelIndex, lay: Layout, cd: IndexCodes) -> list[RowBlock]:
    """(V1, valid) cardinality cover: Σ_{p eligible in s} a[p] >= k[s] for every line s.

    k[s] from ``indices.cover_counts``; one row per line with demand, in sorted line order.
    Left out of a mutable model (its demand scale would change k), as in model.py.
    """
    counts = cover_counts(ix)
    lines = ix.lines.index
    row_of = np.full(cd.nS, -1, _I)
    row_of[lines.get_indexer(counts["s"])] = np.arange(len(counts))
    js = np.flatnonzero(row_of[cd.elig_s] >= 0)
    parts = [(row_of[cd.elig_s[js]], lay.A + cd.elig_p[js], np.ones(len(js)))]
    lower = counts["k"].to_numpy(dtype=float)
    return [_block("capacity_cover", len(counts), parts, lower, INF)]


def rows_quality_cover(ix: ModelIndex, lay: Layout, cd: IndexCodes) -> list[RowBlock]:
    """(V2, valid) Σ_{p: q[p,s] >= Q[s]} w[p,l] >= u[l] for the (l, s) of ``quality_covers``."""
    keys, members = quality_covers(ix)
    lead = pd.Index(ix.leads).get_indexer(keys["l"])
    parts = [
        (members["row"].to_numpy(), lay.W + members["link"].to_numpy(), 1.0),
        (np.arange(len(keys)), lay.U + lead, -1.0),
    ]
    return [_block("quality_cover", len(keys), parts, 0.0, INF)]


def rows_role_split(ix: ModelIndex, lay: Layout, cd: IndexCodes) -> list[RowBlock]:
    """(V3, V4, valid) C11 and C6 split by role, for providers that may lead and subcontract.

    Σ_s x[p,p,s] >= v[p] u[p];  Σ_{l≠p,s} x[p,l,s] >= v[p] (a[p] - u[p])  (v[p] > 0);
    Σ_{l≠p} x[p,l,s] <= cap[p,s] (a[p] - u[p]) for every s with such flows.
    Providers in provider order; capacity rows by provider, then line.
    """
    nP, nS = cd.nP, max(cd.nS, 1)
    lead_of = np.full(nP, -1, _I)
    lead_of[cd.lead_prov] = np.arange(cd.nL)
    sub = ~cd.flow_self
    split = np.zeros(nP, dtype=bool)
    split[cd.flow_p[sub]] = True
    split &= lead_of >= 0
    v = ix.providers["v"].to_numpy(dtype=float)
    vp = np.flatnonzero(split & (v > 0))
    row_of = np.full(nP, -1, _I)
    row_of[vp] = np.arange(len(vp))
    n = np.arange(len(vp))
    own = np.flatnonzero(cd.flow_self & (row_of[cd.flow_p] >= 0))
    other = np.flatnonzero(sub & (row_of[cd.flow_p] >= 0))
    viability_lead = _block(
        "viability_lead",
        len(vp),
        [(row_of[cd.flow_p[own]], lay.X + own, 1.0), (n, lay.U + lead_of[vp], -v[vp])],
        0.0,
        INF,
    )
    viability_sub = _block(
        "viability_sub",
        len(vp),
        [
            (row_of[cd.flow_p[other]], lay.X + other, 1.0),
            (n, lay.A + vp, -v[vp]),
            (n, lay.U + lead_of[vp], v[vp]),
        ],
        0.0,
        INF,
    )
    ks = np.flatnonzero(sub & split[cd.flow_p])
    key = cd.flow_p[ks].astype(np.int64) * nS + cd.flow_s[ks]
    uniq, first, row = np.unique(key, return_index=True, return_inverse=True)
    pu = (uniq // nS).astype(_I)
    cap = cd.flow_cap[ks[first]]
    m = np.arange(len(uniq))
    capacity_sub = _block(
        "capacity_sub",
        len(uniq),
        [(row, lay.X + ks, 1.0), (m, lay.A + pu, -cap), (m, lay.U + lead_of[pu], cap)],
        -INF,
        0.0,
    )
    return [viability_lead, viability_sub, capacity_sub]


def objective(ix: ModelIndex, lay: Layout) -> tuple[np.ndarray, float]:
    """min Σ F u + Σ (G + k) w + Σ c x + Σ t z + Σ X (1 - a)
    + Σ_M (merger_cost[M] - Σ_{p ∈ M} X[p]) a[M]: column costs and the constant Σ X.

    The coefficient of a[p] is ``ix.providers["a_cost"]`` (-X[p], or a merged body's cost).
    """
    prov = ix.providers
    X = prov["X"].to_numpy(dtype=float)
    a_cost = prov["a_cost"].to_numpy(dtype=float) if "a_cost" in prov else -X
    cost = np.concatenate(
        [
            prov.loc[ix.leads, "F"].to_numpy(dtype=float),
            a_cost,
            ix.links["cost"].to_numpy(dtype=float),
            ix.assign["t"].to_numpy(dtype=float),
            ix.flows["c"].to_numpy(dtype=float),
        ]
    )
    return cost, float(X.sum())


# --------------------------------------------------------------------------- assembly


def build_matrix(
    ix: ModelIndex, valid_inequalities: bool = True, mutable: bool = False
) -> MatrixModel:
    """The full model as arrays: the same rows as ``build_model(ix, ...)``, in its order."""
    lay = Layout(len(ix.leads), len(ix.providers), len(ix.links), len(ix.assign), len(ix.flows))
    cd = index_codes(ix)
    blocks = [
        *rows_lead_count(ix, lay, mutable),
        *rows_one_role(ix, lay, cd),
        *rows_subcontract_to_lead(ix, lay, cd),
        *rows_ccg_assignment(ix, lay, cd),
        *rows_network_balance(ix, lay, cd),
        *rows_capacity(ix, lay, cd),
        # C7 (eligibility) holds by construction: ix.flows has only eligible (p, s) pairs.
        *rows_full_coverage(ix, lay, cd),
        *rows_network_quality(ix, lay, cd),
        *rows_self_delivery(ix, lay, cd),
        *rows_viability(ix, lay, cd),
        *rows_mergers(ix, lay, cd),
        *rows_free_choice(ix, lay, cd),
    ]
    if valid_inequalities and not mutable:
        blocks += rows_capacity_cover(ix, lay, cd)
    if valid_inequalities:
        blocks += [*rows_quality_cover(ix, lay, cd), *rows_role_split(ix, lay, cd)]

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
    rows = np.concatenate([b.rows + starts[i] for i, b in enumerate(blocks)] + [np.zeros(0, _I)])
    cols = np.concatenate([b.cols for b in blocks] + [np.zeros(0, _I)])
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
        lower_rows = [np.arange(*components[b.name], dtype=_I) for b in blocks if b.scaled_lower]
        model.scaled_lower_rows = np.concatenate([*lower_rows, np.zeros(0, _I)])
        model.scaled_lower_base = model.row_lower[model.scaled_lower_rows].copy()
    return model


def _highs_order(mm: MatrixModel) -> np.ndarray:
    """HiGHS's column of each layout column: columns in order of first appearance in the rows.

    That is the order in which Pyomo's appsi interface adds variables to HiGHS, so HiGHS
    receives the very same model from both backends and searches it the same way (its
    heuristics and branching depend on the column order). Columns in no row come last.
    """
    first = np.full(mm.n_cols, np.iinfo(_I).max, dtype=_I)
    np.minimum.at(first, mm.index, np.arange(mm.nnz, dtype=_I))
    highs_col = np.empty(mm.n_cols, dtype=np.int32)
    highs_col[np.argsort(first, kind="stable")] = np.arange(mm.n_cols, dtype=np.int32)
    return highs_col


def pass_to_highs(h: object, mm: MatrixModel) -> None:
    """Hand the model to a ``highspy.Highs`` in one call (row-wise matrix, numpy arrays).

    Columns are permuted into HiGHS's order (``mm.highs_col``); rows keep theirs.
    """
    layout_of = np.empty(mm.n_cols, dtype=np.int64)
    layout_of[mm.highs_col] = np.arange(mm.n_cols)
    status = h.passModel(  # type: ignore[attr-defined]
        mm.n_cols,
        mm.n_rows,
        mm.nnz,
        2,  # MatrixFormat.kRowwise
        1,  # ObjSense.kMinimize
        mm.offset,
        mm.col_cost[layout_of],
        mm.col_lower[layout_of],
        mm.col_upper[layout_of],
        mm.row_lower,
        mm.row_upper,
        mm.start,
        mm.highs_col[mm.index],
        mm.value,
        mm.integrality[layout_of],
    )
    if int(status) < 0:  # HighsStatus.kError
        raise RuntimeError("HiGHS rejected the model handed over by csu_opt.matrix")


def csr(mm: MatrixModel) -> sp.csr_matrix:
    """The constraint matrix as a scipy CSR matrix. scipy is imported on first use: with
    Pyomo loaded, importing it costs 0.6 s (Pyomo's deferred scipy hooks import scipy.stats),
    which every CLI start paid when it was imported at the top."""
    import scipy.sparse as sp

    return sp.csr_matrix((mm.value, mm.index, mm.start), shape=(mm.n_rows, mm.n_cols))


def pass_submodel(
    h: object,
    mm: MatrixModel,
    A: sp.csr_matrix,
    rows: np.ndarray,
    cols: np.ndarray,
    offset: float,
    integral: bool,
) -> None:
    """Hand HiGHS the model restricted to ``rows`` and ``cols`` (layout order, kept as given).

    ``A`` is ``csr(mm)``; ``integral`` keeps the columns' integrality (else
    the relaxation). Used by the LP's column generation (lp.py) and the Dantzig-Wolfe
    pricing problems (dw.py).
    """
    sub = A[rows][:, cols].tocsr()
    integrality = mm.integrality[cols] if integral else np.zeros(len(cols), np.int32)
    h.passModel(  # type: ignore[attr-defined]
        len(cols),
        len(rows),
        sub.nnz,
        2,  # MatrixFormat.kRowwise
        1,  # ObjSense.kMinimize
        offset,
        mm.col_cost[cols],
        mm.col_lower[cols],
        mm.col_upper[cols],
        mm.row_lower[rows],
        mm.row_upper[rows],
        sub.indptr.astype(np.int32),
        sub.indices.astype(np.int32),
        sub.data,
        integrality,
    )


#: HiGHS's objective and the cost of the solution it returns must agree to this (relative).
OBJECTIVE_TOL = 1e-6


def highs_solution_cost(h: object, col: np.ndarray) -> float:
    """c·x + offset of the model a ``highspy.Highs`` holds (whatever objective) at ``col``.

    HiGHS 1.16.0 reported objectives its own solutions did not have (pyproject.toml); every
    solve compares the two (:func:`objectives_agree`).
    """
    lp = h.getLp()  # type: ignore[attr-defined]
    return float(np.dot(np.asarray(lp.col_cost_), col) + lp.offset_)


def objectives_agree(a: float, b: float) -> bool:
    """True when two objective values agree to OBJECTIVE_TOL (relative, at least 1 absolute)."""
    return abs(a - b) <= OBJECTIVE_TOL * max(1.0, abs(a), abs(b))
