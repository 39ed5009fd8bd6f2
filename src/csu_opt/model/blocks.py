"""The pieces of the model as arrays: row blocks, the column layout u | a | w | z | x, the
assembled :class:`MatrixModel`, and the integer codes of the index frames the row builders use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from csu_opt.model.index import ModelIndex

if TYPE_CHECKING:
    pass


INF = np.inf
INDEX = np.int64


# --------------------------------------------------------------------------- containers


@dataclass(frozen=True)
class RowBlock:
    """The rows of one Pyomo component: entries (row, col, val), rows local to the block.

    ``scaled`` marks entries whose value is multiplied by the demand scale; ``scaled_lower``
    says that the block's lower bounds are. ``keys`` gives the Pyomo index of each row, in row
    order (computed on demand: the matrix path never asks; None: 0, 1, ..., n_rows - 1);
    ``scalar`` marks a one-row component without an index; ``param_bounds`` names the
    model's mutable Params that are the lower and upper bounds (C1 in a mutable model).
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
    keys: Callable[[], list[Any]] | None = None
    scalar: bool = False
    param_bounds: tuple[str, str] | None = None


def row_block(
    name: str,
    n_rows: int,
    parts: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray | float]],
    lower: float | np.ndarray,
    upper: float | np.ndarray,
    scaled_part: int | None = None,
    scaled_lower: bool = False,
    keys: Callable[[], list[Any]] | None = None,
    scalar: bool = False,
    param_bounds: tuple[str, str] | None = None,
) -> RowBlock:
    """A block from entry parts (rows, cols, vals); ``scaled_part`` indexes a scaled part."""
    rows = [np.asarray(r, dtype=INDEX) for r, _, _ in parts]
    cols = [np.asarray(c, dtype=INDEX) for _, c, _ in parts]
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
        rows=np.concatenate(rows) if rows else np.zeros(0, INDEX),
        cols=np.concatenate(cols) if cols else np.zeros(0, INDEX),
        vals=np.concatenate(vals) if vals else np.zeros(0),
        lower=np.broadcast_to(np.asarray(lower, dtype=float), n_rows).copy(),
        upper=np.broadcast_to(np.asarray(upper, dtype=float), n_rows).copy(),
        scaled=scaled,
        scaled_lower=scaled_lower,
        keys=keys,
        scalar=scalar,
        param_bounds=param_bounds,
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
    scaled_pos: np.ndarray = field(default_factory=lambda: np.zeros(0, INDEX))
    scaled_base: np.ndarray = field(default_factory=lambda: np.zeros(0))
    scaled_lower_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, INDEX))
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
        return np.repeat(np.arange(self.n_rows, dtype=INDEX), np.diff(self.start))

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


def positions_of(index: pd.Index, values: pd.Series) -> np.ndarray:
    return np.asarray(index.get_indexer(values.to_numpy()), dtype=INDEX)


def index_codes(ix: ModelIndex) -> IndexCodes:
    prov = ix.providers.index
    leads = pd.Index(ix.leads)
    lines = ix.lines.index
    ccgs = pd.Index(ix.ccgs)
    nP, nL, nS = len(prov), len(leads), len(lines)
    link_p, link_l = positions_of(prov, ix.links["p"]), positions_of(leads, ix.links["l"])
    link_of = np.full((nP, max(nL, 1)), -1, dtype=INDEX)
    link_of[link_p, link_l] = np.arange(len(ix.links))
    elig_p, elig_s = positions_of(prov, ix.eligible["p"]), positions_of(lines, ix.eligible["s"])
    eligible = np.zeros((nP, nS), dtype=bool)
    eligible[elig_p, elig_s] = True
    f = ix.flows
    return IndexCodes(
        nP=nP,
        nL=nL,
        nS=nS,
        nC=len(ccgs),
        lead_prov=np.asarray(prov.get_indexer(ix.leads), dtype=INDEX),
        link_p=link_p,
        link_l=link_l,
        flow_p=positions_of(prov, f["p"]),
        flow_l=positions_of(leads, f["l"]),
        flow_s=positions_of(lines, f["s"]),
        flow_self=f["self"].to_numpy(dtype=bool),
        flow_cap=f["cap"].to_numpy(dtype=float),
        z_l=positions_of(leads, ix.assign["l"]),
        z_c=positions_of(ccgs, ix.assign["c"]),
        dem_c=positions_of(ccgs, ix.demand["c"]),
        dem_s=positions_of(lines, ix.demand["s"]),
        elig_p=elig_p,
        elig_s=elig_s,
        eligible=eligible,
        link_of=link_of,
    )


def row_numbers(keys: np.ndarray, size: int) -> np.ndarray:
    """The row of each key in ``0..size-1``: ``keys[i]`` gets row ``i``, every other key -1."""
    row_of = np.full(max(size, 1), -1, INDEX)
    row_of[keys] = np.arange(len(keys))
    return row_of


def pair_keys(first: pd.Index, second: pd.Index, codes: np.ndarray, n: int) -> list[Any]:
    """Tuple keys (first[c // n], second[c % n]) of pair codes c = i * n + j."""
    codes = np.asarray(codes, dtype=INDEX)
    return list(zip(first[codes // n].tolist(), second[codes % n].tolist(), strict=True))


def first_seen(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, uniques) numbering ``keys`` in order of first appearance (groupby sort=False)."""
    codes, uniq = pd.factorize(keys, sort=False)
    return np.asarray(codes, dtype=INDEX), np.asarray(uniq, dtype=INDEX)


def name_rank(names: list[str] | pd.Index) -> np.ndarray:
    """Rank of each name in sorted order (Pyomo's ``sorted`` of tuple keys)."""
    order = sorted(range(len(names)), key=lambda i: names[i])
    rank = np.empty(len(names), dtype=INDEX)
    rank[order] = np.arange(len(names))
    return rank
