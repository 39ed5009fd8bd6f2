"""Result folders read back (:class:`Run`), the tables derived from them, and comparisons.

A :class:`Run` is a :class:`~csu_opt.solution.Solution` read from its folder plus, when the
instance file named in ``summary.json`` can still be found, that instance (with the same
overrides): names, regions, demand, quality targets and units come from it. Plots, reports
and ``csu-opt compare`` read runs only; nothing here touches Pyomo.

:func:`compare_runs` sets runs side by side against the first: objective and its parts,
leads in and out, providers whose role changed, CCGs that moved network, quality per line.
It works across instances: a provider or CCG present in one run only is marked as such.

When the reference run and another solved the two markets (``ccg_choice`` managed and free,
recorded in summary.json), :func:`market_answer` gives the planner's answer (issue 18): the
cost of free choice (an interval when a solve is not proven), the leads that survive only
under one market, the CCGs that move and the providers that exit under one market only.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from rich.console import Console
from rich.table import Table
from rich.text import Text

from csu_opt.errors import CsuOptError, InstanceError
from csu_opt.instance import Instance, load_instance
from csu_opt.numbers import missing, money, pct, staff
from csu_opt.plots import ROLE_COLOURS, draw_costs, mtext, series_style
from csu_opt.proof import Interval, Optimum, describe, difference
from csu_opt.solution import RESULT_FILES, TOL, Solution, read_results

#: How a provider or CCG missing from a run's instance is shown.
ABSENT = "not in instance"


class ResultFolderError(CsuOptError):
    """A folder that is not a (complete) result folder; the message names what is missing."""


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
    if not folder.is_dir():
        raise ResultFolderError(f"{folder} is not a result folder: no such folder")
    missing = [f for f in RESULT_FILES if not (folder / f).is_file()]
    if missing:
        raise ResultFolderError(
            f"{folder} is not a result folder: {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} missing"
        )
    try:
        solution = read_results(folder)
    except (ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ResultFolderError(f"{folder}: cannot read the result files ({exc})") from None
    inst, note = _find_instance(solution.instance, folder, instance)
    label = str(solution.instance.get("name") or folder.name)
    return Run(folder, solution, inst, label, note)


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
    except (InstanceError, CsuOptError) as exc:
        return None, f"instance file {found} could not be read ({exc})"
    note = ""
    if record.get("sha256") and inst.sha256 != record["sha256"]:
        note = f"instance file {found} has changed since the solve (sha256 differs)"
    return inst, note


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


def market_lines(ans: MarketAnswer, unit: str) -> list[str]:
    """The planner's answer as plain sentences (terminal and report)."""
    iv = ans.cost
    proven = "" if iv is None or iv.proven else " (not proven: a solve hit a limit)"
    lines = [
        f"Cost of free choice ({ans.free} minus {ans.managed}): {ans.cost_text} ({unit})" + proven,
    ]
    if iv is not None and np.isfinite(iv.low) and np.isfinite(iv.high):
        lines.append(
            f"  surely between {money(iv.low)} and {money(iv.high)} (the solves' bounds); "
            f"the networks found differ by {money(ans.value)}"
        )
    if not ans.same_model:
        lines.append(
            "  the two runs did not solve the same instance apart from the market: the "
            "difference also holds the other changes"
        )
    lines.append(
        f"Leads only under management: {', '.join(ans.leads_managed_only) or 'none'}; "
        f"only under free choice: {', '.join(ans.leads_free_only) or 'none'}"
    )
    lines.append(f"CCGs that move network under free choice: {len(ans.moves)}")
    for who, gone, kept in (("free choice", "free", "managed"), ("management", "managed", "free")):
        df = ans.exits[ans.exits[gone] == "exit"]
        if not len(df):
            lines.append(f"Exit only under {who}: none")
            continue
        listed = []
        for r in df.to_dict("records"):
            floor = f", minimum {money(r['min_volume'])}" if r["min_volume"] > 0 else ""
            listed.append(
                f"{r['provider']} ({staff(r['staff'])} staff; delivers "
                f"{money(r[kept + '_volume'])} in the other market{floor})"
            )
        lines.append(f"Exit only under {who}: {'; '.join(listed)}")
    return lines


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


# --------------------------------------------------------------------------- terminal


def _fmt(v: Any, key: str) -> str:
    """One cell of the overview: a gap, a headcount, a count, an amount or text."""
    if missing(v):
        return "-"
    if key == "MIP gap":
        return pct(v)
    if key == "staff exiting":
        return staff(v)
    if isinstance(v, float):
        return money(v)
    return str(v)


