"""The rules checked one by one against a solution's tables: every rule C1-C11 (C12 under free
choice: each CCG served by the formed network it prefers; M1 with mergers) recomputed from the
instance's data and the result files alone, and the cost recomputed part by part.
:func:`csu_opt.results.verify.verify` reads a folder and calls :func:`check`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pandas as pd

from csu_opt.instance.load import Instance
from csu_opt.instance.preferences import first_choice, preference_order
from csu_opt.numbers import number
from csu_opt.results.decisions import Decisions
from csu_opt.results.solution import CostBreakdown, Status
from csu_opt.results.verdict import Tolerances, VerifyReport, Violation

__all__ = ["Tolerances", "VerifyReport", "Violation", "check"]


def check(
    instance: Instance,
    roles: pd.DataFrame,
    assignments: pd.DataFrame,
    flows: pd.DataFrame,
    summary: dict[str, Any],
    tol: Tolerances | None = None,
    problems: list[Violation] | None = None,
) -> VerifyReport:
    """Every rule (model/formulation.md) on normalised result tables and the summary mapping."""
    tol = tol or Tolerances()
    checker = RuleChecker(instance, tol, list(problems or []))
    status = summary.get("status")
    reported = summary.get("objective")
    reported_obj = float(reported) if isinstance(reported, int | float) else None
    if status not in (Status.OPTIMAL.value, Status.FEASIBLE.value):
        checker.add("status", f"the run holds no solution to verify (status {status!r})")
        return VerifyReport(False, checker.out, None, None, reported_obj, tol)
    checker.read_roles(roles, summary.get("leads"))
    checker.read_assignments(assignments)
    checker.read_flows(flows)
    checker.rules()
    breakdown = checker.breakdown()
    checker.compare_costs(breakdown, reported_obj, summary.get("cost_breakdown"))
    counts = {
        "leads": len(checker.U),
        "links": len(checker.W),
        "assignments": len(checker.z),
        "flows": len(checker.x),
    }
    return VerifyReport(
        not checker.out,
        checker.out,
        breakdown.total,
        breakdown,
        reported_obj,
        tol,
        counts,
        last_rule="C12" if instance.settings.free_choice else "C11",
    )


class RuleChecker(Decisions):
    """The rules checked one family at a time on the decisions read back."""

    # ------------------------------------------------------------------ rules
    def rules(self) -> None:
        self.integrality()
        self.lead_count()
        self.assignment()
        self.balance()
        self.capacity()
        self.eligibility()
        self.coverage()
        self.quality()
        self.self_delivery()
        self.viability()
        self.free_choice()

    def integrality(self) -> None:
        st = self.inst.settings
        if not (st.single_sourcing or st.free_choice):
            return
        for (lead, c), share in sorted(self.z.items()):
            off = min(abs(share), abs(share - 1))
            if off > self.tol.integrality:
                self.add(
                    "integrality",
                    f"CCG {c} is split: share {number(share)} with {lead}, but single sourcing "
                    "places all of a CCG's demand with one lead",
                    off,
                )

    def free_choice(self) -> None:
        """(C12, free choice) each CCG is served, wholly, by its most preferred formed lead
        (its order from csu_opt.instance.preferences.preference_order)."""
        if not self.inst.settings.free_choice or not self.U:
            return
        order = preference_order(self.inst)
        formed = order[order["lead"].isin(list(self.U))]
        keys = zip(formed["ccg"], formed["lead"], strict=True)
        position = dict(zip(keys, formed["position"], strict=True))
        best = first_choice(order, self.U)
        served: dict[str, list[str]] = defaultdict(list)
        for (lead, c), share in self.z.items():
            if share > self.tol.integrality:
                served[c].append(lead)
        for c in sorted(self.ccgs):
            want = best.get(c)
            got = sorted(served.get(c, []))
            if want is None or got == [want] or not got:  # unplaced: C4 reports it
                continue
            others = [g for g in got if g != want]
            placed = ", ".join(
                f"{g} (its choice no. {position[(c, g)]})" if (c, g) in position else g
                for g in others
            )
            self.add(
                "C12",
                f"CCG {c} is served by {placed}, but under free choice it buys from the formed "
                f"network it prefers: {want} (its choice no. {position[(c, want)]})",
                float(sum(self.z.get((g, c), 0.0) for g in others)),
            )

    def lead_count(self) -> None:
        """(C1) N_min <= Σ u <= N_max."""
        n, st = len(self.U), self.inst.settings
        if st.lead_min is not None and n < st.lead_min:
            self.add(
                "C1", f"{n} lead{'s' * (n != 1)}, at least {st.lead_min} required", st.lead_min - n
            )
        if st.lead_max is not None and n > st.lead_max:
            self.add("C1", f"{n} leads, at most {st.lead_max} allowed", n - st.lead_max)

    def assignment(self) -> None:
        """(C4) Σ_l z[l,c] = 1; z[l,c] <= u[l]."""
        total: dict[str, float] = defaultdict(float)
        for (lead, c), share in self.z.items():
            total[c] += share
            if share > self.tol.integrality and lead not in self.U:
                self.add(
                    "C4",
                    f"CCG {c} is placed (share {number(share)}) with {lead}, which is not a lead",
                    share,
                )
        for c in sorted(self.ccgs):
            placed = total.get(c, 0.0)
            if self.tol.excess(abs(placed - 1.0), 0.0) > 0:
                what = (
                    "is not placed with any lead"
                    if placed == 0
                    else (f"has {number(placed)} of its demand placed")
                )
                self.add("C4", f"CCG {c} {what}; its shares must add up to 1", abs(placed - 1.0))

    def balance(self) -> None:
        """(C5) Σ_p x[p,l,s] = Σ_c d[c,s] z[l,c] for every lead and line."""
        need: dict[tuple[str, str], float] = defaultdict(float)
        for (lead, c), share in self.z.items():
            for s in self.lines:
                need[(lead, s)] += self.demand.get((c, s), 0.0) * share
        got: dict[tuple[str, str], float] = defaultdict(float)
        for (_p, lead, s), vol in self.x.items():
            got[(lead, s)] += vol
        for lead, s in sorted(set(need) | set(got)):
            n, g = need.get((lead, s), 0.0), got.get((lead, s), 0.0)
            short, over = self.tol.excess(n, g), self.tol.excess(g, n)
            if short or over:
                what = f"short by {number(short)}" if short else f"over by {number(over)}"
                self.add(
                    "C5",
                    f"line {s} in {lead}'s network: delivered {number(g)}, its CCGs' demand "
                    f"{number(n)} ({what})",
                    short or over,
                )

    def capacity(self) -> None:
        """(C6) Σ_l x <= cap a; x[p,l,s] <= cap w[p,l]; x[l,l,s] <= cap u[l]."""
        total: dict[tuple[str, str], float] = defaultdict(float)
        for (p, lead, s), vol in sorted(self.x.items()):
            total[(p, s)] += vol
            if vol <= self.tol.feasibility_abs:
                continue
            if p == lead and p not in self.U:
                self.add(
                    "C6",
                    f"{p} delivers {number(vol)} of line {s} in its own network but is not a lead",
                    vol,
                )
            elif p != lead and (p, lead) not in self.W:
                self.add(
                    "C6",
                    f"{p} delivers {number(vol)} of line {s} in {lead}'s network "
                    f"but is not {lead}'s subcontractor",
                    vol,
                )
        for (p, s), vol in sorted(total.items()):
            cap = self.cap.get((p, s), 0.0)
            if p not in self.active and vol > self.tol.feasibility_abs:
                self.add("C6", f"{p} has exited but delivers {number(vol)} of line {s}", vol)
                continue
            over = self.tol.excess(vol, cap)
            if over:
                self.add(
                    "C6",
                    f"{p} delivers {number(vol)} of line {s} across all networks, capacity "
                    f"{number(cap)} (over by {number(over)})",
                    over,
                )

    def eligibility(self) -> None:
        """(C7) x[p,l,s] = 0 unless cap[p,s] > 0 and q[p,s] >= θ[s]."""
        theta = self.inst.service_lines["quality_threshold"]
        for (p, lead, s), vol in sorted(self.x.items()):
            if vol <= self.tol.feasibility_abs or (p, s) in self.eligible:
                continue
            if (p, s) not in self.q or self.cap[(p, s)] <= 0:
                why = f"{p} has no capacity in line {s}"
            else:
                why = f"{p}'s quality {number(self.q[(p, s)])} is below the bar {number(theta[s])}"
            self.add(
                "C7",
                f"{p} delivers {number(vol)} of line {s} in {lead}'s network, but "
                f"is not eligible: {why}",
                vol,
            )

    def coverage(self) -> None:
        """(C8) every lead's network holds, for every line, a member eligible in it."""
        members: dict[str, set[str]] = {lead: {lead} for lead in self.U}
        for p, lead in self.W:
            if lead in members:
                members[lead].add(p)
        for lead in sorted(self.U):
            for s in self.lines:
                if not any((p, s) in self.eligible for p in members[lead]):
                    self.add(
                        "C8",
                        f"{lead}'s network has no member eligible in line {s} "
                        "(neither the lead nor any of its subcontractors)",
                        1,
                    )

    def quality(self) -> None:
        """(C9) Σ_p (q[p,s] - Q[s]) x[p,l,s] >= 0 for every lead and line."""
        target = self.inst.service_lines["network_quality_target"]
        vol: dict[tuple[str, str], float] = defaultdict(float)
        qv: dict[tuple[str, str], float] = defaultdict(float)
        for (p, lead, s), v in self.x.items():
            vol[(lead, s)] += v
            qv[(lead, s)] += self.q.get((p, s), 0.0) * v
        for lead, s in sorted(vol):
            Q = float(target[s])
            if Q <= 0 or vol[(lead, s)] <= self.tol.feasibility_abs:
                continue
            if self.tol.excess(Q * vol[(lead, s)], qv[(lead, s)]):
                avg = qv[(lead, s)] / vol[(lead, s)]
                self.add(
                    "C9",
                    f"{lead}'s network delivers line {s} at average quality "
                    f"{number(avg)}, target {number(Q)} (short by {number(Q - avg)} points)",
                    Q - avg,
                )

    def self_delivery(self) -> None:
        """(C10) Σ_s x[l,l,s] >= ρ Σ_{p,s} x[p,l,s]."""
        rho = self.inst.settings.lead_self_delivery_min_share
        if rho <= 0:
            return
        own: dict[str, float] = defaultdict(float)
        total: dict[str, float] = defaultdict(float)
        for (p, lead, _s), v in self.x.items():
            total[lead] += v
            if p == lead:
                own[lead] += v
        for lead in sorted(total):
            need = rho * total[lead]
            short = self.tol.excess(need, own[lead])
            if short:
                share = own[lead] / total[lead] if total[lead] else 0.0
                self.add(
                    "C10",
                    f"{lead} delivers {number(own[lead])} of the {number(total[lead])} "
                    f"in its network itself ({share:.0%}), at least {rho:.0%} "
                    f"required (short by {number(short)})",
                    short,
                )

    def viability(self) -> None:
        """(C11) Σ_{l,s} x[p,l,s] >= v[p] a[p]."""
        v = self.inst.providers["min_volume"]
        total: dict[str, float] = defaultdict(float)
        for (p, _lead, _s), vol in self.x.items():
            total[p] += vol
        for p in sorted(self.active):
            short = self.tol.excess(float(v[p]), total.get(p, 0.0))
            if short:
                self.add(
                    "C11",
                    f"{p} is active but delivers {number(total.get(p, 0.0))} in all, "
                    f"below its minimum volume {number(float(v[p]))} "
                    f"(short by {number(short)})",
                    short,
                )

    # ------------------------------------------------------------------ costs
    def breakdown(self) -> CostBreakdown:
        prov = self.inst.providers
        parts = {
            "lead_fixed": float(sum(prov.at[p, "lead_fixed_cost"] for p in self.U)),
            "subcontractor_fixed": float(
                sum(prov.at[p, "subcontractor_fixed_cost"] for p, _ in self.W)
            ),
            "partnership": float(sum(self.k.get(pl, 0.0) for pl in self.W)),
            "delivery": float(sum(self.c.get((p, s), 0.0) * v for (p, _l, s), v in self.x.items())),
            "assignment": float(sum(self.t.get(lc, 0.0) * z for lc, z in self.z.items())),
            # an absorbed member (role merged) is not made redundant
            "exit": float(
                sum(
                    prov.at[p, "exit_cost"]
                    for p in self.providers - self.active - set(self.merged_into)
                )
            ),
        }
        if self.members:  # an instance with mergers: what the formed bodies cost to merge
            m = self.inst.mergers
            parts["merger"] = float(
                sum(
                    float(cost)
                    for b, cost in zip(m["id"], m["merger_cost"], strict=True)
                    if b in self.active
                )
            )
        return CostBreakdown.from_record(parts)

    def compare_costs(self, bd: CostBreakdown, reported: float | None, parts: Any) -> None:
        tol = self.tol

        def off(a: float, b: float) -> float:
            diff = abs(a - b)
            return diff if diff > tol.objective_abs + tol.objective_rel * max(abs(a), abs(b)) else 0

        if reported is None:
            self.add("objective", "summary.json gives no objective for a solution")
        elif d := off(reported, bd.total):
            self.add(
                "objective",
                f"summary.json gives objective {number(reported)}, the files "
                f"cost {number(bd.total)} (off by {number(d)})",
                d,
            )
        if not isinstance(parts, dict):
            self.add("breakdown", "summary.json gives no cost_breakdown")
            return
        for name, value in vars(bd).items():
            given = parts.get(name)
            if not isinstance(given, int | float):
                self.add("breakdown", f"cost_breakdown.{name} is missing from summary.json")
            elif d := off(float(given), value):
                self.add(
                    "breakdown",
                    f"cost_breakdown.{name} is {number(float(given))} in "
                    f"summary.json, the files give {number(value)} "
                    f"(off by {number(d)})",
                    d,
                )
