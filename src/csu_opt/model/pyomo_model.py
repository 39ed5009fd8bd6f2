"""The network-formation MIP in Pyomo (maths in ``model/formulation.md``).

One function per constraint family, named after it, its docstring holding the formula.
Variables are indexed by position in the frames of :class:`~csu_opt.model.index.ModelIndex`
(``m.x[k]`` is the k-th row of ``ix.flows``), so that building and reading back are
vectorised over those frames.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from csu_opt.model.families import active_families
from csu_opt.model.index import ModelIndex, cover_counts, free_choice_rows, quality_covers


def linear(
    coefs: Iterable[float], vars_: Iterable[pyo.Var], constant: float = 0.0
) -> LinearExpression:
    """A linear expression built in one call (much faster than summing terms)."""
    coefs = list(coefs)
    vars_ = list(vars_)
    return LinearExpression(constant=constant, linear_coefs=coefs, linear_vars=vars_)


def row_groups(frame: pd.DataFrame, by: str | list[str]) -> dict:
    """Row positions of ``frame`` per value of ``by``."""
    if frame.empty:
        return {}
    return frame.groupby(by, sort=False).indices


def build_model(
    ix: ModelIndex, valid_inequalities: bool = True, mutable: bool = False
) -> pyo.ConcreteModel:
    """The full model: variables, C1-C12, optional valid inequalities, the objective.

    With ``mutable=True`` the lead band (C1) and a global demand scale (C5, V1) are mutable
    Pyomo parameters (``m.lead_min``, ``m.lead_max``, ``m.demand_scale``), so a persistent
    solver can re-solve sweep cases that change only those without rebuilding.
    """
    m = pyo.ConcreteModel(name="csu-opt")
    if mutable:
        m.lead_min = pyo.Param(mutable=True, initialize=float(ix.lead_min or 0))
        m.lead_max = pyo.Param(
            mutable=True,
            initialize=float(ix.lead_max if ix.lead_max is not None else len(ix.leads)),
        )
        m.demand_scale = pyo.Param(mutable=True, initialize=1.0)
    add_variables(m, ix)
    for fam in active_families(valid_inequalities, mutable):
        HAND_WRITTEN[fam.name](m, ix)
    add_objective(m, ix)
    return m


def add_variables(m: pyo.ConcreteModel, ix: ModelIndex) -> None:
    """u[l], a[p], w[p,l] binary; z[l,c] in [0,1] (binary under single sourcing); x >= 0."""
    m.u = pyo.Var(range(len(ix.leads)), within=pyo.Binary, doc="l is a lead provider")
    m.a = pyo.Var(range(len(ix.providers)), within=pyo.Binary, doc="p stays active")
    m.w = pyo.Var(range(len(ix.links)), within=pyo.Binary, doc="p subcontracts to l")
    m.z = pyo.Var(
        range(len(ix.assign)),
        within=pyo.Binary if ix.single_sourcing else pyo.UnitInterval,
        doc="share of c's demand placed in l's network",
    )
    cap = ix.flows["cap"].to_numpy()
    m.x = pyo.Var(
        range(len(ix.flows)),
        within=pyo.NonNegativeReals,
        bounds=lambda _m, k: (0.0, float(cap[k])),
        doc="volume of line s that p delivers in l's network",
    )
    # lookups shared by the families below
    m._lead_pos = {l: i for i, l in enumerate(ix.leads)}
    m._prov_pos = {p: i for i, p in enumerate(ix.providers.index)}


def add_lead_count(m: pyo.ConcreteModel, ix: ModelIndex) -> None:
    """(C1) N_min <= Σ_l u[l] <= N_max (each side only where set, or mutable)."""
    total = linear([1.0] * len(ix.leads), m.u.values())
    if hasattr(m, "lead_min"):
        m.lead_count = pyo.Constraint(expr=pyo.inequality(m.lead_min, total, m.lead_max))
        return
    lo = ix.lead_min if ix.lead_min else None
    hi = ix.lead_max
    if lo is not None and hi is not None:
        m.lead_count = pyo.Constraint(expr=pyo.inequality(lo, total, hi))
    elif lo is not None:
        m.lead_count = pyo.Constraint(expr=total >= lo)
    elif hi is not None:
        m.lead_count = pyo.Constraint(expr=total <= hi)


def add_one_role(m: pyo.ConcreteModel, ix: ModelIndex) -> None:
    """(C2) Σ_l w[p,l] <= m(1 - u[p]); u[p] <= a[p]; w[p,l] <= a[p]; a[p] <= u[p] + Σ_l w[p,l]."""
    links_of = row_groups(ix.links, "p")
    lp, pp, mm = m._lead_pos, m._prov_pos, float(ix.max_leads_per_sub)

    def one_role(_m: pyo.ConcreteModel, p: str) -> object:
        ws = [m.w[k] for k in links_of[p]]
        if p in lp:
            return linear([1.0] * len(ws) + [mm], [*ws, m.u[lp[p]]]) <= mm
        return linear([1.0] * len(ws), ws) <= mm

    m.one_role = pyo.Constraint(list(links_of), rule=one_role)
    m.lead_active = pyo.Constraint(
        range(len(ix.leads)), rule=lambda _m, i: m.u[i] <= m.a[pp[ix.leads[i]]]
    )
    link_p = ix.links["p"].map(pp).to_numpy()
    m.sub_active = pyo.Constraint(
        range(len(ix.links)), rule=lambda _m, k: m.w[k] <= m.a[int(link_p[k])]
    )

    def active_has_role(_m: pyo.ConcreteModel, i: int) -> object:
        p = ix.providers.index[i]
        roles = [m.w[k] for k in links_of.get(p, [])]
        if p in lp:
            roles.append(m.u[lp[p]])
        return linear([1.0] + [-1.0] * len(roles), [m.a[i], *roles]) <= 0.0

    m.active_has_role = pyo.Constraint(range(len(ix.providers)), rule=active_has_role)


def add_subcontract_to_lead(m: pyo.ConcreteModel, ix: ModelIndex) -> None:
    """(C3) w[p,l] <= u[l]."""
    link_l = ix.links["l"].map(m._lead_pos).to_numpy()
    m.subcontract_to_lead = pyo.Constraint(
        range(len(ix.links)), rule=lambda _m, k: m.w[k] <= m.u[int(link_l[k])]
    )


def add_ccg_assignment(m: pyo.ConcreteModel, ix: ModelIndex) -> None:
    """(C4) Σ_l z[l,c] = 1 for every CCG; z[l,c] <= u[l]."""
    by_ccg = row_groups(ix.assign, "c")
    m.assign_once = pyo.Constraint(
        ix.ccgs,
        rule=lambda _m, c: linear([1.0] * len(by_ccg[c]), [m.z[k] for k in by_ccg[c]]) == 1.0,
    )
    z_l = ix.assign["l"].map(m._lead_pos).to_numpy()
    m.assign_to_lead = pyo.Constraint(
        range(len(ix.assign)), rule=lambda _m, k: m.z[k] <= m.u[int(z_l[k])]
    )


def network_demand_terms(ix: ModelIndex) -> pd.DataFrame:
    """Rows (l, s, d, zpos): the demand d[c,s] that z[l,c] places in l's network."""
    zpos = ix.assign[["l", "c"]].assign(zpos=np.arange(len(ix.assign)))
    return ix.demand.merge(zpos, on="c")[["l", "s", "d", "zpos"]]


