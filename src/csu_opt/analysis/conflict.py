"""Step 2 of an explanation: a minimal set of rule groups that cannot hold together.

A deletion filter over the rule groups: each group can be switched off (its data relaxed, or
its constraint component deactivated; the definitional rules C2-C5 always stay). Starting from
every group, a group is dropped for good when the instance stays infeasible without it.
Feasibility is decided by HiGHS on the real model with a zero objective (:class:`Oracle`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pyomo.environ as pyo
from pyomo.contrib.appsi.base import TerminationCondition
from pyomo.contrib.appsi.solvers import Highs

from csu_opt import stops
from csu_opt.analysis.findings import (
    RULES,
    ExtraRule,
)
from csu_opt.errors import CsuOptError
from csu_opt.instance.load import Instance, replace
from csu_opt.model.index import build_index
from csu_opt.model.pyomo_model import build_model
from csu_opt.solver.appsi_engine import appsi_highs, handled_interrupt_status

if TYPE_CHECKING:
    pass


# --------------------------------------------------------------------------- 2. feasibility


class Oracle:
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
    highs = appsi_highs(opt)
    if highs is not None:
        highs.cancelSolve()


def relax_groups(inst: Instance, groups: set[str]) -> tuple[Instance, list[str]]:
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
    inst: Instance, oracle: Oracle, extra: Sequence[ExtraRule] = ()
) -> tuple[list[str] | None, str]:
    """A minimal set of rule groups that cannot hold together (None: even none can).

    ``extra`` rules (those of ``oracle``) are groups too, tried last, so that a what-if is
    dropped only when the base rules alone cannot hold.
    """
    groups = applicable_groups(inst) + [r.key for r in extra]

    def relaxed(groups_off: set[str]) -> tuple[Instance, list[str]]:
        changed, off = relax_groups(inst, groups_off & set(RULES))
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
