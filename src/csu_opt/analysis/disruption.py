"""Disruption: today's arrangement as an incumbent, and what stability costs (issue 8, item 2).

An *incumbent* is today's arrangement: which lead's network each CCG buys from (``ccg,
lead[, share]``; share defaults to 1) and, optionally, today's partnerships (``subcontractor,
lead``). A CCG *moves* when it loses share in a network it is in today
(:func:`~csu_opt.analysis.whatif.add_moves`: mv[c] + z[l,c] >= z0[l,c]). Then

- ``max_moves = K`` adds Σ_c mv[c] <= K: at most K CCGs change network;
- ``churn_cost = C`` adds C·Σ_c mv[c] to the objective: each move costs C a year;
- :func:`csu_opt.analysis.tradeoff.tradeoff` is the epsilon-constraint curve: the
  cheapest network for K = 0, 1, 2, ... moves, so a planner sees what stability costs.

CCGs of the instance that the incumbent does not name are new: they may go anywhere and do
not count as moves. A CCG whose lead today cannot lead in the instance must move.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyomo.environ as pyo

from csu_opt.analysis.proof import Optimum, not_proven
from csu_opt.analysis.whatif import (
    Moves,
    add_moves,
    at_cost,
    joined,
    moved_ccgs,
    pyomo_options,
    pyomo_session,
    use_objective,
)
from csu_opt.errors import InstanceError, Problem
from csu_opt.instance.load import Instance
from csu_opt.model.index import ModelIndex
from csu_opt.numbers import ccgs_that, number
from csu_opt.results.run import read_solution
from csu_opt.results.solution import Solution
from csu_opt.solver.options import SolveOptions


@dataclass(frozen=True)
class Incumbent:
    """Today's arrangement: ``assignments`` (ccg, lead, share), ``partnerships``
    (subcontractor, lead; possibly empty)."""

    assignments: pd.DataFrame
    partnerships: pd.DataFrame
    source: str = "<memory>"

    @classmethod
    def from_solution(cls, sol: Solution, source: str = "<solution>") -> Incumbent:
        """A solution's assignments and partnerships as an incumbent."""
        roles = sol.roles[sol.roles["role"] == "subcontractor"]
        pairs = [
            (p, l)
            for p, served in zip(roles["provider"], roles["leads"], strict=True)
            for l in str(served).split(";")
            if l
        ]
        return cls(
            sol.assignments[["ccg", "lead", "share"]].copy(),
            pd.DataFrame(pairs, columns=["subcontractor", "lead"]),
            source,
        )


def _read(path: Path, table: str, required: tuple[str, ...]) -> pd.DataFrame:
    if not path.is_file():
        raise InstanceError([Problem(str(path), "file not found", table)])
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        problem = Problem(str(path), f"cannot read the CSV file ({exc})", table)
        raise InstanceError([problem]) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InstanceError(
            [
                Problem(str(path), f"missing column '{c}' (columns: {', '.join(required)})", table)
                for c in missing
            ]
        )
    return frame.apply(lambda col: col.str.strip())


def read_incumbent(path: str | Path, partnerships: str | Path | None = None) -> Incumbent:
    """Today's arrangement from a CSV (``ccg, lead[, share]``) or a result folder
    (its assignments.csv, and its partnerships from roles.csv); ``partnerships`` is an
    optional CSV ``subcontractor, lead``. Shares must be in (0, 1] and sum to 1 per CCG."""
    path = Path(path)
    pairs = pd.DataFrame(columns=["subcontractor", "lead"])
    if path.is_dir():
        inc = Incumbent.from_solution(read_solution(path), str(path))
        frame = inc.assignments.astype({"share": str})
        pairs = inc.partnerships
        file = path / "assignments.csv"
    else:
        frame = _read(path, "incumbent", ("ccg", "lead"))
        file = path
    if "share" not in frame.columns:
        frame["share"] = "1"
    raw = frame["share"].astype(str).str.strip()
    frame["share"] = pd.to_numeric(raw.where(raw != "", "1"), errors="coerce")
    problems = [
        Problem(str(file), why, "incumbent", f"line {i + 2}", col)
        for i, (c, l, x) in enumerate(zip(frame["ccg"], frame["lead"], frame["share"], strict=True))
        for col, why in (
            ("ccg", "empty CCG id" if not c else ""),
            ("lead", "empty lead id" if not l else ""),
            ("share", "" if 0 < x <= 1 else f"share {raw.iloc[i]!r} is not a number in (0, 1]"),
        )
        if why
    ]
    if not problems:
        total = frame.groupby("ccg")["share"].sum()
        problems = [
            Problem(
                str(file), f"CCG {c}'s shares add up to {x:g}, not 1", "incumbent", None, "share"
            )
            for c, x in total.items()
            if abs(x - 1.0) > 1e-6
        ]
    if partnerships is not None:
        pairs = _read(Path(partnerships), "partnerships", ("subcontractor", "lead"))
    if problems:
        raise InstanceError(problems)
    return Incumbent(
        frame[["ccg", "lead", "share"]].reset_index(drop=True),
        pairs[["subcontractor", "lead"]].reset_index(drop=True),
        str(path),
    )


