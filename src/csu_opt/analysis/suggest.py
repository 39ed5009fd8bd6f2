"""Step 3 of an explanation: for each group of the conflict, the smallest relaxation of that
group alone that restores feasibility.

A bisection over the group's parameter (the quality bar, the target, a capacity factor, ...),
written as ``--set`` overrides and verified by applying them with ``Instance.with_changes``
and solving.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from csu_opt.analysis.conflict import Oracle
from csu_opt.analysis.findings import (
    ExtraRule,
    Finding,
    Suggestion,
)
from csu_opt.analysis.whatif import pyomo_options, pyomo_session
from csu_opt.errors import CsuOptError
from csu_opt.instance.load import Instance
from csu_opt.numbers import exact, number
from csu_opt.results.verify import verify_solution
from csu_opt.solver.options import SolveOptions
from csu_opt.solver.solve import solve

if TYPE_CHECKING:
    from csu_opt.results.solution import Solution


# --------------------------------------------------------------------------- 3. suggestions


def _lowest(values: Sequence[float], ok: Callable[[float], bool]) -> float | None:
    """The lowest value that passes, for a test that passes from some value upward."""
    if not values or not ok(values[-1]):
        return None
    lo, hi = -1, len(values) - 1  # values[hi] passes; values[lo] fails (or lo = -1)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(values[mid]):
            hi = mid
        else:
            lo = mid
    return values[hi]


def _highest(values: Sequence[float], ok: Callable[[float], bool]) -> float | None:
    if not values or not ok(values[0]):
        return None
    lo, hi = 0, len(values)  # values[lo] passes; values[hi] fails (or hi = len)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(values[mid]):
            lo = mid
        else:
            hi = mid
    return values[lo]


class Searcher:
    """The smallest relaxation of one rule group that makes ``inst`` feasible."""

    def __init__(self, inst: Instance, oracle: Oracle, findings: list[Finding]):
        self.inst = inst
        self.oracle = oracle
        self.findings = findings

    def ok(self, overrides: Sequence[str]) -> bool:
        return self.oracle.with_overrides(self.inst, overrides)

    def for_rule(self, rule: str) -> Suggestion | None:
        search = getattr(self, f"_{rule.lower()}", None)
        return search() if search is not None else None

    def _per_line(
        self, rule: str, column: str, grid: Callable[[str, float], Sequence[float]], what: str
    ) -> Suggestion | None:
        """Greedy over lines: each line's highest value that still allows feasibility."""
        values = self.inst.service_lines[column].astype(float)
        named = {x for f in self.findings if f.rule == rule for x in f.subjects}
        lines = sorted((s for s in values.index if values[s] > 0), key=lambda s: s not in named)
        chosen = {s: 0.0 for s in lines}

        def overrides(vals: dict[str, float]) -> list[str]:
            return [
                f"service_lines.{s}.{column}={exact(x)}" for s, x in vals.items() if x != values[s]
            ]

        if not lines or not self.ok(overrides(chosen)):
            return None
        for s in lines:

            def passes(x: float, s: str = s) -> bool:
                return self.ok(overrides({**chosen, s: x}))

            if passes(values[s]):
                chosen[s] = values[s]
            else:
                best = _highest(grid(s, values[s]), passes)
                chosen[s] = 0.0 if best is None else float(best)
        changed = {s: x for s, x in chosen.items() if x != values[s]}
        text = "; ".join(
            f"lower the {what} of service line {s} from {number(values[s])} to {number(x)}"
            for s, x in changed.items()
        )
        return Suggestion(
            rule,
            tuple(overrides(chosen)),
            text + " (the highest value at which a feasible network exists)",
        )

    def _c7(self) -> Suggestion | None:
        caps = self.inst.capabilities
        caps = caps[caps["capacity"] > 0]

        def grid(s: str, theta: float) -> Sequence[float]:
            q = caps.loc[(caps["service_line"] == s) & (caps["quality"] < theta), "quality"]
            return sorted({0.0, *map(float, q)})

        return self._per_line("C7", "quality_threshold", grid, "quality bar")

    def _c9(self) -> Suggestion | None:
        def grid(_s: str, target: float) -> Sequence[float]:
            return range(math.ceil(target))

        return self._per_line("C9", "network_quality_target", grid, "network quality target")

    def _c10(self) -> Suggestion | None:
        rho = self.inst.settings.lead_self_delivery_min_share
        grid = [k / 100 for k in range(math.ceil(rho * 100))] + [rho]
        key = "settings.lead_self_delivery_min_share"
        best = _highest(grid, lambda r: self.ok([f"{key}={exact(r)}"]))
        if best is None or best == rho:
            return None
        return Suggestion(
            "C10",
            (f"{key}={exact(best)}",),
            f"lower the share a lead must deliver itself from {rho:.0%} to "
            f"{best:.0%} (the highest share, to 1%, that is feasible)",
        )

    def _c1(self) -> Suggestion | None:
        st = self.inst.settings
        n_leads = int(self.inst.providers["can_lead"].sum())
        key = "settings.lead_providers"
        if st.lead_min:
            best = _highest(list(range(st.lead_min)), lambda k: self.ok([f"{key}.min={k}"]))
            if best is not None:
                return Suggestion(
                    "C1",
                    (f"{key}.min={best}",),
                    f"lower the minimum number of leads from {st.lead_min} to {best}",
                )
        if st.lead_max is not None and st.lead_max < n_leads:
            top = _lowest(
                list(range(st.lead_max + 1, n_leads + 1)), lambda k: self.ok([f"{key}.max={k}"])
            )
            if top is not None:
                return Suggestion(
                    "C1",
                    (f"{key}.max={top}",),
                    f"raise the maximum number of leads from {st.lead_max} to {top}",
                )
        return None

    def _c2(self) -> Suggestion | None:
        m = self.inst.settings.max_leads_per_subcontractor
        n_leads = int(self.inst.providers["can_lead"].sum())
        key = "settings.max_leads_per_subcontractor"
        best = _lowest(
            list(range(m + 1, max(n_leads, m + 1) + 1)), lambda k: self.ok([f"{key}={k}"])
        )
        if best is None:
            return None
        return Suggestion(
            "C2", (f"{key}={best}",), f"let a subcontractor serve up to {best} leads (now {m})"
        )

    def _c6(self) -> Suggestion | None:
        key = "capabilities.capacity*="
        f = 2
        while not self.ok([f"{key}{f}"]):
            f *= 2
            if f > 2**20:
                return None
        hundredths = _lowest(
            range(f * 50 + 1, f * 100 + 1), lambda k: self.ok([f"{key}{exact(k / 100)}"])
        )
        assert hundredths is not None  # f itself passed
        best = exact(hundredths / 100)
        return Suggestion(
            "C6",
            (f"{key}{best}",),
            f"scale every provider's capacity by {best} (the smallest factor, to 0.01, that "
            "is feasible)",
        )

    def _c11(self) -> Suggestion | None:
        prov = self.inst.providers
        v = prov["min_volume"].astype(float)
        stuck = [p for f in self.findings if f.rule == "C11" for p in f.subjects if p in prov.index]
        stuck = list(dict.fromkeys(stuck))
        if stuck:
            chosen = {p: 0.0 for p in stuck}

            def overrides(vals: dict[str, float]) -> list[str]:
                return [
                    f"providers.{p}.min_volume={exact(x)}" for p, x in vals.items() if x != v[p]
                ]

            if self.ok(overrides(chosen)):
                for p in stuck:

                    def passes(x: float, p: str = p) -> bool:
                        return self.ok(overrides({**chosen, p: x}))

                    if passes(v[p]):
                        chosen[p] = v[p]
                    else:
                        best = _highest(range(math.ceil(v[p])), passes)
                        chosen[p] = 0.0 if best is None else float(best)
                text = "; ".join(
                    f"lower {p}'s minimum volume from {number(v[p])} to {number(x)}"
                    for p, x in chosen.items()
                    if x != v[p]
                )
                return Suggestion(
                    "C11",
                    tuple(overrides(chosen)),
                    text + " (the highest value, to a whole unit, that is feasible)",
                )
        hundredths = _highest(
            range(100), lambda k: self.ok([f"providers.min_volume*={exact(k / 100)}"])
        )
        if hundredths is None:
            return None
        factor = exact(hundredths / 100)
        return Suggestion(
            "C11",
            (f"providers.min_volume*={factor}",),
            f"scale every minimum volume by {factor} (the highest factor, to 0.01, that is "
            "feasible)",
        )


def solve_with_rules(
    inst: Instance, rules: Sequence[ExtraRule], time_limit: float | None
) -> Solution:
    """Solve ``inst`` for its cost with the what-if ``rules`` added to the model."""

    whatifs = [r for r in rules if r.whatif]
    if not whatifs:
        return solve(inst, SolveOptions(time_limit=time_limit))
    options = pyomo_options(SolveOptions(time_limit=time_limit))
    session = pyomo_session(inst, options)
    for rule in whatifs:
        rule.add(session.model, session.ix)
    return session.solve(inst, options)


def verify_suggestion(
    inst: Instance, s: Suggestion, time_limit: float | None, rules: Sequence[ExtraRule] = ()
) -> Suggestion:
    """Apply the overrides, solve for real (with the what-if ``rules`` in force) and verify
    the solution independently."""
    try:
        changed = inst.with_changes(list(s.overrides))
    except CsuOptError as exc:
        return dataclasses.replace(s, text=f"{s.text} [cannot be applied: {exc}]")
    sol = solve_with_rules(changed, rules, time_limit)
    ok = sol.status.has_solution and verify_solution(changed, sol).ok
    return dataclasses.replace(s, verified=ok, objective=sol.objective if ok else None)