def add_network_balance(m: pyo.ConcreteModel, ix: ModelIndex) -> None:
    """(C5) Σ_p x[p,l,s] = Σ_c d[c,s] z[l,c] for every lead l and line s."""
    flows_of = row_groups(ix.flows, ["l", "s"])
    dem = network_demand_terms(ix)
    dem_of = row_groups(dem, ["l", "s"])
    d = dem["d"].to_numpy()
    zpos = dem["zpos"].to_numpy()
    keys = sorted(set(flows_of) | set(dem_of))
    scale = getattr(m, "demand_scale", None)

    def balance(_m: pyo.ConcreteModel, l: str, s: str) -> object:
        xs = flows_of.get((l, s), [])
        ds = dem_of.get((l, s), [])
        return (
            linear(
                [1.0] * len(xs)
                + [-float(d[j]) if scale is None else -float(d[j]) * scale for j in ds],
                [m.x[k] for k in xs] + [m.z[int(zpos[j])] for j in ds],
            )
            == 0.0
        )

    m.network_balance = pyo.Constraint(keys, rule=balance)


def add_capacity(m: pyo.ConcreteModel, ix: ModelIndex) -> None:
    """(C6) capacity and the strong links to the role variables.

    Σ_l x[p,l,s] <= cap[p,s] a[p];  x[p,l,s] <= cap[p,s] w[p,l];  x[l,l,s] <= cap[l,s] u[l].
    """
    f = ix.flows
    cap = f["cap"].to_numpy()
    by_ps = row_groups(f, ["p", "s"])
    pp = m._prov_pos

    def capacity(_m: pyo.ConcreteModel, p: str, s: str) -> object:
        ks = by_ps[(p, s)]
        c = float(cap[ks[0]])
        return linear([1.0] * len(ks) + [-c], [m.x[k] for k in ks] + [m.a[pp[p]]]) <= 0.0

    m.capacity = pyo.Constraint(list(by_ps), rule=capacity)

    link_pos = pd.Series(
        np.arange(len(ix.links)), index=pd.MultiIndex.from_frame(ix.links[["p", "l"]])
    )
    sub = np.flatnonzero(~f["self"].to_numpy())
    sub_link = link_pos.reindex(pd.MultiIndex.from_frame(f.loc[sub, ["p", "l"]])).to_numpy()
    m.capacity_link_sub = pyo.Constraint(
        range(len(sub)),
        rule=lambda _m, j: m.x[int(sub[j])] <= float(cap[sub[j]]) * m.w[int(sub_link[j])],
    )
    own = np.flatnonzero(f["self"].to_numpy())
    own_l = f.loc[own, "l"].map(m._lead_pos).to_numpy()
    m.capacity_link_self = pyo.Constraint(
        range(len(own)),
        rule=lambda _m, j: m.x[int(own[j])] <= float(cap[own[j]]) * m.u[int(own_l[j])],
    )


