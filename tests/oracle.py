"""A brute-force oracle for the network-formation MIP of model/formulation.md, for tiny instances.

Written from the maths of model/formulation.md alone (it does not use
``csu_opt.model.pyomo_model`` or
``csu_opt.model.index``):

1. enumerate every role assignment: a set of leads L (C1), and for every other provider
   either exit or subcontracting to a non-empty set of at most m leads of L (C2, C3);
2. keep those where every lead's network has, in every service line, a member eligible
   in that line (C8; eligible = capacity > 0 and quality >= threshold, C7);
   Under free choice (C12) each CCG goes to its most preferred lead of L, so the assignment
   is data; preferences are read here from the ``ccg_preferences`` table and assignment
   costs by the rule of docs/schema.md (ranked leads by rank, then the others by cost, then
   by id), not through ``csu_opt.instance.preferences``;
3. for each survivor solve what is left (x, z under C4, C5, C6, C7, C9, C10, C11) as a
   linear programme with ``scipy.optimize.linprog``; under single sourcing each CCG's lead
   is enumerated too, so z is fixed data and the LP has x only.

Role assignments are visited in increasing order of a lower bound on their cost (their fixed
costs plus the cheapest possible delivery), and the search stops once that bound reaches
the best cost found: every unit cost is >= 0, so this prunes nothing that could be better.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linprog

from csu_opt.instance.load import Instance

#: Relative tolerance for "this lower bound cannot beat the best cost found".
PRUNE_TOL = 1e-9


@dataclass(frozen=True)
class Data:
    """The instance as plain Python dicts (missing entries mean 0 / not capable)."""

    providers: list[str]
    lines: list[str]
    ccgs: list[str]
    can_lead: dict[str, bool]
    can_sub: dict[str, bool]
    F: dict[str, float]
    G: dict[str, float]
    X: dict[str, float]
    v: dict[str, float]
    cap: dict[tuple[str, str], float]
    q: dict[tuple[str, str], float]
    c: dict[tuple[str, str], float]
    theta: dict[str, float]
    Q: dict[str, float]
    d: dict[tuple[str, str], float]
    t: dict[tuple[str, str], float]
    k: dict[tuple[str, str], float]
    n_min: int
    n_max: int
    m: int
    rho: float
    single: bool
    #: free choice (C12): ccg -> every lead-capable provider, most preferred first; else None
    prefs: dict[str, list[str]] | None = None

    def first_choice(self, leads: tuple[str, ...]) -> dict[str, str]:
        """Under free choice, each CCG's most preferred lead among ``leads``."""
        assert self.prefs is not None
        return {c: next(lead for lead in self.prefs[c] if lead in leads) for c in self.ccgs}

    def eligible(self, p: str, s: str) -> bool:
        """C7: p may deliver line s iff cap[p,s] > 0 and q[p,s] >= θ[s]."""
        return self.cap.get((p, s), 0.0) > 0 and self.q.get((p, s), 0.0) >= self.theta[s]