def render_comparison(console: Console, cmp: Comparison, max_rows: int = 40) -> None:
    """The comparison as rich tables (instance text is printed without markup)."""
    t = Table(title="Runs compared (first = reference)", title_justify="left")
    t.add_column("")
    for lab in cmp.labels:
        t.add_column(Text(lab), justify="right", overflow="fold")
    for key, row in cmp.overview.iterrows():
        t.add_row(str(key), *(Text(_fmt(row[lab], str(key))) for lab in cmp.labels))
    console.print(t)
    if len(cmp.leads):
        t = Table(title=Text(f"Leads against {cmp.labels[0]}"), title_justify="left")
        for col in ("run", "leads in", "leads out"):
            t.add_column(col, overflow="fold")
        for r in cmp.leads.itertuples():
            t.add_row(
                *(
                    Text(v)
                    for v in (r.run, ", ".join(r.leads_in) or "-", ", ".join(r.leads_out) or "-")
                )
            )
        console.print(t)
    for title, df in (
        ("Providers whose role changed", cmp.roles),
        ("CCGs that moved network", cmp.moves),
    ):
        t = Table(title=f"{title} ({len(df)})", title_justify="left")
        t.add_column(str(df.index.name))
        for lab in cmp.labels:
            t.add_column(Text(lab), overflow="fold")
        for i, row in df.head(max_rows).iterrows():
            t.add_row(Text(str(i)), *(Text(str(row[lab])) for lab in cmp.labels))
        if len(df) > max_rows:
            t.add_row(f"... {len(df) - max_rows} more", *([""] * len(cmp.labels)))
        console.print(t)
    t = Table(title="Volume-weighted quality per service line (0-100)", title_justify="left")
    t.add_column("line")  # ids are shown as text, never as markup
    for lab in cmp.labels:
        t.add_column(Text(lab), justify="right")
    for line, row in cmp.quality.iterrows():
        t.add_row(
            Text(str(line)),
            *("-" if missing(row[lab]) else f"{row[lab]:.1f}" for lab in cmp.labels),
        )
    console.print(t)
    if cmp.market is not None:
        ans = cmp.market
        unit = next((r.cost_unit for r in cmp.runs if r.label == ans.free), "")
        console.print(Text("Managed market or free choice", style="bold"))
        for line in market_lines(ans, unit):
            console.print(Text(line))
        if len(ans.moves):
            t = Table(title=f"CCGs that move under free choice ({len(ans.moves)})")
            for col in ("ccg", "name", "managed", "free"):
                t.add_column(col, overflow="fold")
            for r in ans.moves.head(max_rows).itertuples():
                t.add_row(*(Text(str(v)) for v in (r.ccg, r.name, r.managed, r.free)))
            if len(ans.moves) > max_rows:
                t.add_row(f"... {len(ans.moves) - max_rows} more", "", "", "")
            console.print(t)


# --------------------------------------------------------------------------- compare


def comparison_figure(cmp: Comparison) -> Figure:
    """Runs side by side: costs (with gap), network counts, quality per line, changes."""
    fig = Figure(figsize=(13, 9), layout="constrained")
    (a_cost, a_count), (a_q, a_chg) = fig.subplots(2, 2)
    draw_costs(a_cost, cmp.runs)
    a_cost.set_title("cost breakdown", fontsize=10)
    labels = [mtext(lab) for lab in cmp.labels]
    x = np.arange(len(cmp.runs))
    width = 0.8 / 3
    for i, key in enumerate(("leads", "subcontractors", "exits")):
        colour = ROLE_COLOURS["exit" if key == "exits" else key.rstrip("s")]
        vals = [float(cmp.overview.at[key, lab]) for lab in cmp.labels]
        a_count.bar(x + (i - 1) * width, vals, width, color=colour, label=key)
    a_count.set_xticks(x, labels)
    a_count.set_xlabel("run")
    a_count.set_ylabel("providers (count)")
    a_count.legend(fontsize=8)
    a_count.set_title("network roles", fontsize=10)
    q = cmp.quality
    xq = np.arange(len(q.index))
    wq = 0.8 / max(len(cmp.runs), 1)
    for i, lab in enumerate(cmp.labels):
        colour, hatch = series_style(i)
        a_q.bar(
            xq + (i - (len(cmp.runs) - 1) / 2) * wq,
            q[lab].fillna(0).to_numpy(),
            wq,
            color=colour,
            hatch=hatch,
            label=mtext(lab),
        )
    a_q.set_xticks(xq, [mtext(s) for s in q.index])
    a_q.set_xlabel("service line")
    a_q.set_ylabel("volume-weighted quality (0-100)")
    finite = q.to_numpy(float)[np.isfinite(q.to_numpy(float))]
    a_q.set_ylim(max(0.0, float(finite.min()) - 10) if finite.size else 0, 100)
    a_q.legend(fontsize=8)
    a_q.set_title("quality per service line", fontsize=10)
    changes = {
        "leads in": [len(v) for v in cmp.leads["leads_in"]],
        "leads out": [len(v) for v in cmp.leads["leads_out"]],
        "roles changed": [_differ(cmp.roles, cmp.labels[0], lab) for lab in cmp.labels[1:]],
        "CCGs moved": [_differ(cmp.moves, cmp.labels[0], lab) for lab in cmp.labels[1:]],
    }
    xc = np.arange(len(changes))
    wc = 0.8 / max(len(cmp.runs) - 1, 1)
    for i, lab in enumerate(cmp.labels[1:]):
        colour, hatch = series_style(i + 1)
        vals = [changes[k][i] for k in changes]
        bars = a_chg.bar(
            xc + (i - (len(cmp.runs) - 2) / 2) * wc,
            vals,
            wc,
            color=colour,
            hatch=hatch,
            label=mtext(lab),
        )
        a_chg.bar_label(bars, fontsize=8)
    a_chg.set_xticks(xc, list(changes))
    a_chg.set_xlabel("change against the reference run (providers and CCGs in both)")
    a_chg.set_ylabel("count")
    a_chg.legend(fontsize=8, title="run")
    a_chg.set_title(mtext(f"changes against {cmp.labels[0]}"), fontsize=10)
    fig.suptitle(mtext(f"Comparison of {len(cmp.runs)} runs (reference: {cmp.labels[0]})"))
    return fig


def _differ(df: pd.DataFrame, ref: str, other: str) -> int:
    """Rows present in both runs whose value differs (a role changed, a CCG moved)."""
    both = (df[ref] != ABSENT) & (df[other] != ABSENT)
    return int((both & (df[ref] != df[other])).sum())
