"""What-if constraints as rule groups of ``explain`` (issue 16).

A what-if adds constraints to the question: a moves limit (``solve --incumbent
--max-moves K``, ``tradeoff``) or robust N-1 (``resilience --robust``). When the instance is
feasible but the what-if makes it infeasible, ``csu_opt.analysis.explain.explain`` treats each as a
rule group of its own (:class:`~csu_opt.analysis.findings.ExtraRule`): the deletion filter names the
base rules it collides with, its necessary conditions (from the data alone) say why in the
planner's words, and its own smallest relaxation (the fewest moves that work) comes first,
verified by a solve.

A churn cost (``--churn-cost``) is a price, not a rule: it only adds to the objective, every
plan stays allowed, so it never makes a plan infeasible and is no rule group.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from csu_opt.analysis.disruption import (
    FewestMoves,
    Incumbent,
    add_incumbent,
    fewest_moves,
    moves_frame,
    solve_with_incumbent,
)
from csu_opt.analysis.explain import explain
from csu_opt.analysis.findings import ExtraRule, Finding, Suggestion
from csu_opt.analysis.whatif import add_double_coverage, short
from csu_opt.instance.load import Instance
from csu_opt.model.index import ModelIndex
from csu_opt.numbers import number
from csu_opt.results.solution import TOL
from csu_opt.results.verify import verify_solution
from csu_opt.solver.options import SolveOptions


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _role_holders(inst: Instance) -> pd.DataFrame:
    """Eligible (provider, line) rows of providers that may take some role."""
    prov = inst.providers
    elig = inst.eligible
    able = prov["can_lead"] | prov["can_subcontract"]
    return elig[elig["provider"].map(able).astype(bool)]


# --------------------------------------------------------------------------- moves


class MovesLimit(ExtraRule):
    """At most ``max_moves`` CCGs change network (Σ_c mv[c] <= K, ``add_incumbent``)."""

    key = "moves"
    whatif = True
    components = ("whatif_moves_cap",)

    def __init__(self, incumbent: Incumbent, max_moves: int, fewest: FewestMoves | None = None):
        self.incumbent = incumbent
        self.max_moves = max_moves
        self.fewest = fewest  # already computed (tradeoff), else found by relaxation()
        self.title = (
            f"moves limit (at most {_plural(max_moves, 'CCG')} change network, "
            f"--max-moves {max_moves})"
        )

    def applies(self, inst: Instance) -> bool:
        return bool(self.incumbent.assignments["ccg"].isin(inst.ccgs.index).any())

    def add(self, m: pyo.ConcreteModel, ix: ModelIndex) -> None:
        add_incumbent(m, ix, self.incumbent, self.max_moves)

    def impossible(self) -> str:
        if self.max_moves == 0:
            return "keeping every CCG where it is today"
        return f"moving at most {_plural(self.max_moves, 'CCG')} from today's networks"

    def _today(self, inst: Instance) -> pd.DataFrame:
        a = self.incumbent.assignments
        return a[a["ccg"].isin(inst.ccgs.index) & (a["share"] > TOL)]

    def findings(self, inst: Instance) -> list[Finding]:
        """CCGs that must move (their lead today cannot lead); with K = 0 and no new CCG,
        each of today's networks checked against C1, C6, C8, C9, C10 and C11."""
        today = self._today(inst)
        prov = inst.providers
        cannot = sorted(set(today["lead"]) - set(prov.index[prov["can_lead"].astype(bool)]))
        forced = sorted(set(today.loc[today["lead"].isin(cannot), "ccg"]))
        out = []
        if len(forced) > self.max_moves:
            out.append(
                self._finding(
                    self.key,
                    f"{_plural(len(forced), 'CCG')} must move because their lead today cannot "
                    f"lead in this instance ({', '.join(cannot)}): {short(';'.join(forced))}",
                )
            )
        new = set(inst.ccgs.index) - set(today["ccg"])
        demand = inst.demand[inst.demand["volume"] > 0]
        if self.max_moves == 0 and not forced and not (new & set(demand["ccg"])):
            out.extend(self._network_checks(inst, today))
        return out

    def _finding(self, rule: str, message: str, subjects: tuple[str, ...] = ()) -> Finding:
        title = self.title if rule == self.key else ""
        return Finding(rule, message, subjects=subjects, whatif=self.key, title=title)

    def _network_checks(self, inst: Instance, today: pd.DataFrame) -> list[Finding]:
        """Necessary conditions on today's networks kept exactly as they are.

        Every lead of today keeps its CCGs' demand D[l,s] (C4, C5) and must lead, so it is no
        one's partner (C2); its partners are the other eligible providers that may
        subcontract. A lead l delivers at most min(cap[l,s], D[l,s]) of line s itself, and
        where its quality q[l,s] is below the target Q[s] at most D (q* - Q) / (q* - q[l,s]),
        q* the best partner quality (C9). Its own total must reach its minimum volume (C11)
        and the self-delivery share (C10).
        """
        st = inst.settings
        prov = inst.providers
        leads = sorted(set(today["lead"]))
        out = []
        if st.lead_max is not None and len(leads) > st.lead_max:
            out.append(
                self._finding(
                    "C1",
                    f"today's arrangement has {len(leads)} networks ({', '.join(leads)}), but "
                    f"at most {st.lead_max} leads are allowed",
                )
            )
        vol = today.merge(inst.demand, on="ccg")
        vol = vol.assign(d=vol["volume"] * vol["share"])
        D = vol.pivot_table(index="lead", columns="service_line", values="d", aggfunc="sum")
        D = D.reindex(index=leads, columns=inst.line_ids).fillna(0.0)
        elig = _role_holders(inst)
        partners = elig[
            ~elig["provider"].isin(leads)
            & elig["provider"].map(prov["can_subcontract"]).astype(bool)
        ]
        best_q = partners.groupby("service_line")["quality"].max()
        part_cap = partners.groupby("service_line")["capacity"].sum()
        own = elig.set_index(["provider", "service_line"])[["capacity", "quality"]]
        target = inst.service_lines["network_quality_target"].astype(float)
        rho = st.lead_self_delivery_min_share
        for lead in leads:
            ccgs = sorted(set(today.loc[today["lead"] == lead, "ccg"]))
            whose = f"with today's CCGs ({short(';'.join(ccgs), 6)})"
            own_total, capped = 0.0, []
            for s in inst.line_ids:
                d = float(D.at[lead, s])
                if d <= 0:
                    continue
                q_star = float(best_q.get(s, -np.inf))
                mine = (lead, s) in own.index
                q_own = float(own.at[(lead, s), "quality"]) if mine else -np.inf
                Q = float(target[s])
                reach = float(own.at[(lead, s), "capacity"]) if mine else 0.0
                if not mine and s not in part_cap.index:
                    out.append(
                        self._finding(
                            "C8",
                            f"{lead} cannot keep its network: it is not eligible in {s} and no "
                            "provider that may join it as a subcontractor is",
                            (lead, s),
                        )
                    )
                    continue
                if reach + float(part_cap.get(s, 0.0)) < d - 1e-9:
                    out.append(
                        self._finding(
                            "C6",
                            f"{lead}'s network {whose} needs {number(d)} of {s}, but {lead} and "
                            f"every provider that may join it offer only "
                            f"{number(reach + float(part_cap.get(s, 0.0)))}",
                            (lead, s),
                        )
                    )
                if Q > 0 and max(q_own, q_star) < Q - 1e-9:
                    out.append(
                        self._finding(
                            "C9",
                            f"{lead}'s network {whose} must reach quality {number(Q)} in {s}, but "
                            f"neither {lead} nor any provider that may join it reaches it",
                            (lead, s),
                        )
                    )
                most = min(reach, d)
                if mine and q_own < Q - 1e-9 and q_star >= Q - 1e-9:  # partners lift it
                    by_quality = max(0.0, d * (q_star - Q) / (q_star - q_own))
                    if by_quality < most:
                        most = by_quality
                        capped.append(f"{s} volume at {number(most)}")
                own_total += most
            total = float(D.loc[lead].sum())
            limit = f" (the quality targets cap its own {', '.join(capped)})" if capped else ""
            v = float(prov.at[lead, "min_volume"])
            if v > own_total + 1e-9:
                out.append(
                    self._finding(
                        "C11",
                        f"{lead} needs at least {number(v)} to stay active, but as the lead "
                        f"{whose} it can deliver at most {number(own_total)} itself{limit}",
                        (lead,),
                    )
                )
            if rho > 0 and rho * total > own_total + 1e-9:
                out.append(
                    self._finding(
                        "C10",
                        f"{lead} must deliver at least {rho:.0%} of its network's "
                        f"{number(total)} itself {whose}, but it can deliver at most "
                        f"{number(own_total)}{limit}",
                        (lead,),
                    )
                )
        return out

    def relaxation(self, inst: Instance, time_limit: float | None) -> Suggestion | None:
        """The fewest moves that work (a solve that minimises moves), verified by solving
        with that limit and checking the network independently."""
        options = SolveOptions(time_limit=time_limit)
        fm = self.fewest or fewest_moves(inst, self.incumbent, options)
        if fm.k is None:
            return None
        sol = solve_with_incumbent(inst, self.incumbent, options, max_moves=fm.k)
        ok = sol.status.has_solution and verify_solution(inst, sol).ok
        how = (
            "proven by a solve that minimises moves"
            if fm.proven
            else f"found within the limits; at least {fm.at_least} are needed"
        )
        which = ""
        if ok:  # the moves of the cheapest network with that many
            frame = moves_frame(self.incumbent, sol)
            moved = [
                f"{c} from {a.replace(';', '+')} to {b.replace(';', '+')}"
                for c, a, b in frame.loc[frame["moved"], ["ccg", "today", "planned"]].itertuples(
                    index=False
                )
            ]
            if moved:
                more = f" and {len(moved) - 10} more" if len(moved) > 10 else ""
                which = f"; the cheapest such network moves {', '.join(moved[:10])}{more}"
        return Suggestion(
            self.key,
            (),
            f"the fewest moves that work is {fm.k} ({how}){which}",
            verified=ok,
            objective=sol.objective if ok else None,
            flags=(f"--max-moves {fm.k}",),
        )


