"""A result folder read back: the Solution, the instance it was solved from (when found), a label.

:func:`load_run` checks that the folder holds every result file and finds the instance from
summary.json's path (or the one given); every figure, report and comparison reads a ``Run``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from csu_opt.errors import CsuOptError, ResultFolderError
from csu_opt.instance.load import Instance, load_instance
from csu_opt.results.solution import RESULT_FILES, TOL, Solution, Status, read_results


class NoNetwork(CsuOptError):
    """There is no network to analyse (e.g. no robust network exists); ``status`` says why,
    ``explanation`` (lines of text) why no robust network exists, when that is proven."""

    def __init__(self, message: str, status: Status, explanation: list[str] | None = None):
        super().__init__(message)
        self.status = status
        self.explanation = explanation or []


@dataclass(frozen=True)
class Run:
    """One result folder: the solution, its instance (None when not found) and a label."""

    folder: Path
    solution: Solution
    instance: Instance | None
    label: str
    note: str = ""  # why the instance is missing or differs, for figures and reports

    # ----------------------------------------------------------------- units and names
    def _unit(self, key: str) -> str:
        if self.instance is not None and self.instance.units.get(key):
            return self.instance.units[key]
        return "units not given"

    @property
    def cost_unit(self) -> str:
        return self._unit("cost")

    @property
    def volume_unit(self) -> str:
        return self._unit("volume")

    def provider_names(self) -> dict[str, str]:
        if self.instance is None:
            return {}
        return {str(k): str(v) for k, v in self.instance.providers["name"].items()}

    def line_ids(self) -> list[str]:
        if self.instance is not None:
            return [str(s) for s in self.instance.service_lines.index]
        return sorted(set(self.solution.flows["service_line"].astype(str)))

    def quality_targets(self) -> dict[str, float]:
        if self.instance is None:
            return {}
        q = self.instance.service_lines["network_quality_target"]
        return {str(k): float(v) for k, v in q.items()}

    @property
    def market(self) -> str:
        """``managed`` or ``free`` (runs written before issue 18 were all managed)."""
        return str(self.solution.instance.get("ccg_choice") or "managed")

    # ----------------------------------------------------------------- derived tables
    def networks(self) -> pd.DataFrame:
        """One row per lead: lead, kind, name, members (lead first), ccgs, volume;
        largest network first."""
        sol = self.solution
        roles = sol.roles
        names = self.provider_names()
        vol = sol.flows.groupby(["lead", "provider"])["volume"].sum()
        ccgs = sol.assignments[sol.assignments["share"] > TOL].groupby("lead")["ccg"].nunique()
        rows = []
        for lead in sol.leads:
            subs = [  # a member merged into a body names the body in leads: not a member
                p
                for p, role, served in zip(
                    roles["provider"], roles["role"], roles["leads"], strict=True
                )
                if p != lead and role == "subcontractor" and lead in str(served).split(";")
            ]
            subs.sort(key=lambda p: (-float(vol.get((lead, p), 0.0)), p))
            kind = roles.loc[roles["provider"] == lead, "kind"].iloc[0]
            rows.append(
                {
                    "lead": lead,
                    "kind": kind,
                    "name": names.get(lead, lead),
                    "members": [lead, *subs],
                    "ccgs": int(ccgs.get(lead, 0)),
                    "volume": float(vol.loc[lead].sum()) if lead in vol.index else 0.0,
                }
            )
        cols = ["lead", "kind", "name", "members", "ccgs", "volume"]
        df = pd.DataFrame(rows, columns=cols)
        return df.sort_values(["volume", "lead"], ascending=[False, True]).reset_index(drop=True)

    def demand_by_network(self) -> dict[tuple[str, str], float]:
        """Demand placed in each lead's network per line: Σ_c d[c,s] z[l,c]."""
        sol = self.solution
        if self.instance is None:  # network balance (C5): delivered volume equals demand
            tot = sol.flows.groupby(["lead", "service_line"])["volume"].sum()
            return {(str(a), str(b)): float(v) for (a, b), v in tot.items()}
        d = self.instance.demand.merge(sol.assignments, on="ccg")
        d["placed"] = d["volume"] * d["share"]
        tot = d.groupby(["lead", "service_line"])["placed"].sum()
        return {(str(a), str(b)): float(v) for (a, b), v in tot.items()}

    def quality_by_network(self) -> dict[tuple[str, str], float]:
        """Volume-weighted quality Σ q x / Σ x per (lead, line)."""
        f = self.solution.flows.assign(qx=lambda d: d["quality"] * d["volume"])
        g = f.groupby(["lead", "service_line"])[["qx", "volume"]].sum()
        g = g[g["volume"] > 0]
        return {(str(a), str(b)): float(r.qx / r.volume) for (a, b), r in g.iterrows()}

    def quality_by_line(self) -> dict[str, float]:
        """Volume-weighted quality of each line over every network."""
        f = self.solution.flows.assign(qx=lambda d: d["quality"] * d["volume"])
        g = f.groupby("service_line")[["qx", "volume"]].sum()
        g = g[g["volume"] > 0]
        return {str(s): float(r.qx / r.volume) for s, r in g.iterrows()}

    def ccg_networks(self) -> pd.DataFrame:
        """One row per CCG: ccg, name, region, lead (largest share), split (several leads)."""
        a = self.solution.assignments
        a = a[a["share"] > TOL].sort_values(["ccg", "share"], ascending=[True, False])
        main = a.groupby("ccg").agg(lead=("lead", "first"), n=("lead", "size"))
        if self.instance is not None:
            ccgs = self.instance.ccgs
            df = pd.DataFrame(
                {
                    "ccg": ccgs.index.astype(str),
                    "name": ccgs["name"].astype(str).to_numpy(),
                    "region": ccgs["region"].fillna("no region").astype(str).to_numpy(),
                }
            )
        else:  # names from assignments.csv where the run wrote them
            ids = sorted(main.index.astype(str))
            names = a.drop_duplicates("ccg").set_index("ccg").get("ccg_name")
            shown = [str(names[c]) if names is not None and names[c] else c for c in ids]
            df = pd.DataFrame({"ccg": ids, "name": shown, "region": "all CCGs"})
        df["lead"] = df["ccg"].map(main["lead"]).fillna("")
        df["split"] = df["ccg"].map(main["n"]).fillna(0).astype(int) > 1
        return df


