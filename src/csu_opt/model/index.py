"""The sparsity of the model, decided once from data (model/formulation.md, C7).

Every variable family is indexed by a DataFrame holding exactly the entries that can be
non-zero, with the data each entry needs. The Pyomo model and the solution extraction both
read these frames in the same row order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from csu_opt.instance.load import Instance
from csu_opt.instance.preferences import preference_order


@dataclass(frozen=True)
class ModelIndex:
    providers: pd.DataFrame  # P, indexed by id: F, G, X, v, can_lead, can_subcontract, a_cost
    leads: list[str]  # L: lead-capable providers
    lines: pd.DataFrame  # S, indexed by id: theta, Q
    ccgs: list[str]  # C
    links: pd.DataFrame  # w[p,l]: p, l, G, k, cost = G[p] + k[p,l]
    flows: pd.DataFrame  # x[p,l,s]: p, l, s, cap, q, c, self
    assign: pd.DataFrame  # z[l,c]: l, c, t
    demand: pd.DataFrame  # d[c,s] > 0: c, s, d
    eligible: pd.DataFrame  # (p, s) eligible: p, s, cap, q, c
    single_sourcing: bool
    lead_min: int | None
    lead_max: int | None
    max_leads_per_sub: int
    self_share: float
    # (body, member) pairs of the mergers whose members are all providers here (rows_mergers)
    merger_pairs: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"body": [], "member": []}, dtype=object)
    )
    # free choice (C12): each CCG's order over the leads (csu_opt.instance.preferences),
    # None if managed
    preference: pd.DataFrame | None = None

    @property
    def free_choice(self) -> bool:
        return self.preference is not None


def build_index(inst: Instance) -> ModelIndex:
    """Index frames for w, x and z from the instance's sparse data."""
    prov = inst.providers
    leads = [p for p in prov.index if prov.at[p, "can_lead"]]
    subs = [p for p in prov.index if prov.at[p, "can_subcontract"]]
    # object dtype even when empty: pandas makes an empty column float, which breaks merges
    lead_frame = pd.DataFrame({"l": pd.Series(leads, dtype=object)})

    # w[p,l]: p may subcontract, l may lead, p != l
    links = pd.DataFrame({"p": pd.Series(subs, dtype=object)}).merge(lead_frame, how="cross")
    links = links[links["p"] != links["l"]].reset_index(drop=True)
    pc = inst.partnership_costs.rename(columns={"subcontractor": "p", "lead": "l", "cost": "k"})
    links = links.merge(pc, on=["p", "l"], how="left")
    links["k"] = links["k"].fillna(0.0)
    links["G"] = links["p"].map(prov["subcontractor_fixed_cost"])
    links["cost"] = links["G"] + links["k"]
    links = links[["p", "l", "G", "k", "cost"]]

    elig = inst.eligible.rename(
        columns={
            "provider": "p",
            "service_line": "s",
            "capacity": "cap",
            "quality": "q",
            "unit_cost": "c",
        }
    )[["p", "s", "cap", "q", "c"]]

    # x[p,l,s]: self-delivery by a lead, or delivery by a subcontractor in l's network
    self_flows = elig[elig["p"].isin(leads)].assign(l=lambda d: d["p"])
    sub_flows = elig[elig["p"].isin(subs)].merge(lead_frame, how="cross")
    sub_flows = sub_flows[sub_flows["p"] != sub_flows["l"]]
    self_flows = self_flows.copy()
    self_flows["self"] = True
    sub_flows = sub_flows.copy()
    sub_flows["self"] = False
    flows = pd.concat([self_flows, sub_flows], ignore_index=True)[
        ["p", "l", "s", "cap", "q", "c", "self"]
    ]
    flows = flows.sort_values(["l", "s", "p"], kind="stable").reset_index(drop=True)

    # z[l,c]: every lead-capable provider may serve every CCG
    ccgs = list(inst.ccgs.index)
    assign = lead_frame.merge(pd.DataFrame({"c": ccgs}), how="cross")
    ac = inst.assignment_costs.rename(columns={"lead": "l", "ccg": "c", "cost": "t"})
    assign = assign.merge(ac, on=["l", "c"], how="left")
    assign["t"] = assign["t"].fillna(0.0)

    demand = inst.demand.rename(columns={"ccg": "c", "service_line": "s", "volume": "d"})
    demand = demand[demand["d"] > 0].reset_index(drop=True)[["c", "s", "d"]]

    lines = inst.service_lines.rename(
        columns={"quality_threshold": "theta", "network_quality_target": "Q"}
    )
    providers = prov.rename(
        columns={
            "lead_fixed_cost": "F",
            "subcontractor_fixed_cost": "G",
            "exit_cost": "X",
            "min_volume": "v",
        }
    )
    pairs = merger_pairs(inst)
    # the objective's coefficient of a[p]: -X[p] (the exit cost is the constant Σ X minus
    # Σ X a); a merged body's a[M] costs its merger_cost and saves its members' exit costs
    a_cost = -providers["X"].astype(float)
    if len(pairs):
        merger_cost = inst.mergers.set_index("id")["merger_cost"].astype(float)
        saved = pairs["member"].map(providers["X"]).groupby(pairs["body"]).sum()
        bodies = saved.index
        a_cost[bodies] = merger_cost[bodies].to_numpy() - saved.to_numpy()
    providers = providers.assign(a_cost=a_cost)
    st = inst.settings
    return ModelIndex(
        providers=providers,
        leads=leads,
        lines=lines,
        ccgs=ccgs,
        links=links,
        flows=flows,
        assign=assign,
        demand=demand,
        eligible=elig.reset_index(drop=True),
        single_sourcing=st.single_sourcing or st.free_choice,
        lead_min=st.lead_min,
        lead_max=st.lead_max,
        max_leads_per_sub=st.max_leads_per_subcontractor,
        self_share=st.lead_self_delivery_min_share,
        merger_pairs=pairs,
        preference=preference_order(inst) if st.free_choice else None,
    )


