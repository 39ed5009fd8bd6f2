"""Why an instance is infeasible, in a planner's words, and the smallest change that fixes it.

``explain(instance)`` works in three steps, one module each (:mod:`~csu_opt.analysis.necessary`,
:mod:`~csu_opt.analysis.conflict`, :mod:`~csu_opt.analysis.suggest`; the pieces of an answer
are in :mod:`~csu_opt.analysis.findings`):

1. **Necessary conditions** (no MIP): per service line, eligible capacity against demand (C6,
   C7); lead-capable providers against the minimum lead count (C1); every lead candidate able
   to reach all service lines through eligible partners (C8); network quality targets against
   the best quality the eligible providers can deliver (C9); the best self-delivery share a
   lead can reach (C10); providers whose minimum volume exceeds what they could ever deliver,
   so that they must exit (C11); usable capacity with at most N_max leads (C1).
2. **Deletion filter** over rule groups: each group can be switched off (its data relaxed, or
   its constraint component deactivated; the definitional rules C2-C5 always stay). Starting
   from every group, a group is dropped for good when the instance stays infeasible without
   it; what remains is a minimal set of groups that cannot hold together.
3. **Suggestion**: for each group of the conflict, the smallest relaxation of that group alone
   that restores feasibility (a bisection over its parameter: the quality bar, the target,
   a capacity factor, ...), written as ``--set`` overrides and verified by applying them with
   ``Instance.with_changes`` and solving.

Feasibility is decided by HiGHS on the real model (``csu_opt.model.pyomo_model.build_model``)
with a zero objective, so every answer is the model's own.

Rules beyond C1-C11 are rule groups of their own (:class:`ExtraRule`): those an instance
switches on (M1 merger exclusivity, C12 free choice: :data:`INSTANCE_RULES`) and those a
what-if adds to the question (a moves limit, robust N-1: ``csu_opt.analysis.whatif_rules``).
Given what-if rules, ``explain`` first asks whether the instance is feasible without them;
when it is, the answer says what the what-if makes impossible, which rules it collides with,
and the what-if's own smallest relaxation first (e.g. the fewest moves that work), each
verified by a solve with the what-if in force. C12's own relaxation is the managed market.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from csu_opt.analysis.conflict import Oracle, deletion_filter
from csu_opt.analysis.findings import (
    PREFERENCE,
    RULES,
    Explanation,
    ExtraRule,
    Suggestion,
    instance_rules,
)
from csu_opt.analysis.necessary import necessary_checks
from csu_opt.analysis.suggest import Searcher, verify_suggestion
from csu_opt.instance.load import Instance
from csu_opt.numbers import number

if TYPE_CHECKING:
    pass


# --------------------------------------------------------------------------- explain


def explain(  # noqa: C901 (frozen, issue 17: to be split)
    instance: Instance,
    time_limit: float | None = 60.0,
    alternatives: bool = True,
    rules: Sequence[ExtraRule] = (),
) -> Explanation:
    """Explain an instance's (in)feasibility; ``time_limit`` bounds each HiGHS solve.

    ``rules`` are what-if rule groups (``ExtraRule.whatif``) added to the question, e.g.
    ``csu_opt.analysis.whatif_rules.MovesLimit``; the instance's own extra rules (mergers) are added
    here.
    """
    t0 = time.perf_counter()
    extra = [*instance_rules(instance), *(r for r in rules if r.applies(instance))]
    whatifs = [r for r in extra if r.whatif]
    asked_keys = {r.key for r in whatifs}
    oracle = Oracle(time_limit, extra)
    base_findings = necessary_checks(instance)
    findings = base_findings + [f for r in extra for f in r.findings(instance)]
    titles = {r.key: r.title for r in extra}
    asked = " and ".join(r.impossible() for r in whatifs)

    def done(
        feasible: bool | None,
        message: str,
        conflict: list[str] | None = None,
        suggestion: Suggestion | None = None,
        others: list[Suggestion] | None = None,
        base_feasible: bool | None = None,
    ) -> Explanation:
        return Explanation(
            feasible,
            findings,
            conflict or [],
            suggestion,
            others or [],
            message,
            oracle.solves,
            time.perf_counter() - t0,
            asked,
            base_feasible,
            titles,
            [r.key for r in whatifs],
        )

    if not any(f.proves_infeasible for f in findings):
        feasible = oracle.feasible(instance)
        if feasible is None:
            return done(None, "HiGHS could not decide feasibility within the time limit")
        if feasible:
            return done(
                True, f"feasible: {asked} is possible" if asked else "the instance is feasible"
            )
    base_feasible = None
    if whatifs:
        if any(f.proves_infeasible for f in base_findings):
            base_feasible = False
        else:
            base_feasible = oracle.feasible(instance, [c for r in whatifs for c in r.components])
        if base_feasible is None:
            return done(
                None,
                f"HiGHS could not decide within the time limit whether, without {asked}, "
                "the instance is feasible",
            )
        if base_feasible is False:  # the what-if is not to blame: explain without it
            e = explain(instance, time_limit, alternatives)
            e.solves += oracle.solves
            e.elapsed_s = time.perf_counter() - t0
            e.whatif, e.base_feasible = asked, False
            e.message = f"{e.message} (even without {asked})"
            return e
    conflict, why = deletion_filter(instance, oracle, extra)
    if conflict is None:
        return done(False, f"infeasible: {why}", base_feasible=base_feasible)
    found: list[Suggestion] = []
    for rule in whatifs:  # the what-if's own relaxation first (e.g. the fewest moves)
        if rule.key in conflict:
            own = rule.relaxation(instance, time_limit)
            if own is not None:
                found.append(own)
    for rule in extra:  # an instance rule's own relaxation (C12: the managed market)
        if rule.key in conflict and not rule.whatif and (alternatives or not found):
            own = rule.relaxation(instance, time_limit)
            if own is not None:
                found.append(own if own.verified else verify_suggestion(instance, own, time_limit))
    order = [f.rule for f in findings if f.proves_infeasible and f.rule in RULES]
    order += [r for r in PREFERENCE if r in conflict]
    searcher = Searcher(instance, oracle, findings)
    for rule_key in dict.fromkeys(order):
        if found and not alternatives:
            break
        s = searcher.for_rule(rule_key)
        if s is not None:
            found.append(verify_suggestion(instance, s, time_limit, extra))
    verified = [s for s in found if s.verified]
    best = verified[0] if verified else (found[0] if found else None)
    names = ", ".join(f"{r} {RULES[r]}" if r in RULES else titles.get(r, r) for r in conflict)
    if whatifs and base_feasible:
        base = [titles.get(r) or f"{r} {RULES[r]}" for r in conflict if r not in asked_keys]
        message = f"infeasible: {asked} is impossible" + (
            f"; it collides with {', '.join(base)}" if base else " whatever the other rules"
        )
    else:
        message = f"infeasible: these rules cannot hold together: {names}"
    return done(
        False,
        message,
        conflict,
        best,
        [s for s in found if s is not best],
        base_feasible,
    )


def _and(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _headline(e: Explanation) -> str:
    """The first line: feasible, undecided, or infeasible (and whether the what-if is why)."""
    if e.feasible:
        return f"Feasible: {e.whatif} is possible." if e.whatif else "The instance is feasible."
    if e.feasible is None:
        return f"Undecided: {e.message}."
    if e.whatif and e.base_feasible:
        return f"INFEASIBLE: {e.whatif} is impossible. (Without it the instance is feasible.)"
    if e.whatif:
        return f"The instance is INFEASIBLE, even without {e.whatif}."
    return "The instance is INFEASIBLE."


def _conflict_line(e: Explanation) -> str:
    """The rules that cannot hold together (the deletion filter's answer), for an infeasible e."""
    if e.conflict and e.whatif and e.base_feasible:
        base = [e.name(r) for r in e.conflict if r not in e.whatif_groups]
        own = " and ".join(e.name(r) for r in e.conflict if r in e.whatif_groups)
        return (
            f"It collides with {_and(base)}: with the {own} these rules cannot hold "
            "together, and without any one of them they can (deletion filter)."
            if base
            else f"The {own} cannot hold even with every relaxable rule switched off."
        )
    if e.conflict:
        return "Minimal set of conflicting rules (deletion filter): " + ", ".join(
            e.name(r) for r in e.conflict
        )
    return e.message


def format_explanation(e: Explanation) -> list[str]:
    """The explanation as lines of text for the command line."""
    lines = [_headline(e)]
    proofs = [f for f in e.findings if f.proves_infeasible and not f.whatif]
    because = [f for f in e.findings if f.proves_infeasible and f.whatif]
    notes = [f for f in e.findings if not f.proves_infeasible]
    if because and e.base_feasible:
        lines.append("Why (necessary conditions, from the data):")
        lines.extend(f"  - {f}" for f in because)
    if proofs:
        lines.append("Necessary conditions that fail:")
        lines.extend(f"  - {f}" for f in proofs)
    if e.feasible is False:
        lines.append(_conflict_line(e))
    if e.suggestion is not None:
        s = e.suggestion
        state = "verified feasible" if s.verified else "NOT verified"
        cost = f", optimum {number(s.objective)}" if s.objective is not None else ""
        lines.append(f"Suggested relaxation ({state}{cost}): {s.text}")
        lines.append(f"  {s.command}")
    elif e.feasible is False and e.conflict:
        lines.append(
            "No relaxation of a single rule group restores feasibility: "
            "the data (capacities, qualities, demand, roles) must change."
        )
    for s in e.alternatives:
        state = "verified" if s.verified else "not verified"
        lines.append(f"  or ({state}): {s.text}: {s.command}")
    if notes:
        lines.append("Notes:")
        lines.extend(f"  - {f}" for f in notes)
    lines.append(f"({e.solves} feasibility solves, {e.elapsed_s:.1f} s)")
    return lines
