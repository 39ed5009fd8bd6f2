"""What an explanation is made of: the rule groups (C1-C11 and the extra rules an instance or a
what-if adds), a finding, a suggestion, and the explanation itself.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from csu_opt.instance.load import Instance
from csu_opt.model.index import ModelIndex

if TYPE_CHECKING:  # Pyomo only in annotations: validate's data checks never load it
    import pyomo.environ as pyo


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
        """The managed market: the planner places every CCG (single sourcing kept); not yet
        verified (``explain`` verifies it by a solve)."""
        return Suggestion(
            "C12",
            ("settings.ccg_choice=managed",),
            "let the planner place the CCGs (a managed market instead of free choice)",
        )


#: Rules an instance switches on, beyond C1-C11 (each applies only where it restricts).
INSTANCE_RULES: tuple[ExtraRule, ...] = (MergerExclusivity(), FreeChoice())


def instance_rules(inst: Instance) -> list[ExtraRule]:
    """The rule groups of :data:`INSTANCE_RULES` that restrict ``inst``."""
    return [r for r in INSTANCE_RULES if r.applies(inst)]
