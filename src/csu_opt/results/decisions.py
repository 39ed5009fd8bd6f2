"""A run's decisions read back from its result tables (roles.csv, assignments.csv, flows.csv)
into plain sets and maps, checking ids, bounds and the merger rule (M1) on the way.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pandas as pd

from csu_opt.instance.load import Instance
from csu_opt.numbers import number
from csu_opt.results.solution import Role
from csu_opt.results.verdict import ROLES, Tolerances, Violation


class Decisions:
    """The decisions rebuilt from a run's files (roles, links, assignments, flows), with the
    problems met while reading them; :class:`csu_opt.results.checks.RuleChecker` checks the
    rules."""

    def __init__(self, inst: Instance, tol: Tolerances, out: list[Violation]):
        self.inst = inst
        self.tol = tol
        self.out = out
        prov = inst.providers
        self.providers = set(prov.index)
        self.lines = list(inst.service_lines.index)
        self.ccgs = set(inst.ccgs.index)
        cap = inst.capabilities
        keys = list(zip(cap["provider"], cap["service_line"], strict=True))
        self.cap = dict(zip(keys, cap["capacity"].astype(float), strict=True))
        self.q = dict(zip(keys, cap["quality"].astype(float), strict=True))
        self.c = dict(zip(keys, cap["unit_cost"].astype(float), strict=True))
        theta = inst.service_lines["quality_threshold"]
        self.eligible = {k for k in keys if self.cap[k] > 0 and self.q[k] >= float(theta[k[1]])}
        d = inst.demand
        self.demand: dict[tuple[str, str], float] = defaultdict(float)
        for c, s, v in zip(d["ccg"], d["service_line"], d["volume"].astype(float), strict=True):
            self.demand[(c, s)] += v
        ac = inst.assignment_costs
        self.t = dict(zip(zip(ac["lead"], ac["ccg"], strict=True), ac["cost"], strict=True))
        pc = inst.partnership_costs
        self.k = dict(
            zip(zip(pc["subcontractor"], pc["lead"], strict=True), pc["cost"], strict=True)
        )
        self.U: set[str] = set()
        self.active: set[str] = set()
        self.W: set[tuple[str, str]] = set()
        self.z: dict[tuple[str, str], float] = {}
        self.x: dict[tuple[str, str, str], float] = {}
        # mergers: body -> members (providers of the instance), and who was merged into what
        self.members = {
            b: tuple(m for m in ms if m in self.providers)
            for b, ms in inst.merger_members.items()
            if b in self.providers
        }
        self.merged_into: dict[str, str] = {}

    def add(self, rule: str, message: str, amount: float = 0.0) -> None:
        self.out.append(Violation(rule, message, float(amount)))

    # ------------------------------------------------------------------ decisions
    def read_roles(self, roles: pd.DataFrame, summary_leads: Any) -> None:  # noqa: C901 (frozen, issue 17: to be split)
        prov = self.inst.providers
        m = self.inst.settings.max_leads_per_subcontractor
        seen: set[str] = set()
        links: list[tuple[str, str, int]] = []
        for i, (p, role, leads) in enumerate(
            zip(roles["provider"], roles["role"], roles["leads"], strict=True)
        ):
            where = f"roles.csv line {i + 2}"
            if p not in self.providers:
                self.add("ids", f"{where}: provider '{p}' is not in the instance")
                continue
            if p in seen:
                self.add("roles", f"{where}: provider {p} is listed twice")
                continue
            seen.add(p)
            if role not in ROLES:
                self.add("roles", f"{where}: role {role!r} of {p} is not one of {', '.join(ROLES)}")
                continue
            served = [t for t in (s.strip() for s in leads.split(";")) if t]
            if role == Role.MERGED:
                bodies = [b for b, ms in self.members.items() if p in ms]
                if len(served) != 1 or served[0] not in bodies:
                    self.add(
                        "mergers",
                        f"{p} is marked merged but its leads column ({leads or 'empty'}) does "
                        f"not name one merged body it belongs to "
                        f"({', '.join(bodies) or 'it is a member of none'})",
                        1,
                    )
                else:
                    self.merged_into[p] = served[0]
                continue
            if role == Role.EXIT:
                if served:
                    self.add("roles", f"{p} has exited but lists leads it serves: {leads}")
                continue
            self.active.add(p)
            if role == Role.LEAD:
                self.U.add(p)
                if not prov.at[p, "can_lead"]:
                    self.add("roles", f"{p} is a lead but cannot lead (can_lead: false)")
                others = [t for t in served if t != p]
                if others:
                    self.add(
                        "C2",
                        f"{p} is a lead and also subcontracts to {', '.join(others)}; "
                        "a lead cannot subcontract",
                        len(others),
                    )
                continue
            # subcontractor
            if not prov.at[p, "can_subcontract"]:
                self.add(
                    "roles",
                    f"{p} is a subcontractor but cannot subcontract (can_subcontract: false)",
                )
            if not served:
                self.add(
                    "C2",
                    f"{p} is marked subcontractor but serves no lead; an active "
                    "provider must lead or subcontract",
                    1,
                )
            if len(set(served)) > m:
                self.add(
                    "C2",
                    f"{p} subcontracts to {len(set(served))} leads ({', '.join(served)}), "
                    f"at most {m} allowed",
                    len(set(served)) - m,
                )
            links.extend((p, t, i) for t in dict.fromkeys(served))
        for p in sorted(self.providers - seen - set(self.members)):
            self.add("roles", f"provider {p} is missing from roles.csv")
        self.check_mergers()
        for p, lead, i in links:
            if lead not in self.providers:
                self.add("ids", f"roles.csv line {i + 2}: {p} serves '{lead}', not a provider")
            elif lead == p:
                self.add("roles", f"{p} is a subcontractor in its own network")
            else:
                self.W.add((p, lead))
                if lead not in self.U:
                    self.add("C3", f"{p} subcontracts to {lead}, which is not a lead", 1)
        if isinstance(summary_leads, list) and set(map(str, summary_leads)) != self.U:
            self.add(
                "roles",
                f"summary.json lists leads {', '.join(sorted(map(str, summary_leads)))} "
                f"but roles.csv has {', '.join(sorted(self.U)) or 'none'}",
            )

    def check_mergers(self) -> None:
        """(M1) a[p] + Σ_{M ∋ p} a[M] <= 1: a formed body's members are merged into it,
        and a member merged into a body that was formed."""
        for body, members in sorted(self.members.items()):
            if body not in self.active:
                continue
            for p in members:
                if p in self.active:
                    self.add(
                        "mergers",
                        f"{p} is active alongside the merged body {body} it is a member of; "
                        "a member is absorbed into a formed merger",
                        1,
                    )
                elif self.merged_into.get(p) not in (None, body):
                    self.add(
                        "mergers",
                        f"{p} is merged into {self.merged_into[p]} but {body}, another "
                        "merger it belongs to, is formed too",
                        1,
                    )
                elif p not in self.merged_into:
                    self.add("mergers", f"the merged body {body} is formed but {p} is not merged")
        for p, body in sorted(self.merged_into.items()):
            if body not in self.active:
                self.add("mergers", f"{p} is merged into {body}, which is not formed (no role)", 1)

    def read_assignments(self, a: pd.DataFrame) -> None:
        for i, (c, lead, share) in enumerate(zip(a["ccg"], a["lead"], a["share"], strict=True)):
            where = f"assignments.csv line {i + 2}"
            if c not in self.ccgs:
                self.add("ids", f"{where}: CCG '{c}' is not in the instance")
                continue
            if lead not in self.providers:
                self.add("ids", f"{where}: lead '{lead}' is not a provider")
                continue
            if share < -self.tol.feasibility_abs or share > 1 + self.tol.feasibility_abs:
                self.add(
                    "bounds",
                    f"CCG {c}: share {number(share)} with {lead} is outside 0-1",
                    max(-share, share - 1),
                )
            self.z[(lead, c)] = self.z.get((lead, c), 0.0) + share

    def read_flows(self, f: pd.DataFrame) -> None:
        for i, (p, lead, s, vol) in enumerate(
            zip(f["provider"], f["lead"], f["service_line"], f["volume"], strict=True)
        ):
            where = f"flows.csv line {i + 2}"
            unknown = [
                f"{what} '{v}'"
                for what, v, known in (
                    ("provider", p, self.providers),
                    ("lead", lead, self.providers),
                    ("service line", s, set(self.lines)),
                )
                if v not in known
            ]
            if unknown:
                self.add("ids", f"{where}: {', '.join(unknown)} not in the instance")
                continue
            if vol < -self.tol.feasibility_abs:
                self.add(
                    "bounds",
                    f"{p} delivers a negative volume {number(vol)} of line {s} in {lead}'s network",
                    -vol,
                )
            self.x[(p, lead, s)] = self.x.get((p, lead, s), 0.0) + vol