def moves_reasons(
    instance: Instance,
    incumbent: Incumbent,
    fewest: FewestMoves,
    ks: list[int],
    time_limit: float | None,
) -> dict[int, str]:
    """Why each moves limit in ``ks`` (all below ``fewest.at_least``, so infeasible) fails,
    one line each: the rules the largest limit collides with (explain's deletion filter; a
    smaller limit only removes networks, so they cannot hold with it either), the data
    checks of that limit (today's networks, at K = 0) and the fewest moves that work."""
    top = MovesLimit(incumbent, max(ks), fewest)
    e = explain(instance, time_limit or 60.0, alternatives=False, rules=[top])
    base = [e.name(g) for g in e.conflict if g not in e.whatif_groups]
    collide = f"; it collides with {', '.join(base)}" if base and e.base_feasible else ""
    need = f"; the fewest moves that work is {fewest.k}" if fewest.k is not None else ""
    if fewest.k is not None and not fewest.proven:
        need += f" (at least {fewest.at_least} proven necessary)"
    out = {}
    for k in ks:
        rule = MovesLimit(incumbent, k)
        proofs = [f.message for f in rule.findings(instance) if f.proves_infeasible]
        why = f": {proofs[0]}" if proofs else ""
        out[k] = f"{rule.impossible()} is impossible{why}{collide}{need}"
    return out


