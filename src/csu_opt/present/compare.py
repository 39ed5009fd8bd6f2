"""Two or more runs compared, shown: a table on the terminal and a figure (the data comes from
:func:`csu_opt.analysis.compare.compare_runs`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from rich.console import Console
from rich.table import Table
from rich.text import Text

from csu_opt.analysis.compare import ABSENT, Comparison, MarketAnswer
from csu_opt.numbers import missing, money, pct, points, staff
from csu_opt.present.plots import draw_costs
from csu_opt.present.style import ROLE_COLOURS, mtext, series_style

# --------------------------------------------------------------------------- terminal


def _fmt(v: Any, key: str) -> str:
    """One cell of the overview: a gap, a headcount, a count, an amount or text."""
    if missing(v):
        return "-"
    if key == "MIP gap":
        return pct(v)
    if key == "staff exiting":
        return staff(v)
    if isinstance(v, float):
        return money(v)
    return str(v)


def market_lines(ans: MarketAnswer, unit: str) -> list[str]:
    """The planner's answer as plain sentences (terminal and report)."""
    iv = ans.cost
    proven = "" if iv is None or iv.proven else " (not proven: a solve hit a limit)"
    lines = [
        f"Cost of free choice ({ans.free} minus {ans.managed}): {ans.cost_text} ({unit})" + proven,
    ]
    if iv is not None and np.isfinite(iv.low) and np.isfinite(iv.high):
        lines.append(
            f"  surely between {money(iv.low)} and {money(iv.high)} (the solves' bounds); "
            f"the networks found differ by {money(ans.value)}"
        )
    if not ans.same_model:
        lines.append(
            "  the two runs did not solve the same instance apart from the market: the "
            "difference also holds the other changes"
        )
    lines.append(
        f"Leads only under management: {', '.join(ans.leads_managed_only) or 'none'}; "
        f"only under free choice: {', '.join(ans.leads_free_only) or 'none'}"
    )
    lines.append(f"CCGs that move network under free choice: {len(ans.moves)}")
    for who, gone, kept in (("free choice", "free", "managed"), ("management", "managed", "free")):
        df = ans.exits[ans.exits[gone] == "exit"]
        if not len(df):
            lines.append(f"Exit only under {who}: none")
            continue
        listed = []
        for r in df.to_dict("records"):
            floor = f", minimum {money(r['min_volume'])}" if r["min_volume"] > 0 else ""
            listed.append(
                f"{r['provider']} ({staff(r['staff'])} staff; delivers "
                f"{money(r[kept + '_volume'])} in the other market{floor})"
            )
        lines.append(f"Exit only under {who}: {'; '.join(listed)}")
    return lines


def render_comparison(console: Console, cmp: Comparison, max_rows: int = 40) -> None:
    """The comparison as rich tables (instance text is printed without markup)."""
    t = Table(title="Runs compared (first = reference)", title_justify="left")
    t.add_column("")
    for lab in cmp.labels:
        t.add_column(Text(lab), justify="right", overflow="fold")
    for key, row in cmp.overview.iterrows():
        t.add_row(str(key), *(Text(_fmt(row[lab], str(key))) for lab in cmp.labels))
    console.print(t)
    if len(cmp.leads):
        t = Table(title=Text(f"Leads against {cmp.labels[0]}"), title_justify="left")
        for col in ("run", "leads in", "leads out"):
            t.add_column(col, overflow="fold")
        for r in cmp.leads.itertuples():
            t.add_row(
                *(
                    Text(v)
                    for v in (r.run, ", ".join(r.leads_in) or "-", ", ".join(r.leads_out) or "-")
                )
            )
        console.print(t)
    for title, df in (
        ("Providers whose role changed", cmp.roles),
        ("CCGs that moved network", cmp.moves),
    ):
        t = Table(title=f"{title} ({len(df)})", title_justify="left")
        t.add_column(str(df.index.name))
        for lab in cmp.labels:
            t.add_column(Text(lab), overflow="fold")
        for i, row in df.head(max_rows).iterrows():
            t.add_row(Text(str(i)), *(Text(str(row[lab])) for lab in cmp.labels))
        if len(df) > max_rows:
            t.add_row(f"... {len(df) - max_rows} more", *([""] * len(cmp.labels)))
        console.print(t)
    t = Table(title="Volume-weighted quality per service line (0-100)", title_justify="left")
    t.add_column("line")  # ids are shown as text, never as markup
    for lab in cmp.labels:
        t.add_column(Text(lab), justify="right")
    for line, row in cmp.quality.iterrows():
        t.add_row(
            Text(str(line)),
            *(points(row[lab]) for lab in cmp.labels),
        )
    console.print(t)

    _render_market(console, cmp, max_rows)


