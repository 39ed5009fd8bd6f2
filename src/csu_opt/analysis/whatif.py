"""Shared machinery of the planner's what-if questions (issue 8).

Resilience (``resilience.py``), disruption (``disruption.py``), the price of each rule
(``rulecosts.py``) and near-optimal alternatives (``alternatives.py``) all solve the model of
``csu_opt.model.pyomo_model`` with a few terms added to it. The terms live here, one function
per family,
each docstring holding its formula:

- **moves** against a reference assignment z0 (today's arrangement, or the base solution):
  mv[c] ∈ {0,1}, mv[c] >= z0[l,c] - z[l,c] for every (l, c) with z0[l,c] > 0, so mv[c] = 1
  when c leaves (part of) its network;
- **role changes** against a reference network (u0, w0, a0): rc[p] ∈ {0,1} with
  rc[p] >= |u[p] - u0[p]|, rc[p] >= |a[p] - a0[p]| and rc[p] >= |w[p,l] - w0[p,l]| (linear,
  since the reference values are constants);
- **double coverage** (robust networks): every line of every network has two eligible
  members, and there are at least two leads.

Terms are added to a :class:`~csu_opt.solver.solve.ModelSession`'s model before its first solve; a
constraint or objective added after it is handed to the persistent solver with :func:`push`
and :func:`use_objective`, so one session can be re-solved with cuts and new objectives.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from csu_opt.files import write_text
from csu_opt.instance.load import Instance
from csu_opt.model.index import ModelIndex
from csu_opt.model.pyomo_model import linear, row_groups
from csu_opt.numbers import clean_frame
from csu_opt.results.solution import TOL, Role, Solution
from csu_opt.solver.options import SolveOptions
from csu_opt.solver.solve import ModelSession

# --------------------------------------------------------------------------- sessions


def pyomo_options(options: SolveOptions, own_start: bool = False) -> SolveOptions:
    """``options`` asking for the Pyomo model of ``csu_opt.model.pyomo_model`` (terms are added
    to it).

    Where ``SolveOptions`` offers other back-ends or a greedy start, the Pyomo back-end is
    asked for, and the greedy start is left out when ``own_start`` (a start of our own is
    handed over instead). Use the result both to build the session and to solve it.
    """
    changes: dict[str, Any] = {}
    if hasattr(options, "backend"):
        changes["backend"] = "pyomo"
    if own_start and hasattr(options, "start_heuristic"):
        changes["start_heuristic"] = False
    return dataclasses.replace(options, **changes)


def pyomo_session(instance: Instance, options: SolveOptions) -> ModelSession:
    """A session on the Pyomo model (``options`` from :func:`pyomo_options`)."""
    return ModelSession(instance, pyomo_options(options))


def _appsi(session: ModelSession) -> Any:
    """The session's persistent appsi solver (wherever this csu-opt version keeps it)."""
    return getattr(session, "engine", session).opt


def is_loaded(session: ModelSession) -> bool:
    """True once the session's model has been handed to HiGHS (after its first solve)."""
    return bool(getattr(session, "engine", session).loaded)


def update_params(session: ModelSession) -> None:
    """Push changed mutable parameters to HiGHS (after the first solve)."""
    if is_loaded(session):
        _appsi(session).update_params()


# --------------------------------------------------------------------------- reference values


def solution_values(ix: ModelIndex, sol: Solution) -> dict[str, np.ndarray]:
    """A solution's u, a, w, z, x as arrays in the row order of ``ix`` (0 where absent).

    Mapped by ids, so a solution of one instance can start the model of a relaxed one (whose
    frames may hold more rows, e.g. more eligible pairs).
    """
    roles = sol.roles
    leads = set(sol.leads)
    exits = set(roles.loc[roles["role"] == Role.EXIT, "provider"])
    pairs: set[tuple[str, str]] = set()
    for p, role, served in zip(roles["provider"], roles["role"], roles["leads"], strict=True):
        if role == Role.SUBCONTRACTOR and isinstance(served, str):
            pairs.update((p, l) for l in served.split(";") if l)
    share = {
        (l, c): float(v)
        for c, l, v in zip(
            sol.assignments["ccg"], sol.assignments["lead"], sol.assignments["share"], strict=True
        )
    }
    f = sol.flows
    volume = {
        (p, l, s): float(v)
        for p, l, s, v in zip(f["provider"], f["lead"], f["service_line"], f["volume"], strict=True)
    }
    return {
        "u": np.array([float(l in leads) for l in ix.leads]),
        "a": np.array([float(p not in exits) for p in ix.providers.index]),
        "w": np.array(
            [float((p, l) in pairs) for p, l in zip(ix.links["p"], ix.links["l"], strict=True)]
        ),
        "z": np.array(
            [share.get((l, c), 0.0) for l, c in zip(ix.assign["l"], ix.assign["c"], strict=True)]
        ),
        "x": np.array(
            [
                min(volume.get((p, l, s), 0.0), float(cap))
                for p, l, s, cap in zip(
                    ix.flows["p"], ix.flows["l"], ix.flows["s"], ix.flows["cap"], strict=True
                )
            ]
        ),
    }


