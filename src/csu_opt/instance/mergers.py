"""Mergers (issue 8): merged bodies the model may form instead of their members.

The optional ``mergers`` table names a merged body and its members. Loading checks it
(:func:`check_mergers`) and turns every merger into a provider of its own
(:func:`derive_bodies`), so that the index, the model, verify and the plots treat a body like
any provider; the model adds only the exclusivity rows and the objective terms
(``csu_opt.model.rows.rows_mergers``, ``objective``). What the body is, when not given:

- capacity per line: the members' sum; unit cost: their capacity-weighted mean; quality:
  the capacity-weighted mean (``quality_rule: weighted``) or the best member's (``max``),
  over the members with capacity in the line. A ``capabilities`` row naming the body
  replaces the derived one for its line (all of capacity, quality and unit_cost given);
- lead_fixed_cost = (1 - synergy) × Σ over the members that can lead (all members if none
  can) of their lead_fixed_cost; subcontractor_fixed_cost likewise over the members that can
  subcontract; min_volume and staff: sums; exit_cost: 0 (an unformed body costs nothing);
- assignment cost t[body, c]: the least of its lead members' t[m, c] (a missing row counts
  0, as everywhere); partnership costs likewise, the least over the members on that side;
  explicit rows naming the body replace the derived ones;
- kind: ``csu`` when every member is a CSU, else ``other``; region: the first member's;
  can_lead: when any member can; can_subcontract: likewise (a body of providers that can
  only lead would otherwise become a subcontractor its members could never be).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from csu_opt.errors import Problem
from csu_opt.instance.schema import TABLES, Reporter, missing_mask
from csu_opt.instance.tables import RawTable

#: Columns of ``Instance.mergers``: the table as given (None where an optional column was
#: left to be derived), members as a tuple of provider ids.
MERGER_COLUMNS = tuple(c.name for c in TABLES["mergers"].cols)


def empty_mergers() -> pd.DataFrame:
    """An instance's ``mergers`` table when it has none."""
    return pd.DataFrame(
        {
            c.name: pd.Series(dtype=float if c.kind == "num" else object)
            for c in TABLES["mergers"].cols
        }
    )


def check_mergers(
    raw: RawTable,
    typed: pd.DataFrame,
    provider_ids: set[str],
    problems: list[Problem],
) -> None:
    """Merger ids distinct from provider ids; at least two members, none given twice.

    Unknown member ids are reported by ``schema.check_refs`` (with suggestions).
    """
    rep = Reporter(raw, problems)
    ids = typed["id"]
    rep.rows(
        ids.isin(provider_ids).to_numpy(),
        "id",
        lambda i: f"'{ids.iloc[i]}' is already a provider id; a merged body needs an id of its own",
    )
    members = typed["members"]
    lists = [v if isinstance(v, tuple) else None for v in members]
    rep.rows(
        np.array([v is not None and len(v) < 2 for v in lists], bool),
        "members",
        lambda i: (
            f"a merger needs at least 2 members, got {len(lists[i] or ())}"
            f"{': ' + ', '.join(lists[i] or ()) if lists[i] else ''} "
            "(separate ids with ';', e.g. A;B)"
        ),
    )
    rep.rows(
        np.array([v is not None and len(set(v)) < len(v) for v in lists], bool),
        "members",
        lambda i: (
            "a member is listed twice: "
            + ", ".join(sorted({t for t in lists[i] or () if (lists[i] or ()).count(t) > 1}))
        ),
    )


def check_body_capabilities(
    raw: RawTable, typed: pd.DataFrame, merger_ids: set[str], problems: list[Problem]
) -> None:
    """A capabilities row naming a merged body replaces the derived row: unit_cost is required
    there (a default of 0 would make the body look cheaper than its members)."""
    rep = Reporter(raw, problems)
    frame = raw.frame
    given = (
        ~missing_mask(frame["unit_cost"])
        if "unit_cost" in frame.columns
        else np.zeros(len(frame), bool)
    )
    is_body = typed["provider"].isin(merger_ids).to_numpy()
    rep.rows(
        is_body & ~given,
        "unit_cost",
        lambda i: (
            f"'{typed['provider'].iloc[i]}' is a merged body: a row for it replaces the "
            "capability derived from its members, so give its unit_cost too"
        ),
    )


@dataclass(frozen=True)
class Bodies:
    """Tables with the merged bodies added, and which of their rows were derived."""

    providers: pd.DataFrame
    capabilities: pd.DataFrame
    assignment_costs: pd.DataFrame
    partnership_costs: pd.DataFrame
    derived: dict[str, frozenset[tuple[str, str]]]


def _side(prov: pd.DataFrame, members: list[str], flag: str) -> list[str]:
    """The members that can take a role (``can_lead``/``can_subcontract``); all if none can."""
    able = [m for m in members if bool(prov.at[m, flag])]
    return able or members


def _least_over(
    table: pd.DataFrame, col: str, other: str, members: list[str], exclude: set[str]
) -> pd.Series:
    """Per value of ``other``: the least cost over ``members`` in ``col``, where every member
    has a row (a missing row costs 0, so the least would be 0: no row needed) and it is > 0."""
    rows = table[table[col].isin(members) & ~table[other].isin(exclude)]
    if rows.empty:
        return pd.Series(dtype=float)
    g = rows.groupby(other, sort=True)
    count = g[col].nunique()
    least = g["cost"].min()
    return least[(count == len(set(members))) & (least > 0)]


