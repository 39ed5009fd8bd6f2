"""Maps of which network serves each CCG (the maps of CCGs that move: ``plots_moves``).

When the run's instance names boundaries (:mod:`csu_opt.instance.geo`) the CCGs are their shapes:
one PolyCollection per CCG holding one compound path (its polygons and holes), with the gid
``ccg:<id>``, so an SVG has exactly one ``<g id="ccg:...">`` shape per CCG. Each is filled
with its network's colour (the lead serving the largest share). The borders are drawn from
the file's shared arcs, in three classes: between networks (heavy), between CCGs of one
network (thin, white) and the edge of the map. Without boundaries the CCGs are cells in
regional tiles, the schematic of :func:`tile_map`.

Everything here reads runs and result files; nothing touches Pyomo.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch, Rectangle
from matplotlib.path import Path as MplPath

from csu_opt.instance.boundaries import Boundaries
from csu_opt.instance.geo import lat_aspect
from csu_opt.present.style import mtext, series_style, status_note

if TYPE_CHECKING:
    from csu_opt.results.run import Run

NO_NETWORK = "#dddddd"
#: How much of white is mixed into the colour of a CCG that is not highlighted.
FADE = 0.65
BORDER_STYLE = {  # class -> (colour, width, zorder)
    "ccg": ("white", 0.35, 3),
    "edge": ("#555555", 0.6, 4),
    "network": ("black", 1.4, 5),
}
HIGHLIGHT = ("black", 2.2, 6)
#: Lines of the lists beside a map before "... and N more".
MAX_LIST = 30


@dataclass(frozen=True)
class MapData:
    """What a map shows, as plain data.

    ``ccgs``: one row per CCG (ccg, name, region, lead, split: as ``Run.ccg_networks``);
    ``leads``: the networks in colour order; ``highlight``: CCGs drawn in full colour and
    outlined, the others faded (None: no highlighting)."""

    ccgs: pd.DataFrame
    leads: list[str]
    names: dict[str, str]
    boundaries: Boundaries | None = None
    highlight: frozenset[str] | None = None
    highlight_label: str = ""
    faded_label: str = ""


def styles(leads: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Colour and hatch of each lead's network (the i-th lead: the i-th series)."""
    return {lead: series_style(i) for i, lead in enumerate(leads)}


def _faded(colour: str) -> tuple[float, float, float]:
    r, g, b = to_rgb(colour)
    return (r + (1 - r) * FADE, g + (1 - g) * FADE, b + (1 - b) * FADE)


def _lead_label(lead: str, names: dict[str, str], n: int) -> str:
    name = names.get(lead, lead)
    who = f"{name} ({lead})" if name and name != lead else lead
    return mtext(f"{who}: {n} CCG{'' if n == 1 else 's'}")


# --------------------------------------------------------------------------- shapes


def _codes(lengths: np.ndarray, closed: bool) -> np.ndarray:
    """Path codes of parts of these lengths drawn as one path: each part starts with a
    move; a closed part (a ring) ends by closing the polygon."""
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    codes = np.full(int(lengths.sum()), MplPath.LINETO, dtype=MplPath.code_type)
    if closed:
        codes[starts + lengths - 1] = MplPath.CLOSEPOLY
    codes[starts] = MplPath.MOVETO
    return codes


def _compound(parts: Sequence[np.ndarray], closed: bool) -> MplPath:
    """One path of several rings (closed) or polylines (open)."""
    if not parts:
        return MplPath(np.zeros((0, 2)))
    lengths = np.array([len(p) for p in parts], dtype=np.int64)
    return MplPath(np.concatenate(parts), _codes(lengths, closed))