def warm_start(session: ModelSession, values: dict[str, np.ndarray]) -> None:
    """Hand ``values`` to HiGHS as the starting solution of the session's next solve.

    The values are set on the Pyomo variables (fixed ones are left alone) and appsi passes
    them to HiGHS (``setSolution``); HiGHS ignores a start that is not feasible. Meant for a
    session solved once: appsi would hand the same values over again at a later solve.
    """
    m = session.model
    for name, vals in values.items():
        var = getattr(m, name)
        for k, v in enumerate(vals):
            if not var[k].fixed:
                var[k].set_value(float(v), skip_validation=True)
    _appsi(session).config.warmstart = True


def roles_signature(sol: Solution) -> dict[str, str]:
    """provider -> ``lead``, ``exit`` or ``sub:L1;L2`` (the leads it serves)."""
    out = {}
    for p, role, served in zip(
        sol.roles["provider"], sol.roles["role"], sol.roles["leads"], strict=True
    ):
        out[str(p)] = f"sub:{served}" if role == Role.SUBCONTRACTOR else str(role)
    return out


def role_changes(before: Solution, after: Solution, skip: Iterable[str] = ()) -> list[str]:
    """``P: sub:L1 -> lead`` for every provider whose role differs (``skip`` left out)."""
    a, b = roles_signature(before), roles_signature(after)
    gone = set(skip)
    return [f"{p}: {a[p]} -> {b.get(p, '?')}" for p in a if p not in gone and a[p] != b.get(p)]


def moved_ccgs(reference: pd.DataFrame, assignments: pd.DataFrame, tol: float = 1e-6) -> list[str]:
    """CCGs of ``reference`` (ccg, lead, share) that lost share in some network."""
    now = {
        (c, l): float(v)
        for c, l, v in zip(
            assignments["ccg"], assignments["lead"], assignments["share"], strict=True
        )
    }
    out = []
    for c, l, v in zip(reference["ccg"], reference["lead"], reference["share"], strict=True):
        if float(v) > TOL and now.get((c, l), 0.0) < float(v) - tol:
            out.append(str(c))
    return list(dict.fromkeys(out))


# --------------------------------------------------------------------------- model terms


@dataclass
class Moves:
    """The move indicators mv[j] of ``ccgs[j]`` (a Pyomo Var on the model)."""

    var: pyo.Var
    ccgs: list[str]
    forced: list[str]  # their reference lead cannot lead in this instance: they must move

    def total(self) -> pyo.Expression:
        return linear([1.0] * len(self.ccgs), list(self.var.values()))


def add_moves(
    m: pyo.ConcreteModel, ix: ModelIndex, reference: pd.DataFrame, name: str = "whatif_moved"
) -> Moves:
    """mv[c] ∈ {0,1}, mv[c] + z[l,c] >= z0[l,c] for every (l, c) with z0[l,c] > 0.

    ``reference`` has columns ccg, lead, share; CCGs not in the instance are ignored. Where
    z[l,c] does not exist (l cannot lead here) the row reads mv[c] >= z0[l,c].
    """
    ref = reference[(reference["share"] > TOL) & reference["ccg"].isin(ix.ccgs)]
    ccgs = list(dict.fromkeys(map(str, ref["ccg"])))
    pos = {c: j for j, c in enumerate(ccgs)}
    zpos = {(l, c): k for k, (l, c) in enumerate(zip(ix.assign["l"], ix.assign["c"], strict=True))}
    var = pyo.Var(range(len(ccgs)), within=pyo.Binary, doc="c leaves its reference network")
    m.add_component(name, var)
    rows = [
        (pos[str(c)], zpos.get((l, c)), float(v))
        for c, l, v in zip(ref["ccg"], ref["lead"], ref["share"], strict=True)
    ]
    forced = [ccgs[j] for j, k, _ in rows if k is None]

    def rule(_m: pyo.ConcreteModel, r: int) -> object:
        j, k, z0 = rows[r]
        if k is None:
            return var[j] >= z0
        return var[j] + m.z[k] >= z0

    m.add_component(f"{name}_def", pyo.Constraint(range(len(rows)), rule=rule))
    return Moves(var, ccgs, list(dict.fromkeys(forced)))


@dataclass
class RoleChanges:
    """The role-change indicators rc[j] of ``providers[j]``."""

    var: pyo.Var
    providers: list[str]

    def total(self) -> pyo.Expression:
        return linear([1.0] * len(self.providers), list(self.var.values()))


