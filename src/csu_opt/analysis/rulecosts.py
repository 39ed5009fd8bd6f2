"""The price of each rule: what a rule group costs a year (issue 8, item 3).

Each rule group is relaxed in turn, the rest kept, and the model re-solved:

| key | rule | relaxed by |
|---|---|---|
| ``C1`` | the lead band N_min..N_max | no bound on the number of leads |
| ``C2`` | leads per subcontractor (m) | a subcontractor may serve every lead |
| ``C7:<line>`` | the quality bar θ[s] of one line | θ[s] = 0 |
| ``C8`` | full coverage (every lead offers every line) | component ``full_coverage`` off |
| ``C9`` | network quality targets | Q[s] = 0 for every line |
| ``C10`` | self-delivery share ρ | ρ = 0 |
| ``C11`` | viability (minimum volumes) | v[p] = 0 for every provider |
| ``SS`` | single sourcing | z continuous (not under free choice, which implies it) |
| ``C12`` | free choice: each CCG buys from the formed network it prefers | the managed market |

The cost of a rule is the base optimum minus the relaxed optimum (>= 0: a relaxation cannot
cost more). When a solve stops at a limit the price is known only as the interval it surely
lies in (``cost_low``..``cost_high``, :func:`csu_opt.analysis.proof.difference`); ``binding``
is then ``True`` only when that interval lies above zero, ``False`` when the price is proven
zero and ``unknown`` otherwise. Relaxations reuse ``csu_opt.analysis.conflict.relax_groups``.
Each relaxed solve starts from the base solution, mapped by ids onto the relaxed model's frames
(it stays feasible: a relaxation only removes restrictions), so HiGHS has a good incumbent from
the start; the model itself is rebuilt for each relaxed instance.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field

import pandas as pd

from csu_opt.analysis.conflict import applicable_groups, relax_groups
from csu_opt.analysis.findings import RULES
from csu_opt.analysis.proof import (
    UNKNOWN,
    Binding,
    Interval,
    Optimum,
    describe,
    difference,
    not_proven,
)
from csu_opt.analysis.whatif import (
    joined,
    pyomo_options,
    pyomo_session,
    solution_values,
    warm_start,
)
from csu_opt.instance.load import Instance, replace
from csu_opt.numbers import number
from csu_opt.results.solution import Solution
from csu_opt.solver.options import SolveOptions
from csu_opt.solver.solve import solve

#: Names of the rule groups beyond explain's RULES.
OTHER_RULES = {"SS": "single sourcing", "C12": "free choice"}

#: Columns of rule_costs.csv, one row per rule group relaxed (most expensive first).
COLUMNS = (
    "key",
    "rule",
    "description",
    "status",
    "gap",
    "objective",
    "base_status",
    "base_gap",
    "proven",
    "cost",
    "cost_low",
    "cost_high",
    "cost_pct",
    "binding",
    "leads",
    "leads_changed",
    "overrides",
    "solve_s",
)


@dataclass(frozen=True)
class Relaxation:
    """One rule group switched off: the relaxed instance, components to deactivate, and
    ``--set`` overrides that reproduce it (empty where no data change does)."""

    key: str
    rule: str
    description: str
    instance: Instance
    deactivate: tuple[str, ...] = ()
    overrides: tuple[str, ...] = ()


def relaxations(inst: Instance) -> list[Relaxation]:
    """The rule groups that restrict ``inst``, each relaxed alone."""
    groups = set(applicable_groups(inst))
    n_leads = int(inst.providers["can_lead"].sum())
    st = inst.settings
    out: list[Relaxation] = []

    def group(key: str, description: str, overrides: tuple[str, ...]) -> None:
        relaxed, off = relax_groups(inst, {key})
        out.append(Relaxation(key, key, description, relaxed, tuple(off), overrides))

    if "C1" in groups:
        band = f"{st.lead_min if st.lead_min is not None else 0}..{st.lead_max or 'any'}"
        group(
            "C1",
            f"lead band {band}",
            ("settings.lead_providers.min=0", f"settings.lead_providers.max={n_leads}"),
        )
    if "C2" in groups:
        group(
            "C2",
            f"a subcontractor serves at most {st.max_leads_per_subcontractor} lead(s)",
            (f"settings.max_leads_per_subcontractor={max(n_leads, 1)}",),
        )
    theta = inst.service_lines["quality_threshold"].astype(float)
    for s in inst.line_ids:
        if theta[s] > 0:
            lines = inst.service_lines.copy()
            lines.loc[s, "quality_threshold"] = 0.0
            out.append(
                Relaxation(
                    f"C7:{s}",
                    "C7",
                    f"quality bar {number(theta[s])} of line {s}",
                    replace(inst, service_lines=lines),
                    (),
                    (f"service_lines.{s}.quality_threshold=0",),
                )
            )
    group("C8", "every lead offers every line (full coverage)", ())
    if "C9" in groups:
        group("C9", "network quality targets", ("service_lines.*.network_quality_target=0",))
    if "C10" in groups:
        group(
            "C10",
            f"leads deliver at least {st.lead_self_delivery_min_share:.0%} themselves",
            ("settings.lead_self_delivery_min_share=0",),
        )
    if "C11" in groups:
        group("C11", "minimum volumes (viability)", ("providers.*.min_volume=0",))
    if st.free_choice:  # relaxing free choice gives the managed market (single sourcing kept)
        out.append(
            Relaxation(
                "C12",
                "C12",
                "free choice (each CCG buys from the formed network it prefers)",
                replace(inst, settings=dataclasses.replace(st, ccg_choice="managed")),
                (),
                ("settings.ccg_choice=managed",),
            )
        )
    elif st.single_sourcing:
        settings = dataclasses.replace(st, single_sourcing=False)
        out.append(
            Relaxation(
                "SS",
                "SS",
                "single sourcing (each CCG in one network)",
                replace(inst, settings=settings),
                (),
                ("settings.single_sourcing=false",),
            )
        )
    return out


@dataclass
class RuleCosts:
    """``table`` has the columns of :data:`COLUMNS`; ``base`` is the unrelaxed solve."""

    base: Solution
    table: pd.DataFrame
    solutions: dict[str, Solution] = field(default_factory=dict)
    elapsed_s: float = 0.0
    prices: dict[str, Interval | None] = field(default_factory=dict)  # by key


def solve_relaxed(
    relaxation: Relaxation, options: SolveOptions, start: Solution | None = None
) -> Solution:
    """Solve one relaxed instance, started from ``start`` (the base solution) if given."""
    own = start is not None and start.status.has_solution
    options = pyomo_options(options, own_start=own)
    session = pyomo_session(relaxation.instance, options)
    for name in relaxation.deactivate:
        getattr(session.model, name).deactivate()
    if own and start is not None:
        warm_start(session, solution_values(session.ix, start))
    return session.solve(relaxation.instance, options)


def price(base: Solution, relaxed: Solution) -> tuple[Interval | None, Binding]:
    """The interval a rule's price surely lies in, and whether the rule binds.

    The price is z*_base - z*_relaxed (:func:`~csu_opt.analysis.proof.difference`, >= 0: a
    relaxation cannot cost more). Without a base network: relaxing a rule of a proven
    infeasible instance binds when it makes the instance feasible, and does not when the
    relaxed instance is infeasible too (it is then infeasible whatever the base).
    """
    b, r = Optimum.of(base), Optimum.of(relaxed)
    if r.infeasible:
        return None, False if (b.infeasible or not base.status.has_solution) else UNKNOWN
    if b.infeasible:
        return None, True if relaxed.status.has_solution else UNKNOWN
    iv = difference(b, r, a_at_least_b=True)
    assert iv is not None  # neither side is infeasible
    return iv, iv.binding


def rule_costs(
    instance: Instance,
    options: SolveOptions | None = None,
    base: Solution | None = None,
    keys: list[str] | None = None,
) -> RuleCosts:
    """Relax each rule group of ``instance`` in turn (or those in ``keys``) and report what
    it costs a year: the base optimum minus the relaxed optimum, with the interval it surely
    lies in when a solve stopped at a limit."""

    t0 = time.perf_counter()
    options = options or SolveOptions()
    if base is None:
        base = solve(instance, options)
    base_opt = Optimum.of(base)
    base_obj = base.objective if base.status.has_solution else None
    rows, sols, prices = [], {}, {}
    for r in relaxations(instance):
        if keys is not None and r.key not in keys:
            continue
        t1 = time.perf_counter()
        sol = solve_relaxed(r, options, base)
        sols[r.key] = sol
        obj = sol.objective if sol.status.has_solution else None
        ok = obj is not None
        cost = base_obj - obj if obj is not None and base_obj is not None else None
        iv, binding = price(base, sol)
        prices[r.key] = iv
        rows.append(
            {
                "key": r.key,
                "rule": r.rule,
                "description": r.description,
                "status": sol.status.value,
                "gap": sol.mip_gap,
                "objective": obj,
                "base_status": base.status.value,
                "base_gap": base.mip_gap,
                "proven": base_opt.proven and Optimum.of(sol).proven,
                "cost": cost,
                "cost_low": iv.low if iv is not None else None,
                "cost_high": iv.high if iv is not None else None,
                "cost_pct": 100 * cost / max(abs(base_obj), 1e-9)
                if cost is not None and base_obj is not None
                else None,
                "binding": binding,  # True, False or "unknown"
                "leads": joined(sol.leads) if ok else "",
                "leads_changed": ok and set(sol.leads) != set(base.leads),
                "overrides": " ".join(r.overrides),
                "solve_s": time.perf_counter() - t1,
            }
        )
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    if not table.empty:
        order = pd.to_numeric(table["cost"]).fillna(float("inf") if base_obj is None else -1.0)
        table = (
            table.assign(_c=-order).sort_values(["_c", "key"], kind="stable").drop(columns="_c")
        ).reset_index(drop=True)
    return RuleCosts(base, table, sols, time.perf_counter() - t0, prices)


def base_line(base: Solution) -> str:
    """``Base optimum X`` of a proven optimum; otherwise the network found, its gap and the
    bound the optimum lies above."""
    if base.status.value == "optimal":
        return f"Base optimum {number(base.objective)}"
    bound = (
        f"; the optimum is at least {number(base.best_bound)}"
        if base.best_bound is not None
        else ""
    )
    return f"Base network {number(base.objective)} ({not_proven(Optimum.of(base))}{bound})"


def format_rule_costs(rc: RuleCosts) -> list[str]:
    """The table as lines of text: a price only where it is surely positive; ``within the
    gap`` where the solves leave it open; ``not proven (gap x%)`` beside unproven rows."""
    base = rc.base
    base_opt = Optimum.of(base)
    if base.status.value == "infeasible":
        lines = ["The instance is infeasible; relaxing one rule group at a time:"]
    elif not base.status.has_solution:
        lines = [
            "The base solve stopped without a network (the instance is not proven "
            "infeasible); relaxing one rule group at a time:"
        ]
    else:
        lines = [
            f"{base_line(base)} (leads {', '.join(base.leads)}). "
            "What each rule costs a year (base minus the optimum without it):"
        ]
    for row in rc.table.itertuples(index=False):
        name = RULES.get(row.rule, OTHER_RULES.get(row.rule, row.rule))
        sol = rc.solutions.get(row.key)
        proof = not_proven(base_opt, Optimum.of(sol)) if sol is not None else ""
        note = f"  {proof}" if proof else ""
        iv = rc.prices.get(row.key)
        if iv is None:
            if _missing(row.objective):
                lines.append(f"  {row.key:<10} {row.description}: relaxed solve {row.status}{note}")
            else:
                lines.append(
                    f"  {row.key:<10} {row.description}: relaxing it makes the instance "
                    f"feasible at {number(row.objective)}{note}"
                )
            continue
        value = None if _missing(row.cost) else float(row.cost)
        pct = ""
        if iv.binding is True and base.objective:
            scale = 100 / max(abs(base.objective), 1e-9)
            shown = describe(iv.scaled(scale), None if value is None else value * scale, "%")
            pct = f" ({shown})"
        tag = "  (not binding)" if iv.binding is False else ""
        lead = f"; leads become {row.leads.replace(';', ', ')}" if row.leads_changed else ""
        lines.append(
            f"  {row.key:<10} {describe(iv, value):>12}{pct}  {row.description} "
            f"[{name}]{tag}{lead}{note}"
        )
    lines.append(f"({len(rc.table)} relaxed solves in {rc.elapsed_s:.1f} s)")
    return lines


def _missing(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))