def border_classes(data: MapData) -> dict[str, list[np.ndarray]]:
    """The border pieces of the map by class: ``network`` (the CCGs on its two sides are
    served by different networks), ``ccg`` (two CCGs of one network) and ``edge`` (a CCG
    on one side only)."""
    assert data.boundaries is not None
    shapes = data.boundaries.shapes()
    lead_of = dict(zip(data.ccgs["ccg"], data.ccgs["lead"], strict=True))
    ccg_of = {shapes.index[k]: c for c, k in data.boundaries.feature_of.items() if c in lead_of}
    # owner[i]: the CCG drawn as shape i ('' for none); the extra last '' is side -1
    owner = np.array([ccg_of.get(i, "") for i in range(len(shapes.keys))] + [""], dtype=object)
    a = pd.Series(owner[shapes.sides[:, 0]], dtype=object)
    b = pd.Series(owner[shapes.sides[:, 1]], dtype=object)
    in_a, in_b = a.ne("").to_numpy(), b.ne("").to_numpy()
    both = in_a & in_b
    kind = np.select(
        [both & (a == b).to_numpy(), both & (a.map(lead_of) != b.map(lead_of)).to_numpy(), both],
        ["", "network", "ccg"],
        np.where(in_a | in_b, "edge", ""),
    )
    return {k: [shapes.lines[j] for j in np.flatnonzero(kind == k)] for k in BORDER_STYLE}


def _draw_shapes(ax: Axes, data: MapData) -> None:
    assert data.boundaries is not None
    shapes = data.boundaries.shapes()
    style = styles(data.leads)
    hi = data.highlight
    drawn: list[str] = []
    dots = []
    for row in data.ccgs.itertuples():
        key = data.boundaries.feature_of.get(row.ccg)
        if key is None or key not in shapes.index:
            continue
        rings = shapes.rings[shapes.index[key]]
        colour, hatch = style.get(row.lead, (NO_NETWORK, ""))
        face = colour if hi is None or row.ccg in hi else _faded(colour)
        pc = PolyCollection([], facecolors=[face], edgecolors="none", linewidths=0.0)
        lengths = np.array([len(r) for r in rings], dtype=np.int64)
        # one compound path per CCG (matplotlib's stub types codes as ints; they are arrays)
        pc.set_verts_and_codes([np.concatenate(rings)], cast(Any, [_codes(lengths, True)]))
        if hatch:
            pc.set_hatch(hatch)
        pc.set_gid(f"ccg:{row.ccg}")
        pc.set_zorder(2)
        ax.add_collection(pc, autolim=False)
        drawn.append(row.ccg)
        if row.split:
            biggest = max(rings, key=len)
            dots.append(biggest.mean(axis=0))
    for kind, lines in border_classes(data).items():
        colour, width, z = BORDER_STYLE[kind]
        patch = PathPatch(
            _compound(lines, False), fill=False, edgecolor=colour, linewidth=width, zorder=z
        )
        patch.set_gid(f"borders:{kind}")
        patch.set_capstyle("round")
        ax.add_artist(patch)  # not add_patch: its data-limit walk costs ~0.3 s a path
    if hi:
        rings_hi = [
            r
            for c in drawn
            if c in hi
            for r in shapes.rings[shapes.index[data.boundaries.feature_of[c]]]
        ]
        colour, width, z = HIGHLIGHT
        patch = PathPatch(
            _compound(rings_hi, True), fill=False, edgecolor=colour, linewidth=width, zorder=z
        )
        patch.set_gid("highlight")
        ax.add_artist(patch)  # not add_patch: its data-limit walk costs ~0.3 s a path
    if dots:
        pts = np.array(dots)
        ax.plot(pts[:, 0], pts[:, 1], "o", color="black", markersize=3, zorder=7)
    lo, hi_corner = shapes.bbox([data.boundaries.feature_of[c] for c in drawn])
    pad = 0.03 * (hi_corner - lo)
    ax.set_xlim(lo[0] - pad[0], hi_corner[0] + pad[0])
    ax.set_ylim(lo[1] - pad[1], hi_corner[1] + pad[1])
    ax.set_aspect(lat_aspect(shapes, [data.boundaries.feature_of[c] for c in drawn]))
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_xlabel(
        f"CCG boundaries: {Path(data.boundaries.path).name}; heavy lines: borders between networks"
    )


# --------------------------------------------------------------------------- tiles


