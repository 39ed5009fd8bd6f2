"""Figures of one solve: networks, service lines, costs and the regional view.

Every function takes a :class:`~csu_opt.results.run.Run` (a result folder read back, with its
instance when that can be found) and returns a matplotlib :class:`Figure`; nothing here
touches Pyomo, and figures are built without pyplot (no global state; PNG via Agg).
Colours are the Okabe-Ito palette, which colour-blind readers can tell apart; beyond eight
networks the colours repeat with a hatch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter

from csu_opt.numbers import pct
from csu_opt.present.plots_map import network_map_figure
from csu_opt.present.style import (
    MERGER_PART,
    OKABE_ITO,
    PART_COLOURS,
    PART_LABELS,
    PARTS,
    kind_colour,
    mtext,
    series_style,
    status_note,
)

if TYPE_CHECKING:
    from csu_opt.results.run import Run


#: Okabe & Ito (2008), "Color Universal Design".
def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _thousands(axis: Any) -> None:
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))


def _title(run: Run, what: str) -> str:
    return f"{mtext(run.label)}: {what} ({status_note(run)})"


# --------------------------------------------------------------------------- network


def network_figure(run: Run) -> Figure:
    """Each lead's network as a bar of the volume its members deliver, coloured by kind;
    exiting providers apart, with the staff affected."""
    sol = run.solution
    nets = run.networks()
    roles = sol.roles.set_index("provider")
    exits = sol.roles[sol.roles["role"] == "exit"]
    n, n_exit = len(nets), len(exits)
    fig = Figure(figsize=(10, 2.2 + 0.42 * n + 0.3 * max(n_exit, 1)), layout="constrained")
    ax, ax_exit = fig.subplots(2, 1, height_ratios=[max(n, 1), max(n_exit, 1) + 0.6])
    vol = sol.flows.groupby(["lead", "provider"])["volume"].sum()
    widest = max(float(nets["volume"].max()) if n else 0.0, 1e-9)
    for y, row in enumerate(nets.itertuples()):
        left = 0.0
        for p in row.members:
            v = float(vol.get((row.lead, p), 0.0))
            is_lead = p == row.lead
            (bar,) = ax.barh(
                y,
                v,
                left=left,
                color=kind_colour(roles.at[p, "kind"] if p in roles.index else "other"),
                edgecolor="black" if is_lead else "white",
                linewidth=1.6 if is_lead else 0.8,
                height=0.7,
            )
            bar.set_gid(f"member:{row.lead}:{p}")
            if v > 0.016 * widest * (len(str(p)) + 1):
                ax.text(left + v / 2, y, mtext(p), ha="center", va="center", fontsize=8)
            left += v
        ax.text(left, y, f"  {row.ccgs} CCG{'s' if row.ccgs != 1 else ''}", va="center")
    merger_of = (  # a merged body shows its members: "NM (csu; merger of N + M)"
        roles["merger_of"].astype(str) if "merger_of" in roles else pd.Series(dtype=str)
    )

    def tick(lead: str, kind: str) -> str:
        of = merger_of.get(lead, "")
        return f"{lead} ({kind}; merger of {of.replace(';', ' + ')})" if of else f"{lead} ({kind})"

    ax.set_yticks(range(n), [mtext(tick(r.lead, r.kind)) for r in nets.itertuples()])
    ax.invert_yaxis()
    ax.set_xlim(0, widest * 1.18)
    ax.set_xlabel(f"volume delivered in the network ({run.volume_unit})")
    ax.set_ylabel("lead provider's network")
    kinds = sorted(set(sol.roles["kind"].astype(str)))
    handles = [Patch(color=kind_colour(k), label=k) for k in kinds]
    handles.append(Patch(facecolor="white", edgecolor="black", linewidth=1.6, label="lead itself"))
    ax.legend(handles=handles, title="provider kind", loc="upper left", bbox_to_anchor=(1, 1))
    _thousands(ax.xaxis)
    n_sub = int((sol.roles["role"] == "subcontractor").sum())
    n_merged = int((sol.roles["role"] == "merged").sum())
    n_bodies = len(sol.mergers)
    merged = (
        f", {n_merged} merged into {n_bodies} bod{'y' if n_bodies == 1 else 'ies'}"
        if n_merged
        else ""
    )
    ax.set_title(
        _title(
            run,
            f"{_n(n, 'network')}, {_n(n_sub, 'subcontractor')}, {_n(n_exit, 'exit')}{merged}",
        )
    )

    staff = exits["staff"].astype(float) if "staff" in exits else pd.Series(0.0, exits.index)
    for y, (p, kind, s) in enumerate(zip(exits["provider"], exits["kind"], staff, strict=True)):
        (bar,) = ax_exit.barh(y, s, color=kind_colour(kind), height=0.6)
        bar.set_gid(f"exit:{p}")
        ax_exit.text(s, y, f"  {s:,.0f}", va="center", fontsize=8)
    ax_exit.set_yticks(
        range(n_exit),
        [mtext(f"{p} ({k})") for p, k in zip(exits["provider"], exits["kind"], strict=True)],
    )
    ax_exit.invert_yaxis()
    ax_exit.set_xlim(0, max(float(staff.max()) if n_exit else 0.0, 1.0) * 1.25)
    ax_exit.set_xlabel("staff of the exiting provider (headcount)")
    ax_exit.set_ylabel("exits")
    total_staff = float(staff.sum())
    ax_exit.set_title(
        f"{n_exit} provider{'s' if n_exit != 1 else ''} exit: {total_staff:,.0f} staff affected"
        if n_exit
        else "no provider exits: no staff affected",
        loc="left",
        fontsize=10,
    )
    return fig


# --------------------------------------------------------------------------- lines


def lines_figure(run: Run) -> Figure:
    """Per network: each line's volume by who delivers it, against demand, with quality."""
    sol = run.solution
    nets = run.networks()
    demand = run.demand_by_network()
    quality = run.quality_by_network()
    lines = run.line_ids()
    n = max(len(nets), 1)
    ncols = min(3, n)
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(4.6 * ncols, 1.2 + 3.3 * nrows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, sharey=True, squeeze=False)).ravel()
    vol = sol.flows.groupby(["lead", "provider", "service_line"])["volume"].sum()
    x = np.arange(len(lines))
    top = 0.0
    targets = run.quality_targets()
    ticks = [mtext(f"{s}\nQ≥{targets[s]:g}" if targets.get(s) else s) for s in lines]
    for ax, row in zip(axes, nets.itertuples(), strict=False):
        bottom = np.zeros(len(lines))
        for i, p in enumerate(row.members):
            v = np.array([float(vol.get((row.lead, p, s), 0.0)) for s in lines])
            colour, hatch = series_style(i)
            label = f"{p} (lead)" if p == row.lead else p
            ax.bar(
                x,
                v,
                bottom=bottom,
                color=colour,
                hatch=hatch,
                edgecolor="white",
                label=mtext(label),
                width=0.7,
            )
            bottom += v
        d = np.array([float(demand.get((row.lead, s), 0.0)) for s in lines])
        top = max(top, float(np.max(np.maximum(bottom, d), initial=0.0)))
        ax.scatter(x, d, marker="_", s=500, color="black", linewidths=2, zorder=3, label="demand")
        for xi, s in enumerate(lines):
            q = quality.get((row.lead, s))
            if q is not None and not math.isnan(q):
                ax.annotate(
                    f"q {q:.0f}",
                    (xi, max(bottom[xi], d[xi])),
                    xytext=(0, 3),
                    textcoords="offset points",
                    ha="center",
                    fontsize=8,
                )
        ax.set_xticks(x, ticks)
        ax.set_title(mtext(f"{row.lead} network ({row.ccgs} CCGs)"), fontsize=10)
        ax.set_xlabel("service line")
        ax.set_ylabel(f"volume ({run.volume_unit})")
        ax.legend(fontsize=7, loc="upper center", ncols=min(3, len(row.members) + 1))
        _thousands(ax.yaxis)
    axes[0].set_ylim(0, max(top, 1e-9) * 1.5)
    for ax in axes[len(nets) :]:
        ax.set_visible(False)
    fig.suptitle(
        _title(
            run,
            "each line's volume by who delivers it, against demand\n"
            "q: volume-weighted quality (0-100); Q: the network quality target",
        )
    )
    return fig


