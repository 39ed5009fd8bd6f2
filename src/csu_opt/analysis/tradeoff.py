"""The stability trade-off (issue 8, item 2): the cheapest network for K = 0, 1, 2, ... moves.

An epsilon-constraint curve over today's arrangement (:mod:`csu_opt.analysis.disruption`):
one model is built, K is a mutable parameter and each point starts from the previous one
(feasible, as K only grows), so the curve is non-increasing. Each point's cost over the
optimum and saving against K = 0 come with the interval they surely lie in when a solve
stops at a limit; each infeasible point gets its reason (:mod:`csu_opt.analysis.whatif_rules`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from csu_opt.analysis.disruption import (
    FewestMoves,
    Incumbent,
    add_incumbent,
    check_incumbent,
    fewest_moves,
    incumbent_record,
)
from csu_opt.analysis.proof import Interval, Optimum, describe, difference, not_proven
from csu_opt.analysis.whatif import (
    joined,
    pyomo_options,
    pyomo_session,
    short,
    update_params,
)
from csu_opt.analysis.whatif_rules import moves_reasons
from csu_opt.errors import UsageError
from csu_opt.instance.load import Instance
from csu_opt.numbers import number
from csu_opt.results.solution import Solution, Status, Timings, solution_from_values
from csu_opt.solver.options import SolveOptions
from csu_opt.solver.solve import ModelSession

# --------------------------------------------------------------------------- tradeoff


#: Columns of tradeoff.csv, one row per point of the curve (the unconstrained end last).
COLUMNS = (
    "max_moves",
    "moves",
    "status",
    "gap",
    "base_status",
    "base_gap",
    "proven",
    "objective",
    "stability_cost",
    "cost_low",
    "cost_high",
    "saving",
    "saving_low",
    "saving_high",
    "leads",
    "moved",
    "reason",
)


@dataclass
class Tradeoff:
    """The cost of the cheapest network against the number of CCGs allowed to move."""

    table: pd.DataFrame  # COLUMNS; max_moves None on the unconstrained row (last)
    optimum: float | None
    status_quo: float | None  # K = 0
    notes: list[str]
    solutions: dict[int | None, Solution] = field(default_factory=dict)
    elapsed_s: float = 0.0
    fewest: FewestMoves | None = None  # when some point of the grid is below it
    stability: dict[int | None, Interval | None] = field(default_factory=dict)  # over optimum
    savings: dict[int | None, Interval | None] = field(default_factory=dict)  # under K = 0


def parse_grid(text: str) -> list[int]:
    """``0,1,2,5`` or ``0:10`` (step 1) or ``0:20:5`` into a sorted list of K >= 0."""
    try:
        if ":" in text:
            parts = [int(p) for p in text.split(":")]
            if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] <= 0):
                raise ValueError
            grid = list(range(parts[0], parts[1] + 1, parts[2] if len(parts) == 3 else 1))
        else:
            grid = [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise UsageError(
            f"--max-moves-grid {text!r}: expected 0,1,2,5 or A:B or A:B:STEP"
        ) from None
    if not grid or min(grid) < 0:
        raise UsageError(f"--max-moves-grid {text!r}: expected whole numbers >= 0")
    return sorted(set(grid))


def tradeoff(
    instance: Instance,
    incumbent: Incumbent,
    options: SolveOptions | None = None,
    grid: Sequence[int] | None = None,
) -> Tradeoff:
    """The epsilon-constraint curve: min cost s.t. at most K moves, for K in ``grid``
    (default 0, 1, ..., up to the moves of the unconstrained optimum), plus the
    unconstrained optimum itself (the K = ∞ end).

    Points below the fewest moves that work (:func:`fewest_moves`, one solve) are infeasible
    without a solve of their own; each infeasible point gets its reason (``reason``: the
    short form of ``csu_opt.analysis.explain``'s answer for the moves limit).
    """
    t0 = time.perf_counter()
    options = pyomo_options(options or SolveOptions())
    notes = check_incumbent(instance, incumbent)
    session = pyomo_session(instance, options)
    terms = add_incumbent(session.model, session.ix, incumbent)
    terms.notes = notes
    free = incumbent_record(instance, incumbent, session.solve(instance, options), terms, None)
    optimum = free.objective if free.status.has_solution else None
    n_free = free.extra["incumbent"].get("moves") if optimum is not None else None
    if grid is None:  # 0, 1, ... up to the optimum's moves (none when even that fails)
        grid = list(range(max(n_free, 1))) if n_free is not None else []
    ks = sorted(set(grid))
    fewest = None
    if n_free is not None and ks and ks[0] < n_free:
        fewest = fewest_moves(instance, incumbent, options)
    reasons: dict[int | None, str] = {}
    if free.status.value == "infeasible":
        reasons[None] = "the instance is infeasible whatever moves: see csu-opt explain"
    elif fewest is not None and ks[0] < fewest.at_least:
        below = [k for k in ks if k < fewest.at_least]
        for k, why in moves_reasons(instance, incumbent, fewest, below, options.time_limit).items():
            reasons[k] = why
    sols: dict[int | None, Solution] = {}
    for k in ks:
        if n_free is not None and k >= n_free:
            sols[k] = free  # the unconstrained optimum already moves at most k
            continue
        if fewest is not None and k < fewest.at_least:  # proven by the fewest-moves solve
            sols[k] = _proven_infeasible(instance, session, k, fewest)
            continue
        terms.max_moves.value = float(k)
        update_params(session)
        sols[k] = incumbent_record(instance, incumbent, session.solve(instance, options), terms, k)
        if sols[k].status.value == "infeasible" and fewest is not None and fewest.k is not None:
            reasons[k] = f"proven infeasible by its own solve; the fewest moves found is {fewest.k}"
    sols[None] = free
    status_quo = sols[0].objective if 0 in sols and sols[0].status.has_solution else None
    best = Optimum.of(free)
    today = Optimum.of(sols[0]) if 0 in sols else None
    rows, stability, savings = [], {}, {}
    for key, sol in sols.items():
        obj = sol.objective if sol.status.has_solution else None
        info = sol.extra.get("incumbent", {})
        here = Optimum.of(sol)
        # fewer moves allowed is a restriction: z*(K) >= z*(any), z*(0) >= z*(K)
        cost = difference(here, best, a_at_least_b=True) if obj is not None else None
        saving = (
            difference(today, here, a_at_least_b=True)
            if obj is not None and today is not None and status_quo is not None
            else None
        )
        stability[key], savings[key] = cost, saving
        compared = [here, best] + ([today] if saving is not None and today else [])
        rows.append(
            {
                "max_moves": key,
                "moves": info.get("moves") if obj is not None else None,
                "status": sol.status.value,
                "gap": sol.mip_gap,
                "base_status": best.status,
                "base_gap": best.gap,
                "proven": all(o.proven for o in compared),
                "objective": obj,
                "stability_cost": obj - optimum
                if obj is not None and optimum is not None
                else None,
                "cost_low": cost.low if cost is not None else None,
                "cost_high": cost.high if cost is not None else None,
                "saving": status_quo - obj if obj is not None and status_quo is not None else None,
                "saving_low": saving.low if saving is not None else None,
                "saving_high": saving.high if saving is not None else None,
                "leads": joined(sol.leads) if obj is not None else "",
                "moved": joined(info.get("moved_ccgs", [])) if obj is not None else "",
                "reason": reasons.get(key, "") if obj is None else "",
            }
        )
    table = pd.DataFrame(rows, columns=list(COLUMNS)).astype(
        {"max_moves": "Int64", "moves": "Int64"}
    )
    return Tradeoff(
        table,
        optimum,
        status_quo,
        notes,
        sols,
        time.perf_counter() - t0,
        fewest=fewest,
        stability=stability,
        savings=savings,
    )


def _proven_infeasible(
    instance: Instance, session: ModelSession, k: int, fewest: FewestMoves
) -> Solution:
    """The record of a moves limit below what the fewest-moves solve proved necessary."""
    sol = solution_from_values(
        instance,
        session.ix,
        None,
        status=Status.INFEASIBLE,
        objective=None,
        best_bound=None,
        mip_gap=None,
        message=f"proven infeasible: at least {fewest.at_least} moves are needed",
        timings=Timings(),
        solver={},
    )
    sol.extra["incumbent"] = {"max_moves": k}
    return sol


def format_tradeoff(t: Tradeoff) -> list[str]:
    """The curve as lines of text; a cost over the optimum as a value only when proven, else
    the interval it surely lies in, with ``not proven (gap x%)``."""
    free = t.solutions.get(None)
    best = Optimum.of(free) if free is not None else None
    if best is None or best.proven:
        head = f"optimum {number(t.optimum)}"
    else:
        head = f"best network with any moves {number(t.optimum)}, {not_proven(best)}"
    today = t.solutions.get(0)
    kept = number(t.status_quo) if t.status_quo is not None else "impossible"
    if today is not None and t.status_quo is not None and not Optimum.of(today).proven:
        kept += f", {not_proven(Optimum.of(today))}"
    lines = [f"Cost against CCGs moved ({head}; today's networks kept: {kept})"]
    f = t.fewest
    if f is not None and f.k is not None:
        how = "proven" if f.proven else f"found; at least {f.at_least} proven necessary"
        lines.append(f"the fewest moves that work: {f.k} ({how})")
    lines.extend(f"note: {n}" for n in t.notes)
    lines.append(f"{'max moves':>10} {'moves':>6} {'cost':>14} {'over optimum':>14}  moved")
    for row, key in zip(t.table.itertuples(index=False), t.solutions, strict=True):
        k = "any" if pd.isna(row.max_moves) else str(row.max_moves)
        if row.objective is None or pd.isna(row.objective):
            why = f"  {row.reason}" if row.reason else ""
            lines.append(f"{k:>10} {'-':>6} {row.status:>14}{why}")
            continue
        iv = t.stability.get(key)
        over = describe(iv, row.stability_cost) if iv is not None else "-"
        sol = t.solutions[key]
        note = "" if row.proven else f"  [{_tradeoff_note(sol, free, today)}]"
        lines.append(
            f"{k:>10} {row.moves!s:>6} {number(row.objective):>14} {over:>14}  "
            f"{short(row.moved, 10)}{note}"
        )
    lines.append(f"({len(t.table)} points in {t.elapsed_s:.1f} s)")
    return lines


def _tradeoff_note(sol: Solution, *others: Solution | None) -> str:
    return not_proven(Optimum.of(sol), *(Optimum.of(o) for o in others if o is not None))
