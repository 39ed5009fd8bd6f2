"""Runs compared as data: :func:`compare_runs` sets result folders side by side.

Each folder is a :class:`~csu_opt.results.run.Run`; against the first come the objective and
its parts, leads in and out, providers whose role changed, CCGs that moved network, quality per
line. It works across instances: a provider or CCG present in one run only is marked as such
(:data:`ABSENT`). Shown by :mod:`csu_opt.present.compare`.

When the reference run and another solved the two markets (``ccg_choice`` managed and free,
recorded in summary.json), :func:`market_answer` gives the planner's answer (issue 18): the
cost of free choice (an interval when a solve is not proven), the leads that survive only
under one market, the CCGs that move and the providers that exit under one market only.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from csu_opt.analysis.proof import Interval, Optimum, describe, difference
from csu_opt.results.run import Run

#: How a provider or CCG missing from a run's instance is shown.
ABSENT = "not in instance"


# --------------------------------------------------------------------------- compare


@dataclass(frozen=True)
class Comparison:
    """Runs side by side; the first is the reference for 'in', 'out' and 'changed'."""

    runs: list[Run]
    overview: pd.DataFrame  # metric x run label (numbers or text)
    leads: pd.DataFrame  # run, leads_in, leads_out (against the first run)
    roles: pd.DataFrame  # provider x run label: role or ABSENT; only rows that differ
    moves: pd.DataFrame  # ccg x run label: lead or ABSENT; only rows that differ
    quality: pd.DataFrame  # line x run label: volume-weighted quality (NaN: line absent)
    market: MarketAnswer | None = None  # managed against free choice, when runs differ so

    @property
    def labels(self) -> list[str]:
        return [r.label for r in self.runs]


def unique_labels(runs: list[Run]) -> list[Run]:
    """Runs of the same instance get their folder name added to the label."""
    labels = [r.label for r in runs]
    out = []
    for r in runs:
        label = r.label if labels.count(r.label) == 1 else f"{r.label} ({r.folder.name})"
        out.append(r)
        if label != r.label:
            out[-1] = dataclasses.replace(r, label=label)
    if len({r.label for r in out}) < len(out):  # the same folder twice, or equal names
        out = [dataclasses.replace(r, label=f"{i + 1}: {r.label}") for i, r in enumerate(out)]
    return out


def compare_runs(runs: list[Run]) -> Comparison:
    runs = unique_labels(runs)
    labels = [r.label for r in runs]
    overview: dict[str, dict[str, Any]] = {}
    for r in runs:
        s = r.solution
        cb = dataclasses.asdict(s.cost_breakdown) if s.cost_breakdown else {}
        roles = s.roles
        exiting = roles[roles["role"] == "exit"]
        overview[r.label] = {
            "instance": s.instance.get("name", ""),
            "market": r.market,
            "status": s.status.value,
            "objective": s.objective,
            "best bound": s.best_bound,
            "MIP gap": s.mip_gap,
            **{k.replace("_", " "): v for k, v in cb.items()},
            "leads": len(s.leads),
            "subcontractors": int((roles["role"] == "subcontractor").sum()),
            "exits": len(exiting),
            "staff exiting": float(exiting["staff"].sum()) if "staff" in exiting else 0.0,
            "CCGs": int(s.assignments["ccg"].nunique()),
        }
    base = runs[0]
    leads = pd.DataFrame(
        [
            {
                "run": r.label,
                "leads_in": sorted(set(r.solution.leads) - set(base.solution.leads)),
                "leads_out": sorted(set(base.solution.leads) - set(r.solution.leads)),
            }
            for r in runs[1:]
        ],
        columns=["run", "leads_in", "leads_out"],
    )
    role_maps = [
        dict(zip(r.solution.roles["provider"], r.solution.roles["role"], strict=True)) for r in runs
    ]
    ccg_maps = [
        dict(zip(c["ccg"], c["lead"], strict=True)) for c in (r.ccg_networks() for r in runs)
    ]
    return Comparison(
        runs=runs,
        overview=pd.DataFrame(overview),
        leads=leads,
        roles=_changed(role_maps, labels, "provider"),
        moves=_changed(ccg_maps, labels, "ccg"),
        quality=pd.DataFrame(
            {r.label: pd.Series(r.quality_by_line(), dtype=float) for r in runs}
        ).reindex(_union([r.line_ids() for r in runs])),
        market=market_answer(runs),
    )


# --------------------------------------------------------------------------- two markets


@dataclass(frozen=True)
class MarketAnswer:
    """Managed market against free choice: the planner's central question (issue 18).

    ``cost`` is the interval the cost of free choice (free optimum minus managed optimum)
    surely lies in (None when a run has no network); ``value`` the difference of the
    networks found. ``same_model``: both runs solved the same instance with the same
    overrides apart from the market, so free choice cannot cost less (the interval is >= 0).
    ``moves``: ccg, name, managed, free (the lead serving it under each). ``exits``:
    providers that exit under one market only: provider, name, staff, min_volume, managed,
    free (role), managed_volume, free_volume.
    """

    managed: str
    free: str
    same_model: bool
    cost: Interval | None
    value: float | None
    leads_managed_only: list[str]
    leads_free_only: list[str]
    moves: pd.DataFrame
    exits: pd.DataFrame

    @property
    def cost_text(self) -> str:
        if self.cost is None:
            return "not known (a run holds no network)"
        return describe(self.cost, self.value)


def _market_overrides(run: Run) -> tuple[list[str], str]:
    rec = run.solution.instance
    others = [o for o in (rec.get("overrides") or []) if not str(o).startswith("settings.ccg_")]
    return others, str(rec.get("sha256") or "")


def market_answer(runs: list[Run]) -> MarketAnswer | None:
    """The reference run against the first other run of the other market (None if none)."""
    if not runs:
        return None
    ref = runs[0]
    other = next((r for r in runs[1:] if r.market != ref.market), None)
    if other is None:
        return None
    managed, free = (ref, other) if ref.market == "managed" else (other, ref)
    ms, fs = managed.solution, free.solution
    same = _market_overrides(managed) == _market_overrides(free) and bool(ms.instance.get("sha256"))
    cost = value = None
    if ms.status.has_solution and fs.status.has_solution:
        cost = difference(Optimum.of(fs), Optimum.of(ms), a_at_least_b=same)
        value = float(fs.objective or 0.0) - float(ms.objective or 0.0)
    m_net = managed.ccg_networks().set_index("ccg")
    f_net = free.ccg_networks().set_index("ccg")
    both = m_net.index.intersection(f_net.index)
    moved = [c for c in both if m_net.at[c, "lead"] != f_net.at[c, "lead"]]
    moves = pd.DataFrame(
        {
            "ccg": moved,
            "name": [str(m_net.at[c, "name"]) for c in moved],
            "managed": [str(m_net.at[c, "lead"]) for c in moved],
            "free": [str(f_net.at[c, "lead"]) for c in moved],
        },
        columns=["ccg", "name", "managed", "free"],
    )
    return MarketAnswer(
        managed=managed.label,
        free=free.label,
        same_model=same,
        cost=cost,
        value=value,
        leads_managed_only=sorted(set(ms.leads) - set(fs.leads)),
        leads_free_only=sorted(set(fs.leads) - set(ms.leads)),
        moves=moves,
        exits=_one_market_exits(managed, free),
    )


def _one_market_exits(managed: Run, free: Run) -> pd.DataFrame:
    """Providers that exit under one market and not the other, with their volumes."""
    cols = ["provider", "name", "staff", "min_volume", "managed", "free"]
    cols += ["managed_volume", "free_volume"]
    mr = managed.solution.roles.set_index("provider")
    fr = free.solution.roles.set_index("provider")
    inst = managed.instance or free.instance
    mv = managed.solution.flows.groupby("provider")["volume"].sum()
    fv = free.solution.flows.groupby("provider")["volume"].sum()
    names = managed.provider_names() or free.provider_names()
    rows = []
    for p in mr.index.intersection(fr.index):
        a, b = str(mr.at[p, "role"]), str(fr.at[p, "role"])
        if (a == "exit") == (b == "exit"):
            continue
        v_min = float(inst.providers.at[p, "min_volume"]) if inst is not None else np.nan
        rows.append(
            {
                "provider": p,
                "name": names.get(p, p),
                "staff": float(mr.at[p, "staff"]) if "staff" in mr.columns else 0.0,
                "min_volume": v_min,
                "managed": a,
                "free": b,
                "managed_volume": float(mv.get(p, 0.0)),
                "free_volume": float(fv.get(p, 0.0)),
            }
        )
    return pd.DataFrame(rows, columns=cols)


def _union(lists: list[list[str]]) -> list[str]:
    seen: dict[str, None] = {}
    for items in lists:
        seen.update(dict.fromkeys(items))
    return list(seen)


def _changed(maps: list[dict[str, str]], labels: list[str], index: str) -> pd.DataFrame:
    """Rows (ids in any run) whose value is not the same in every run."""
    ids = _union([list(m) for m in maps])
    df = pd.DataFrame(
        {lab: [m.get(i, ABSENT) for i in ids] for lab, m in zip(labels, maps, strict=True)},
        index=pd.Index(ids, name=index),
    )
    return df[df.nunique(axis=1) > 1]
