"""Figures of a sweep folder: a metric over a varied key, a heatmap, who leads where.

A sweep folder is read from its files only: ``sweep.json`` (the axes), ``sweep.db`` (one row
per case) and ``cases/<key>/`` (each case's result folder, for quality and staff). A case
stopped at a limit is drawn with an open marker and its MIP gap as a band between the best
bound and the objective, so it is never shown as if it were optimal.
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from matplotlib.artist import Artist
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.transforms import blended_transform_factory

from csu_opt.analysis.sweep import case_proven
from csu_opt.errors import UsageError
from csu_opt.numbers import pct
from csu_opt.present.style import GREY, OKABE_ITO, ROLE_COLOURS, mtext, series_style
from csu_opt.results.run import ResultFolderError

SOLVED = ("optimal", "feasible")
#: y metrics: name -> (column, label, unit key or literal unit)
METRICS: dict[str, tuple[str, str, str]] = {
    "objective": ("objective", "total annual cost", "@cost"),
    "leads": ("n_leads", "lead providers", "count"),
    "subcontractors": ("n_subcontractors", "subcontractors", "count"),
    "exits": ("n_exits", "exiting providers", "count"),
    "staff_exiting": ("staff_exiting", "staff of exiting providers", "headcount"),
    "quality": ("quality", "volume-weighted quality, all lines", "0-100"),
    "gap": ("gap_pct", "MIP gap", "%"),
    "solve_s": ("solve_s", "solve time", "s"),
    **{
        p: (p, f"{p.replace('_', ' ')} cost", "@cost")
        for p in (
            "lead_fixed",
            "subcontractor_fixed",
            "partnership",
            "delivery",
            "assignment",
            "exit",
        )
    },
}


@dataclass(frozen=True)
class Sweep:
    """A sweep folder read back: one row per case, a column per varied key."""

    folder: Path
    axes: list[str]
    scaled: set[str]
    cases: pd.DataFrame
    units: dict[str, str] = field(default_factory=dict)
    name: str = ""
    spec: dict[str, Any] = field(default_factory=dict)
    #: a threshold search (--find-threshold): the intervals (below, above) of its key in
    #: which the set of leads changes
    tipping: list[tuple[float, float]] = field(default_factory=list)

    def resolve(self, name: str) -> str:
        """A varied key by its full name or an unambiguous ending ('max', 'volume')."""
        if name in self.axes:
            return name
        hits = [k for k in self.axes if k.endswith("." + name)]
        if len(hits) == 1:
            return hits[0]
        raise UsageError(
            f"{name!r} is {'ambiguous' if hits else 'not varied'} in this sweep; "
            f"varied keys: {', '.join(self.axes) or 'none'}"
        )

    def label(self, key: str) -> str:
        return f"{key} (scale factor)" if key in self.scaled else key

    def metric(self, y: str) -> tuple[str, str]:
        """Column and axis label with unit of a y metric."""
        if y not in METRICS:
            raise UsageError(f"unknown --y {y!r}; choose from {', '.join(METRICS)}")
        col, label, unit = METRICS[y]
        if unit.startswith("@"):
            unit = self.units.get(unit[1:]) or "units not given"
        return col, f"{label} ({unit})"

    def select(self, fix: dict[str, Any] | None) -> pd.DataFrame:
        df = self.cases
        for key, value in (fix or {}).items():
            key = self.resolve(key)
            df = df[df[key].astype(str) == str(value)]
        if df.empty:
            raise UsageError(f"no case matches {fix}")
        return df

    def case_label(self, row: pd.Series, keys: list[str] | None = None, depth: int = 2) -> str:
        """'lead_providers.max=12, demand.volume ×1.5' (depth: key parts kept)."""
        parts = []
        for k in keys if keys is not None else self.axes:
            short = ".".join(k.split(".")[-depth:])
            v = row.get(k)
            v = "base" if v is None or (isinstance(v, float) and math.isnan(v)) else v
            parts.append(f"{short} ×{v}" if k in self.scaled else f"{short}={v}")
        return ", ".join(parts) or "base"


def load_sweep(folder: str | Path) -> Sweep:
    folder = Path(folder)
    for f in ("sweep.db", "sweep.json"):
        if not (folder / f).is_file():
            raise ResultFolderError(f"{folder} is not a sweep folder: {f} is missing")
    spec = json.loads((folder / "sweep.json").read_text(encoding="utf-8"))
    with sqlite3.connect(f"file:{folder / 'sweep.db'}?mode=ro", uri=True) as db:
        df = pd.read_sql_query("SELECT * FROM cases", db)
    axes = [a["key"] for a in spec.get("axes", [])]
    scaled = {a["key"] for a in spec.get("axes", []) if a.get("scale")}
    tipping: list[tuple[float, float]] = []
    threshold = spec.get("threshold")
    if threshold and not axes:  # a threshold search varies its key, value by value
        given = str(threshold.get("as_given") or threshold["key"])
        key = given.rstrip("*")
        axes = [key]
        if threshold.get("scale", given == "demand.volume" or given.endswith("*")):
            scaled.add(key)
        tipping = _tipping_points(folder)
    params = [json.loads(p) if p else {} for p in df["params"]]
    for k in axes:
        df[k] = [p.get(k, np.nan) for p in params]
    df["gap_pct"] = df["mip_gap"] * 100
    df["proven"] = [
        case_proven(*r)
        for r in zip(df["status"], df["objective"], df["best_bound"], df["mip_gap"], strict=True)
    ]
    quality, staff = [], []
    for key in df["case_key"]:
        q, s = _case_extras(folder / "cases" / key)
        quality.append(q)
        staff.append(s)
    df["quality"], df["staff_exiting"] = quality, staff
    df = df.sort_values([*axes, "case_key"], key=lambda c: c.map(_sort_key), kind="stable")
    units, name = {}, ""
    try:
        doc = yaml.safe_load(Path(spec["instance"]).read_text(encoding="utf-8")) or {}
        units, name = dict(doc.get("units") or {}), str(doc.get("name", ""))
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        pass
    return Sweep(folder, axes, scaled, df.reset_index(drop=True), units, name, spec, tipping)


def _tipping_points(folder: Path) -> list[tuple[float, float]]:
    """The intervals of thresholds.json (none while the search has not finished)."""
    try:
        doc = json.loads((folder / "thresholds.json").read_text(encoding="utf-8"))
        return [(float(t["below"]), float(t["above"])) for t in doc["tipping_points"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def _case_extras(case: Path) -> tuple[float, float]:
    """Volume-weighted quality over all lines and exiting staff of one case folder."""
    try:
        f = pd.read_csv(case / "flows.csv")
        summary = json.loads((case / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return math.nan, math.nan
    vol = float(f["volume"].sum())
    q = float((f["quality"] * f["volume"]).sum() / vol) if vol > 0 else math.nan
    return q, float(summary.get("counts", {}).get("staff_exiting", math.nan))


def _positions(values: pd.Series) -> tuple[np.ndarray, list[Any] | None]:
    """Numeric x positions, or category positions and their labels."""
    num = pd.to_numeric(values, errors="coerce")
    if num.notna().all() and not values.map(lambda v: isinstance(v, bool)).any():
        return num.to_numpy(float), None
    cats = list(dict.fromkeys(values.astype(str)))
    return np.array([cats.index(str(v)) for v in values], float), cats


# --------------------------------------------------------------------------- lines


def sweep_lines_figure(
    sw: Sweep, x: str, y: str = "objective", fix: dict[str, Any] | None = None
) -> Figure:
    """y over the varied key x, one line per value of the other varied keys."""
    x = sw.resolve(x)
    col, ylabel = sw.metric(y)
    df = sw.select(fix)
    df = df[df[x].notna()]
    xs, cats = _positions(df[x])
    df = df.assign(_x=xs)
    others = [k for k in sw.axes if k != x and df[k].astype(str).nunique() > 1]
    groups = (
        list(df.groupby([df[k].astype(str) for k in others], sort=False)) if others else [((), df)]
    )
    fig = Figure(figsize=(9, 5.5), layout="constrained")
    ax = fig.subplots()
    bottom = blended_transform_factory(ax.transData, ax.transAxes)
    failed_any = stopped_any = False
    for i, (_, g) in enumerate(groups):
        colour = series_style(i)[0]
        g = g.sort_values("_x")
        ok = g[g["status"].isin(SOLVED)]
        label = sw.case_label(g.iloc[0], others) if others else mtext(ylabel.split(" (")[0])
        ax.plot(ok["_x"], ok[col], "-", color=colour, label=mtext(label), linewidth=1.8)
        opt, lim = ok[ok["status"] == "optimal"], ok[ok["status"] == "feasible"]
        ax.plot(opt["_x"], opt[col], "o", color=colour)
        ax.plot(lim["_x"], lim[col], "o", mfc="white", mec=colour, mew=1.8)
        stopped_any |= len(lim) > 0
        if col == "objective" and len(ok):
            lo = ok["best_bound"].fillna(ok["objective"]).to_numpy(float)
            ax.fill_between(
                ok["_x"], lo, ok["objective"].to_numpy(float), color=colour, alpha=0.25, linewidth=0
            )
        bad = g[~g["status"].isin(SOLVED)]
        if len(bad):
            failed_any = True
            ax.scatter(
                bad["_x"],
                np.full(len(bad), 0.03),
                marker="x",
                s=60,
                color=OKABE_ITO["vermillion"],
                transform=bottom,
                zorder=4,
            )
    tipping = sw.tipping if x == sw.axes[0] and cats is None else []
    for below, above in tipping:  # the search narrowed each change to a short interval
        if above - below > 0.01 * (float(df["_x"].max()) - float(df["_x"].min())):
            ax.axvspan(below, above, color=OKABE_ITO["vermillion"], alpha=0.15, linewidth=0)
        mark = ax.axvline(
            (below + above) / 2, color=OKABE_ITO["vermillion"], linestyle="--", linewidth=1.2
        )
        mark.set_gid(f"tipping:{below:g}:{above:g}")
        ax.annotate(
            mtext(f"{below:g}-{above:g}"),
            ((below + above) / 2, 1.0),
            xycoords=bottom,
            xytext=(3, -12),
            textcoords="offset points",
            fontsize=8,
            color=OKABE_ITO["vermillion"],
        )
    if cats is not None:
        ax.set_xticks(range(len(cats)), [mtext(c) for c in cats])
    elif df["_x"].nunique() <= 12:
        ax.set_xticks(sorted(df["_x"].unique()))
    if len(df):  # every case on the axis, the crosses of failed cases included
        lo, hi = float(df["_x"].min()), float(df["_x"].max())
        pad = 0.04 * (hi - lo) if hi > lo else 0.5
        ax.set_xlim(lo - pad, hi + pad)
    ax.set_xlabel(mtext(sw.label(x)))
    ax.set_ylabel(mtext(ylabel))
    handles, _ = ax.get_legend_handles_labels()
    if tipping:
        handles.append(
            Line2D(
                [],
                [],
                color=OKABE_ITO["vermillion"],
                linestyle="--",
                label="the set of leads changes (tipping point)",
            )
        )
    handles += [
        Line2D([], [], marker="o", color="black", linestyle="", label="optimal"),
        Line2D(
            [],
            [],
            marker="o",
            mfc="white",
            mec="black",
            linestyle="",
            label="stopped at a limit (not proven optimal)",
        ),
    ]
    if col == "objective":
        handles.append(Patch(color=GREY, alpha=0.4, label="MIP gap: best bound to objective"))
    if failed_any:
        handles.append(
            Line2D(
                [],
                [],
                marker="x",
                color=OKABE_ITO["vermillion"],
                linestyle="",
                label="infeasible / no solution",
            )
        )
    ax.legend(
        handles=handles, fontsize=8, title=mtext(", ".join(others)) if others else None, loc="best"
    )
    note = "" if not stopped_any else "; open markers stopped at a limit"
    ax.set_title(mtext(f"{sw.name or 'sweep'}: {ylabel.split(' (')[0]} over {x}{note}"))
    return fig


# --------------------------------------------------------------------------- heatmap


def sweep_heatmap_figure(
    sw: Sweep, x: str, y2: str, y: str = "objective", fix: dict[str, Any] | None = None
) -> Figure:
    """y over two varied keys; cells stopped at a limit carry their gap."""
    x, y2 = sw.resolve(x), sw.resolve(y2)
    if x == y2:
        raise UsageError("--x and --y2 must be different keys")
    col, label = sw.metric(y)
    df = sw.select(fix)
    rest = [k for k in sw.axes if k not in (x, y2) and df[k].astype(str).nunique() > 1]
    if rest:
        raise UsageError(f"{', '.join(rest)} also varies: pick one value with --fix KEY=VALUE")
    df = df[df[x].notna() & df[y2].notna()]
    xv = sorted(df[x].unique(), key=_sort_key)
    yv = sorted(df[y2].unique(), key=_sort_key)
    grid = np.full((len(yv), len(xv)), np.nan)
    fig = Figure(
        figsize=(max(6.5, 1.1 * len(xv) + 3), max(4.5, 0.7 * len(yv) + 2.5)), layout="constrained"
    )
    ax = fig.subplots()
    for _, r in df.iterrows():
        if r["status"] in SOLVED:
            grid[yv.index(r[y2]), xv.index(r[x])] = r[col]
    cmap = ListedColormap(_cividis(256)).with_extremes(bad="#dddddd")
    im = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, origin="lower", aspect="auto")
    finite = grid[np.isfinite(grid)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    for _, r in df.iterrows():
        i, j = yv.index(r[y2]), xv.index(r[x])
        if r["status"] not in SOLVED:
            text, colour = str(r["status"]).replace("_", " "), "black"
        else:
            v = grid[i, j]
            text = f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"
            if r["status"] == "feasible":
                gap = r["gap_pct"]
                text += f"\ngap {pct(r['mip_gap'])}" if pd.notna(gap) else "\nat a limit"
            frac = 0.5 if hi == lo else (v - lo) / (hi - lo)
            colour = "black" if frac > 0.55 else "white"
        ax.text(j, i, text, ha="center", va="center", fontsize=8, color=colour)
    ax.set_xticks(range(len(xv)), [mtext(v) for v in xv])
    ax.set_yticks(range(len(yv)), [mtext(v) for v in yv])
    ax.set_xlabel(mtext(sw.label(x)))
    ax.set_ylabel(mtext(sw.label(y2)))
    fig.colorbar(im, ax=ax, label=mtext(label))
    ax.legend(
        handles=[
            Patch(color="#dddddd", label="infeasible / no solution"),
            Patch(color="white", label="'gap': stopped at a limit"),
        ],
        loc="upper left",
        bbox_to_anchor=(0, -0.12),
        ncols=2,
        fontsize=8,
    )
    ax.set_title(mtext(f"{sw.name or 'sweep'}: {label.split(' (')[0]}\nover {x} and {y2}"))
    return fig


def _float(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _sort_key(v: Any) -> tuple[int, Any]:
    return (0, float(v)) if isinstance(v, int | float) and not isinstance(v, bool) else (1, str(v))


def _cividis(n: int) -> np.ndarray:
    from matplotlib import colormaps  # noqa: PLC0415 (heavy optional dependency, loaded when used)

    return colormaps["cividis"](np.linspace(0, 1, n))


# --------------------------------------------------------------------------- leads


ROLE_CODES = {"lead": 0, "subcontractor": 1, "exit": 2}


def sweep_leads_figure(sw: Sweep, fix: dict[str, Any] | None = None) -> Figure:
    """Which provider leads (subcontracts, exits) in which case: providers x cases.

    A case not proven (stopped at a limit) is hatched and its label starred: its roles are
    those of the best network found, which need not be an optimum's.
    """
    df = sw.select(fix)
    roles = [json.loads(r) if isinstance(r, str) and r else {} for r in df["roles"]]
    providers = list(dict.fromkeys(p for r in roles for p in r))
    leading = {p: sum(r.get(p) == "lead" for r in roles) for p in providers}
    providers.sort(key=lambda p: (-leading[p], p))
    m = np.full((len(providers), len(df)), 3)
    for j, r in enumerate(roles):
        for i, p in enumerate(providers):
            m[i, j] = ROLE_CODES.get(r.get(p, ""), 3)
    fig = Figure(
        figsize=(max(6.5, 0.9 * len(df) + 3.5), max(4.0, 0.3 * len(providers) + 2.5)),
        layout="constrained",
    )
    ax = fig.subplots()
    colours = [ROLE_COLOURS["lead"], ROLE_COLOURS["subcontractor"], ROLE_COLOURS["exit"], "#eeeeee"]
    ax.imshow(
        m, cmap=ListedColormap(colours), vmin=-0.5, vmax=3.5, aspect="auto", interpolation="nearest"
    )
    proven = df["proven"].astype(bool).to_numpy() if "proven" in df else np.ones(len(df), bool)
    for col in np.flatnonzero(~proven).tolist():
        ax.add_patch(
            Rectangle(
                (col - 0.5, -0.5),
                1,
                len(providers),
                fill=False,
                hatch="///",
                edgecolor="black",
                linewidth=0,
                alpha=0.45,
            )
        )
    ax.set_xticks(
        range(len(df)),
        [
            mtext(sw.case_label(row, depth=1).replace(", ", "\n")) + ("" if ok else " *")
            for (_, row), ok in zip(df.iterrows(), proven, strict=True)
        ],
        fontsize=8,
        rotation=45 if len(df) > 6 else 0,
        ha="right" if len(df) > 6 else "center",
    )
    ax.set_yticks(range(len(providers)), [mtext(p) for p in providers], fontsize=8)
    ax.set_xticks(np.arange(len(df) + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(len(providers) + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=1)
    ax.tick_params(which="minor", length=0)
    ax.set_xlabel(mtext(f"case (values of {', '.join(sw.axes) or 'no varied key'})"))
    ax.set_ylabel("provider")
    labels = ["lead", "subcontractor", "exit", "no solution / not in instance"]
    handles: list[Artist] = [
        Patch(color=c, label=lab) for c, lab in zip(colours, labels, strict=True)
    ]
    if sw.tipping:  # a line between the two cases that bracket each tipping point
        xs = [_float(v) for v in df[sw.axes[0]]]
        pairs = set(sw.tipping)
        for j in range(1, len(xs)):
            if (xs[j - 1], xs[j]) in pairs:
                ax.axvline(j - 0.5, color="black", linewidth=2.5).set_gid(
                    f"tipping:{xs[j - 1]:g}:{xs[j]:g}"
                )
        handles.append(
            Line2D([], [], color="black", linewidth=2.5, label="tipping point: leads change")
        )
    if not proven.all():
        handles.append(
            Patch(
                facecolor="white",
                edgecolor="black",
                hatch="///",
                label="* not proven optimal\n(stopped at a limit)",
            )
        )
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        fontsize=8,
        title="role",
    )
    unproven = "" if proven.all() else f"; {int((~proven).sum())} case(s) not proven (*)"
    ax.set_title(mtext(f"{sw.name or 'sweep'}: which provider leads in which case{unproven}"))
    return fig


SWEEP_FIGURES = ("lines", "heatmap", "leads")