def load_run(folder: str | Path, instance: str | Path | None = None) -> Run:
    """Read a result folder; find its instance (``instance`` overrides summary's path)."""
    folder = Path(folder)
    solution = read_solution(folder)
    inst, note = _find_instance(solution.instance, folder, instance)
    label = str(solution.instance.get("name") or folder.name)
    return Run(folder, solution, inst, label, note)


def read_solution(folder: Path) -> Solution:
    """The Solution of a result folder; :class:`ResultFolderError` naming what is missing or
    unreadable when the folder is not a (complete) result folder."""
    if not folder.is_dir():
        raise ResultFolderError(f"{folder} is not a result folder: no such folder")
    missing = [f for f in RESULT_FILES if not (folder / f).is_file()]
    if missing:
        raise ResultFolderError(
            f"{folder} is not a result folder: {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} missing"
        )
    try:
        return read_results(folder)
    except (ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ResultFolderError(f"{folder}: cannot read the result files ({exc})") from None


def _find_instance(
    record: dict[str, Any], folder: Path, given: str | Path | None
) -> tuple[Instance | None, str]:
    """The instance of a run: the given file, or summary's path as written, or relative to
    the result folder and its parents; loaded with the run's overrides."""
    if given is not None:
        candidates = [Path(given)]
    else:
        raw = record.get("path")
        if not raw or raw == "<memory>":
            return None, "the instance path is not recorded"
        path = Path(raw)
        bases = [Path.cwd(), folder, *folder.resolve().parents[:4]]
        candidates = [path] if path.is_absolute() else [b / path for b in bases]
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:
        return None, f"instance file {candidates[0]} not found; names and regions are not shown"
    try:
        inst = load_instance(found, list(record.get("overrides") or []))
    except CsuOptError as exc:
        return None, f"instance file {found} could not be read ({exc})"
    note = ""
    if record.get("sha256") and inst.sha256 != record["sha256"]:
        note = f"instance file {found} has changed since the solve (sha256 differs)"
    return inst, note