def merger_pairs(inst: Instance) -> pd.DataFrame:
    """(body, member) for every merger, in the mergers table's order, members as listed
    (only providers of ``inst``: a what-if may have taken some away)."""
    prov = set(inst.providers.index)
    rows = [
        (body, m)
        for body, members in inst.merger_members.items()
        if body in prov
        for m in members
        if m in prov
    ]
    return pd.DataFrame(rows, columns=["body", "member"], dtype=object)


def cover_counts(ix: ModelIndex) -> pd.DataFrame:
    """k[s]: the fewest eligible providers whose largest capacities reach line s's demand.

    One row per line with demand, in sorted line order (columns s, k). Used by the
    cardinality cover inequality V1 (model/formulation.md).
    """
    total = ix.demand.groupby("s")["d"].sum()
    total = total[total > 0]
    rows = []
    for s, demand in total.items():
        caps = np.sort(ix.eligible.loc[ix.eligible["s"] == s, "cap"].to_numpy(dtype=float))[::-1]
        reach = np.cumsum(caps)
        # the tolerance keeps k from jumping by one where capacity meets demand exactly
        k = int(np.searchsorted(reach, float(demand) * (1 - 1e-9))) + 1
        rows.append((s, min(k, len(caps)) if len(caps) else 0))
    return pd.DataFrame(rows, columns=["s", "k"])