def derive_bodies(  # noqa: C901 (frozen, issue 17: to be split)
    providers: pd.DataFrame,
    capabilities: pd.DataFrame,
    assignment_costs: pd.DataFrame,
    partnership_costs: pd.DataFrame,
    mergers: pd.DataFrame,
) -> Bodies:
    """The merged bodies as providers with derived capabilities and costs (module docstring).

    ``providers`` is indexed by id; a column ``merger_of`` is added ('' for an ordinary
    provider, ``A;B`` for a body). Rows already naming a body (explicit) are kept as given.
    """
    prov = providers.copy()
    prov["merger_of"] = ""
    cap, ac, pc = capabilities, assignment_costs, partnership_costs
    new_prov, new_cap, new_ac, new_pc = [], [], [], []
    have_cap = set(zip(cap["provider"], cap["service_line"], strict=True))
    have_ac = set(zip(ac["lead"], ac["ccg"], strict=True))
    have_pc = set(zip(pc["subcontractor"], pc["lead"], strict=True))
    for r in mergers.itertuples(index=False):
        body = str(r.id)
        members = [m for m in r.members if m in prov.index]
        if not members:
            continue
        syn = float(r.synergy)
        leads = _side(prov, members, "can_lead")
        subs = _side(prov, members, "can_subcontract")
        given_lead = None if r.can_lead is None else bool(r.can_lead)
        given_sub = None if r.can_subcontract is None else bool(r.can_subcontract)
        mp = prov.loc[members]
        new_prov.append(
            {
                "id": body,
                "name": r.name if r.name is not None else body,
                "kind": r.kind
                if r.kind is not None
                else ("csu" if (mp["kind"] == "csu").all() else "other"),
                "region": r.region if r.region is not None else mp["region"].iloc[0],
                "can_lead": bool(mp["can_lead"].any()) if given_lead is None else given_lead,
                "can_subcontract": bool(mp["can_subcontract"].any())
                if given_sub is None
                else given_sub,
                "lead_fixed_cost": (1 - syn) * float(prov.loc[leads, "lead_fixed_cost"].sum()),
                "subcontractor_fixed_cost": (1 - syn)
                * float(prov.loc[subs, "subcontractor_fixed_cost"].sum()),
                "exit_cost": 0.0,
                "min_volume": float(mp["min_volume"].sum()),
                "staff": float(mp["staff"].sum()),
                "merger_of": ";".join(members),
            }
        )
        # capabilities per line, over the members with capacity there
        rows = cap[cap["provider"].isin(members) & (cap["capacity"] > 0)]
        for s, g in rows.groupby("service_line", sort=False):
            if (body, s) in have_cap:
                continue
            w = g["capacity"].to_numpy(dtype=float)
            total = float(w.sum())
            q = g["quality"].to_numpy(dtype=float)
            new_cap.append(
                {
                    "provider": body,
                    "service_line": s,
                    "capacity": total,
                    "quality": float(q.max())
                    if r.quality_rule == "max"
                    else float((w * q).sum() / total),
                    "unit_cost": float((w * g["unit_cost"].to_numpy(dtype=float)).sum() / total),
                }
            )
        for c, t in _least_over(ac, "lead", "ccg", leads, set()).items():
            if (body, c) not in have_ac:
                new_ac.append({"lead": body, "ccg": c, "cost": float(t)})
        for lead, k in _least_over(pc, "subcontractor", "lead", subs, {*members}).items():
            if (body, lead) not in have_pc:
                new_pc.append({"subcontractor": body, "lead": lead, "cost": float(k)})
    # the body as a lead, after the bodies as subcontractors (a body may partner a body)
    pc_all = pd.concat([pc, pd.DataFrame(new_pc, columns=pc.columns)], ignore_index=True)
    have_pc |= {(d["subcontractor"], d["lead"]) for d in new_pc}
    for r in mergers.itertuples(index=False):
        body = str(r.id)
        members = [m for m in r.members if m in prov.index]
        if not members:
            continue
        leads = _side(prov, members, "can_lead")
        for sub, k in _least_over(pc_all, "lead", "subcontractor", leads, {*members}).items():
            if (sub, body) not in have_pc and sub != body:
                new_pc.append({"subcontractor": sub, "lead": body, "cost": float(k)})

    def grow(frame: pd.DataFrame, rows: list[dict]) -> pd.DataFrame:
        if not rows:
            return frame.reset_index(drop=True)
        extra = pd.DataFrame(rows, columns=frame.columns).astype(frame.dtypes.to_dict())
        return pd.concat([frame, extra], ignore_index=True)

    if new_prov:
        body_frame = pd.DataFrame(new_prov).set_index("id")[prov.columns]
        prov = pd.concat([prov, body_frame.astype(prov.dtypes.to_dict())])
    return Bodies(
        providers=prov,
        capabilities=grow(cap, new_cap),
        assignment_costs=grow(ac, new_ac),
        partnership_costs=grow(pc, new_pc),
        derived={
            "capabilities": frozenset((d["provider"], d["service_line"]) for d in new_cap),
            "assignment_costs": frozenset((d["lead"], d["ccg"]) for d in new_ac),
            "partnership_costs": frozenset((d["subcontractor"], d["lead"]) for d in new_pc),
        },
    )


def members_of(mergers: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """Merger id -> its member ids."""
    return {str(i): tuple(m) for i, m in zip(mergers["id"], mergers["members"], strict=True)}