# --------------------------------------------------------------------------- robust


class DoubleCoverage(ExtraRule):
    """Robust N-1: every line of every network has two eligible members, at least two
    leads (``csu_opt.analysis.whatif.add_double_coverage``)."""

    key = "robust"
    title = "robust N-1 (every line of every network covered twice, at least two leads)"
    whatif = True
    components = ("whatif_double_coverage", "whatif_two_leads")

    def add(self, m: pyo.ConcreteModel, ix: ModelIndex) -> None:
        add_double_coverage(m, ix)

    def impossible(self) -> str:
        return "a network that survives any single provider's exit"

    def findings(self, inst: Instance) -> list[Finding]:
        """Two leads within the lead band and among the lead-capable; two eligible providers
        in every line."""
        st, prov = inst.settings, inst.providers
        out = []

        def finding(rule: str, message: str, subjects: tuple[str, ...] = ()) -> Finding:
            title = self.title if rule == self.key else ""
            return Finding(rule, message, subjects=subjects, whatif=self.key, title=title)

        if st.lead_max is not None and st.lead_max < 2:
            out.append(
                finding(
                    "C1",
                    f"a robust network needs two leads, but at most {st.lead_max} lead is allowed",
                )
            )
        able = list(prov.index[prov["can_lead"].astype(bool)])
        if len(able) < 2:
            out.append(
                finding(
                    self.key,
                    f"a robust network needs two leads, but only {len(able)} provider can lead "
                    f"({', '.join(able) or 'none'})",
                )
            )
        if not out:
            out.extend(finding(*f) for f in _pair_check(inst))
        return out