def add_full_coverage(m: pyo.ConcreteModel, ix: ModelIndex) -> None:
    """(C8) u[l] <= [l eligible in s] u[l] + Σ_{p eligible in s} w[p,l] for every l, s.

    Trivial where l is itself eligible in s; otherwise Σ_{p eligible in s} w[p,l] >= u[l].
    """
    elig = ix.eligible[["p", "s"]]
    self_ok = set(map(tuple, elig.itertuples(index=False)))
    cover = ix.links[["p", "l"]].assign(pos=np.arange(len(ix.links))).merge(elig, on="p")
    cover_of = row_groups(cover, ["l", "s"])
    kk = cover["pos"].to_numpy()
    keys = [(l, s) for l in ix.leads for s in ix.lines.index if (l, s) not in self_ok]
    lp = m._lead_pos

    def full_coverage(_m: pyo.ConcreteModel, l: str, s: str) -> object:
        ws = [m.w[int(kk[j])] for j in cover_of.get((l, s), [])]
        return linear([1.0] * len(ws) + [-1.0], [*ws, m.u[lp[l]]]) >= 0.0

    m.full_coverage = pyo.Constraint(keys, rule=full_coverage)


def add_network_quality(m: pyo.ConcreteModel, ix: ModelIndex) -> None:
    """(C9) Σ_p (q[p,s] - Q[s]) x[p,l,s] >= 0 for every l, s (only where some q < Q)."""
    f = ix.flows
    slack = (f["q"] - f["s"].map(ix.lines["Q"])).to_numpy()
    below = f.loc[slack < 0, ["l", "s"]].drop_duplicates()
    keys = list(map(tuple, below.itertuples(index=False)))
    flows_of = row_groups(f, ["l", "s"])
    m.network_quality = pyo.Constraint(
        keys,
        rule=lambda _m, l, s: (
            linear([float(slack[k]) for k in flows_of[(l, s)]], [m.x[k] for k in flows_of[(l, s)]])
            >= 0.0
        ),
    )