# --------------------------------------------------------------------------- costs


def costs_figure(runs: Run | Sequence[Run]) -> Figure:
    """The six cost parts as one stacked bar per run, with the MIP gap drawn as a band."""
    runs = list(runs) if isinstance(runs, Sequence) else [runs]
    fig = Figure(figsize=(max(8.0, 1.6 * len(runs) + 6.0), 5.5), layout="constrained")
    ax = fig.subplots()
    draw_costs(ax, runs)
    what = "cost breakdown"
    ax.set_title(_title(runs[0], what) if len(runs) == 1 else f"{what} of {len(runs)} runs")
    return fig


def draw_costs(ax: Axes, runs: Sequence[Run]) -> None:
    """Stacked cost parts per run on ``ax``; a black band from best bound to objective."""
    x = np.arange(len(runs))
    bottoms = np.zeros(len(runs))
    with_merger = any(hasattr(r.solution.cost_breakdown, MERGER_PART) for r in runs)
    for part in (*PARTS, MERGER_PART) if with_merger else PARTS:
        vals = np.array([_part(r, part) for r in runs])
        label = PART_LABELS[part]
        total = runs[0].solution.objective if len(runs) == 1 else None
        if total:  # one run: the legend carries the numbers
            label = f"{label}: {vals[0]:,.0f} ({100 * vals[0] / total:.1f}%)"
        bars = ax.bar(
            x,
            vals,
            bottom=bottoms,
            color=OKABE_ITO[PART_COLOURS[part]],
            label=label,
            width=0.6,
            edgecolor="white",
        )
        for r, b in zip(runs, bars, strict=True):
            b.set_gid(f"cost:{r.label}:{part}")
        bottoms += vals
    gap_label = "MIP gap: best bound to objective"
    for xi, r in enumerate(runs):
        sol = r.solution
        if sol.objective is None:
            ax.text(xi, 0, "no solution", ha="center", va="bottom")
            continue
        ax.annotate(
            f"{sol.objective:,.0f}",
            (xi, bottoms[xi]),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            fontsize=9,
        )
        gap = sol.objective - (sol.best_bound if sol.best_bound is not None else sol.objective)
        if gap > 1e-9 * max(abs(sol.objective), 1.0):
            band = Rectangle(
                (xi + 0.32, sol.objective - gap),
                0.08,
                gap,
                facecolor="black",
                alpha=0.6,
                label=gap_label,
            )
            band.set_gid(f"gap:{r.label}")
            ax.add_patch(band)
            ax.annotate(
                f"gap {gap:,.0f}\n({pct(sol.mip_gap or 0)})",
                (xi + 0.41, sol.objective - gap / 2),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
            gap_label = "_"  # one legend entry
    ax.set_xticks(x, [mtext(r.label) for r in runs], rotation=15 if len(runs) > 3 else 0)
    ax.set_xlabel("run")
    units = sorted({r.cost_unit for r in runs})
    ax.set_ylabel(f"annual cost ({' / '.join(mtext(u) for u in units)})")
    ax.margins(x=0.25, y=0.1)
    _thousands(ax.yaxis)
    ax.legend(title="cost part", fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def _part(run: Run, part: str) -> float:
    cb = run.solution.cost_breakdown
    return float(getattr(cb, part, 0.0)) if cb is not None else 0.0


# --------------------------------------------------------------------------- map


def map_figure(run: Run) -> Figure:
    """Which network serves each CCG: the CCGs' own shapes when the run's instance names
    boundaries, else cells in regional tiles (a schematic). See :mod:`csu_opt.present.plots_map`."""
    return network_map_figure(run)


RUN_FIGURES = {
    "network": network_figure,
    "lines": lines_figure,
    "costs": costs_figure,
    "map": map_figure,
}
