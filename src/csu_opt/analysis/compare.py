"""Runs compared as data: :func:`compare_runs` sets result folders side by side.

Each folder is a :class:`~csu_opt.results.run.Run`; against the first come the objective and
its parts, leads in and out, providers whose role changed, CCGs that moved network, quality per
line. It works across instances: a provider or CCG present in one run only is marked as such
(:data:`ABSENT`). Shown by :mod:`csu_opt.present.compare`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import pandas as pd

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
    )


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
