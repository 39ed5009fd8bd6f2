"""What verify says: the tolerances it checks against, each violation found, and the verdict
(:class:`VerifyReport`). Plain records, shared by the decision reader and the rule checks.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from csu_opt.results.solution import CostBreakdown, Role

ROLES = tuple(r.value for r in Role)


@dataclass(frozen=True)
class Tolerances:
    """How far a value may miss a rule before it counts as a violation.

    A constraint ``lhs <= rhs`` holds when ``lhs - rhs <= abs + rel * max(|lhs|, |rhs|)``;
    a binary or single-sourcing share is integral within ``integrality``; the objective and
    each part of its breakdown agree within ``objective_abs + objective_rel * |value|``.
    """

    feasibility_abs: float = 1e-6
    feasibility_rel: float = 1e-6
    integrality: float = 1e-6
    objective_abs: float = 1e-6
    objective_rel: float = 1e-6

    def excess(self, lhs: float, rhs: float) -> float:
        """By how much ``lhs <= rhs`` fails beyond the tolerance (0 when it holds)."""
        over = lhs - rhs
        allowed = self.feasibility_abs + self.feasibility_rel * max(abs(lhs), abs(rhs))
        return over if over > allowed else 0.0

    def describe(self) -> str:
        return (
            f"feasibility {self.feasibility_abs:g} + {self.feasibility_rel:g}·|value|, "
            f"integrality {self.integrality:g}, "
            f"objective {self.objective_abs:g} + {self.objective_rel:g}·|value|"
        )


@dataclass(frozen=True)
class Violation:
    """One broken rule: its label in model/formulation.md (``C6``; or ``files``, ``ids``,
    ``roles``, ``bounds``, ``integrality``, ``objective``, ``breakdown``, ``status``), a
    sentence, and by how much."""

    rule: str
    message: str
    amount: float = 0.0

    def __str__(self) -> str:
        return f"[{self.rule}] {self.message}"


@dataclass
class VerifyReport:
    """The outcome of a verification; ``ok`` is true only when nothing was violated."""

    ok: bool
    violations: list[Violation]
    objective: float | None  # recomputed from the files
    breakdown: CostBreakdown | None  # recomputed from the files
    reported_objective: float | None  # as summary.json gives it
    tolerances: Tolerances = field(default_factory=Tolerances)
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # not violations: e.g. the overrides used
    #: Set when the instance is not the one the run was solved with (its sha256 differs):
    #: the violations may then say only that, and this is what a reader must see first.
    instance_changed: str = ""
    #: the last rule checked: C11, or C12 under free choice
    last_rule: str = "C11"

    def by_rule(self, rule: str) -> list[Violation]:
        return [v for v in self.violations if v.rule == rule]

    @property
    def rules_violated(self) -> list[str]:
        return sorted({v.rule for v in self.violations})

    def as_record(self) -> dict[str, Any]:
        """Plain data for JSON (e.g. a ``verification`` entry in summary.json)."""
        return dataclasses.asdict(self)
