"""The constraint families of the model, each registered once (maths in ``model/formulation.md``).

A :class:`Family` names its Pyomo components (the row blocks its builder returns, in order),
its label (as explain and verify name the rules: C1..C12, M1, V1..V5), its formula and its
row builder in :mod:`csu_opt.model.rows`. :func:`active_families` lists the families of a
model in build order; :func:`csu_opt.model.matrix.build_matrix` assembles their row blocks
and :func:`csu_opt.model.pyomo_model.build_model` builds the same families in the same
order. To add a family: write its ``rows_*`` builder and add one line to :data:`FAMILIES`.

C7 (eligibility) has no rows: it holds by construction (``ix.flows`` has only eligible pairs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from csu_opt.model.blocks import IndexCodes, Layout, RowBlock
from csu_opt.model.index import ModelIndex
from csu_opt.model.rows import (
    rows_capacity,
    rows_capacity_aggregate,
    rows_capacity_cover,
    rows_ccg_assignment,
    rows_free_choice,
    rows_full_coverage,
    rows_lead_count,
    rows_mergers,
    rows_network_balance,
    rows_network_quality,
    rows_one_role,
    rows_quality_cover,
    rows_role_split,
    rows_self_delivery,
    rows_subcontract_to_lead,
    rows_viability,
)

#: a family's row builder as the registry calls it: (ix, layout, codes, mutable) -> blocks
RowBuilder = Callable[[ModelIndex, Layout, IndexCodes, bool], list[RowBlock]]
#: the row builders of rows.py take (ix, layout, codes)
PlainBuilder = Callable[[ModelIndex, Layout, IndexCodes], list[RowBlock]]


def plain(rows: PlainBuilder) -> RowBuilder:
    """A ``rows_*(ix, lay, cd)`` builder as a registry builder (it ignores ``mutable``)."""

    def build(ix: ModelIndex, lay: Layout, cd: IndexCodes, mutable: bool) -> list[RowBlock]:
        return rows(ix, lay, cd)

    build.__name__ = rows.__name__
    return build


def lead_count(ix: ModelIndex, lay: Layout, cd: IndexCodes, mutable: bool) -> list[RowBlock]:
    return rows_lead_count(ix, lay, mutable)


@dataclass(frozen=True)
class Family:
    """One constraint family: ``name`` is its builders' suffix (``rows_<name>``,
    ``add_<name>``), ``components`` the Pyomo components (= row blocks) it may build."""

    name: str
    label: str
    formula: str
    components: tuple[str, ...]
    rows: RowBuilder
    valid: bool = False  # a valid inequality: built only with valid_inequalities
    mutable: bool = True  # False: left out of a mutable model


FAMILIES: tuple[Family, ...] = (
    Family(
        "lead_count",
        "C1",
        "N_min <= Σ_l u[l] <= N_max",
        ("lead_count",),
        lead_count,
    ),
    Family(
        "one_role",
        "C2",
        "Σ_l w[p,l] <= m(1 - u[p]); u[p] <= a[p]; w[p,l] <= a[p]; a[p] <= u[p] + Σ_l w[p,l]",
        ("one_role", "lead_active", "sub_active", "active_has_role"),
        plain(rows_one_role),
    ),
    Family(
        "subcontract_to_lead",
        "C3",
        "w[p,l] <= u[l]",
        ("subcontract_to_lead",),
        plain(rows_subcontract_to_lead),
    ),
    Family(
        "ccg_assignment",
        "C4",
        "Σ_l z[l,c] = 1 ∀c; z[l,c] <= u[l]",
        ("assign_once", "assign_to_lead"),
        plain(rows_ccg_assignment),
    ),
    Family(
        "network_balance",
        "C5",
        "Σ_p x[p,l,s] = Σ_c d[c,s] z[l,c] ∀ l, s",
        ("network_balance",),
        plain(rows_network_balance),
    ),
    Family(
        "capacity",
        "C6",
        "Σ_l x[p,l,s] <= cap[p,s] a[p]; x[p,l,s] <= cap[p,s] w[p,l]; x[l,l,s] <= cap[l,s] u[l]",
        ("capacity", "capacity_link_sub", "capacity_link_self"),
        plain(rows_capacity),
    ),
    Family(
        "full_coverage",
        "C8",
        "Σ_{p eligible in s} w[p,l] >= u[l] ∀ (l, s) with l not eligible in s",
        ("full_coverage",),
        plain(rows_full_coverage),
    ),
    Family(
        "network_quality",
        "C9",
        "Σ_p (q[p,s] - Q[s]) x[p,l,s] >= 0 ∀ l, s (where some q < Q)",
        ("network_quality",),
        plain(rows_network_quality),
    ),
    Family(
        "self_delivery",
        "C10",
        "(1-ρ) Σ_s x[l,l,s] - ρ Σ_{p≠l,s} x[p,l,s] >= 0 ∀ l (ρ > 0)",
        ("self_delivery",),
        plain(rows_self_delivery),
    ),
    Family(
        "viability",
        "C11",
        "Σ_{l,s} x[p,l,s] >= v[p] a[p] ∀ p with v[p] > 0",
        ("viability",),
        plain(rows_viability),
    ),
    Family(
        "mergers",
        "M1",
        "a[p] + Σ_{M ∋ p} a[M] <= 1 ∀ merger members p",
        ("merger_exclusive",),
        plain(rows_mergers),
    ),
    Family(
        "free_choice",
        "C12",
        "Σ_{l' ≽_c l} z[l',c] >= u[l] ∀ c, l but c's last choice (free choice only)",
        ("free_choice",),
        plain(rows_free_choice),
    ),
    Family(
        "capacity_cover",
        "V1",
        "Σ_{p eligible in s} a[p] >= k[s] ∀ s",
        ("capacity_cover",),
        plain(rows_capacity_cover),
        valid=True,
        mutable=False,
    ),
    Family(
        "quality_cover",
        "V2",
        "Σ_{p: q[p,s] >= Q[s]} w[p,l] >= u[l] ∀ (l, s) of quality_covers",
        ("quality_cover",),
        plain(rows_quality_cover),
        valid=True,
    ),
    Family(
        "role_split",
        "V3, V4",
        "Σ_s x[p,p,s] >= v[p] u[p]; Σ_{l≠p,s} x[p,l,s] >= v[p] (a[p] - u[p]); "
        "Σ_{l≠p} x[p,l,s] <= cap[p,s] (a[p] - u[p])",
        ("viability_lead", "viability_sub", "capacity_sub"),
        plain(rows_role_split),
        valid=True,
    ),
    Family(
        "capacity_aggregate",
        "V5",
        "Σ_{p eligible in s} min(cap[p,s], D[s]) a[p] >= D[s] ∀ s with D[s] = Σ_c d[c,s] > 0",
        ("capacity_aggregate",),
        plain(rows_capacity_aggregate),
        valid=True,
        mutable=False,
    ),
)


def active_families(valid_inequalities: bool = True, mutable: bool = False) -> list[Family]:
    """The families of a model built with these switches, in build order."""
    return [
        f for f in FAMILIES if (valid_inequalities or not f.valid) and (not mutable or f.mutable)
    ]


def family(name: str) -> Family:
    """The registered family called ``name``."""
    for f in FAMILIES:
        if f.name == name:
            return f
    raise KeyError(name)