def add_self_delivery(m: pyo.ConcreteModel, ix: ModelIndex) -> None:
    """(C10) Σ_s x[l,l,s] >= ρ Σ_{p,s} x[p,l,s], i.e. (1-ρ)·own - ρ·others >= 0."""
    rho = ix.self_share
    if rho <= 0:
        return
    f = ix.flows
    coef = np.where(f["self"].to_numpy(), 1.0 - rho, -rho)
    of_lead = row_groups(f, "l")
    m.self_delivery = pyo.Constraint(
        list(of_lead),
        rule=lambda _m, l: (
            linear([float(coef[k]) for k in of_lead[l]], [m.x[k] for k in of_lead[l]]) >= 0.0
        ),
    )


def add_viability(m: pyo.ConcreteModel, ix: ModelIndex) -> None:
    """(C11) Σ_{l,s} x[p,l,s] >= v[p] a[p] for every provider with v[p] > 0."""
    v = ix.providers["v"]
    by_p = row_groups(ix.flows, "p")
    keys = [p for p in ix.providers.index if v[p] > 0]
    pp = m._prov_pos

    def viability(_m: pyo.ConcreteModel, p: str) -> object:
        ks = by_p.get(p, [])
        return linear([1.0] * len(ks) + [-float(v[p])], [m.x[k] for k in ks] + [m.a[pp[p]]]) >= 0.0

    m.viability = pyo.Constraint(keys, rule=viability)


def add_mergers(m: pyo.ConcreteModel, ix: ModelIndex) -> None:
    """(M1) a[p] + Σ_{M ∋ p} a[M] <= 1 for every provider p that is a member of a merger.

    A provider stays itself or is absorbed into at most one formed merged body M (a[M] = 1);
    then it has no role of its own, and add_objective charges M's merger_cost instead of
    p's exit cost. One row per member, in provider order.
    """
    pairs = ix.merger_pairs
    if pairs.empty:
        return
    pp = m._prov_pos
    bodies_of = row_groups(pairs, "member")
    keys = [p for p in ix.providers.index if p in bodies_of]

    def exclusive(_m: pyo.ConcreteModel, p: str) -> object:
        bodies = [pp[b] for b in pairs["body"].to_numpy()[bodies_of[p]]]
        return linear([1.0] * (1 + len(bodies)), [m.a[pp[p]], *(m.a[i] for i in bodies)]) <= 1.0

    m.merger_exclusive = pyo.Constraint(keys, rule=exclusive)


def add_free_choice(m: pyo.ConcreteModel, ix: ModelIndex) -> None:
    """(C12, free choice only) Σ_{l' ≽_c l} z[l',c] >= u[l] for every CCG c and lead l.

    l' ≽_c l: c ranks l' at or above l (``ix.preference``, csu_opt.instance.preferences). If l is
    formed, c is served by l or by a lead it prefers to l; with C4 (z binary, z <= u) each
    CCG is served by its most preferred formed lead. The row of c's last choice is C4's
    Σ_l z[l,c] = 1 and is left out. One row per (c, l) in ``free_choice_rows`` order.
    """
    if not ix.free_choice:
        return
    keys, rows, zpos = free_choice_rows(ix)
    bounds = np.searchsorted(rows, np.arange(len(keys) + 1))
    lead = pd.Index(ix.leads).get_indexer(keys["l"])

    def free_choice(_m: pyo.ConcreteModel, r: int) -> object:
        zs = [m.z[int(k)] for k in zpos[bounds[r] : bounds[r + 1]]]
        return linear([1.0] * len(zs) + [-1.0], [*zs, m.u[int(lead[r])]]) >= 0.0

    m.free_choice = pyo.Constraint(range(len(keys)), rule=free_choice)


