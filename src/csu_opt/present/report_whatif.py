"""The what-if analyses (issue 8) in a run's HTML report, when their files exist.

``csu-opt resilience RUN`` writes ``resilience.csv`` into the run folder; ``rule-costs``,
``alternatives`` and ``tradeoff`` write theirs where ``--out`` says (put them in the run
folder to have them reported). Each present file becomes a table and a figure.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from csu_opt.analysis.proof import Interval, Optimum, describe, fmt_range, unproven_note, zero_tol
from csu_opt.present.html import esc, figure_html, table_html

BLUE, VERMILION, GREY = "#0072B2", "#D55E00", "#999999"  # Okabe-Ito
MAX_ROWS = 25


def _num(table: pd.DataFrame, col: str) -> pd.Series:
    if col not in table:
        return pd.Series(np.nan, index=table.index)
    return pd.to_numeric(table[col], errors="coerce")


def _truthy(table: pd.DataFrame, col: str, default: bool = True) -> pd.Series:
    if col not in table:
        return pd.Series(default, index=table.index)
    return table[col].astype(str).str.strip().str.lower().isin(("true", "1", "yes"))


def row_interval(row: pd.Series, value: str, solves: list[tuple[str, str]]) -> Interval | None:
    """A CSV row's difference as an Interval (``cost_low``, ``cost_high``, ``proven``), its
    zero tolerance from the row's proven gaps and objectives, as
    :func:`~csu_opt.analysis.proof.zero_tol` made it."""
    low, high = _cell(row.get("cost_low")), _cell(row.get("cost_high"))
    if low is None or high is None:
        return None
    objective, diff = _cell(row.get("objective")) or 0.0, _cell(row.get(value)) or 0.0
    optima = [
        Optimum(str(row.get(st, "")), objective + d, objective + d, _cell(row.get(gp)))
        for (st, gp), d in zip(solves, (0.0, diff), strict=False)
    ]
    proven = str(row.get("proven")).strip().lower() in ("true", "1")
    return Interval(low, high, proven, zero_tol(*optima))


def row_note(row: pd.Series, solves: list[tuple[str, str]]) -> str:
    """``not proven (gap x%)`` of a CSV row, from its statuses and gaps."""
    if str(row.get("proven")).lower() in ("true", "1"):
        return ""
    cells = [
        (
            str(row.get(st, "")),
            _cell(row.get(gp)),
            str(row.get(st, "")) in ("optimal", "infeasible"),
        )
        for st, gp in solves
    ]
    return unproven_note(cells) or "not proven"


def _cell(v: object) -> float | None:
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _interval_bars(ax: Axes, labels: list[str], table: pd.DataFrame, value: str) -> bool:
    """Proven values as solid bars; unproven ones as hatched bars spanning the interval they
    surely lie in (an open end drawn to the axis edge). True when any is unproven."""
    v = _num(table, value).fillna(0.0)
    low, high = _num(table, "cost_low"), _num(table, "cost_high")
    proven = _truthy(table, "proven")
    finite = pd.concat([v, low, high]).replace([np.inf, -np.inf], np.nan).dropna()
    top = float(finite.max()) if len(finite) and finite.max() > 0 else 1.0
    solid = v.where(proven, 0.0)
    ax.barh(labels, solid, color=BLUE)
    unproven = ~proven & low.notna()
    if unproven.any():
        floor = min(0.0, float(finite.min())) if len(finite) else 0.0
        lo = low.where(unproven, 0.0).clip(lower=floor)
        hi = high.where(unproven, 0.0).replace(np.inf, top * 1.15)
        ax.barh(
            labels,
            (hi - lo).where(unproven, 0.0),
            left=lo,
            color="white",
            edgecolor=VERMILION,
            hatch="///",
        )
        for y, (ok, h) in enumerate(zip(unproven, high, strict=True)):
            if ok and not np.isfinite(h):
                ax.text(top * 1.15, y, " no bound", va="center", color=VERMILION)
    return bool(unproven.any())


def _legend(ax: Axes, value_label: str, hatched: bool, extra: list[tuple[Any, str]]) -> None:
    handles: list[Any] = [plt.Rectangle((0, 0), 1, 1, color=BLUE)]
    labels = [value_label]
    if hatched:
        handles.append(
            plt.Rectangle((0, 0), 1, 1, facecolor="white", edgecolor=VERMILION, hatch="///")
        )
        labels.append("not proven: surely within this range")
    for h, lab in extra:
        handles.append(h)
        labels.append(lab)
    ax.legend(handles=handles, labels=labels, loc="lower right", fontsize=8)


def resilience_figure(table: pd.DataFrame, unit: str) -> Figure:
    """Extra cost of each provider's failure, most critical first; no repair marked;
    unproven extra costs as the interval they surely lie in."""
    t = table.sort_values("rank").head(MAX_ROWS).reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(t) + 1.6))
    repairable = _truthy(t, "repairable", False)
    labels = t["provider"].astype(str).tolist()
    costs = t.copy()
    for col in ("extra_cost", "cost_low", "cost_high"):
        costs[col] = _num(t, col).where(repairable)
    hatched = _interval_bars(ax, labels, costs, "extra_cost")
    ends = pd.concat([costs["extra_cost"], costs["cost_high"]])
    finite = ends.replace([np.inf, -np.inf], np.nan).dropna()
    top = float(finite.max()) if len(finite) and finite.max() > 0 else 1.0
    # no repair: proven infeasible, or none found before a limit (not proven impossible)
    impossible = t["status"].astype(str) == "infeasible"
    for y, ok in enumerate(repairable):
        if not ok:
            sure = bool(impossible[y])
            style = {"color": VERMILION} if sure else {"color": GREY, "hatch": "..."}
            ax.barh(labels[y], top * 1.1, **style)  # type: ignore[arg-type]
            text = " no repair" if sure else " none found (limit)"
            ax.text(top * 1.1, y, text, va="center", color=VERMILION if sure else "black")
    ax.invert_yaxis()
    ax.set_xlabel(f"extra annual cost after the provider fails ({unit})")
    ax.set_ylabel("failed provider (most critical first)")
    ax.set_title("Resilience (N-1): how much the network depends on each provider")
    extra: list[tuple[Any, str]] = [
        (plt.Rectangle((0, 0), 1, 1, color=VERMILION), "no feasible repair (proven)")
    ]
    if (~repairable & ~impossible).any():
        extra.append(
            (
                plt.Rectangle((0, 0), 1, 1, color=GREY, hatch="..."),
                "no repair found before the limit (not proven impossible)",
            )
        )
    _legend(ax, "repairable: extra cost (proven)", hatched, extra)
    fig.tight_layout()
    return fig


def rule_costs_figure(table: pd.DataFrame, unit: str) -> Figure:
    """What each rule group costs per year (base optimum minus the relaxed optimum); an
    unproven price as the interval it surely lies in."""
    t = table[_num(table, "cost_low").notna() | _num(table, "cost").notna()]
    t = t.assign(_c=_num(t, "cost")).sort_values("_c", ascending=False).head(MAX_ROWS)
    t = t.reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(t) + 1.6))
    hatched = _interval_bars(ax, t["key"].astype(str).tolist(), t, "cost")
    ax.invert_yaxis()
    ax.set_xlabel(f"cost of keeping the rule ({unit})")
    ax.set_ylabel("rule group")
    ax.set_title("The price of each rule")
    _legend(ax, "annual cost of the rule (proven)", hatched, [])
    fig.tight_layout()
    return fig


def tradeoff_figure(table: pd.DataFrame, unit: str) -> Figure:
    """Total cost against the number of CCGs moved (epsilon-constraint curve); points not
    proven are open."""
    t = table.assign(moves=_num(table, "moves"), objective=_num(table, "objective"))
    t = t.dropna(subset=["moves", "objective"]).sort_values("moves")
    proven = _truthy(t, "proven")
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(t["moves"], t["objective"], "-", color=BLUE, label="least total cost")
    ax.plot(t["moves"][proven], t["objective"][proven], "o", color=BLUE, label="proven")
    if (~proven).any():
        ax.plot(
            t["moves"][~proven],
            t["objective"][~proven],
            "o",
            mfc="white",
            mec=BLUE,
            mew=1.8,
            label="not proven (stopped at a limit)",
        )
    ax.set_xlabel("CCGs that change network (count)")
    ax.set_ylabel(f"total annual cost ({unit})")
    ax.set_title("What stability costs: cost against CCGs moved")
    ax.legend()
    fig.tight_layout()
    return fig


def alternatives_figure(table: pd.DataFrame, unit: str) -> Figure:
    """Extra cost of each near-optimal alternative lead set over the optimum; unproven ones
    as the interval they surely lie in."""
    t = table.reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(t) + 1.6))
    hatched = _interval_bars(ax, [f"#{r}" for r in t["rank"]], t, "extra_cost")
    ax.invert_yaxis()
    ax.set_xlabel(f"extra annual cost over the optimum ({unit})")
    ax.set_ylabel("alternative (rank)")
    ax.set_title("Near-optimal alternatives: structurally different lead sets")
    _legend(ax, "extra cost (proven)", hatched, [])
    fig.tight_layout()
    return fig


@dataclass(frozen=True)
class Section:
    """One what-if file in the report: its table columns, figure, and the difference it
    reports (``value``) with the solves that difference compares (status, gap columns)."""

    filename: str
    title: str
    columns: list[str]
    figure: Callable[[pd.DataFrame, str], Figure]
    caption: str
    value: str
    solves: list[tuple[str, str]]
    pct: str = ""  # the value as a percentage of the reference (base) objective
    base_sign: float = -1.0  # the reference objective is objective + base_sign * value


BOTH = [("status", "gap"), ("base_status", "base_gap")]
SECTIONS: list[Section] = [
    Section(
        "resilience.csv",
        "Resilience (N-1)",
        [
            "rank",
            "provider",
            "role",
            "status",
            "extra_cost",
            "extra_pct",
            "moved_ccgs",
            "role_changes",
            "uncovered_lines",
            "why",
        ],
        resilience_figure,
        "Each active provider removed in turn and the network repaired with as few changes as "
        "possible; providers without a feasible repair come first. An extra cost not proven "
        "is the range it surely lies in.",
        "extra_cost",
        BOTH,
        "extra_pct",
    ),
    Section(
        "rule_costs.csv",
        "The price of each rule",
        ["key", "description", "status", "objective", "cost", "cost_pct", "binding"],
        rule_costs_figure,
        "Each rule group relaxed in turn; its cost is the base optimum minus the relaxed "
        "optimum. A price not proven is the range it surely lies in; one whose range holds "
        "zero is within the gap.",
        "cost",
        BOTH,
        "cost_pct",
        1.0,
    ),
    Section(
        "alternatives.csv",
        "Near-optimal alternatives",
        [
            "rank",
            "status",
            "objective",
            "extra_cost",
            "extra_pct",
            "surely_within",
            "leads",
            "added_leads",
            "dropped_leads",
            "moved_ccgs",
        ],
        alternatives_figure,
        "Structurally different lead sets within the tolerance of the optimum (of the best "
        "network found, when the optimum is not proven).",
        "extra_cost",
        BOTH,
        "extra_pct",
    ),
    Section(
        "tradeoff.csv",
        "Stability against cost",
        ["max_moves", "moves", "status", "objective", "stability_cost", "saving", "leads"],
        tradeoff_figure,
        "The least cost when at most K CCGs may change network.",
        "stability_cost",
        BOTH,
    ),
]


def shown(row: pd.Series, section: Section) -> str:
    """The row's difference as the report shows it: a value only when proven and surely
    non-zero, its range when not proven, ``within the gap`` when the range holds zero."""
    iv = row_interval(row, section.value, section.solves)
    if iv is None:
        value = _cell(row.get(section.value))
        return "-" if value is None else fmt_range(value, value)
    return describe(iv, _cell(row.get(section.value)))


def shown_pct(row: pd.Series, section: Section) -> str:
    """The percentage beside a surely positive difference, as :func:`shown` shows it."""
    iv = row_interval(row, section.value, section.solves)
    objective, value = _cell(row.get("objective")), _cell(row.get(section.value))
    if iv is None or objective is None or value is None:
        return "-"
    if iv.binding is not True:
        return "0%" if iv.binding is False else "within the gap"
    base = abs(objective + section.base_sign * value)
    return describe(iv.scaled(100 / max(base, 1e-9)), _cell(row.get(section.pct)), "%")


def whatif_sections(folder: Path, unit: str, extra: dict[str, str] | None = None) -> list[str]:
    """HTML for every what-if result file present in ``folder``; ``extra`` maps a file name
    to more HTML placed after its figure (the N-1 map after resilience.csv's)."""
    out: list[str] = []
    for sec in SECTIONS:
        path = folder / sec.filename
        if not path.is_file():
            continue
        table = pd.read_csv(path, keep_default_na=False)
        out.append(f"<h2>{esc(sec.title)}</h2>")
        if table.empty:
            out.append("<p>No rows.</p>")
            continue
        open_rows = int((~_truthy(table, "proven")).sum())
        if open_rows:
            out.append(
                f'<p class="warn"><strong>{open_rows} of {len(table)} row(s) not proven</strong>'
                " (a solve stopped at a limit): their differences are the ranges they surely "
                "lie in, from the solves' objectives and bounds.</p>"
            )
        fig = sec.figure(table, unit)
        out.append(figure_html(fig, sec.caption, sec.filename.removesuffix(".csv")))
        plt.close(fig)
        out.append((extra or {}).get(sec.filename, ""))
        cols = [c for c in sec.columns if c in table.columns]
        head = table.head(MAX_ROWS)
        rows: list[list[Any]] = []
        for _, r in head.iterrows():
            cells: list[Any] = [
                shown(r, sec)
                if c == sec.value
                else shown_pct(r, sec)
                if c == sec.pct
                else _plain_cell(r[c])
                for c in cols
            ]
            rows.append([*cells, row_note(r, sec.solves) or "proven"])
        out.append(table_html([*cols, "proof"], rows))
        if len(table) > MAX_ROWS:
            out.append(f"<p>... {len(table) - MAX_ROWS} more rows in {esc(sec.filename)}.</p>")
        decisions = folder / "alternatives_decisions.csv"
        if sec.filename == "alternatives.csv" and decisions.is_file():
            d = pd.read_csv(decisions, keep_default_na=False)
            common = d[d["common"].astype(str).str.lower().isin(("true", "1"))]
            out.append("<p>Decisions common to every alternative (robust choices):</p>")
            out.append(table_html(list(common.columns), common.head(MAX_ROWS).to_numpy().tolist()))
    return out


def _plain_cell(v: Any) -> Any:
    """numpy scalars as Python values (the table formats floats and ints)."""
    return v.item() if isinstance(v, np.generic) else v