def _render_market(console: Console, cmp: Comparison, max_rows: int) -> None:
    """The planner's answer of a managed run against a free-choice run (when compared)."""
    ans = cmp.market
    if ans is None:
        return
    unit = next((r.cost_unit for r in cmp.runs if r.label == ans.free), "")
    console.print(Text("Managed market or free choice", style="bold"))
    for line in market_lines(ans, unit):
        console.print(Text(line))
    if len(ans.moves):
        t = Table(title=f"CCGs that move under free choice ({len(ans.moves)})")
        for col in ("ccg", "name", "managed", "free"):
            t.add_column(col, overflow="fold")
        for r in ans.moves.head(max_rows).itertuples():
            t.add_row(*(Text(str(v)) for v in (r.ccg, r.name, r.managed, r.free)))
        if len(ans.moves) > max_rows:
            t.add_row(f"... {len(ans.moves) - max_rows} more", "", "", "")
        console.print(t)


# --------------------------------------------------------------------------- compare


def comparison_figure(cmp: Comparison) -> Figure:
    """Runs side by side: costs (with gap), network counts, quality per line, changes."""
    fig = Figure(figsize=(13, 9), layout="constrained")
    (a_cost, a_count), (a_q, a_chg) = fig.subplots(2, 2)
    draw_costs(a_cost, cmp.runs)
    a_cost.set_title("cost breakdown", fontsize=10)
    labels = [mtext(lab) for lab in cmp.labels]
    x = np.arange(len(cmp.runs))
    width = 0.8 / 3
    for i, key in enumerate(("leads", "subcontractors", "exits")):
        colour = ROLE_COLOURS["exit" if key == "exits" else key.rstrip("s")]
        vals = [float(cmp.overview.at[key, lab]) for lab in cmp.labels]
        a_count.bar(x + (i - 1) * width, vals, width, color=colour, label=key)
    a_count.set_xticks(x, labels)
    a_count.set_xlabel("run")
    a_count.set_ylabel("providers (count)")
    a_count.legend(fontsize=8)
    a_count.set_title("network roles", fontsize=10)
    q = cmp.quality
    xq = np.arange(len(q.index))
    wq = 0.8 / max(len(cmp.runs), 1)
    for i, lab in enumerate(cmp.labels):
        colour, hatch = series_style(i)
        a_q.bar(
            xq + (i - (len(cmp.runs) - 1) / 2) * wq,
            q[lab].fillna(0).to_numpy(),
            wq,
            color=colour,
            hatch=hatch,
            label=mtext(lab),
        )
    a_q.set_xticks(xq, [mtext(s) for s in q.index])
    a_q.set_xlabel("service line")
    a_q.set_ylabel("volume-weighted quality (0-100)")
    finite = q.to_numpy(float)[np.isfinite(q.to_numpy(float))]
    a_q.set_ylim(max(0.0, float(finite.min()) - 10) if finite.size else 0, 100)
    a_q.legend(fontsize=8)
    a_q.set_title("quality per service line", fontsize=10)
    changes = {
        "leads in": [len(v) for v in cmp.leads["leads_in"]],
        "leads out": [len(v) for v in cmp.leads["leads_out"]],
        "roles changed": [_differ(cmp.roles, cmp.labels[0], lab) for lab in cmp.labels[1:]],
        "CCGs moved": [_differ(cmp.moves, cmp.labels[0], lab) for lab in cmp.labels[1:]],
    }
    xc = np.arange(len(changes))
    wc = 0.8 / max(len(cmp.runs) - 1, 1)
    for i, lab in enumerate(cmp.labels[1:]):
        colour, hatch = series_style(i + 1)
        vals = [changes[k][i] for k in changes]
        bars = a_chg.bar(
            xc + (i - (len(cmp.runs) - 2) / 2) * wc,
            vals,
            wc,
            color=colour,
            hatch=hatch,
            label=mtext(lab),
        )
        a_chg.bar_label(bars, fontsize=8)
    a_chg.set_xticks(xc, list(changes))
    a_chg.set_xlabel("change against the reference run (providers and CCGs in both)")
    a_chg.set_ylabel("count")
    a_chg.legend(fontsize=8, title="run")
    a_chg.set_title(mtext(f"changes against {cmp.labels[0]}"), fontsize=10)
    fig.suptitle(mtext(f"Comparison of {len(cmp.runs)} runs (reference: {cmp.labels[0]})"))
    return fig


def _differ(df: pd.DataFrame, ref: str, other: str) -> int:
    """Rows present in both runs whose value differs (a role changed, a CCG moved)."""
    both = (df[ref] != ABSENT) & (df[other] != ABSENT)
    return int((both & (df[ref] != df[other])).sum())