def read(inst: Instance) -> Data:
    """Plain dicts from an Instance's DataFrames."""
    prov = inst.providers
    lines = inst.service_lines
    st = inst.settings
    cap, q, c = {}, {}, {}
    for r in inst.capabilities.itertuples(index=False):
        key = (r.provider, r.service_line)
        cap[key], q[key], c[key] = float(r.capacity), float(r.quality), float(r.unit_cost)
    d: dict[tuple[str, str], float] = {}
    for r in inst.demand.itertuples(index=False):
        d[(r.ccg, r.service_line)] = float(r.volume)
    t = {(r.lead, r.ccg): float(r.cost) for r in inst.assignment_costs.itertuples(index=False)}
    k = {
        (r.subcontractor, r.lead): float(r.cost)
        for r in inst.partnership_costs.itertuples(index=False)
    }
    ps = list(prov.index)
    prefs = None
    if st.ccg_choice == "free":
        rank = {(r.ccg, r.lead): float(r.rank) for r in inst.ccg_preferences.itertuples()}
        lead_ids = [p for p in ps if bool(prov.at[p, "can_lead"])]
        prefs = {}
        for ccg in inst.ccgs.index:
            ranked = sorted((rank[(ccg, p)], p) for p in lead_ids if (ccg, p) in rank)
            rest = sorted((t.get((p, ccg), 0.0), p) for p in lead_ids if (ccg, p) not in rank)
            prefs[ccg] = [p for _, p in ranked] + [p for _, p in rest]
    return Data(
        providers=ps,
        lines=list(lines.index),
        ccgs=list(inst.ccgs.index),
        can_lead={p: bool(prov.at[p, "can_lead"]) for p in ps},
        can_sub={p: bool(prov.at[p, "can_subcontract"]) for p in ps},
        F={p: float(prov.at[p, "lead_fixed_cost"]) for p in ps},
        G={p: float(prov.at[p, "subcontractor_fixed_cost"]) for p in ps},
        X={p: float(prov.at[p, "exit_cost"]) for p in ps},
        v={p: float(prov.at[p, "min_volume"]) for p in ps},
        cap=cap,
        q=q,
        c=c,
        theta={s: float(lines.at[s, "quality_threshold"]) for s in lines.index},
        Q={s: float(lines.at[s, "network_quality_target"]) for s in lines.index},
        d=d,
        t=t,
        k=k,
        n_min=st.lead_min or 0,
        n_max=st.lead_max if st.lead_max is not None else len(ps),
        m=st.max_leads_per_subcontractor,
        rho=st.lead_self_delivery_min_share,
        single=st.single_sourcing or prefs is not None,
        prefs=prefs,
    )


@dataclass
class OracleResult:
    """The optimum and one optimal network."""

    objective: float
    leads: tuple[str, ...]
    #: provider -> ("lead", ()), ("subcontractor", (its leads...)) or ("exit", ())
    roles: dict[str, tuple[str, tuple[str, ...]]]
    #: under single sourcing, ccg -> its lead; otherwise None
    assignment: dict[str, str] | None = None
    lps_solved: int = field(default=0, compare=False)


def role_assignments(D: Data):
    """Every (leads, subs) satisfying C1, C2, C3: subs maps a provider to its set of leads."""
    candidates = [p for p in D.providers if D.can_lead[p]]
    for n in range(max(D.n_min, 1), min(D.n_max, len(candidates)) + 1):
        # at least one lead is needed anyway: C4 asks each CCG to sit in some lead's network
        for leads in itertools.combinations(candidates, n):
            others = [p for p in D.providers if p not in leads]
            options = []
            for p in others:
                opts: list[tuple[str, ...]] = [()]  # exit
                if D.can_sub[p]:
                    for size in range(1, min(D.m, len(leads)) + 1):
                        opts.extend(itertools.combinations(leads, size))
                options.append(opts)
            for choice in itertools.product(*options):
                yield leads, {p: ls for p, ls in zip(others, choice, strict=True) if ls}


def full_coverage(D: Data, leads: tuple[str, ...], subs: dict[str, tuple[str, ...]]) -> bool:
    """C8: every lead's network has a member eligible in every line (demand or not)."""
    for lead in leads:
        members = [lead, *(p for p, ls in subs.items() if lead in ls)]
        for s in D.lines:
            if not any(D.eligible(p, s) for p in members):
                return False
    return True


def fixed_cost(D: Data, leads: tuple[str, ...], subs: dict[str, tuple[str, ...]]) -> float:
    """Σ F u + Σ (G + k) w + Σ X (1 - a) for one role assignment."""
    cost = sum(D.F[lead] for lead in leads)
    for p, ls in subs.items():
        cost += sum(D.G[p] + D.k.get((p, lead), 0.0) for lead in ls)
    active = set(leads) | set(subs)
    cost += sum(D.X[p] for p in D.providers if p not in active)
    return cost


