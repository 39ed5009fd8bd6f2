"""Why an instance is infeasible, in a planner's words, and the smallest change that fixes it.

``explain(instance)`` works in three steps:

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

Feasibility is decided by HiGHS on the real model (``csu_opt.model.build_model``) with a zero
objective, so every answer is the model's own.

Rules beyond C1-C11 are rule groups of their own (:class:`ExtraRule`): those an instance
switches on (M1 merger exclusivity, C12 free choice: :data:`INSTANCE_RULES`) and those a
what-if adds to the question (a moves limit, robust N-1: ``csu_opt.whatif_rules``). Given
what-if rules, ``explain`` first asks whether the instance is feasible without them; when it
is, the answer says what the what-if makes impossible, which rules it collides with, and the
what-if's own smallest relaxation first (e.g. the fewest moves that work), each verified by
a solve with the what-if in force. C12's own relaxation is the managed market.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.contrib.appsi.base import TerminationCondition
from pyomo.contrib.appsi.solvers import Highs

from csu_opt import stops
from csu_opt.errors import CsuOptError
from csu_opt.indices import ModelIndex, build_index
from csu_opt.instance import Instance, replace
from csu_opt.model import build_model
from csu_opt.numbers import exact
from csu_opt.solve import handled_interrupt_status
from csu_opt.verify import fmt, verify_solution

if TYPE_CHECKING:
    from csu_opt.solution import Solution

#: The rule groups a planner can relax, in the order the deletion filter tries to drop them.
RULES = {
    "C8": "full coverage",
    "C2": "leads per subcontractor",
    "C10": "self-delivery share",
    "C11": "viability (minimum volumes)",
    "C9": "network quality targets",
    "C1": "lead count",
    "C7": "eligibility (quality bars)",
    "C6": "capacity",
}
#: Which group's relaxation to suggest first when several would do.
PREFERENCE = ("C7", "C9", "C11", "C10", "C1", "C2", "C6", "C8")


@dataclass(frozen=True)
class Finding:
    """One thing found about the instance; ``proves_infeasible`` when it alone rules it out.

    ``whatif`` names the what-if rule group (:class:`ExtraRule`) the finding is about, when
    it holds only under that what-if (e.g. a lead that cannot keep today's CCGs); ``title``
    names a rule group beyond :data:`RULES`.
    """

    rule: str
    message: str
    proves_infeasible: bool = True
    subjects: tuple[str, ...] = ()  # the service lines or providers it is about
    whatif: str = ""
    title: str = ""

    def __str__(self) -> str:
        label = f"{self.rule} {RULES[self.rule]}" if self.rule in RULES else self.title
        return f"[{label or self.rule}] {self.message}"


@dataclass(frozen=True)
class Suggestion:
    """A relaxation as ``--set`` overrides (or command-line ``flags`` such as
    ``--max-moves 1`` for a what-if's own limit), why, and whether a solve confirmed it."""

    rule: str
    overrides: tuple[str, ...]
    text: str
    verified: bool = False
    objective: float | None = None
    flags: tuple[str, ...] = ()

    @property
    def override(self) -> str:
        return " ".join(self.overrides)

    @property
    def command(self) -> str:
        """What to add to the command line: ``--set K=V ...`` and/or the flags."""
        return " ".join([*(f"--set {o}" for o in self.overrides), *self.flags])


@dataclass
class Explanation:
    """``feasible`` is None when the solver could not decide within the time limit.

    With what-if rules, ``feasible`` answers the question asked (the instance with the
    what-if), ``whatif`` says what the what-if asks for in the planner's words ("keeping
    every CCG where it is today") and ``base_feasible`` whether the instance is feasible
    without it. ``titles`` names the rule groups beyond C1-C11 that the answer mentions,
    ``whatif_groups`` those of them the what-if added.
    """

    feasible: bool | None
    findings: list[Finding]
    conflict: list[str]
    suggestion: Suggestion | None
    alternatives: list[Suggestion] = field(default_factory=list)
    message: str = ""
    solves: int = 0
    elapsed_s: float = 0.0
    whatif: str = ""
    base_feasible: bool | None = None
    titles: dict[str, str] = field(default_factory=dict)
    whatif_groups: list[str] = field(default_factory=list)

    def name(self, group: str) -> str:
        """``C6 capacity``, ``moves limit (at most 0 CCGs change network)``."""
        if group in RULES:
            return f"{group} {RULES[group]}"
        return self.titles.get(group, group)

    @property
    def rules(self) -> list[str]:
        """Every rule named by a proving finding or by the conflict."""
        named = [f.rule for f in self.findings if f.proves_infeasible] + self.conflict
        return list(dict.fromkeys(named))

    def as_record(self) -> dict[str, Any]:
        """Plain data for JSON (e.g. an ``explanation`` entry in summary.json)."""
        return dataclasses.asdict(self)


# --------------------------------------------------------------------------- rule groups


class ExtraRule:
    """A rule group beyond C1-C11: the extension point of ``explain``.

    Two kinds: rules an instance switches on, which ``build_model`` builds itself (M1 merger
    exclusivity; a new setting's rule is registered in :data:`INSTANCE_RULES`), and rules a
    what-if adds to the question (``whatif = True``: a moves limit, robust N-1), which
    :meth:`add` adds to a built model. Either way the rule is relaxed by deactivating its
    ``components``; the definitional rows it may need (e.g. the move indicators) stay.
    """

    key: str = ""  # its name in a conflict, e.g. "M1", "moves"
    title: str = ""  # in the planner's words
    whatif: bool = False
    components: tuple[str, ...] = ()

    def applies(self, inst: Instance) -> bool:
        """Whether the rule restricts ``inst`` at all."""
        return True

    def add(self, m: pyo.ConcreteModel, ix: ModelIndex) -> None:
        """Add the rule's rows to ``m`` (built by ``build_model`` from ``ix``)."""

    def findings(self, inst: Instance) -> list[Finding]:
        """Necessary conditions of the rule, from data alone (no solve)."""
        return []

    def impossible(self) -> str:
        """What the rule asks for, as the subject of "... is impossible"."""
        return self.title

    def relaxation(self, inst: Instance, time_limit: float | None) -> Suggestion | None:
        """The rule's own smallest relaxation, verified by a solve (None: it has no knob)."""
        return None


class MergerExclusivity(ExtraRule):
    """(M1) a member stays itself or is absorbed into at most one formed merged body."""

    key = "M1"
    title = "M1 merger exclusivity (a merged body replaces its members, it does not add to them)"
    components = ("merger_exclusive",)

    def applies(self, inst: Instance) -> bool:
        return len(inst.mergers) > 0


class FreeChoice(ExtraRule):
    """(C12) under free choice each CCG buys from the formed network it prefers."""

    key = "C12"
    title = "C12 free choice (each CCG buys from the formed network it prefers)"
    components = ("free_choice",)

    def applies(self, inst: Instance) -> bool:
        return inst.settings.free_choice

    def impossible(self) -> str:
        return "free choice"

    def relaxation(self, inst: Instance, time_limit: float | None) -> Suggestion | None:
        """The managed market: the planner places every CCG (single sourcing kept)."""
        s = Suggestion(
            "C12",
            ("settings.ccg_choice=managed",),
            "let the planner place the CCGs (a managed market instead of free choice)",
        )
        return _verify(inst, s, time_limit, ())


#: Rules an instance switches on, beyond C1-C11 (each applies only where it restricts).
INSTANCE_RULES: tuple[ExtraRule, ...] = (MergerExclusivity(), FreeChoice())


def instance_rules(inst: Instance) -> list[ExtraRule]:
    """The rule groups of :data:`INSTANCE_RULES` that restrict ``inst``."""
    return [r for r in INSTANCE_RULES if r.applies(inst)]


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
                f"Service line {s}: eligible capacity {fmt(at_bar)} at quality bar "
                f"{fmt(theta[s])}"
                + (
                    " (a merged body counts instead of its members, not on top of them)"
                    if merged
                    else ""
                )
                + f", demand {fmt(D)}"
            )
            if at_zero < D:
                out.append(
                    Finding(
                        "C6",
                        f"{head}; even at any bar providers offer only {fmt(at_zero)}",
                        subjects=(s,),
                    )
                )
            else:
                bars = sorted(set(map(float, line["quality"])), reverse=True)
                bar = next(q for q in bars if _usable(line[line["quality"] >= q], inst) >= D)
                out.append(
                    Finding(
                        "C7",
                        f"{head}; at bar {fmt(bar)} it would be "
                        f"{fmt(_usable(line[line['quality'] >= bar], inst))}",
                        subjects=(s,),
                    )
                )
            short.add(s)
            continue
        left = _usable(alive[alive["service_line"] == s], inst)
        if left < D:
            gone = sorted(set(elig.loc[elig["service_line"] == s, "provider"]) & must_exit)
            why = "; ".join(
                f"{p} needs at least {fmt(v[p])} to stay active but can deliver at most "
                f"{fmt(float(attainable.get(p, 0.0)))}, so it must exit"
                for p in gone
            )
            out.append(
                Finding(
                    "C11",
                    f"{why}; without {'them' if len(gone) > 1 else 'it'} "
                    f"service line {s} has eligible capacity {fmt(left)}, "
                    f"demand {fmt(D)}",
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
                        f"Service line {s}: network quality target {fmt(Q)}, "
                        f"but even the best eligible providers first deliver "
                        f"demand {fmt(D)} at average quality {fmt(avg)}",
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
                    f"service line {s} then has at most {fmt(usable)} of usable "
                    f"capacity ({names} can deliver only as leads), demand "
                    f"{fmt(float(D))}",
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


# --------------------------------------------------------------------------- 2. feasibility


class _Oracle:
    """Feasibility of (relaxed) instances by HiGHS, counting solves."""

    def __init__(self, time_limit: float | None, rules: Sequence[ExtraRule] = ()):
        self.time_limit = time_limit
        self.rules = list(rules)  # added to every model (relaxed by ``deactivate``)
        self.solves = 0
        self.memo: dict[tuple[str, ...], bool] = {}

    def feasible(self, inst: Instance, deactivate: Sequence[str] = ()) -> bool | None:
        self.solves += 1
        ix = build_index(inst)
        model = build_model(ix)
        for rule in self.rules:
            rule.add(model, ix)
        for name in deactivate:
            comp = getattr(model, name, None)
            if comp is not None:
                comp.deactivate()
        model.total_cost.deactivate()
        model.feasibility = pyo.Objective(expr=0.0)
        opt = Highs()
        opt.config.stream_solver = False
        opt.config.load_solution = False
        if self.time_limit is not None:
            opt.config.time_limit = float(self.time_limit)
        opt.highs_options = {"log_to_console": False, "random_seed": 0}
        with stops.deferred(on_stop=lambda: _cancel(opt)), handled_interrupt_status():
            res = opt.solve(model)
        tc = res.termination_condition
        if tc == TerminationCondition.optimal or res.best_feasible_objective is not None:
            return True
        if tc in (TerminationCondition.infeasible, TerminationCondition.infeasibleOrUnbounded):
            return False
        return None

    def with_overrides(self, inst: Instance, overrides: Sequence[str]) -> bool:
        """Feasible with these overrides applied (undecided counts as not feasible)."""
        key = tuple(overrides)
        if key not in self.memo:
            try:
                self.memo[key] = self.feasible(inst.with_changes(list(key))) is True
            except CsuOptError:
                self.memo[key] = False
        return self.memo[key]


def _cancel(opt: Highs) -> None:
    """Ask appsi's HiGHS to stop at its next callback (a stop request, csu_opt.stops); appsi
    creates that HiGHS object before it hands the model over, so a request during the
    hand-over is kept too."""
    highs = getattr(opt, "_solver_model", None)
    if highs is not None:
        highs.cancelSolve()


def _relax(inst: Instance, groups: set[str]) -> tuple[Instance, list[str]]:
    """The instance with the data of ``groups`` relaxed, and components to deactivate."""
    st = inst.settings
    n_leads = int(inst.providers["can_lead"].sum())
    settings = dataclasses.replace(
        st,
        lead_min=None if "C1" in groups else st.lead_min,
        lead_max=None if "C1" in groups else st.lead_max,
        max_leads_per_subcontractor=max(n_leads, 1)
        if "C2" in groups
        else st.max_leads_per_subcontractor,
        lead_self_delivery_min_share=0.0 if "C10" in groups else st.lead_self_delivery_min_share,
    )
    lines = inst.service_lines.copy()
    if "C7" in groups:
        lines["quality_threshold"] = 0.0
    if "C9" in groups:
        lines["network_quality_target"] = 0.0
    providers = inst.providers.copy()
    if "C11" in groups:
        providers["min_volume"] = 0.0
    caps = inst.capabilities.copy()
    if "C6" in groups:
        need = caps["service_line"].map(inst.total_demand()).astype(float)
        caps["capacity"] = np.where(
            caps["capacity"] > 0, np.maximum(caps["capacity"], need), caps["capacity"]
        )
    relaxed = replace(
        inst, settings=settings, service_lines=lines, providers=providers, capabilities=caps
    )
    return relaxed, ["full_coverage"] if "C8" in groups else []


def applicable_groups(inst: Instance) -> list[str]:
    """The rule groups that restrict this instance at all."""
    st, lines = inst.settings, inst.service_lines
    n_leads = int(inst.providers["can_lead"].sum())
    on = {
        "C1": st.lead_min is not None or st.lead_max is not None,
        "C2": n_leads > 1 and st.max_leads_per_subcontractor < n_leads,
        "C6": True,
        "C7": bool((lines["quality_threshold"] > 0).any()),
        "C8": True,
        "C9": bool((lines["network_quality_target"] > 0).any()),
        "C10": st.lead_self_delivery_min_share > 0,
        "C11": bool((inst.providers["min_volume"] > 0).any()),
    }
    return [g for g in RULES if on[g]]


def deletion_filter(
    inst: Instance, oracle: _Oracle, extra: Sequence[ExtraRule] = ()
) -> tuple[list[str] | None, str]:
    """A minimal set of rule groups that cannot hold together (None: even none can).

    ``extra`` rules (those of ``oracle``) are groups too, tried last, so that a what-if is
    dropped only when the base rules alone cannot hold.
    """
    groups = applicable_groups(inst) + [r.key for r in extra]

    def relaxed(groups_off: set[str]) -> tuple[Instance, list[str]]:
        changed, off = _relax(inst, groups_off & set(RULES))
        return changed, off + [c for r in extra if r.key in groups_off for c in r.components]

    if oracle.feasible(*relaxed(set(groups))) is not True:
        return None, (
            "the instance stays infeasible with every relaxable rule switched off: "
            "the definitional rules (C2-C5: roles, CCG placement, network balance) "
            "cannot hold, e.g. a line with demand that no provider offers"
        )
    keep = list(groups)
    for g in groups:
        trial = [h for h in keep if h != g]
        if oracle.feasible(*relaxed(set(groups) - set(trial))) is False:
            keep = trial
    return [g for g in RULES if g in keep] + [r.key for r in extra if r.key in keep], ""


# --------------------------------------------------------------------------- 3. suggestions


def _num(x: float) -> str:
    """A value as an override reads it back exactly: ``90``, ``0.6``, ``55.25`` (no noise)."""
    return exact(x)


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


class _Searcher:
    """The smallest relaxation of one rule group that makes ``inst`` feasible."""

    def __init__(self, inst: Instance, oracle: _Oracle, findings: list[Finding]):
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
                f"service_lines.{s}.{column}={_num(x)}" for s, x in vals.items() if x != values[s]
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
            f"lower the {what} of service line {s} from {fmt(values[s])} to {fmt(x)}"
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
        best = _highest(grid, lambda r: self.ok([f"{key}={_num(r)}"]))
        if best is None or best == rho:
            return None
        return Suggestion(
            "C10",
            (f"{key}={_num(best)}",),
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
            range(f * 50 + 1, f * 100 + 1), lambda k: self.ok([f"{key}{_num(k / 100)}"])
        )
        assert hundredths is not None  # f itself passed
        best = _num(hundredths / 100)
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
                return [f"providers.{p}.min_volume={_num(x)}" for p, x in vals.items() if x != v[p]]

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
                    f"lower {p}'s minimum volume from {fmt(v[p])} to {fmt(x)}"
                    for p, x in chosen.items()
                    if x != v[p]
                )
                return Suggestion(
                    "C11",
                    tuple(overrides(chosen)),
                    text + " (the highest value, to a whole unit, that is feasible)",
                )
        hundredths = _highest(
            range(100), lambda k: self.ok([f"providers.min_volume*={_num(k / 100)}"])
        )
        if hundredths is None:
            return None
        factor = _num(hundredths / 100)
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
    from csu_opt.solve import SolveOptions, solve
    from csu_opt.whatif import pyomo_options, pyomo_session

    whatifs = [r for r in rules if r.whatif]
    if not whatifs:
        return solve(inst, SolveOptions(time_limit=time_limit))
    options = pyomo_options(SolveOptions(time_limit=time_limit))
    session = pyomo_session(inst, options)
    for rule in whatifs:
        rule.add(session.model, session.ix)
    return session.solve(inst, options)


def _verify(
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


# --------------------------------------------------------------------------- explain


def explain(
    instance: Instance,
    time_limit: float | None = 60.0,
    alternatives: bool = True,
    rules: Sequence[ExtraRule] = (),
) -> Explanation:
    """Explain an instance's (in)feasibility; ``time_limit`` bounds each HiGHS solve.

    ``rules`` are what-if rule groups (``ExtraRule.whatif``) added to the question, e.g.
    ``csu_opt.whatif_rules.MovesLimit``; the instance's own extra rules (mergers) are added
    here.
    """
    t0 = time.perf_counter()
    extra = [*instance_rules(instance), *(r for r in rules if r.applies(instance))]
    whatifs = [r for r in extra if r.whatif]
    asked_keys = {r.key for r in whatifs}
    oracle = _Oracle(time_limit, extra)
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
    order = [f.rule for f in findings if f.proves_infeasible and f.rule in RULES]
    order += [r for r in PREFERENCE if r in conflict]
    searcher = _Searcher(instance, oracle, findings)
    for rule_key in dict.fromkeys(order):
        if found and not alternatives:
            break
        s = searcher.for_rule(rule_key)
        if s is not None:
            found.append(_verify(instance, s, time_limit, extra))
    for rule in extra:  # an instance rule's own relaxation (C12: the managed market)
        if rule.key in conflict and not rule.whatif and (alternatives or not found):
            own = rule.relaxation(instance, time_limit)
            if own is not None:
                found.append(own)
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


def format_explanation(e: Explanation) -> list[str]:
    """The explanation as lines of text for the command line."""
    if e.feasible:
        head = f"Feasible: {e.whatif} is possible." if e.whatif else "The instance is feasible."
    elif e.feasible is None:
        head = f"Undecided: {e.message}."
    elif e.whatif and e.base_feasible:
        head = f"INFEASIBLE: {e.whatif} is impossible. (Without it the instance is feasible.)"
    elif e.whatif:
        head = f"The instance is INFEASIBLE, even without {e.whatif}."
    else:
        head = "The instance is INFEASIBLE."
    lines = [head]
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
        if e.conflict and e.whatif and e.base_feasible:
            base = [e.name(r) for r in e.conflict if r not in e.whatif_groups]
            own = " and ".join(e.name(r) for r in e.conflict if r in e.whatif_groups)
            lines.append(
                f"It collides with {_and(base)}: with the {own} these rules cannot hold "
                "together, and without any one of them they can (deletion filter)."
                if base
                else f"The {own} cannot hold even with every relaxable rule switched off."
            )
        elif e.conflict:
            lines.append(
                "Minimal set of conflicting rules (deletion filter): "
                + ", ".join(e.name(r) for r in e.conflict)
            )
        else:
            lines.append(e.message)
    if e.suggestion is not None:
        s = e.suggestion
        state = "verified feasible" if s.verified else "NOT verified"
        cost = f", optimum {fmt(s.objective)}" if s.objective is not None else ""
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