def check_incumbent(instance: Instance, incumbent: Incumbent) -> list[str]:
    """Unknown ids are errors (InstanceError); returns notes (new CCGs, leads that cannot
    lead any more) for the planner."""
    a, pairs = incumbent.assignments, incumbent.partnerships
    prov = instance.providers
    problems = []
    for table, frame, cols in (
        ("incumbent", a, (("ccg", instance.ccgs.index), ("lead", prov.index))),
        ("partnerships", pairs, (("subcontractor", prov.index), ("lead", prov.index))),
    ):
        for col, known in cols:
            unknown = sorted(set(frame[col]) - set(map(str, known)))
            problems += [
                Problem(
                    incumbent.source,
                    f"unknown {col} id '{u}' (not in {instance.name})",
                    table,
                    field=col,
                )
                for u in unknown[:20]
            ]
    if problems:
        raise InstanceError(problems)
    notes = []
    new = [c for c in instance.ccgs.index if c not in set(a["ccg"])]
    if new:
        notes.append(
            f"{ccgs_that(len(new), 'has', 'have')} no network today"
            f" and may go anywhere: {joined(new)}"
        )
    cannot = sorted(set(a["lead"]) - {p for p in prov.index if prov.at[p, "can_lead"]})
    if cannot:
        notes.append(
            f"leads today that cannot lead in this instance (their CCGs must move): "
            f"{', '.join(cannot)}"
        )
    return notes


@dataclass
class IncumbentTerms:
    """What :func:`add_incumbent` added: the moves, and the bound on them (a mutable
    parameter, so a persistent session can re-solve for another K)."""

    moves: Moves
    max_moves: pyo.Param
    churn_cost: float = 0.0
    notes: list[str] = field(default_factory=list)


def add_incumbent(
    m: pyo.ConcreteModel,
    ix: ModelIndex,
    incumbent: Incumbent,
    max_moves: int | None = None,
    churn_cost: float | None = None,
) -> IncumbentTerms:
    """Σ_c mv[c] <= K (K = ``max_moves``, or every CCG when None) and, with a churn cost C,
    the objective total_cost + C·Σ_c mv[c]. Call before the session's first solve."""
    moves = add_moves(m, ix, incumbent.assignments)
    bound = len(moves.ccgs) if max_moves is None else max_moves
    m.whatif_max_moves = pyo.Param(mutable=True, initialize=float(bound))
    m.whatif_moves_cap = pyo.Constraint(expr=moves.total() <= m.whatif_max_moves)
    churn = float(churn_cost or 0.0)
    if churn:
        m.total_cost.deactivate()
        m.whatif_total = pyo.Objective(
            expr=m.total_cost.expr + churn * moves.total(), sense=pyo.minimize
        )
    return IncumbentTerms(moves, m.whatif_max_moves, churn)


def incumbent_record(
    instance: Instance, incumbent: Incumbent, sol: Solution, terms: IncumbentTerms, k: int | None
) -> Solution:
    """``sol`` at its annual cost, with ``extra['incumbent']``: what moved and what it cost."""
    raw_objective, raw_bound = sol.objective, sol.best_bound
    if terms.churn_cost:
        sol = at_cost(sol)
    if not sol.status.has_solution:
        sol.extra["incumbent"] = {
            "source": incumbent.source,
            "max_moves": k,
            "churn_cost": terms.churn_cost,
        }
        return sol
    moved = moved_ccgs(incumbent.assignments, sol.assignments)
    subs = sol.roles[sol.roles["role"] == "subcontractor"]
    now = {
        (p, l)
        for p, served in zip(subs["provider"], subs["leads"], strict=True)
        for l in str(served).split(";")
        if l
    }
    before = set(
        zip(incumbent.partnerships["subcontractor"], incumbent.partnerships["lead"], strict=True)
    )
    sol.extra["incumbent"] = {
        "source": incumbent.source,
        "max_moves": k,
        "churn_cost": terms.churn_cost,
        "moves": len(moved),
        "moved_ccgs": moved,
        "forced_moves": terms.moves.forced,
        "new_ccgs": [c for c in instance.ccgs.index if c not in set(terms.moves.ccgs)],
        "partnerships_kept": len(before & now),
        "partnerships_broken": sorted(f"{p}->{l}" for p, l in before - now),
        "churn_total": terms.churn_cost * len(moved),
        "objective_with_churn": raw_objective if terms.churn_cost else None,
        "best_bound_with_churn": raw_bound if terms.churn_cost else None,
        "notes": terms.notes,
    }
    return sol


