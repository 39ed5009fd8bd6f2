"""Maps of the CCGs that move: between two runs (``csu-opt compare --map``) and when the
most critical provider fails (N-1, ``csu-opt plot RUN --kind resilience-map``).

Both draw the map of :mod:`csu_opt.present.plots_map` with the moving CCGs highlighted: in their
network's full colour and outlined, every other CCG faded. They read result files only.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from matplotlib.figure import Figure

from csu_opt.errors import CsuOptError
from csu_opt.numbers import ccgs_that
from csu_opt.present.plots_map import ccg_map_figure, footer, named, run_map_data
from csu_opt.results.solution import read_results

if TYPE_CHECKING:
    from csu_opt.analysis.compare import Comparison
    from csu_opt.results.run import Run


# --------------------------------------------------------------------------- compare


def moved_between(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """CCGs in both frames (``Run.ccg_networks``) whose network differs: ccg, name, from, to."""
    m = a[["ccg", "lead"]].merge(b[["ccg", "name", "lead"]], on="ccg", suffixes=("_a", "_b"))
    m = m[m["lead_a"] != m["lead_b"]]
    return m.rename(columns={"lead_a": "from", "lead_b": "to"})[["ccg", "name", "from", "to"]]


def compare_map_figure(cmp: Comparison, other: int = 1) -> Figure:
    """The CCGs that change network between the reference run and run ``other``: filled by
    their network in run ``other``, the moved ones in full colour and outlined."""
    a, b = cmp.runs[0], cmp.runs[other]
    ccg_a = a.ccg_networks()
    data = run_map_data(b)
    if data.boundaries is None and a.instance is not None and a.instance.boundaries:
        data = dataclasses.replace(data, boundaries=a.instance.boundaries)
    moved = moved_between(ccg_a, data.ccgs)
    leads = data.leads + [x for x in a.networks()["lead"] if x not in data.leads]
    only_b = sorted(set(data.ccgs["ccg"]) - set(ccg_a["ccg"]))
    n = len(moved)
    data = dataclasses.replace(
        data,
        leads=leads,
        names={**a.provider_names(), **data.names},
        highlight=frozenset(moved["ccg"]),
        highlight_label=f"changes network ({n})",
        faded_label=f"same network in both runs ({len(data.ccgs) - n - len(only_b)})",
    )
    ccg_names = dict(zip(moved["ccg"], moved["name"], strict=True))
    rows = [
        f"{named(c, ccg_names)}: {frm} → {to}"
        for c, frm, to in zip(moved["ccg"], moved["from"], moved["to"], strict=True)
    ]
    blocks: list[tuple[str, Sequence[str]]] = [
        (f"CCGs that change network ({n}):", rows or ["none"])
    ]
    if only_b:
        blocks.append((f"CCGs only in {b.label} ({len(only_b)}):", [", ".join(only_b)]))
    title = (
        f"CCGs that change network: {a.label} → {b.label} ({n} of {len(data.ccgs)})\n"
        f"filled by the network in {b.label}"
    )
    return ccg_map_figure(data, title, blocks, footer(data))


# --------------------------------------------------------------------------- resilience


def read_resilience(folder: Path) -> pd.DataFrame:
    path = folder / "resilience.csv"
    if not path.is_file():
        raise CsuOptError(f"{folder}: no resilience.csv; run `csu-opt resilience {folder}` first")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table["rank"] = pd.to_numeric(table["rank"], errors="coerce")
    return table.sort_values("rank").reset_index(drop=True)


def _ids(cell: object) -> list[str]:
    return [i for i in str(cell).split(";") if i]


def resilience_map_figure(run: Run, provider: str | None = None) -> Figure:
    """The CCGs that must move when the most critical provider (rank 1 in resilience.csv,
    or ``provider``) fails, on the network of the analysis. With no repair, the CCGs of
    the networks the provider belongs to are highlighted instead."""
    table = read_resilience(run.folder)
    if table.empty:
        raise CsuOptError(f"{run.folder}: resilience.csv has no rows")
    if provider is not None and provider not in set(table["provider"]):
        raise CsuOptError(f"{run.folder}: {provider} is not in resilience.csv")
    row = table[table["provider"] == provider].iloc[0] if provider else table.iloc[0]

    def cell(column: str) -> str:  # a column another version may not write reads as empty
        return str(row.get(column, "") or "")

    summary_file = run.folder / "resilience.json"
    robust = summary_file.is_file() and json.loads(summary_file.read_text()).get("robust")
    base = run
    if robust and (run.folder / "robust").is_dir():
        base = dataclasses.replace(run, solution=read_results(run.folder / "robust"))
    p, role = cell("provider"), cell("role")
    who = f"{p} ({role}{' of ' + cell('serves') if cell('serves') else ''})"
    rank = "the most critical provider" if int(row["rank"]) == 1 else f"rank {int(row['rank'])}"
    data = run_map_data(base)
    if cell("repairable").lower() in ("true", "1"):
        hit = _ids(cell("moved"))
        extra = f"+{float(cell('extra_cost') or 'nan'):,.0f} ({run.cost_unit})"
        if cell("extra_pct"):
            extra += f", +{float(cell('extra_pct')):.1f}%"
        what = f"{ccgs_that(len(hit), 'moves', 'move')}; cost {extra}"
        label = f"moves to another network ({len(hit)})"
        head = f"CCGs that move to another network ({len(hit)}):"
    else:
        nets = {p} if role == "lead" else set(_ids(cell("serves")))
        hit = list(data.ccgs.loc[data.ccgs["lead"].isin(nets), "ccg"])
        what = f"no repair exists ({cell('status')})"
        label = f"in its network: no repair ({len(hit)})"
        head = f"CCGs of its network, left without a repair ({len(hit)}):"
    data = dataclasses.replace(
        data,
        highlight=frozenset(hit),
        highlight_label=label,
        faded_label=f"unaffected ({len(data.ccgs) - len(hit)})",
    )
    names = dict(zip(data.ccgs["ccg"], data.ccgs["name"], strict=True))
    lead_of = dict(zip(data.ccgs["ccg"], data.ccgs["lead"], strict=True))
    rows = [f"{named(c, names)}, network of {lead_of.get(c, '?')}" for c in hit]
    blocks: list[tuple[str, Sequence[str]]] = [(head, rows or ["none"])]
    for column, head in (
        ("role_changes", "Other role changes:"),
        ("new_leads", "Leads after the repair:"),
    ):
        if cell(column):
            blocks.append((head, [", ".join(_ids(cell(column)))]))
    if cell("why"):
        blocks.append(("Why:", cell("why").split(" | ")))
    net = "robust network" if robust else "network"
    title = f"{run.label}: N-1 resilience of the {net}\nif {who}, {rank}, fails: {what}"
    return ccg_map_figure(data, title, blocks, footer(data))
