"""Near-optimal alternatives: the k best structurally different lead sets (issue 8, item 4).

After the optimum z* with lead set S_1, a no-good cut on u excludes each lead set found,

    Σ_{l in S_i} (1 - u[l]) + Σ_{l not in S_i} u[l] >= 1,

and the model is re-solved (one persistent session; each cut is pushed to HiGHS). The i-th
solve returns the cheapest network whose lead set differs from S_1..S_{i-1}, so the
alternatives are the best lead sets in order of their best cost. The search stops at k
alternatives, at the first whose cost exceeds z* + within·|z*|, or when no other lead set is
feasible: fewer than k are returned when fewer lead sets lie within the tolerance.

When the first solve stops at a limit, "the optimum" is known only between its bound and the
cheapest network found: each alternative's extra cost is then the interval it surely lies in
(``cost_low``..``cost_high``), and ``surely_within`` says whether it is within the tolerance
even at the lowest possible optimum.

Decisions common to every alternative are robust; the others are coin-flips. They are listed
per decision: a provider leads (``lead``), a provider's role (``role``: lead, exit or
sub:L1;L2), a CCG's network (``ccg``).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import pandas as pd
import pyomo.environ as pyo

from csu_opt.analysis.proof import Interval, Optimum, describe, difference, not_proven
from csu_opt.analysis.whatif import (
    joined,
    moved_ccgs,
    push,
    pyomo_options,
    pyomo_session,
    roles_signature,
)
from csu_opt.instance.load import Instance
from csu_opt.model.pyomo_model import linear
from csu_opt.numbers import ccgs_that, number
from csu_opt.results.solution import Solution
from csu_opt.solver.options import SolveOptions
from csu_opt.solver.solve import ModelSession

#: Columns of alternatives.csv, one row per alternative (rank 1 = the optimum).
COLUMNS = (
    "rank",
    "status",
    "gap",
    "base_status",
    "base_gap",
    "proven",
    "objective",
    "extra_cost",
    "cost_low",
    "cost_high",
    "extra_pct",
    "surely_within",
    "n_leads",
    "leads",
    "added_leads",
    "dropped_leads",
    "moved_ccgs",
)
#: Columns of alternatives_decisions.csv, one row per decision seen in some alternative.
DECISION_COLUMNS = ("kind", "subject", "choice", "alternatives", "of", "common")


@dataclass
class Alternatives:
    """``table`` (:data:`COLUMNS`) and ``decisions`` (:data:`DECISION_COLUMNS`)."""

    solutions: list[Solution]
    table: pd.DataFrame
    decisions: pd.DataFrame
    k: int
    within: float
    stopped: str  # why the search ended
    elapsed_s: float = 0.0
    extra: dict[str, object] = field(default_factory=dict)
    optimum: Optimum | None = None  # the first solve's bound, the best network found
    intervals: list[Interval] = field(default_factory=list)  # extra cost of each, by rank

    @property
    def common_leads(self) -> list[str]:
        d = self.decisions
        return list(d.loc[(d["kind"] == "lead") & d["common"], "subject"])

    @property
    def common_assignments(self) -> dict[str, str]:
        d = self.decisions
        rows = d[(d["kind"] == "ccg") & d["common"]]
        return dict(zip(rows["subject"], rows["choice"], strict=True))


def add_no_good_cut(session: ModelSession, leads: list[str], name: str) -> pyo.Constraint:
    """Σ_{l in S} (1 - u[l]) + Σ_{l not in S} u[l] >= 1: the lead set S is excluded."""
    m, ix = session.model, session.ix
    inside = set(leads)
    coefs = [-1.0 if l in inside else 1.0 for l in ix.leads]
    cut = pyo.Constraint(expr=linear(coefs, list(m.u.values()), constant=len(inside)) >= 1.0)
    m.add_component(name, cut)
    push(session, cut)
    return cut


def alternatives(
    instance: Instance,
    k: int = 5,
    within: float = 0.02,
    options: SolveOptions | None = None,
) -> Alternatives:
    """Up to ``k`` best structurally different lead sets within ``within`` (a fraction: 0.02
    is 2%) of the optimum, and the decisions they share.

    The optimum z* is known to lie between the first solve's bound and the cheapest network
    found; each alternative's extra cost over it is the interval
    :func:`~csu_opt.analysis.proof.difference` gives (its own cost is known exactly).
    """
    t0 = time.perf_counter()
    options = pyomo_options(options or SolveOptions())
    session = pyomo_session(instance, options)
    found: list[Solution] = []
    first: Solution | None = None
    stopped = f"found k = {k}"

    def limit() -> float:  # the tolerance over the best cost found so far
        best = min(abs(s.objective or 0.0) for s in found)
        return best + within * best + 1e-9 * max(1.0, best)

    while len(found) < k:
        if found:
            add_no_good_cut(session, found[-1].leads, f"whatif_no_good_{len(found)}")
        sol = session.solve(instance, options)
        first = first or sol
        if not sol.status.has_solution or sol.objective is None:
            if not found:
                stopped = f"the instance is {sol.status.value}"
            elif sol.status.value == "infeasible":
                stopped = "no other lead set is feasible"
            else:
                stopped = (
                    f"the next solve ended {sol.status.value} (stopped at a limit: other lead "
                    "sets may exist)"
                )
            break
        if found and sol.objective > limit():
            unproven = (
                ""
                if Optimum.of(sol).proven
                else f"; that solve is {not_proven(Optimum.of(sol))}: a cheaper lead set may remain"
            )
            stopped = (
                f"the next lead set ({', '.join(sol.leads)}) costs {number(sol.objective)}, beyond "
                f"the tolerance {number(limit())}{unproven}"
            )
            break
        found.append(sol)
    # within the MIP gap a later solve can beat an earlier one: order by cost, and keep
    # only those within the tolerance of the best
    if found:
        found.sort(key=lambda s: s.objective or 0.0)
        cap = limit()
        found = [s for s in found if (s.objective or 0.0) <= cap]
    optimum = _optimum(first, found)
    intervals = _intervals(found, optimum)
    return Alternatives(
        found,
        _table(found, optimum, intervals, within),
        _decisions(found),
        k,
        within,
        stopped,
        time.perf_counter() - t0,
        optimum=optimum,
        intervals=intervals,
    )


def _optimum(first: Solution | None, found: list[Solution]) -> Optimum | None:
    """z* lies between the first solve's bound (every later solve's model is the first's with
    cuts) and the cheapest network found by any solve."""
    if first is None:
        return None
    opt = Optimum.of(first)
    if not found:
        return opt
    best = min(float(s.objective or 0.0) for s in found)
    gap = None
    if opt.bound is not None:
        gap = abs(best - opt.bound) / max(abs(best), 1e-10) if best != opt.bound else 0.0
    return Optimum(opt.status, best, opt.bound, gap, opt.target_gap)


def _intervals(found: list[Solution], optimum: Optimum | None) -> list[Interval]:
    """Each alternative's extra cost over z*: its own cost is known, z* is not (>= 0: z* is
    at most any network's cost). Proven when the optimum and the alternative's solve are."""
    out = []
    for sol in found:
        assert optimum is not None and sol.objective is not None
        iv = difference(Optimum.known(sol.objective), optimum, a_at_least_b=True)
        assert iv is not None
        out.append(dataclasses.replace(iv, proven=iv.proven and Optimum.of(sol).proven))
    return out


def _table(
    found: list[Solution], optimum: Optimum | None, intervals: list[Interval], within: float
) -> pd.DataFrame:
    rows = []
    if found:
        assert optimum is not None
        best = found[0]
        for i, (sol, iv) in enumerate(zip(found, intervals, strict=True)):
            extra = (sol.objective or 0.0) - (best.objective or 0.0)
            # surely within the tolerance: even at the lowest possible optimum
            floor = optimum.low if optimum.bound is not None else None
            sure = floor is not None and iv.high <= within * abs(floor) + iv.tol
            rows.append(
                {
                    "rank": i + 1,
                    "status": sol.status.value,
                    "gap": sol.mip_gap,
                    "base_status": optimum.status,
                    "base_gap": optimum.gap,
                    "proven": iv.proven,
                    "objective": sol.objective,
                    "extra_cost": extra,
                    "cost_low": iv.low,
                    "cost_high": iv.high,
                    "extra_pct": 100 * extra / max(abs(best.objective or 0.0), 1e-9),
                    "surely_within": bool(sure),
                    "n_leads": len(sol.leads),
                    "leads": joined(sol.leads),
                    "added_leads": joined(sorted(set(sol.leads) - set(best.leads))),
                    "dropped_leads": joined(sorted(set(best.leads) - set(sol.leads))),
                    "moved_ccgs": len(moved_ccgs(best.assignments, sol.assignments)),
                }
            )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _decisions(found: list[Solution]) -> pd.DataFrame:
    """How many alternatives take each decision; ``common`` when all of them do."""
    counts: dict[tuple[str, str, str], int] = {}
    for sol in found:
        seen = {("lead", l, "lead") for l in sol.leads}
        seen |= {("role", p, r) for p, r in roles_signature(sol).items()}
        a = sol.assignments[sol.assignments["share"] > 1e-7]
        seen |= {("ccg", str(c), str(l)) for c, l in zip(a["ccg"], a["lead"], strict=True)}
        for key in seen:
            counts[key] = counts.get(key, 0) + 1
    n = len(found)
    rows = [
        {"kind": kind, "subject": s, "choice": c, "alternatives": v, "of": n, "common": v == n}
        for (kind, s, c), v in counts.items()
    ]
    frame = pd.DataFrame(rows, columns=list(DECISION_COLUMNS))
    kind_order = {"lead": 0, "ccg": 1, "role": 2}
    return (
        frame.assign(_k=frame["kind"].map(kind_order), _n=-frame["alternatives"])
        .sort_values(["_k", "_n", "subject", "choice"], kind="stable")
        .drop(columns=["_k", "_n"])
        .reset_index(drop=True)
    )


def format_alternatives(alt: Alternatives, max_ccgs: int = 30) -> list[str]:
    """The alternatives and what they share, as lines of text; "the optimum" only of a
    proven one, each extra cost as the interval it surely lies in when not proven."""
    opt = alt.optimum
    if opt is None or opt.proven or not alt.solutions:
        ref = "the optimum"
    else:
        floor = f"; the optimum is at least {number(opt.bound)}" if opt.bound is not None else ""
        ref = f"the best network found, {number(opt.objective)} ({not_proven(opt)}{floor})"
    lines = [
        f"{len(alt.solutions)} structurally different lead set(s) within {alt.within:.2%} of "
        f"{ref} (asked for {alt.k}; {alt.stopped})"
    ]
    for row, sol, iv in zip(
        alt.table.itertuples(index=False), alt.solutions, alt.intervals, strict=True
    ):
        change = ""
        if row.rank > 1:
            change = f"  (+{row.added_leads or '-'} / -{row.dropped_leads or '-'}, "
            change += f"{ccgs_that(int(row.moved_ccgs), 'moves', 'move')})"
        scale = 100 / max(abs(opt.objective or 0.0), 1e-9) if opt is not None else 1.0
        extra = describe(iv.scaled(scale), row.extra_pct, "%")
        extra = f"+{extra}" if extra[:1].isdigit() else extra
        notes = []
        if not row.proven:
            assert opt is not None
            notes.append(not_proven(opt, Optimum.of(sol)))
        if not row.surely_within:
            notes.append("may lie beyond the tolerance")
        note = f"  [{'; '.join(notes)}]" if notes else ""
        lines.append(
            f"  {row.rank}. {number(row.objective):>12} ({extra})  "
            f"leads {row.leads.replace(';', ', ')}{change}{note}"
        )
    if not alt.solutions:
        return lines
    d = alt.decisions
    leads = d[d["kind"] == "lead"]
    sure = list(leads.loc[leads["common"], "subject"])
    maybe = [
        f"{s} ({v}/{n})"
        for s, v, n, c in zip(
            leads["subject"], leads["alternatives"], leads["of"], leads["common"], strict=True
        )
        if not c
    ]
    lines.append(f"Leads in every alternative (robust): {', '.join(sure) or 'none'}")
    lines.append(f"Leads in some (coin-flips): {', '.join(maybe) or 'none'}")
    ccg = d[d["kind"] == "ccg"]
    fixed = ccg[ccg["common"]]
    varying = sorted(set(ccg["subject"]) - set(fixed["subject"]))
    lines.append(
        f"CCGs placed the same in every alternative: {len(fixed)} of {ccg['subject'].nunique()}"
    )
    if varying:
        shown = ", ".join(varying[:max_ccgs]) + (" ..." if len(varying) > max_ccgs else "")
        lines.append(f"CCGs whose network differs: {shown}")
    lines.append(f"({alt.elapsed_s:.1f} s)")
    return lines