def quality_covers(ix: ModelIndex) -> tuple[pd.DataFrame, pd.DataFrame]:
    """V2 rows: (l, s) where lead l needs a partner meeting the network quality target Q[s].

    A row for lead l and line s when l itself falls short of Q[s] (or is not eligible in
    s), v[l] > 0 and every CCG has demand in s. Such a lead delivers at least v[l] > 0 itself
    (C11; a lead holds no links), so its network serves some CCG and has demand in s, and
    its volume-weighted quality in s reaches Q[s] (C9) only if some member with q >= Q[s]
    delivers: a partner, as the lead falls short. Rows that would repeat C8 (l not eligible
    in s and every eligible partner meets Q[s]) are left out.

    Returns ``keys`` (columns l, s; in lead order, then line order) and ``members``
    (columns row, link: each partner's position in ``ix.links``, sorted by row, then link).
    """
    el = ix.eligible[["p", "s", "q"]]
    target = el["s"].map(ix.lines["Q"]).to_numpy(dtype=float)
    meets = el.loc[el["q"].to_numpy(dtype=float) >= target, ["p", "s"]]
    n_ccg = ix.demand.groupby("s")["c"].nunique()
    lines = [s for s in ix.lines.index if len(ix.ccgs) and n_ccg.get(s, 0) == len(ix.ccgs)]
    v = ix.providers["v"]
    leads = [l for l in ix.leads if v[l] > 0]
    cand = pd.DataFrame({"l": pd.Series(leads, dtype=object)}).merge(
        pd.DataFrame({"s": pd.Series(lines, dtype=object)}), how="cross"
    )
    flag = meets.rename(columns={"p": "l"}).assign(lead_meets=True)
    cand = cand.merge(flag, on=["l", "s"], how="left")
    cand = cand[cand["lead_meets"].isna()][["l", "s"]]
    links = ix.links[["p", "l"]].assign(link=np.arange(len(ix.links)))
    good = links.merge(meets, on="p")
    n_good = good.groupby(["l", "s"]).size().rename("n_good")
    n_elig = links.merge(el[["p", "s"]], on="p").groupby(["l", "s"]).size().rename("n_elig")
    lead_elig = el[["p", "s"]].rename(columns={"p": "l"}).assign(lead_elig=True)
    cand = (
        cand.merge(lead_elig, on=["l", "s"], how="left")
        .join(n_good, on=["l", "s"])
        .join(n_elig, on=["l", "s"])
    )
    repeats_c8 = cand["lead_elig"].isna() & (
        cand["n_good"].fillna(0).to_numpy() == cand["n_elig"].fillna(0).to_numpy()
    )
    keys = cand.loc[~repeats_c8, ["l", "s"]].reset_index(drop=True)
    members = keys.assign(row=np.arange(len(keys))).merge(good, on=["l", "s"])
    members = members.sort_values(["row", "link"], kind="stable")[["row", "link"]]
    return keys, members.reset_index(drop=True)


def free_choice_rows(ix: ModelIndex) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """C12 rows: one per CCG c and lead l except c's last choice (its row is C4's).

    Row (c, l) reads Σ_{l' ranked by c at or above l} z[l',c] >= u[l]. Returns ``keys``
    (columns c, l; by CCG in ``ix.ccgs`` order, then c's preference) and the entries
    (row, z position) of the left-hand sides, sorted by row then preference. Built from the
    (CCG, position) grid of z positions with a lower-triangular mask: row k of a CCG holds its
    first k + 1 choices.
    """
    assert ix.preference is not None
    n_c, n_l = len(ix.ccgs), len(ix.leads)
    empty = pd.DataFrame({"c": pd.Series(dtype=object), "l": pd.Series(dtype=object)})
    if n_c == 0 or n_l < 2:
        return empty, np.zeros(0, np.int64), np.zeros(0, np.int64)
    order = ix.preference
    order = order[order["lead"].isin(ix.leads) & order["ccg"].isin(ix.ccgs)]
    c_code = pd.Index(ix.ccgs).get_indexer(order["ccg"])
    l_code = pd.Index(ix.leads).get_indexer(order["lead"])
    # each CCG's leads in its order (positions renumbered 0..n_l-1 over these leads)
    seq = np.lexsort((order["position"].to_numpy(), c_code))
    grid_l = l_code[seq].reshape(n_c, n_l)  # grid_l[c, k]: c's (k+1)-th choice
    z_of = np.full((n_c, n_l), -1, np.int64)
    z_c = pd.Index(ix.ccgs).get_indexer(ix.assign["c"])
    z_of[z_c, pd.Index(ix.leads).get_indexer(ix.assign["l"])] = np.arange(len(ix.assign))
    grid_z = np.take_along_axis(z_of, grid_l, axis=1)  # z position of c's (k+1)-th choice
    n_rows_c = n_l - 1
    tri_k, tri_j = np.tril_indices(n_rows_c)  # row k holds choices 0..k
    rows = (np.arange(n_c)[:, None] * n_rows_c + tri_k[None, :]).ravel()
    zpos = grid_z[:, tri_j].ravel()
    keys = pd.DataFrame(
        {
            "c": np.repeat(np.array(ix.ccgs, dtype=object), n_rows_c),
            "l": np.array(ix.leads, dtype=object)[grid_l[:, :n_rows_c].ravel()],
        }
    )
    return keys, rows.astype(np.int64), zpos.astype(np.int64)
