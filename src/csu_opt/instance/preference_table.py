"""The ``ccg_preferences`` table (issue 18, section 3): validation beyond the schema's checks.

How the table becomes each CCG's order over the leads is :mod:`csu_opt.instance.preferences`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from csu_opt.errors import Problem
from csu_opt.instance.schema import Reporter
from csu_opt.instance.tables import RawTable


def empty_preferences() -> pd.DataFrame:
    """The ``ccg_preferences`` table with no rows."""
    return pd.DataFrame(
        {
            "ccg": pd.Series(dtype=object),
            "lead": pd.Series(dtype=object),
            "rank": pd.Series(dtype=float),
        }
    )


def check_preferences(raw: RawTable, typed: pd.DataFrame, problems: list[Problem]) -> None:
    """Ranks are whole numbers, and no CCG gives one rank to two leads.

    Unknown ids, blank cells, duplicate (ccg, lead) rows and ranks below 1 are reported by the
    schema's table checks; each problem names file, table, row and field.
    """
    rep = Reporter(raw, problems)
    rank = typed["rank"].to_numpy(dtype=float)
    finite = np.isfinite(rank) & (rank >= 1)
    fractional = finite & (rank != np.floor(rank))
    rep.rows(fractional, "rank", lambda i: f"expected a whole number, got {rank[i]:g}")
    ok = finite & ~fractional & typed["ccg"].notna().to_numpy()
    keys = pd.DataFrame({"ccg": typed["ccg"], "rank": rank})
    dup = keys.duplicated(keep="first").to_numpy() & ok
    if dup.any():
        first: dict[tuple[str, float], int] = {}
        for i in np.flatnonzero(ok):
            first.setdefault((typed["ccg"].iloc[i], rank[i]), int(i))
        rep.rows(
            dup,
            "rank",
            lambda i: (
                f"CCG {typed['ccg'].iloc[i]} gives rank {rank[i]:g} to two leads "
                f"({typed['lead'].iloc[first[(typed['ccg'].iloc[i], rank[i])]]} at "
                f"{raw.where(first[(typed['ccg'].iloc[i], rank[i])])} and "
                f"{typed['lead'].iloc[i]} here)"
            ),
        )
