"""The what-if analyses (issue 8) in a run's HTML report, when their files exist.

``csu-opt resilience RUN`` writes ``resilience.csv`` into the run folder; ``rule-costs``,
``alternatives`` and ``tradeoff`` write theirs where ``--out`` says (put them in the run
folder to have them reported). Each present file becomes a table and a figure.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from csu_opt.report import esc, figure_html, table_html

BLUE, VERMILION, GREY = "#0072B2", "#D55E00", "#999999"  # Okabe-Ito
MAX_ROWS = 25


def resilience_figure(table: pd.DataFrame, unit: str) -> Figure:
    """Extra cost of each provider's failure, most critical first; no repair marked."""
    t = table.sort_values("rank").head(MAX_ROWS)
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(t) + 1.6))
    repairable = t["repairable"].astype(str).str.lower().isin(("true", "1"))
    extra = pd.to_numeric(t["extra_cost"], errors="coerce").fillna(0.0)
    top = float(extra.max()) if len(extra) and extra.max() > 0 else 1.0
    values = extra.where(repairable, top * 1.1)
    colours = [BLUE if ok else VERMILION for ok in repairable]
    ax.barh(t["provider"].astype(str), values, color=colours)
    for y, (ok, v) in enumerate(zip(repairable, values, strict=True)):
        if not ok:
            ax.text(v, y, " no repair", va="center", color=VERMILION)
    ax.invert_yaxis()
    ax.set_xlabel(f"extra annual cost after the provider fails ({unit})")
    ax.set_ylabel("failed provider (most critical first)")
    ax.set_title("Resilience (N-1): how much the network depends on each provider")
    ax.legend(
        handles=[
            plt.Rectangle((0, 0), 1, 1, color=BLUE),
            plt.Rectangle((0, 0), 1, 1, color=VERMILION),
        ],
        labels=["repairable: extra cost", "no feasible repair"],
        loc="lower right",
    )
    fig.tight_layout()
    return fig


def rule_costs_figure(table: pd.DataFrame, unit: str) -> Figure:
    """What each rule group costs per year (base optimum minus the relaxed optimum)."""
    t = table.copy()
    t["cost"] = pd.to_numeric(t["cost"], errors="coerce")
    t = t.dropna(subset=["cost"]).sort_values("cost", ascending=False).head(MAX_ROWS)
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(t) + 1.6))
    ax.barh(t["key"].astype(str), t["cost"], color=BLUE, label="annual cost of the rule")
    ax.invert_yaxis()
    ax.set_xlabel(f"cost of keeping the rule ({unit})")
    ax.set_ylabel("rule group")
    ax.set_title("The price of each rule")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def tradeoff_figure(table: pd.DataFrame, unit: str) -> Figure:
    """Total cost against the number of CCGs moved (epsilon-constraint curve)."""
    t = table.copy()
    t["moves"] = pd.to_numeric(t["moves"], errors="coerce")
    t["objective"] = pd.to_numeric(t["objective"], errors="coerce")
    t = t.dropna(subset=["moves", "objective"]).sort_values("moves")
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(t["moves"], t["objective"], marker="o", color=BLUE, label="least total cost")
    ax.set_xlabel("CCGs that change network (count)")
    ax.set_ylabel(f"total annual cost ({unit})")
    ax.set_title("What stability costs: cost against CCGs moved")
    ax.legend()
    fig.tight_layout()
    return fig


def alternatives_figure(table: pd.DataFrame, unit: str) -> Figure:
    """Extra cost of each near-optimal alternative lead set over the best one."""
    t = table.copy()
    t["extra_cost"] = pd.to_numeric(t["extra_cost"], errors="coerce").fillna(0.0)
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(t) + 1.6))
    ax.barh([f"#{r}" for r in t["rank"]], t["extra_cost"], color=BLUE, label="extra cost")
    ax.invert_yaxis()
    ax.set_xlabel(f"extra annual cost over the best lead set ({unit})")
    ax.set_ylabel("alternative (rank)")
    ax.set_title("Near-optimal alternatives: structurally different lead sets")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


Section = tuple[str, str, list[str], Callable[[pd.DataFrame, str], Figure], str]
SECTIONS: list[Section] = [
    (
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
        "possible; providers without a feasible repair come first.",
    ),
    (
        "rule_costs.csv",
        "The price of each rule",
        ["key", "description", "status", "objective", "cost", "cost_pct", "binding"],
        rule_costs_figure,
        "Each rule group relaxed in turn; its cost is the base optimum minus the relaxed optimum.",
    ),
    (
        "alternatives.csv",
        "Near-optimal alternatives",
        [
            "rank",
            "status",
            "objective",
            "extra_cost",
            "extra_pct",
            "leads",
            "added_leads",
            "dropped_leads",
            "moved_ccgs",
        ],
        alternatives_figure,
        "Structurally different lead sets within the tolerance of the optimum.",
    ),
    (
        "tradeoff.csv",
        "Stability against cost",
        ["max_moves", "moves", "status", "objective", "stability_cost", "saving", "leads"],
        tradeoff_figure,
        "The least cost when at most K CCGs may change network.",
    ),
]


def whatif_sections(folder: Path, unit: str, extra: dict[str, str] | None = None) -> list[str]:
    """HTML for every what-if result file present in ``folder``; ``extra`` maps a file name
    to more HTML placed after its figure (the N-1 map after resilience.csv's)."""
    out: list[str] = []
    for filename, title, columns, make_figure, caption in SECTIONS:
        path = folder / filename
        if not path.is_file():
            continue
        table = pd.read_csv(path, keep_default_na=False)
        out.append(f"<h2>{esc(title)}</h2>")
        if table.empty:
            out.append("<p>No rows.</p>")
            continue
        fig = make_figure(table, unit)
        out.append(figure_html(fig, caption, filename.removesuffix(".csv")))
        plt.close(fig)
        out.append((extra or {}).get(filename, ""))
        cols = [c for c in columns if c in table.columns]
        rows: list[list[Any]] = table[cols].head(MAX_ROWS).to_numpy().tolist()
        out.append(table_html(cols, rows))
        if len(table) > MAX_ROWS:
            out.append(f"<p>... {len(table) - MAX_ROWS} more rows in {esc(filename)}.</p>")
        decisions = folder / "alternatives_decisions.csv"
        if filename == "alternatives.csv" and decisions.is_file():
            d = pd.read_csv(decisions, keep_default_na=False)
            common = d[d["common"].astype(str).str.lower().isin(("true", "1"))]
            out.append("<p>Decisions common to every alternative (robust choices):</p>")
            out.append(table_html(list(common.columns), common.head(MAX_ROWS).to_numpy().tolist()))
    return out
