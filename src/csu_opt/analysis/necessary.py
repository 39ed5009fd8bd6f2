"""Step 1 of an explanation: necessary conditions checked on the data, without a MIP.

Per service line, eligible capacity against demand (C6, C7); lead-capable providers against the
minimum lead count (C1); every lead candidate able to reach all service lines through eligible
partners (C8); network quality targets against the best quality the eligible providers can
deliver (C9); the best self-delivery share a lead can reach (C10); providers whose minimum
volume exceeds what they could ever deliver (C11); usable capacity with at most N_max leads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from csu_opt.analysis.findings import (
    Finding,
    instance_rules,
)
from csu_opt.instance.load import Instance
from csu_opt.numbers import number

if TYPE_CHECKING:
    pass


def data_checks(inst: Instance) -> list[Finding]:
    """Every necessary condition of the instance's rules, from data alone (no solve): what
    ``csu-opt validate`` runs."""
    return necessary_checks(inst) + [f for r in instance_rules(inst) for f in r.findings(inst)]


def _usable(rows: pd.DataFrame, inst: Instance) -> float:
    """The most capacity ``rows`` (capabilities of one line) can put to work at once.

    A formed merged body replaces its members (M1): the sum counts each member once and a
    body only for what it adds over its members in ``rows`` (nothing, when derived).
    """
    merger_of = inst.providers.get("merger_of")
    if merger_of is None or not (merger_of != "").any():
        return float(rows["capacity"].sum())
    cap = rows.groupby("provider")["capacity"].sum()
    bodies = [p for p in cap.index if merger_of.get(p, "")]
    total = float(cap.drop(bodies).sum())
    for b in bodies:
        members = [m for m in str(merger_of[b]).split(";") if m in cap.index]
        total += max(0.0, float(cap[b]) - float(cap[members].sum()))
    return total


# --------------------------------------------------------------------------- 1. necessary


def necessary_checks(inst: Instance) -> list[Finding]:
    """Conditions every feasible instance meets, checked from data alone."""
    out: list[Finding] = []
    prov = inst.providers
    lines = list(inst.service_lines.index)
    theta = inst.service_lines["quality_threshold"].astype(float)
    target = inst.service_lines["network_quality_target"].astype(float)
    demand = inst.total_demand()
    has_role = {p for p in prov.index if prov.at[p, "can_lead"] or prov.at[p, "can_subcontract"]}
    cap = inst.capabilities[
        inst.capabilities["provider"].isin(has_role) & (inst.capabilities["capacity"] > 0)
    ]
    elig = cap[cap["quality"] >= cap["service_line"].map(theta)]
    elig_set = set(zip(elig["provider"], elig["service_line"], strict=True))

    # C11: a provider that can never reach its minimum volume must exit
    reach = elig.assign(d=elig["service_line"].map(demand).astype(float))
    attainable = np.minimum(reach["capacity"], reach["d"]).groupby(reach["provider"]).sum()
    v = prov["min_volume"].astype(float)
    must_exit = {p for p in prov.index if v[p] > 0 and v[p] > float(attainable.get(p, 0.0)) + 1e-9}
    alive = elig[~elig["provider"].isin(must_exit)]

    ccg_demand = inst.demand[inst.demand["volume"] > 0]
    short: set[str] = set()  # lines short of eligible capacity, reported once
    for s in lines:
        D = float(demand[s])
        if D <= 0:
            continue
        at_bar = _usable(elig[elig["service_line"] == s], inst)
        line = cap[cap["service_line"] == s]
        if at_bar < D:
            at_zero = _usable(line, inst)
            merged = at_bar < float(elig.loc[elig["service_line"] == s, "capacity"].sum())
            head = (
                f"Service line {s}: eligible capacity {number(at_bar)} at quality bar "
                f"{number(theta[s])}"
                + (
                    " (a merged body counts instead of its members, not on top of them)"
                    if merged
                    else ""
                )
                + f", demand {number(D)}"
            )
            if at_zero < D:
                out.append(
                    Finding(
                        "C6",
                        f"{head}; even at any bar providers offer only {number(at_zero)}",
                        subjects=(s,),
                    )
                )
            else:
                bars = sorted(set(map(float, line["quality"])), reverse=True)
                bar = next(q for q in bars if _usable(line[line["quality"] >= q], inst) >= D)
                out.append(
                    Finding(
                        "C7",
                        f"{head}; at bar {number(bar)} it would be "
                        f"{number(_usable(line[line['quality'] >= bar], inst))}",
                        subjects=(s,),
                    )
                )
            short.add(s)
            continue
        left = _usable(alive[alive["service_line"] == s], inst)
        if left < D:
            gone = sorted(set(elig.loc[elig["service_line"] == s, "provider"]) & must_exit)
            why = "; ".join(
                f"{p} needs at least {number(v[p])} to stay active but can deliver at most "
                f"{number(float(attainable.get(p, 0.0)))}, so it must exit"
                for p in gone
            )
            out.append(
                Finding(
                    "C11",
                    f"{why}; without {'them' if len(gone) > 1 else 'it'} "
                    f"service line {s} has eligible capacity {number(left)}, "
                    f"demand {number(D)}",
                    subjects=(s, *gone),
                )
            )
            short.add(s)
            continue
        # C9: the best any set of networks can do is to use the best providers first
        Q = float(target[s])
        if Q > 0:
            best = alive[alive["service_line"] == s].sort_values("quality", ascending=False)
            filled = np.minimum(best["capacity"].cumsum().to_numpy(), D)
            vol = np.diff(np.concatenate([[0.0], filled]))
            avg = float((vol * best["quality"].to_numpy()).sum() / D)
            if avg < Q - 1e-9:
                out.append(
                    Finding(
                        "C9",
                        f"Service line {s}: network quality target {number(Q)}, "
                        f"but even the best eligible providers first deliver "
                        f"demand {number(D)} at average quality {number(avg)}",
                        subjects=(s,),
                    )
                )

    st = inst.settings
    leads = [p for p in prov.index if prov.at[p, "can_lead"]]
    need = max(st.lead_min or 0, 1 if len(ccg_demand) or len(inst.ccgs) else 0)
    if not leads and len(inst.ccgs):
        out.append(
            Finding(
                "C1", "no provider can lead (can_lead: false everywhere), so no CCG can be placed"
            )
        )
        return out
    if st.lead_min and len(leads) < st.lead_min:
        out.append(
            Finding(
                "C1",
                f"at least {st.lead_min} leads required, but only "
                f"{len(leads)} providers can lead ({', '.join(leads)})",
            )
        )
    else:
        out.extend(_coverage_check(inst, leads, elig_set, must_exit, need, short))
    if st.lead_max is not None:
        out.extend(_lead_max_check(inst, alive, demand, st.lead_max))
    if st.lead_self_delivery_min_share > 0 and len(ccg_demand):
        out.extend(
            _self_share_check(
                inst, leads, elig_set - {(p, s) for p, s in elig_set if p in must_exit}, ccg_demand
            )
        )
    return out


def _coverage_check(
    inst: Instance,
    leads: list[str],
    elig: set[tuple[str, str]],
    must_exit: set[str],
    need: int,
    short: set[str],
) -> list[Finding]:
    """(C8) a lead must reach every line through itself or an eligible subcontractor.

    Lines already short of eligible capacity (``short``) are reported there, not here.
    """
    prov = inst.providers
    subs = {p for p in prov.index if prov.at[p, "can_subcontract"] and p not in must_exit}
    candidates = [p for p in leads if p not in must_exit]
    all_lead = 0 < len(candidates) <= need  # every candidate must lead: none can subcontract
    if all_lead:
        subs -= set(candidates)
    able: list[str] = []
    notes: list[tuple[str, str]] = []  # (rule, why a lead-capable provider cannot lead)
    for lead in leads:
        if lead in must_exit:
            notes.append(("C11", f"{lead} cannot lead: its minimum volume is out of reach"))
            continue
        missing = [
            s
            for s in inst.service_lines.index
            if s not in short
            and (lead, s) not in elig
            and not any((p, s) in elig for p in subs if p != lead)
        ]
        if missing:
            notes.append(
                (
                    "C8",
                    f"{lead} cannot reach line{'s' if len(missing) > 1 else ''} "
                    f"{', '.join(missing)} (it is not eligible there, and no eligible provider "
                    "can join its network as a subcontractor)",
                )
            )
        else:
            able.append(lead)
    if len(able) >= need:
        return [Finding(rule, note, proves_infeasible=False) for rule, note in notes]
    return [
        Finding(
            "C8",
            f"at least {need} lead{'s' if need > 1 else ''} required, but only {len(able)} "
            f"lead-capable provider{'s' if len(able) != 1 else ''} "
            f"({', '.join(able) or 'none'}) can reach every service line through "
            "eligible partners"
            + (" (all of them must lead, so none can subcontract)" if all_lead else "")
            + f": {'; '.join(note for _, note in notes)}",
        )
    ]


def _lead_max_check(
    inst: Instance, alive: pd.DataFrame, demand: pd.Series, nmax: int
) -> list[Finding]:
    """(C1) with at most N_max leads, providers that can only lead add at most N_max shares."""
    prov = inst.providers
    out = []
    for s, D in demand.items():
        if D <= 0:
            continue
        here = alive[alive["service_line"] == s]
        only_lead = here["provider"].map(lambda p: not prov.at[p, "can_subcontract"])
        free = float(here.loc[~only_lead, "capacity"].sum())
        tops = here.loc[only_lead, "capacity"].sort_values(ascending=False)
        usable = free + float(tops.iloc[:nmax].sum())
        if usable < D - 1e-9 and float(here["capacity"].sum()) >= D:
            names = ", ".join(here.loc[only_lead, "provider"])
            out.append(
                Finding(
                    "C1",
                    f"at most {nmax} lead{'s' if nmax > 1 else ''} allowed: "
                    f"service line {s} then has at most {number(usable)} of usable "
                    f"capacity ({names} can deliver only as leads), demand "
                    f"{number(float(D))}",
                )
            )
    return out


def _self_share_check(
    inst: Instance, leads: list[str], elig: set[tuple[str, str]], ccg_demand: pd.DataFrame
) -> list[Finding]:
    """(C10) a network's own share is at most the best own share of one of its CCGs."""
    rho = inst.settings.lead_self_delivery_min_share
    total = ccg_demand.groupby("ccg")["volume"].sum()
    best, who = 0.0, ""
    for lead in leads:
        own = ccg_demand[[(lead, s) in elig for s in ccg_demand["service_line"]]]
        share = float((own.groupby("ccg")["volume"].sum() / total).fillna(0).max() or 0.0)
        if share > best:
            best, who = share, lead
    if best >= rho - 1e-9:
        return []
    by = f" ({who})" if who else ""
    return [
        Finding(
            "C10",
            f"every lead must deliver at least {rho:.0%} of its network's volume "
            f"itself, but the best any lead-capable provider can reach is "
            f"{best:.0%}{by}",
        )
    ]