def _tile_grid(regions: int) -> tuple[int, int]:
    """Columns and rows of regional tiles."""
    ncols = math.ceil(math.sqrt(max(regions, 1) * 1.6))
    return ncols, math.ceil(max(regions, 1) / ncols)


def tile_map(ax: Axes, data: MapData) -> None:
    """CCGs as cells in regional tiles, coloured by network (a schematic, no geography)."""
    by_ccg = data.ccgs
    order = {lead: i for i, lead in enumerate(data.leads)}
    style = styles(data.leads)
    counts = by_ccg.groupby("region").size().sort_values(ascending=False)
    ncols, nrows = _tile_grid(len(counts))
    k = math.ceil(math.sqrt(max(int(counts.max()) if len(counts) else 1, 1)))
    cell = 0.9 / k
    hi = data.highlight
    for r, (region, _) in enumerate(counts.items()):
        ox, oy = (r % ncols) * 1.1, -(r // ncols) * 1.25
        group = by_ccg[by_ccg["region"] == region]
        group = group.assign(o=group["lead"].map(order).fillna(len(order))).sort_values(
            ["o", "ccg"]
        )
        for j, row in enumerate(group.itertuples()):
            cx, cy = ox + (j % k) * cell, oy - (j // k) * cell
            colour, hatch = style.get(row.lead, (NO_NETWORK, ""))
            lit = hi is not None and row.ccg in hi
            rect = Rectangle(
                (cx, cy - cell),
                cell,
                cell,
                facecolor=colour if hi is None or lit else _faded(colour),
                hatch=hatch,
                edgecolor=HIGHLIGHT[0] if lit else "white",
                linewidth=1.6 if lit else 0.8,
                zorder=3 if lit else 2,
            )
            rect.set_gid(f"ccg:{row.ccg}")
            ax.add_patch(rect)
            if row.split:
                ax.plot(cx + cell / 2, cy - cell / 2, "o", color="black", markersize=3)
        ax.text(ox, oy + 0.04, mtext(f"{region} ({len(group)})"), fontsize=9, va="bottom")
    ax.set_xlim(-0.05, ncols * 1.1)
    ax.set_ylim(-(nrows - 1) * 1.25 - 1.0, 0.3)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_xlabel("regions (one tile each, CCG count in brackets); one cell per CCG; no geography")
    ax.set_ylabel("regions, largest first")


# --------------------------------------------------------------------------- figures


def _legend_handles(data: MapData) -> list[Patch | Line2D]:
    style = styles(data.leads)
    # hatches as drawn: black on shapes (no edge), white on tiles (white cell edges)
    edge = {"edgecolor": "black", "linewidth": 0} if data.boundaries else {"edgecolor": "white"}
    counts = data.ccgs.groupby("lead").size()
    handles: list[Patch | Line2D] = []
    for lead in data.leads:
        colour, hatch = style[lead]
        n = int(counts.get(lead, 0))
        if n:
            label = _lead_label(lead, data.names, n)
            handles.append(Patch(facecolor=colour, hatch=hatch, label=label, **edge))
    if data.highlight is not None:
        colour, width, _ = HIGHLIGHT
        handles.append(
            Patch(
                facecolor="#888888", edgecolor=colour, linewidth=width, label=data.highlight_label
            )
        )
        handles.append(Patch(facecolor=_faded("#888888"), label=data.faded_label))
    if data.ccgs["split"].any():
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                color="black",
                markersize=3,
                label="split between networks",
            )
        )
    return handles


def _lists_text(blocks: Sequence[tuple[str, Sequence[str]]]) -> str:
    """Headed lists as text: at most MAX_LIST items each, long items wrapped."""
    lines: list[str] = []
    for head, items in blocks:
        lines.append(head)
        for item in list(items)[:MAX_LIST]:
            lines.append(textwrap.fill(item, 60, initial_indent="  ", subsequent_indent="    "))
        if len(items) > MAX_LIST:
            lines.append(f"  ... and {len(items) - MAX_LIST} more")
        lines.append("")
    return "\n".join(lines).rstrip()


