"""Resilience (N-1): what if one active provider fails? (issue 8, item 1)

For each active provider p of a network in turn, p is removed (a[p] fixed to 0, so it can
neither lead nor subcontract, and the model charges its exit cost X[p]) and the rest of the
network is repaired. Two repairs:

- ``min_change`` (default), lexicographic: first minimise the number of changes, that is
  CCGs that leave their network (moves, :func:`~csu_opt.analysis.whatif.add_moves`) plus other
  providers whose role changes (:func:`~csu_opt.analysis.whatif.add_role_changes`); then, with the
  changes held at that minimum, minimise the annual cost. Both stages run on one session.
- ``reoptimise``: the cheapest network without p, however much else changes (a lower bound
  on the cost of any repair).

Each failure reports the extra cost over the base network (with the interval
``cost_low``..``cost_high`` it surely lies in, from both solves' objectives and bounds, and
``proven``), the CCGs that must move, the other role changes, and, when no repair exists,
the lines left uncovered or short of capacity and the necessary conditions
(``csu_opt.analysis.necessary.necessary_checks``) that fail.
Providers are ranked by how much the network depends on them: failures with no repair first,
then by extra cost.

``robust=True`` first forms a network that survives any single exit structurally (every
line of every network covered by two eligible members, at least two leads:
:func:`~csu_opt.analysis.whatif.add_double_coverage`) and analyses that one.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyomo.environ as pyo

from csu_opt.analysis.explain import explain, format_explanation
from csu_opt.analysis.necessary import necessary_checks
from csu_opt.analysis.proof import Interval, Optimum, describe, difference, not_proven
from csu_opt.analysis.runner import atomic_folder
from csu_opt.analysis.whatif import (
    add_double_coverage,
    add_moves,
    add_role_changes,
    at_cost,
    joined,
    moved_ccgs,
    push,
    pyomo_options,
    pyomo_session,
    role_changes,
    short,
    solution_values,
    use_objective,
    write_csv,
)
from csu_opt.analysis.whatif_rules import DoubleCoverage
from csu_opt.files import write_text
from csu_opt.instance.load import Instance, load_instance, replace
from csu_opt.numbers import ccgs_that, number
from csu_opt.results.run import NoNetwork, ResultFolderError
from csu_opt.results.solution import Role, Solution, Status, read_results, write_files
from csu_opt.solver.options import SolveOptions

Repair = Literal["min_change", "reoptimise"]

#: Columns of resilience.csv, one row per active provider of the base network, ranked.
COLUMNS = (
    "rank",
    "provider",
    "role",
    "serves",
    "status",
    "gap",
    "base_status",
    "base_gap",
    "proven",
    "repairable",
    "objective",
    "extra_cost",
    "cost_low",
    "cost_high",
    "extra_pct",
    "exit_cost",
    "changes",
    "moved_ccgs",
    "moved",
    "role_changes",
    "new_leads",
    "uncovered_lines",
    "short_lines",
    "rules",
    "why",
    "overrides",
)


@dataclass
class Resilience:
    """The N-1 analysis of one network: ``table`` has the columns of :data:`COLUMNS`."""

    base: Solution
    table: pd.DataFrame
    repair: Repair
    robust: bool
    repairs: dict[str, Solution] = field(default_factory=dict)
    robust_cost: float | None = None  # robust network's cost minus the given network's
    elapsed_s: float = 0.0
    robust_interval: Interval | None = None  # where the robust optimum's premium surely lies
    extra: dict[str, Interval] = field(default_factory=dict)  # extra cost by provider

    def summary(self) -> dict[str, Any]:
        t = self.table
        base = Optimum.of(self.base)
        iv = self.robust_interval
        return {
            "base_objective": self.base.objective,
            "base_status": base.status,
            "base_bound": base.bound,
            "base_gap": base.gap,
            "base_proven": base.proven,
            "proven": bool(base.proven and t["proven"].astype(bool).all()),
            "base_leads": self.base.leads,
            "repair": self.repair,
            "robust": self.robust,
            "robust_cost": self.robust_cost,
            "robust_cost_low": iv.low if iv is not None else None,
            "robust_cost_high": iv.high if iv is not None else None,
            "providers_checked": len(t),
            "not_repairable": list(t.loc[~t["repairable"].astype(bool), "provider"]),
            "most_critical": str(t["provider"].iloc[0]) if len(t) else None,
            "elapsed_s": self.elapsed_s,
        }


def removal_overrides(provider: str) -> tuple[str, ...]:
    """The ``--set`` overrides that take ``provider`` out (for ``csu-opt explain``)."""
    return (f"providers.{provider}.can_lead=false", f"providers.{provider}.can_subcontract=false")


def without(instance: Instance, provider: str) -> Instance:
    """The instance with ``provider`` unable to take any role (it exits)."""
    prov = instance.providers.copy()
    prov.loc[failed_bodies(instance, provider), ["can_lead", "can_subcontract"]] = False
    return replace(instance, providers=prov)


def robust_network(instance: Instance, options: SolveOptions | None = None) -> Solution:
    """The cheapest network in which every line of every network has two eligible members
    and there are at least two leads (see :func:`~csu_opt.analysis.whatif.add_double_coverage`)."""
    options = pyomo_options(options or SolveOptions())
    session = pyomo_session(instance, options)
    add_double_coverage(session.model, session.ix)
    sol = session.solve(instance, options)
    sol.extra["robust"] = {"double_coverage": True, "min_leads": 2}
    return sol


def failed_bodies(instance: Instance, provider: str) -> list[str]:
    """The provider itself and every merged body it belongs to (they fail with it)."""
    prov = instance.providers
    if "merger_of" not in prov:
        return [provider]
    members = prov["merger_of"].fillna("").astype(str).str.split(";")
    bodies = [b for b, ms in zip(prov.index, members, strict=True) if provider in ms]
    return [provider, *bodies]


def repair_without(
    instance: Instance,
    base: Solution,
    provider: str,
    options: SolveOptions,
    repair: Repair = "min_change",
) -> tuple[Solution, int | None]:
    """The repaired network after ``provider`` fails, and the number of changes it makes
    (moves + role changes; None for ``reoptimise`` or when there is no repair).

    With ``min_change`` the repair is proven only when both stages are: a first stage
    stopped at a limit leaves the fewest changes unproven, and the repair returned is the
    cheapest (within its own gap) with at most that many changes; its status is then
    ``feasible``.
    """
    options = pyomo_options(options)
    session = pyomo_session(instance, options)
    m, ix = session.model, session.ix
    for gone in failed_bodies(instance, provider):
        m.a[list(ix.providers.index).index(gone)].fix(0)
    if repair == "reoptimise":
        return session.solve(instance, options), None
    moves = add_moves(m, ix, base.assignments)
    changed = add_role_changes(m, ix, solution_values(ix, base), skip=[provider])
    m.whatif_changes = pyo.Objective(expr=moves.total() + changed.total())
    use_objective(session, m.whatif_changes)
    first = session.solve(instance, options)
    if not first.status.has_solution or first.objective is None:
        return first, None
    n = round(first.objective)
    m.whatif_changes_cap = pyo.Constraint(expr=moves.total() + changed.total() <= n + 0.5)
    push(session, m.whatif_changes_cap)
    use_objective(session, m.total_cost)
    return two_stage(first, session.solve(instance, options), n), n


def two_stage(first: Solution, second: Solution, n: int) -> Solution:
    """The repair of a lexicographic solve (fewest changes ``first``, then the cheapest with
    at most ``n`` changes ``second``), proven only when both stages are: otherwise its
    status is ``feasible`` and its message says which stage is open."""
    if not second.status.has_solution:
        why = f"the cost stage ended {second.status.value}: the fewest-change network at its cost"
        return dataclasses.replace(at_cost(first), status=Status.FEASIBLE, message=why)
    if first.status is not Status.OPTIMAL and second.status is Status.OPTIMAL:
        why = f"the fewest changes ({n}) are not proven: {first.message}"
        return dataclasses.replace(second, status=Status.FEASIBLE, message=why)
    return second


def _gaps(instance: Instance, provider: str) -> tuple[list[str], list[str]]:
    """Lines no remaining provider is eligible in; lines whose eligible capacity < demand."""
    prov = instance.providers
    role = prov["can_lead"] | prov["can_subcontract"]
    elig = instance.eligible
    left = elig[(elig["provider"] != provider) & elig["provider"].map(role).astype(bool)]
    cap = left.groupby("service_line")["capacity"].sum()
    demand = instance.total_demand()
    uncovered = [s for s in instance.line_ids if s not in cap.index]
    short = [
        s for s in instance.line_ids if s in cap.index and float(cap[s]) < float(demand[s]) - 1e-9
    ]
    return uncovered, short


def resilience(
    instance: Instance,
    solution: Solution,
    options: SolveOptions | None = None,
    *,
    repair: Repair = "min_change",
    robust: bool = False,
    providers: list[str] | None = None,
) -> Resilience:
    """N-1 analysis of ``solution``: each active provider (or those given) fails in turn.

    With ``robust=True`` the analysis is of the robust network (:func:`robust_network`)
    instead, and ``robust_cost`` says what robustness costs over ``solution``.
    """

    t0 = time.perf_counter()
    options = pyomo_options(options or SolveOptions())
    robust_cost, robust_iv = None, None
    base = solution
    if robust:
        base = robust_network(instance, options)
        if base.objective is not None and solution.objective is not None:
            robust_cost = base.objective - solution.objective
            # the robust model is the model with rules added: it cannot be cheaper (than a
            # network solved without an incumbent's limits)
            plain = "incumbent" not in solution.extra
            robust_iv = difference(Optimum.of(base), Optimum.of(solution), a_at_least_b=plain)
    if not base.status.has_solution or base.objective is None:
        explanation = []
        if robust and base.status is Status.INFEASIBLE:
            answer = explain(instance, options.time_limit or 60.0, rules=[DoubleCoverage()])
            explanation = format_explanation(answer)
        raise NoNetwork(
            f"no network to analyse: the {'robust ' if robust else ''}solve ended "
            f"{base.status.value} ({base.message})",
            base.status,
            explanation,
        )
    roles = base.roles[base.roles["role"] != Role.EXIT]
    if providers is not None:
        roles = roles[roles["provider"].isin(providers)]
    exit_cost = instance.providers["exit_cost"].astype(float)
    base_opt = Optimum.of(base)
    # a failure restricts the base's model, so it cannot make things cheaper; not so for a
    # robust network (its repair need not cover every line twice) or a base solved with
    # an incumbent's limits (the repair is not held to them)
    restricts = not robust and "incumbent" not in base.extra
    rows, repairs, extra = [], {}, {}
    for p, role, serves in zip(roles["provider"], roles["role"], roles["leads"], strict=True):
        sol, n = repair_without(instance, base, p, options, repair)
        row: dict[str, Any] = {
            "provider": p,
            "role": role,
            "serves": serves if role == Role.SUBCONTRACTOR else "",
            "status": sol.status.value,
            "gap": sol.mip_gap,
            "base_status": base_opt.status,
            "base_gap": base_opt.gap,
            "proven": Optimum.of(sol).proven,
            "repairable": sol.status.has_solution,
            "exit_cost": float(exit_cost[p]),
            "overrides": " ".join(removal_overrides(p)),
        }
        uncovered, short = _gaps(instance, p)
        row["uncovered_lines"] = joined(uncovered)
        row["short_lines"] = joined(short)
        if sol.status.has_solution and sol.objective is not None:
            repairs[p] = sol
            moved = moved_ccgs(base.assignments, sol.assignments)
            changes = role_changes(base, sol, skip=[p])
            iv = difference(Optimum.of(sol), base_opt, a_at_least_b=restricts)
            assert iv is not None  # neither solve is infeasible
            extra[p] = iv
            row |= {
                "proven": iv.proven,
                "objective": sol.objective,
                "extra_cost": sol.objective - base.objective,
                "cost_low": iv.low,
                "cost_high": iv.high,
                "extra_pct": 100
                * (sol.objective - base.objective)
                / max(abs(base.objective), 1e-9),
                "changes": n if n is not None else len(moved) + len(changes),
                "moved_ccgs": len(moved),
                "moved": joined(moved),
                "role_changes": joined(changes),
                "new_leads": joined(sol.leads),
                "rules": "",
                "why": "",
            }
        else:
            findings = [f for f in necessary_checks(without(instance, p)) if f.proves_infeasible]
            why = [str(f) for f in findings]
            if uncovered:
                why.insert(0, f"no remaining provider is eligible in {', '.join(uncovered)}")
            if sol.status == Status.INFEASIBLE and not why:
                why.append(
                    "no single condition explains it: run csu-opt explain with --set "
                    + " --set ".join(removal_overrides(p))
                )
            if sol.status == Status.NO_SOLUTION:
                why.append(sol.message)
            row |= {
                "rules": joined(dict.fromkeys(f.rule for f in findings)),
                "why": " | ".join(why),
            }
        rows.append(row)
    table = _rank(pd.DataFrame(rows))
    elapsed = time.perf_counter() - t0
    return Resilience(base, table, repair, robust, repairs, robust_cost, elapsed, robust_iv, extra)


def _rank(table: pd.DataFrame) -> pd.DataFrame:
    """No repair first (proven infeasible before undecided), then by extra cost, moves."""
    for col in COLUMNS:
        if col not in table.columns:
            numeric = ("objective", "extra_cost", "cost_low", "cost_high", "extra_pct")
            table[col] = None if col in numeric else ""
    if table.empty:
        return table.reindex(columns=list(COLUMNS))
    order = table["status"].map({"infeasible": 0, "no_solution": 1}).fillna(2)
    table = (
        table.assign(_o=order, _e=-pd.to_numeric(table["extra_cost"]).fillna(0.0))
        .assign(_m=-pd.to_numeric(table["moved_ccgs"], errors="coerce").fillna(0))
        .sort_values(["_o", "_e", "_m", "provider"], kind="stable")
        .drop(columns=["_o", "_e", "_m"])
        .reset_index(drop=True)
    )
    table["rank"] = range(1, len(table) + 1)
    for col in ("changes", "moved_ccgs"):
        table[col] = pd.to_numeric(table[col], errors="coerce").astype("Int64")
    return table[list(COLUMNS)]


def format_resilience(r: Resilience, max_rows: int = 40) -> list[str]:
    """The analysis as lines of text for the command line: each extra cost as a value when
    proven, as the interval it surely lies in otherwise, with ``not proven (gap x%)``."""
    head = "robust network" if r.robust else "network"
    base = Optimum.of(r.base)
    proof = f", {not_proven(base)}" if not base.proven else ""
    lines = [
        f"N-1 resilience of the {head} (cost {number(r.base.objective)}{proof}, leads "
        f"{', '.join(r.base.leads)}); repair: "
        + ("fewest changes, then cost" if r.repair == "min_change" else "full re-optimisation")
    ]
    if r.robust_interval is not None:
        iv = r.robust_interval
        note = "" if iv.proven else f" ({not_proven(base)})"
        lines.append(
            f"robustness costs {describe(iv, r.robust_cost)} a year over the given network{note}"
        )
    for row in r.table.head(max_rows).itertuples(index=False):
        who = f"{row.provider} ({row.role}{' of ' + row.serves if row.serves else ''})"
        repair = r.repairs.get(row.provider)
        solves = (base, Optimum.of(repair)) if repair is not None else (base,)
        note = "" if row.proven else f"  {not_proven(*solves)}"
        if row.repairable:
            iv = r.extra[row.provider]
            moved = ccgs_that(int(row.moved_ccgs), "moves", "move") + (
                f" ({short(row.moved)})" if row.moved else ""
            )
            roles = f"; roles: {short(row.role_changes)}" if row.role_changes else ""
            pct = ""
            if iv.binding is True and r.base.objective:
                scale = 100 / max(abs(r.base.objective), 1e-9)
                pct = f" ({describe(iv.scaled(scale), row.extra_pct, '%')})"
            lines.append(
                f"{row.rank:>3}. {who}: {_signed(describe(iv, row.extra_cost))}{pct}, "
                f"{moved}{roles}{note}"
            )
        else:
            why = row.why.split(" | ")
            more = f" (and {len(why) - 2} more)" if len(why) > 2 else ""
            what = (
                "NO REPAIR (proven infeasible)"
                if row.status == Status.INFEASIBLE
                else f"no repair found ({row.status}; not proven impossible)"
            )
            lines.append(f"{row.rank:>3}. {who}: {what}: {' | '.join(why[:2])}{more}")
    if len(r.table) > max_rows:
        lines.append(f"  ... {len(r.table) - max_rows} more in resilience.csv")
    unproven = int((~r.table["proven"].astype(bool)).sum()) if len(r.table) else 0
    if unproven:
        lines.append(
            f"{unproven} of {len(r.table)} failures not proven (a solve stopped at a limit): "
            "an extra cost is the range it surely lies in (ranked by the cost of the repair "
            "found)"
        )
    lines.append(f"({len(r.table)} failures analysed in {r.elapsed_s:.1f} s)")
    return lines


def _signed(text: str) -> str:
    """``+16``, ``+1,234–1,261``; words and negative ends as they are."""
    return f"+{text}" if text[:1].isdigit() else text


def write_resilience(r: Resilience, folder: Path) -> list[Path]:
    """``resilience.csv``, ``resilience.json`` and, for a robust analysis, ``robust/``."""
    written = [
        write_csv(r.table, folder / "resilience.csv"),
        write_text(
            folder / "resilience.json", json.dumps(r.summary(), indent=2, default=str) + "\n"
        ),
    ]
    if r.robust:
        with atomic_folder(folder / "robust") as tmp:
            write_files(r.base, tmp)
        written.append(folder / "robust")
    return written


def load_run(run: Path, instance: Path | None = None) -> tuple[Instance, Solution]:
    """A result folder's solution and its instance (summary.json's path and overrides, as
    ``verify`` reads them; ``instance`` replaces the recorded path)."""
    summary_file = run / "summary.json"
    if not summary_file.is_file():
        raise ResultFolderError(f"{run} is not a result folder: summary.json is missing")
    record = json.loads(summary_file.read_text(encoding="utf-8")).get("instance") or {}
    path = instance or (Path(record["path"]) if record.get("path") else None)
    if path is None or str(path) == "<memory>":
        raise ResultFolderError(f"{run}: the instance path is not recorded; give --instance FILE")
    inst = load_instance(path, [str(o) for o in record.get("overrides") or []])
    return inst, read_results(run)