def add_capacity_cover(m: pyo.ConcreteModel, ix: ModelIndex) -> None:
    """(V1, valid) cardinality cover: Σ_{p eligible in s} a[p] >= k[s] for every line s.

    k[s] is the fewest eligible providers whose largest capacities reach the demand of s
    (``indices.cover_counts``). Valid because active providers must hold capacity for all of
    the demand (C4-C6), and not implied by the LP relaxation, which can open providers
    fractionally: it closes most of the root gap where capacity binds (benchmarks/README.md).
    Left out of a mutable model, whose demand scale would change k.
    """
    if hasattr(m, "demand_scale"):
        return
    counts = cover_counts(ix)
    by_s = row_groups(ix.eligible, "s")
    ppos = ix.eligible["p"].map(m._prov_pos).to_numpy()
    k = dict(zip(counts["s"], counts["k"], strict=True))
    m.capacity_cover = pyo.Constraint(
        list(counts["s"]),
        rule=lambda _m, s: (
            linear([1.0] * len(by_s.get(s, [])), [m.a[int(ppos[j])] for j in by_s.get(s, [])])
            >= float(k[s])
        ),
    )


def add_quality_cover(m: pyo.ConcreteModel, ix: ModelIndex) -> None:
    """(V2, valid) quality cover: Σ_{p: q[p,s] >= Q[s]} w[p,l] >= u[l] for every lead l
    with v[l] > 0 that falls short of Q[s] in a line s in which every CCG has demand.

    Such a lead delivers v[l] > 0 itself (C11), so its network has demand in s, and
    reaches Q[s] there (C9) only through a partner that meets it. The LP relaxation meets
    the target with small fractions of many high-quality partners; this row makes it pay
    for one whole link. Rows are listed by ``indices.quality_covers``.
    """
    keys, members = quality_covers(ix)
    of_row = row_groups(members, "row")
    link = members["link"].to_numpy()
    lead = pd.Index(ix.leads).get_indexer(keys["l"])

    def quality_cover(_m: pyo.ConcreteModel, r: int) -> object:
        ws = [m.w[int(link[j])] for j in of_row.get(r, [])]
        return linear([1.0] * len(ws) + [-1.0], [*ws, m.u[int(lead[r])]]) >= 0.0

    m.quality_cover = pyo.Constraint(range(len(keys)), rule=quality_cover)