def solve_with_incumbent(
    instance: Instance,
    incumbent: Incumbent,
    options: SolveOptions | None = None,
    max_moves: int | None = None,
    churn_cost: float | None = None,
) -> Solution:
    """Solve with at most ``max_moves`` CCGs changing network and/or a churn cost per move.

    The returned solution's objective is the annual cost (so ``verify`` checks it); with a
    churn cost, the penalised objective and its bound are in ``extra['incumbent']``.
    """
    options = pyomo_options(options or SolveOptions())
    notes = check_incumbent(instance, incumbent)
    session = pyomo_session(instance, options)
    terms = add_incumbent(session.model, session.ix, incumbent, max_moves, churn_cost)
    terms.notes = notes
    return incumbent_record(instance, incumbent, session.solve(instance, options), terms, max_moves)


def incumbent_solver(
    incumbent: Incumbent, max_moves: int | None = None, churn_cost: float | None = None
) -> Callable[[Instance, SolveOptions], Solution]:
    """A ``solve(instance, options)`` that respects the incumbent (for ``run_solve``)."""
    return lambda inst, opts: solve_with_incumbent(inst, incumbent, opts, max_moves, churn_cost)


@dataclass(frozen=True)
class FewestMoves:
    """The fewest CCGs that must change network for a feasible network (all rules kept).

    ``k`` is the fewest found (None: no network at all within the limits, or the instance
    is infeasible whatever moves: ``status``); ``at_least`` is what the solve proved: every
    limit below it is infeasible. ``proven`` when ``k == at_least``.
    """

    k: int | None
    at_least: int
    status: str

    @property
    def proven(self) -> bool:
        return self.k is not None and self.k == self.at_least


def fewest_moves(
    instance: Instance, incumbent: Incumbent, options: SolveOptions | None = None
) -> FewestMoves:
    """min Σ_c mv[c] subject to every rule of the instance: the fewest moves that work."""
    options = pyomo_options(options or SolveOptions())
    session = pyomo_session(instance, options)
    moves = add_moves(session.model, session.ix, incumbent.assignments)
    session.model.whatif_fewest_moves = pyo.Objective(expr=moves.total(), sense=pyo.minimize)
    use_objective(session, session.model.whatif_fewest_moves)
    sol = session.solve(instance, options)
    if not sol.status.has_solution or sol.objective is None:
        return FewestMoves(None, 0, sol.status.value)
    k = round(sol.objective)
    if sol.best_bound is not None:  # moves are whole: a bound of 2.3 proves 3
        bound = math.ceil(sol.best_bound - 1e-6)
    else:
        bound = k if sol.status.value == "optimal" else 0
    return FewestMoves(k, max(0, min(k, bound)), sol.status.value)


def moves_frame(incumbent: Incumbent, sol: Solution) -> pd.DataFrame:
    """One row per CCG: ccg, today (leads;), planned (leads;), moved."""

    def leads(frame: pd.DataFrame) -> pd.Series:
        f = frame[frame["share"] > 1e-7]
        return f.groupby("ccg")["lead"].agg(lambda s: joined(sorted(s)))

    today, planned = leads(incumbent.assignments), leads(sol.assignments)
    moved = set(moved_ccgs(incumbent.assignments, sol.assignments))
    ccgs = list(dict.fromkeys([*today.index, *planned.index]))
    return pd.DataFrame(
        {
            "ccg": ccgs,
            "today": [today.get(c, "") for c in ccgs],
            "planned": [planned.get(c, "") for c in ccgs],
            "moved": [c in moved for c in ccgs],
        }
    )


def incumbent_summary(sol: Solution) -> list[str]:
    """Lines describing ``extra['incumbent']`` of a solve with an incumbent."""
    info: dict[str, Any] = sol.extra.get("incumbent") or {}
    if "moves" not in info:
        return []
    out = [
        ccgs_that(int(info["moves"]), "changes network", "change network")
        + (f": {', '.join(info['moved_ccgs'])}" if info["moved_ccgs"] else "")
    ]
    if info.get("churn_cost"):
        obj, bound = info.get("objective_with_churn"), info.get("best_bound_with_churn")
        gap = (
            abs(obj - bound) / max(abs(obj), 1e-10)
            if obj is not None and bound is not None
            else None
        )
        proof = not_proven(Optimum(sol.status.value, obj, bound, gap))
        out.append(
            f"churn {number(info['churn_total'])} at {number(info['churn_cost'])} a move; "
            f"objective with churn {number(obj)}" + (f" ({proof})" if proof else "")
        )
    if info.get("partnerships_broken"):
        out.append(f"partnerships ended: {', '.join(info['partnerships_broken'])}")
    out.extend(f"note: {n}" for n in info.get("notes", []))
    return out