def delivery_bound(D: Data, active: set[str]) -> float:
    """A lower bound on Σ c x: each line's demand at the cheapest active eligible provider."""
    total = 0.0
    for s in D.lines:
        demand = sum(D.d.get((c, s), 0.0) for c in D.ccgs)
        if demand <= 0:
            continue
        costs = [D.c.get((p, s), 0.0) for p in active if D.eligible(p, s)]
        if not costs:
            return math.inf
        total += demand * min(costs)
    return total


def solve_flows(
    D: Data,
    leads: tuple[str, ...],
    subs: dict[str, tuple[str, ...]],
    assignment: dict[str, str] | None,
) -> float | None:
    """min Σ c x + Σ t z over x (and z unless ``assignment`` fixes it); None if infeasible.

    The role variables are fixed: u = 1 on ``leads``, w = 1 on ``subs``, a = 1 on both.
    """
    active = [*leads, *subs]
    # x[p,l,s]: p in l's network (p = l, or p subcontracts to l) and eligible in s (C7)
    xs = [
        (p, lead, s)
        for lead in leads
        for p in [lead, *(p for p, ls in subs.items() if lead in ls)]
        for s in D.lines
        if D.eligible(p, s)
    ]
    zs = [] if assignment is not None else [(lead, c) for lead in leads for c in D.ccgs]
    nx = len(xs)
    n = nx + len(zs)
    xi = {key: i for i, key in enumerate(xs)}
    zi = {key: nx + i for i, key in enumerate(zs)}

    obj = np.zeros(n)
    for (p, _lead, s), i in xi.items():
        obj[i] = D.c.get((p, s), 0.0)
    for (lead, c), i in zi.items():
        obj[i] = D.t.get((lead, c), 0.0)
    const = 0.0
    if assignment is not None:
        const = sum(D.t.get((lead, c), 0.0) for c, lead in assignment.items())

    a_eq, b_eq, a_ub, b_ub = [], [], [], []

    def row() -> np.ndarray:
        return np.zeros(n)

    # C4: each CCG placed in full, only in leads' networks (z exists for leads only)
    for c in D.ccgs:
        if assignment is None:
            r = row()
            for lead in leads:
                r[zi[(lead, c)]] = 1.0
            a_eq.append(r)
            b_eq.append(1.0)
    # C5: each network delivers exactly the demand of the CCGs placed in it
    for lead in leads:
        for s in D.lines:
            r = row()
            rhs = 0.0
            for (_p, ll, ss), i in xi.items():
                if ll == lead and ss == s:
                    r[i] = 1.0
            for c in D.ccgs:
                dem = D.d.get((c, s), 0.0)
                if assignment is None:
                    r[zi[(lead, c)]] -= dem
                elif assignment[c] == lead:
                    rhs += dem
            a_eq.append(r)
            b_eq.append(rhs)
    # C6: an active provider's total delivery in s within its capacity (across networks)
    for p in active:
        for s in D.lines:
            idx = [i for (pp, _l, ss), i in xi.items() if pp == p and ss == s]
            if idx:
                r = row()
                r[idx] = 1.0
                a_ub.append(r)
                b_ub.append(D.cap[(p, s)])
    # C9: Σ_p (q - Q) x >= 0 per network and line
    for lead in leads:
        for s in D.lines:
            r = row()
            for (p, ll, ss), i in xi.items():
                if ll == lead and ss == s:
                    r[i] = -(D.q[(p, s)] - D.Q[s])
            a_ub.append(r)
            b_ub.append(0.0)
    # C10: own delivery >= ρ × the network's total delivery
    if D.rho > 0:
        for lead in leads:
            r = row()
            for (p, ll, _s), i in xi.items():
                if ll == lead:
                    r[i] = D.rho - (1.0 if p == lead else 0.0)
            a_ub.append(r)
            b_ub.append(0.0)
    # C11: every active provider delivers at least v in total
    for p in active:
        if D.v[p] > 0:
            r = row()
            for (pp, _l, _s), i in xi.items():
                if pp == p:
                    r[i] = -1.0
            a_ub.append(r)
            b_ub.append(-D.v[p])

    if n == 0:
        ok = all(abs(b) <= 1e-9 for b in b_eq) and all(b >= -1e-9 for b in b_ub)
        return const if ok else None
    bounds = [(0, None)] * nx + [(0, 1)] * len(zs)
    res = linprog(
        obj,
        A_ub=np.array(a_ub) if a_ub else None,
        b_ub=np.array(b_ub) if b_ub else None,
        A_eq=np.array(a_eq) if a_eq else None,
        b_eq=np.array(b_eq) if b_eq else None,
        bounds=bounds,
        method="highs",
    )
    if res.status == 2:
        return None
    if res.status != 0:
        raise RuntimeError(f"linprog failed: {res.message}")
    return float(res.fun) + const