def add_role_split(m: pyo.ConcreteModel, ix: ModelIndex) -> None:
    """(V3, V4, valid) viability and capacity split by role, for every provider p that may
    both lead and subcontract:

    Σ_s x[p,p,s] >= v[p] u[p];   Σ_{l≠p,s} x[p,l,s] >= v[p] (a[p] - u[p])   (v[p] > 0);
    Σ_{l≠p} x[p,l,s] <= cap[p,s] (a[p] - u[p])   for every line s of p.

    A lead holds no links (C2), so all its volume is its own: C11 and C6 hold for each role
    apart. Their sums are C11 and C6; apart they stop the LP relaxation from making p half
    a lead whose volume comes from its other half's subcontracts.
    """
    f = ix.flows
    own = f["self"].to_numpy()
    lead_pos = m._lead_pos
    pp = m._prov_pos
    sub_flows = f.loc[~own]
    has_sub = set(sub_flows["p"])
    split = [p for p in ix.providers.index if p in lead_pos and p in has_sub]
    v = ix.providers["v"]
    vp = [p for p in split if v[p] > 0]
    own_of = row_groups(f.loc[own], "p")
    sub_of = row_groups(sub_flows, "p")
    own_idx = f.index[own].to_numpy()
    sub_idx = sub_flows.index.to_numpy()

    def viability_lead(_m: pyo.ConcreteModel, p: str) -> object:
        xs = [m.x[int(own_idx[j])] for j in own_of.get(p, [])]
        return linear([1.0] * len(xs) + [-float(v[p])], [*xs, m.u[lead_pos[p]]]) >= 0.0

    def viability_sub(_m: pyo.ConcreteModel, p: str) -> object:
        xs = [m.x[int(sub_idx[j])] for j in sub_of[p]]
        vv = float(v[p])
        return linear([1.0] * len(xs) + [-vv, vv], [*xs, m.a[pp[p]], m.u[lead_pos[p]]]) >= 0.0

    m.viability_lead = pyo.Constraint(vp, rule=viability_lead)
    m.viability_sub = pyo.Constraint(vp, rule=viability_sub)

    line_pos = {s: i for i, s in enumerate(ix.lines.index)}
    by_ps = row_groups(sub_flows, ["p", "s"])
    keys = sorted((k for k in by_ps if k[0] in lead_pos), key=lambda k: (pp[k[0]], line_pos[k[1]]))
    cap = sub_flows["cap"].to_numpy(dtype=float)

    def capacity_sub(_m: pyo.ConcreteModel, p: str, s: str) -> object:
        js = by_ps[(p, s)]
        c = float(cap[js[0]])
        xs = [m.x[int(sub_idx[j])] for j in js]
        return linear([1.0] * len(xs) + [-c, c], [*xs, m.a[pp[p]], m.u[lead_pos[p]]]) <= 0.0

    m.capacity_sub = pyo.Constraint(keys, rule=capacity_sub)


def add_objective(m: pyo.ConcreteModel, ix: ModelIndex) -> None:
    """min Σ F u + Σ (G + k) w + Σ c x + Σ t z + Σ X (1 - a)
    + Σ_M (merger_cost[M] - Σ_{p ∈ M} X[p]) a[M].

    With mergers the exit part is Σ_p X[p] (1 - a[p] - Σ_{M ∋ p} a[M]) (an absorbed member
    does not exit) and a formed body pays its merger_cost (a body's own X is 0): the
    coefficient of a[p] is ``ix.providers["a_cost"]``, the constant is Σ X.
    """
    prov = ix.providers
    F = prov.loc[ix.leads, "F"].to_numpy(dtype=float)
    X = prov["X"].to_numpy(dtype=float)
    coefs = [
        *F,
        *ix.links["cost"].to_numpy(dtype=float),
        *ix.flows["c"].to_numpy(dtype=float),
        *ix.assign["t"].to_numpy(dtype=float),
        *prov["a_cost"].to_numpy(dtype=float),
    ]
    vars_ = [*m.u.values(), *m.w.values(), *m.x.values(), *m.z.values(), *m.a.values()]
    keep = [i for i, c in enumerate(coefs) if c != 0.0]
    m.total_cost = pyo.Objective(
        expr=linear([coefs[i] for i in keep], [vars_[i] for i in keep], constant=float(X.sum())),
        sense=pyo.minimize,
    )


#: the families of the registry (csu_opt.model.families) whose Pyomo components are written by
#: hand, by family name
HAND_WRITTEN = {
    "lead_count": add_lead_count,
    "one_role": add_one_role,
    "subcontract_to_lead": add_subcontract_to_lead,
    "ccg_assignment": add_ccg_assignment,
    "network_balance": add_network_balance,
    "capacity": add_capacity,
    "full_coverage": add_full_coverage,
    "network_quality": add_network_quality,
    "self_delivery": add_self_delivery,
    "viability": add_viability,
    "mergers": add_mergers,
    "free_choice": add_free_choice,
    "capacity_cover": add_capacity_cover,
    "quality_cover": add_quality_cover,
    "role_split": add_role_split,
}
