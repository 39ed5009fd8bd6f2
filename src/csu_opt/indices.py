"""The sparsity of the model, decided once from data (SPEC section 2, C7).

Every variable family is indexed by a DataFrame holding exactly the entries that can be
non-zero, with the data each entry needs. The Pyomo model and the solution extraction both
read these frames in the same row order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from csu_opt.instance import Instance


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
    # (body, member) pairs of the mergers whose members are all providers here (add_mergers)
    merger_pairs: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"body": [], "member": []}, dtype=object)
    )


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
        single_sourcing=st.single_sourcing,
        lead_min=st.lead_min,
        lead_max=st.lead_max,
        max_leads_per_sub=st.max_leads_per_subcontractor,
        self_share=st.lead_self_delivery_min_share,
        merger_pairs=pairs,
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