def _pair_check(inst: Instance) -> list[tuple[str, str, tuple[str, ...]]]:
    """(robust) some two lead-capable providers l1, l2 can each have two eligible members in
    every line: [l in E_s] + |S_s minus {l1, l2}| >= 2 for both, where E_s are the eligible
    providers of line s and S_s those of them that may subcontract (a lead subcontracts to no
    one, C2). More leads only take partners away, so a robust network needs such a pair.
    Returns (rule, message, subjects) for each line that fails for every pair."""
    prov = inst.providers
    elig = _role_holders(inst)
    able = list(prov.index[prov["can_lead"].astype(bool)])
    sub_ok = prov["can_subcontract"].astype(bool)
    E = {s: set(elig.loc[elig["service_line"] == s, "provider"]) for s in inst.line_ids}
    S = {s: {p for p in E[s] if sub_ok[p]} for s in inst.line_ids}

    def failing(pair: tuple[str, str]) -> set[str]:
        return {
            s
            for s in inst.line_ids
            if any((lead in E[s]) + len(S[s] - set(pair)) < 2 for lead in pair)
        }

    pairs = [(a, b) for i, a in enumerate(able) for b in able[i + 1 :]]
    if not pairs:
        return []  # the lead count check says so
    fails = [failing(pair) for pair in pairs]
    if any(not f for f in fails):
        return []
    theta = inst.service_lines["quality_threshold"].astype(float)
    everywhere = set.intersection(*fails)
    out: list[tuple[str, str, tuple[str, ...]]] = []
    for s in [s for s in inst.line_ids if s in everywhere]:
        who = sorted(E[s])
        out.append(
            (
                DoubleCoverage.key,
                f"service line {s} has {_plural(len(who), 'eligible provider')} "
                f"({', '.join(who) or 'none'}) at quality bar {number(float(theta[s]))}: with two "
                "leads (which subcontract to no one) some network is left with fewer than two "
                "eligible members there",
                (s,),
            )
        )
    if not out:
        pair, lines = min(zip(pairs, fails, strict=True), key=lambda t: len(t[1]))
        out.append(
            (
                DoubleCoverage.key,
                "no two providers can both lead a network with two eligible members in every "
                f"line (e.g. {pair[0]} and {pair[1]} fall short in {', '.join(sorted(lines))})",
                (),
            )
        )
    return out
