"""The result of a solve as plain data, and the result folder (README.md, "Result folder").

A :class:`Solution` holds DataFrames (roles, assignments, flows) and a summary; plots,
reports, verify and compare read a Solution or the files and never touch Pyomo.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from csu_opt.files import write_text
from csu_opt.instance.load import Instance
from csu_opt.model.index import ModelIndex
from csu_opt.numbers import clean_frame, clean_record
from csu_opt.version import __version__

#: Values below this are read as zero when writing flows and shares.
TOL = 1e-7


class Status(enum.StrEnum):
    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    NO_SOLUTION = "no_solution"

    @property
    def has_solution(self) -> bool:
        return self in (Status.OPTIMAL, Status.FEASIBLE)


class Role(enum.StrEnum):
    """A provider's role in roles.csv. ``merged``: absorbed into the formed merged body named
    in its ``leads`` column (mergers, issue 8); it has no role of its own."""

    LEAD = "lead"
    SUBCONTRACTOR = "subcontractor"
    EXIT = "exit"
    MERGED = "merged"


@dataclass(frozen=True)
class Timings:
    build_s: float = 0.0
    handover_s: float = 0.0
    solve_s: float = 0.0
    load_s: float = 0.0
    total_s: float = 0.0


@dataclass(frozen=True)
class CostBreakdown:
    """The six parts of the objective, £ per year in the instance's cost unit."""

    lead_fixed: float = 0.0
    subcontractor_fixed: float = 0.0
    partnership: float = 0.0
    delivery: float = 0.0
    assignment: float = 0.0
    exit: float = 0.0

    @property
    def total(self) -> float:
        return sum(dataclasses.astuple(self))

    @staticmethod
    def from_record(parts: dict[str, float]) -> CostBreakdown:
        """The breakdown of summary.json: seven parts for an instance with mergers."""
        return MergerCostBreakdown(**parts) if "merger" in parts else CostBreakdown(**parts)


@dataclass(frozen=True)
class MergerCostBreakdown(CostBreakdown):
    """The breakdown for an instance with mergers: a seventh part, ``merger``, the
    merger_cost of the merged bodies formed (absorbed members are not in ``exit``)."""

    merger: float = 0.0


@dataclass
class Solution:
    """A solve's outcome: status and bounds, the network as DataFrames, provenance."""

    status: Status
    objective: float | None
    best_bound: float | None
    mip_gap: float | None
    message: str
    cost_breakdown: CostBreakdown | None
    roles: pd.DataFrame  # provider, kind, role, leads
    assignments: pd.DataFrame  # ccg, lead, share, ccg_name
    flows: pd.DataFrame  # provider, lead, service_line, volume, quality
    timings: Timings
    solver: dict[str, Any]
    instance: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def leads(self) -> list[str]:
        return list(self.roles.loc[self.roles["role"] == Role.LEAD, "provider"])

    @property
    def exits(self) -> list[str]:
        return list(self.roles.loc[self.roles["role"] == Role.EXIT, "provider"])

    @property
    def mergers(self) -> list[str]:
        """The merged bodies formed (the ids named by members whose role is ``merged``)."""
        merged = self.roles.loc[self.roles["role"] == Role.MERGED, "leads"]
        return sorted(set(map(str, merged)))

    def summary(self) -> dict[str, Any]:
        """summary.json as a dict (README.md, "Result folder")."""
        roles = self.roles
        exiting = roles[roles["role"] == Role.EXIT]
        n_merged = int((roles["role"] == Role.MERGED).sum())
        merged = {"merged": n_merged} if n_merged else {}
        return {
            "status": self.status.value,
            "message": self.message,
            "objective": self.objective,
            "best_bound": self.best_bound,
            "mip_gap": self.mip_gap,
            "cost_breakdown": (
                dataclasses.asdict(self.cost_breakdown) if self.cost_breakdown else None
            ),
            "leads": self.leads,
            **({"mergers": self.mergers} if n_merged else {}),
            "counts": {
                "leads": len(self.leads),
                "subcontractors": int((roles["role"] == Role.SUBCONTRACTOR).sum()),
                "exits": len(exiting),
                **merged,
                "staff_exiting": float(exiting["staff"].sum()) if "staff" in roles else 0.0,
                "ccgs": int(self.assignments["ccg"].nunique()) if len(self.assignments) else 0,
            },
            "timings": dataclasses.asdict(self.timings),
            "solver": self.solver,
            "instance": self.instance,
            "csu_opt_version": __version__,
            **self.extra,
        }