def _tile_size(data: MapData) -> tuple[float, float]:
    ncols, nrows = _tile_grid(data.ccgs["region"].nunique())
    return 1.9 * ncols + 4.8, max(1.9 * nrows + 1.4, 4.8)


def ccg_map_figure(
    data: MapData,
    title: str,
    blocks: Sequence[tuple[str, Sequence[str]]],
    footer: str = "",
) -> Figure:
    """A map of ``data`` with its legend and, under it, ``blocks`` of lists (subcontractors,
    exits, CCGs that move); ``footer`` (the boundaries' attribution) at the bottom."""
    geographic = data.boundaries is not None
    rect = (0.0, 0.05, 1.0, 0.95) if footer else (0.0, 0.0, 1.0, 1.0)
    fig = Figure(
        figsize=(13, 9.5) if geographic else _tile_size(data),
        layout=ConstrainedLayoutEngine(rect=rect),
    )
    if footer:
        fig.text(
            0.01,
            0.008,
            mtext(textwrap.fill(footer, 190)),
            fontsize=7,
            va="bottom",
            gid="attribution",
        )
    ax, side = fig.subplots(1, 2, width_ratios=[2.2, 1])
    (_draw_shapes if geographic else tile_map)(ax, data)
    side.set_axis_off()
    legend = side.legend(
        handles=_legend_handles(data),
        title="network (lead): CCGs",
        loc="upper left",
        fontsize=8,
        title_fontsize=9,
        frameon=False,
    )
    side.annotate(  # the lists start just under the legend, whatever its height
        mtext(_lists_text(blocks)),
        xy=(0, 0),
        xycoords=legend,
        xytext=(6, -8),
        textcoords="offset points",
        va="top",
        ha="left",
        fontsize=8,
        gid="lists",
    )
    fig.suptitle(mtext(title))
    return fig


def footer(data: MapData) -> str:
    if data.boundaries is None:
        return ""
    if data.boundaries.attribution:
        return data.boundaries.attribution
    return f"Boundaries: {Path(data.boundaries.path).name} (the instance gives no attribution)"


def run_map_data(run: Run) -> MapData:
    """A run's CCGs by network, its leads largest first, and its instance's boundaries."""
    inst = run.instance
    return MapData(
        ccgs=run.ccg_networks(),
        leads=list(run.networks()["lead"]),
        names=run.provider_names(),
        boundaries=inst.boundaries if inst is not None else None,
    )


def named(ident: str, names: dict[str, str]) -> str:
    """``"S1 (Comms Charity)"``, or the id alone when it has no other name."""
    name = names.get(ident, ident)
    return f"{ident} ({name})" if name and name != ident else ident


def network_lists(run: Run) -> list[tuple[str, list[str]]]:
    """Subcontractors by network and exits (with their staff), for the side of a map."""
    roles = run.solution.roles
    names = run.provider_names()
    subs = [
        f"{row.lead}: {', '.join(named(p, names) for p in row.members[1:])}"
        for row in run.networks().itertuples()
        if len(row.members) > 1
    ]
    exits = roles[roles["role"] == "exit"]
    staff = exits["staff"].astype(float) if "staff" in exits else pd.Series(0.0, exits.index)
    gone = [
        f"{named(p, names)}: {k}, {s:,.0f} staff"
        for p, k, s in zip(exits["provider"], exits["kind"], staff, strict=True)
    ]
    n_sub = int((roles["role"] == "subcontractor").sum())
    return [
        (f"Subcontractors ({n_sub}), by network:", subs or ["none"]),
        (f"Exits ({len(gone)}; {float(staff.sum()):,.0f} staff):", gone or ["none"]),
    ]


def network_map_figure(run: Run) -> Figure:
    """Which network serves each CCG: the CCGs' shapes when the instance has boundaries,
    else regional tiles (the schematic of earlier versions)."""
    data = run_map_data(run)
    what = "which network serves each CCG"
    if data.boundaries is None:
        what += ", by region"
    return ccg_map_figure(
        data, f"{run.label}: {what} ({status_note(run)})", network_lists(run), footer(data)
    )