def add_role_changes(
    m: pyo.ConcreteModel,
    ix: ModelIndex,
    values: dict[str, np.ndarray],
    skip: Iterable[str] = (),
    name: str = "whatif_role_changed",
) -> RoleChanges:
    """rc[p] ∈ {0,1} >= |u[p] - u0[p]|, |a[p] - a0[p]|, |w[p,l] - w0[p,l]| for every l.

    The reference (u0, a0, w0) comes from ``values`` (see :func:`solution_values`); each
    |v - v0| is v when v0 = 0 and 1 - v when v0 = 1. Providers in ``skip`` get no indicator.
    """
    gone = set(skip)
    providers = [p for p in ix.providers.index if p not in gone]
    pos = {p: j for j, p in enumerate(providers)}
    var = pyo.Var(range(len(providers)), within=pyo.Binary, doc="p's role differs")
    m.add_component(name, var)
    terms: list[tuple[int, pyo.Var, float]] = []  # (j, variable, reference value)
    lead_pos = {l: i for i, l in enumerate(ix.leads)}
    for i, p in enumerate(ix.providers.index):
        if p in gone:
            continue
        terms.append((pos[p], m.a[i], float(values["a"][i])))
        if p in lead_pos:
            terms.append((pos[p], m.u[lead_pos[p]], float(values["u"][lead_pos[p]])))
    for k, p in enumerate(ix.links["p"]):
        if p not in gone:
            terms.append((pos[p], m.w[k], float(values["w"][k])))

    def rule(_m: pyo.ConcreteModel, r: int) -> object:
        j, v, v0 = terms[r]
        return var[j] >= (1.0 - v if v0 > 0.5 else v)

    m.add_component(f"{name}_def", pyo.Constraint(range(len(terms)), rule=rule))
    return RoleChanges(var, providers)


def add_double_coverage(m: pyo.ConcreteModel, ix: ModelIndex) -> None:
    """(robust) every line of every network has two eligible members; at least two leads.

    [l eligible in s]·u[l] + Σ_{p eligible in s} w[p,l] >= 2 u[l] for every lead l and line
    s, and Σ_l u[l] >= 2: after any single exit each surviving network still reaches every
    line, and a failed lead's CCGs have another network to go to. (Capacity after an exit is
    not guaranteed: ``resilience`` checks it.)
    """
    elig = ix.eligible[["p", "s"]]
    self_ok = set(map(tuple, elig.itertuples(index=False)))
    cover = ix.links[["p", "l"]].assign(pos=np.arange(len(ix.links))).merge(elig, on="p")
    cover_of = row_groups(cover, ["l", "s"])
    kk = cover["pos"].to_numpy()
    keys = [(l, s) for l in ix.leads for s in ix.lines.index]
    lp = {l: i for i, l in enumerate(ix.leads)}  # u is indexed by lead position

    def double(_m: pyo.ConcreteModel, l: str, s: str) -> object:
        ws = [m.w[int(kk[j])] for j in cover_of.get((l, s), [])]
        own = 1.0 if (l, s) in self_ok else 0.0
        return linear([1.0] * len(ws) + [own - 2.0], [*ws, m.u[lp[l]]]) >= 0.0

    m.whatif_double_coverage = pyo.Constraint(keys, rule=double)
    m.whatif_two_leads = pyo.Constraint(expr=linear([1.0] * len(ix.leads), m.u.values()) >= 2.0)


# --------------------------------------------------------------------------- persistent solver


def push(session: ModelSession, *components: pyo.Component) -> None:
    """Hand constraints added to the model after its first solve to the persistent solver."""
    if not is_loaded(session):
        return
    datas = [d for c in components for d in (c.values() if c.is_indexed() else [c])]
    _appsi(session).add_constraints(datas)


def use_objective(session: ModelSession, objective: pyo.Objective) -> None:
    """Make ``objective`` the model's only active objective (and the solver's)."""
    for obj in session.model.component_objects(pyo.Objective, active=True):
        if obj is not objective:
            obj.deactivate()
    objective.activate()
    if is_loaded(session):
        _appsi(session).set_objective(objective)


def at_cost(sol: Solution) -> Solution:
    """The solution with its objective recomputed as the annual cost (its breakdown's total).

    For solves whose objective held other terms (changes, churn): the bound and gap of
    that objective are not bounds on the cost, so they are dropped.
    """
    if sol.cost_breakdown is None:
        return sol
    return dataclasses.replace(
        sol, objective=sol.cost_breakdown.total, best_bound=None, mip_gap=None
    )


# --------------------------------------------------------------------------- files


def joined(items: Iterable[object]) -> str:
    """Ids as one CSV cell: ``A;B;C``."""
    return ";".join(str(i) for i in items)


def short(cell: str, n: int = 8) -> str:
    """A ``;``-joined cell as a readable list of at most ``n`` items."""
    items = [i for i in cell.split(";") if i]
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """``frame`` as CSV, its numbers without float noise (:func:`csu_opt.numbers.clean_frame`)."""
    return write_text(path, clean_frame(frame).to_csv(index=False))


def out_path(out: Path, default_name: str) -> Path:
    """``--out``: a ``.csv`` file as given, otherwise a folder holding ``default_name``."""
    return out if out.suffix.lower() == ".csv" else out / default_name