def instance_record(instance: Instance) -> dict[str, Any]:
    return {
        "name": instance.name,
        "path": str(Path(instance.source).resolve()) if instance.source != "<memory>" else None,
        "sha256": instance.sha256,
        "overrides": list(instance.overrides),
        "ccg_choice": instance.settings.ccg_choice,
    }


def solution_from_values(
    instance: Instance,
    ix: ModelIndex,
    values: dict[str, np.ndarray] | None,
    *,
    status: Status,
    objective: float | None,
    best_bound: float | None,
    mip_gap: float | None,
    message: str,
    timings: Timings,
    solver: dict[str, Any],
) -> Solution:
    """Turn variable values (arrays in ModelIndex row order) into a Solution."""
    prov = instance.providers
    if values is None:
        empty = pd.DataFrame
        return Solution(
            status,
            objective,
            best_bound,
            mip_gap,
            message,
            None,
            empty(columns=["provider", "kind", "role", "leads", "staff"]),
            empty(columns=["ccg", "lead", "share", "ccg_name"]),
            empty(columns=["provider", "lead", "service_line", "volume", "quality"]),
            timings,
            solver,
            instance_record(instance),
        )
    u = values["u"] > 0.5
    a = values["a"] > 0.5
    w = values["w"] > 0.5
    z = np.clip(values["z"], 0.0, 1.0)
    if ix.single_sourcing:
        z = np.round(z)
    x = np.clip(values["x"], 0.0, None)

    lead_set = {ix.leads[i] for i in np.flatnonzero(u)}
    links = ix.links[w]
    serves = links.groupby("p")["l"].agg(lambda s: ";".join(sorted(s)))
    # mergers: a formed body's members are "merged" into it; an unformed body is left out
    pairs = ix.merger_pairs
    formed = {p for p, on in zip(prov.index, a, strict=True) if on} & set(pairs["body"])
    absorbed = {m: b for b, m in zip(pairs["body"], pairs["member"], strict=True) if b in formed}
    unformed = set(pairs["body"]) - formed
    role = []
    leads_col = []
    for i, p in enumerate(prov.index):
        if p in lead_set:
            role.append(Role.LEAD.value)
            leads_col.append(p)
        elif p in serves.index:
            role.append(Role.SUBCONTRACTOR.value)
            leads_col.append(serves[p])
        elif p in absorbed:
            role.append(Role.MERGED.value)
            leads_col.append(absorbed[p])
        else:
            role.append(Role.EXIT.value if not a[i] else Role.SUBCONTRACTOR.value)
            leads_col.append("")
    columns = {
        "provider": prov.index,
        "kind": prov["kind"].to_numpy(),
        "role": role,
        "leads": leads_col,
        "staff": prov["staff"].to_numpy(),
    }
    if len(pairs):
        columns["merger_of"] = prov["merger_of"].to_numpy()
    roles = pd.DataFrame(columns)
    roles = roles[~roles["provider"].isin(unformed)].reset_index(drop=True)

    zmask = z > TOL
    assignments = (
        pd.DataFrame(
            {
                "ccg": ix.assign["c"][zmask].to_numpy(),
                "lead": ix.assign["l"][zmask].to_numpy(),
                "share": z[zmask],
            }
        )
        .sort_values(["ccg", "lead"], kind="stable")
        .reset_index(drop=True)
    )
    # the CCG's name beside its id, for people reading the file (the id when none is given)
    assignments["ccg_name"] = assignments["ccg"].map(instance.ccgs["name"]).astype(object)

    xmask = x > TOL
    f = ix.flows[xmask]
    flows = (
        pd.DataFrame(
            {
                "provider": f["p"].to_numpy(),
                "lead": f["l"].to_numpy(),
                "service_line": f["s"].to_numpy(),
                "volume": x[xmask],
                "quality": f["q"].to_numpy(),
            }
        )
        .sort_values(["lead", "service_line", "provider"], kind="stable")
        .reset_index(drop=True)
    )

    lead_F = prov.loc[ix.leads, "lead_fixed_cost"].to_numpy()
    parts = {
        "lead_fixed": float(lead_F[u].sum()),
        "subcontractor_fixed": float(ix.links["G"].to_numpy()[w].sum()),
        "partnership": float(ix.links["k"].to_numpy()[w].sum()),
        "delivery": float((ix.flows["c"].to_numpy() * x).sum()),
        "assignment": float((ix.assign["t"].to_numpy() * z).sum()),
        "exit": float(prov["exit_cost"].to_numpy()[~a & ~prov.index.isin(list(absorbed))].sum()),
    }
    if len(pairs):
        cost = instance.mergers.set_index("id")["merger_cost"]
        parts["merger"] = float(cost.reindex(sorted(formed)).sum())
    breakdown = CostBreakdown.from_record(parts)
    return Solution(
        status,
        objective,
        best_bound,
        mip_gap,
        message,
        breakdown,
        roles,
        assignments,
        flows,
        timings,
        solver,
        instance_record(instance),
    )