def solve(inst: Instance) -> OracleResult | None:
    """The optimum of ``inst`` by enumeration, or None when no network satisfies C1-C11."""
    D = read(inst)
    candidates = []  # (lower bound, tie-break, leads, subs, assignment)
    for leads, subs in role_assignments(D):
        if not full_coverage(D, leads, subs):
            continue
        base = fixed_cost(D, leads, subs) + delivery_bound(D, {*leads, *subs})
        if not math.isfinite(base):
            continue
        if D.prefs is not None:
            assignment = D.first_choice(leads)
            t = sum(D.t.get((lead, c), 0.0) for c, lead in assignment.items())
            candidates.append((base + t, len(candidates), leads, subs, assignment))
        elif D.single:
            for choice in itertools.product(leads, repeat=len(D.ccgs)):
                assignment = dict(zip(D.ccgs, choice, strict=True))
                t = sum(D.t.get((lead, c), 0.0) for c, lead in assignment.items())
                candidates.append((base + t, len(candidates), leads, subs, assignment))
        else:
            t = sum(min(D.t.get((lead, c), 0.0) for lead in leads) for c in D.ccgs)
            candidates.append((base + t, len(candidates), leads, subs, None))
    candidates.sort(key=lambda cand: (cand[0], cand[1]))

    best: OracleResult | None = None
    lps = 0
    for bound, _, leads, subs, assignment in candidates:
        if best is not None and bound >= best.objective - PRUNE_TOL * max(1.0, best.objective):
            break
        fixed = fixed_cost(D, leads, subs)
        lps += 1
        flows = solve_flows(D, leads, subs, assignment)
        if flows is None:
            continue
        total = fixed + flows
        if best is None or total < best.objective - 1e-9 * max(1.0, abs(total)):
            roles = {}
            for p in D.providers:
                if p in leads:
                    roles[p] = ("lead", ())
                elif p in subs:
                    roles[p] = ("subcontractor", tuple(subs[p]))
                else:
                    roles[p] = ("exit", ())
            best = OracleResult(total, tuple(leads), roles, assignment)
    if best is not None:
        best.lps_solved = lps
    return best


def fewest_moves(inst: Instance, today: dict[str, str]) -> int | None:
    """The fewest CCGs of ``today`` (ccg -> its single lead) that must change network for a
    network satisfying C1-C11, by enumeration (single sourcing); None if none exists."""
    D = read(inst)
    assert D.single, "enumerates single-sourced assignments"
    best: int | None = None
    for leads, subs in role_assignments(D):
        if not full_coverage(D, leads, subs):
            continue
        choices = (
            [tuple(D.first_choice(leads)[c] for c in D.ccgs)]
            if D.prefs is not None
            else itertools.product(leads, repeat=len(D.ccgs))
        )
        for choice in choices:
            assignment = dict(zip(D.ccgs, choice, strict=True))
            moves = sum(1 for c, lead in today.items() if assignment.get(c) != lead)
            if best is not None and moves >= best:
                continue
            if solve_flows(D, leads, subs, assignment) is not None:
                best = moves
    return best
