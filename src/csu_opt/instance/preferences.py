"""Free choice (issue 18, section 3): how each CCG ranks the leads, as plain data.

Under ``settings.ccg_choice: free`` every CCG buys all its lines from the formed network it
likes best (model/formulation.md, C12). How much it likes each lead comes from the optional
table ``ccg_preferences`` (ccg, lead, rank; 1 = most preferred). :func:`preference_order`
turns that table into one full order per CCG over every lead-capable provider:

1. the leads the CCG ranks, by rank (a merged body that is not ranked itself takes the best
   rank of its members);
2. then every lead it does not rank, by its assignment cost t[l,c] (cheapest first);
3. ties (equal rank, equal cost) by lead id.

The model (``rows_free_choice``, both backends), the verifier and the docs all read
this one order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from csu_opt.instance.load import Instance

#: Columns of the preference order: position 1 = the CCG's first choice.
ORDER_COLUMNS = ("ccg", "lead", "position")


def preference_order(inst: Instance) -> pd.DataFrame:
    """Every CCG's full order over the lead-capable providers (columns ccg, lead, position).

    Rows are sorted by CCG (instance order), then position (1 = most preferred). Ranked
    leads come first by rank; a merged body not ranked itself takes its members' best rank;
    unranked leads follow by assignment cost t[l,c] (a missing cost is 0); ties by lead id.
    """
    prov = inst.providers
    leads = [p for p in prov.index if bool(prov.at[p, "can_lead"])]
    ccgs = list(inst.ccgs.index)
    if not leads or not ccgs:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ORDER_COLUMNS})
    pairs = pd.DataFrame(
        {
            "ccg": np.repeat(np.array(ccgs, dtype=object), len(leads)),
            "lead": np.tile(np.array(leads, dtype=object), len(ccgs)),
        }
    )
    ranks = inst.ccg_preferences[["ccg", "lead", "rank"]]
    # a merged body takes the best rank of its members (unless ranked itself)
    members = inst.merger_members
    if members and len(ranks):
        body_rows = [
            pd.DataFrame({"ccg": ranks["ccg"], "lead": body, "rank": ranks["rank"]})[
                ranks["lead"].isin(ms).to_numpy()
            ]
            for body, ms in members.items()
            if body in prov.index
        ]
        derived = pd.concat(body_rows, ignore_index=True) if body_rows else ranks.iloc[:0]
        derived = derived.groupby(["ccg", "lead"], as_index=False)["rank"].min()
        ranks = pd.concat([ranks, derived], ignore_index=True).drop_duplicates(
            ["ccg", "lead"], keep="first"
        )
    cost = inst.assignment_costs.rename(columns={"cost": "t"})[["lead", "ccg", "t"]]
    pairs = pairs.merge(ranks, on=["ccg", "lead"], how="left").merge(
        cost, on=["lead", "ccg"], how="left"
    )
    pairs["rank"] = pairs["rank"].astype(float).fillna(np.inf)
    pairs["t"] = pairs["t"].astype(float).fillna(0.0)
    pairs["ccg_pos"] = pairs["ccg"].map({c: i for i, c in enumerate(ccgs)})
    # ranked leads in rank order whatever their cost; unranked ones by cost
    pairs["t_key"] = np.where(np.isfinite(pairs["rank"]), 0.0, pairs["t"])
    pairs = pairs.sort_values(["ccg_pos", "rank", "t_key", "lead"], kind="stable")
    pairs["position"] = pairs.groupby("ccg_pos").cumcount() + 1
    return pairs[list(ORDER_COLUMNS)].reset_index(drop=True)


def first_choice(order: pd.DataFrame, formed: set[str] | list[str]) -> pd.Series:
    """Each CCG's most preferred lead among ``formed`` (ccg -> lead; CCGs with none left out)."""
    rows = order[order["lead"].isin(list(formed))]
    best = rows.sort_values(["ccg", "position"], kind="stable").drop_duplicates("ccg")
    return pd.Series(best["lead"].to_numpy(), index=best["ccg"].to_numpy(), dtype=object)