# --------------------------------------------------------------------------- files

RESULT_FILES = ("summary.json", "roles.csv", "assignments.csv", "flows.csv")


def write_files(solution: Solution, folder: Path) -> None:
    """Write the result files into an existing folder, each atomically.

    Numbers are written without binary noise (:mod:`csu_opt.numbers`: 12 significant
    digits, durations in milliseconds), so ``12841.7`` never reads ``12841.699999999999``.
    """
    summary = clean_record(solution.summary())
    write_text(folder / "summary.json", json.dumps(summary, indent=2) + "\n")
    write_text(folder / "roles.csv", clean_frame(solution.roles).to_csv(index=False))
    assignments = clean_frame(solution.assignments)
    write_text(folder / "assignments.csv", assignments.to_csv(index=False))
    write_text(folder / "flows.csv", clean_frame(solution.flows).to_csv(index=False))


def read_results(folder: str | Path) -> Solution:
    """A Solution read back from a result folder (for plots, compare, verify)."""
    folder = Path(folder)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))

    def csv(name: str) -> pd.DataFrame:
        return pd.read_csv(
            folder / name,
            dtype={
                "provider": str,
                "lead": str,
                "ccg": str,
                "service_line": str,
                "leads": str,
                "ccg_name": str,
            },
            keep_default_na=False,
        )

    cb = summary.get("cost_breakdown")
    known = {
        "status",
        "message",
        "objective",
        "best_bound",
        "mip_gap",
        "cost_breakdown",
        "leads",
        "mergers",
        "counts",
        "timings",
        "solver",
        "instance",
        "csu_opt_version",
    }
    return Solution(
        status=Status(summary["status"]),
        objective=summary.get("objective"),
        best_bound=summary.get("best_bound"),
        mip_gap=summary.get("mip_gap"),
        message=summary.get("message", ""),
        cost_breakdown=CostBreakdown.from_record(cb) if cb else None,
        roles=csv("roles.csv"),
        assignments=csv("assignments.csv"),
        flows=csv("flows.csv"),
        timings=Timings(**summary.get("timings", {})),
        solver=summary.get("solver", {}),
        instance=summary.get("instance", {}),
        extra={k: v for k, v in summary.items() if k not in known},
    )
