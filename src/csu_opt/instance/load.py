"""Instance files in, a validated immutable :class:`Instance` out (docs/schema.md).

``load_instance`` reads the YAML file and its CSV/Excel tables, applies ``--set`` overrides,
checks everything and raises :class:`~csu_opt.errors.InstanceError` listing *every* problem
before any model is built. After this module nothing re-checks input.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from csu_opt.errors import InstanceError, Problem
from csu_opt.instance.boundaries import Boundaries, boundaries_from_document
from csu_opt.instance.mergers import (
    check_body_capabilities,
    check_mergers,
    derive_bodies,
    empty_mergers,
    members_of,
)
from csu_opt.instance.overrides import Override, apply_overrides, parse_override
from csu_opt.instance.preference_table import check_preferences, empty_preferences
from csu_opt.instance.schema import (
    SCHEMA_VERSION,
    TABLES,
    TOP_LEVEL_FIELDS,
    SettingsModel,
    check_refs,
    suggest,
    validate_settings,
    validate_table,
)
from csu_opt.instance.tables import RawTable, content_hash, read_table


@dataclass(frozen=True)
class Settings:
    """The rules of the market (model/formulation.md: C1, C2, C10, single sourcing)."""

    lead_min: int | None = None
    lead_max: int | None = None
    single_sourcing: bool = True
    max_leads_per_subcontractor: int = 1
    lead_self_delivery_min_share: float = 0.0
    #: "managed": the planner places every CCG; "free": each CCG buys from the formed network
    #: it prefers (C12, implies single sourcing; csu_opt.instance.preferences)
    ccg_choice: str = "managed"

    @property
    def free_choice(self) -> bool:
        return self.ccg_choice == "free"


@dataclass(frozen=True)
class Instance:
    """A validated instance: plain typed data, one DataFrame per table.

    Tables keep the schema's column names (docs/schema.md). ``service_lines``, ``providers``
    and ``ccgs`` are indexed by id; the others have their id columns as ordinary columns.

    Mergers (``csu_opt.instance.mergers``): ``mergers`` is the table as given (members as tuples);
    every merged body is also a row of ``providers`` (``merger_of`` names its members, '' for
    an ordinary provider), with derived rows in ``capabilities``, ``assignment_costs`` and
    ``partnership_costs``; ``derived`` keys those rows, which ``to_document`` leaves out.

    ``boundaries`` (None when the instance names none): the file of the CCGs' shapes and
    each CCG's feature in it, for maps only; the model never reads it.
    """

    name: str
    description: str
    units: dict[str, str]
    settings: Settings
    service_lines: pd.DataFrame
    providers: pd.DataFrame
    capabilities: pd.DataFrame
    ccgs: pd.DataFrame
    demand: pd.DataFrame
    assignment_costs: pd.DataFrame
    partnership_costs: pd.DataFrame
    source: str = "<memory>"
    sha256: str = ""
    overrides: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=())
    mergers: pd.DataFrame = field(default_factory=empty_mergers)
    derived: dict[str, frozenset[tuple[str, str]]] = field(default_factory=dict)
    boundaries: Boundaries | None = None
    #: ccg, lead, rank (1 = most preferred); empty when the instance gives no preferences
    ccg_preferences: pd.DataFrame = field(default_factory=empty_preferences)

    # ----------------------------------------------------------------- derived views
    @property
    def line_ids(self) -> list[str]:
        return list(self.service_lines.index)

    @property
    def eligible(self) -> pd.DataFrame:
        """Capabilities where the provider is eligible: capacity > 0 and quality >= θ[s]."""
        cap = self.capabilities
        theta = cap["service_line"].map(self.service_lines["quality_threshold"])
        return cap[(cap["capacity"] > 0) & (cap["quality"] >= theta)].reset_index(drop=True)

    @property
    def merger_members(self) -> dict[str, tuple[str, ...]]:
        """Merged body id -> its members (the providers it replaces when formed)."""
        return members_of(self.mergers)

    def total_demand(self) -> pd.Series:
        """Total demand per service line (every line present, 0 where nobody asks)."""
        tot = self.demand.groupby("service_line")["volume"].sum()
        return tot.reindex(self.service_lines.index, fill_value=0.0)

    def with_changes(self, overrides: list[str] | tuple[str, ...]) -> Instance:
        """A new instance with ``KEY=VALUE`` / ``TABLE.COLUMN*=F`` changes, re-validated."""
        doc = self.to_document()
        parsed = [parse_override(o) for o in overrides]
        return instance_from_document(
            doc,
            Path(self.source),
            sha256=self.sha256,
            overrides=parsed,
            previous=self.overrides,
        )

    def to_document(self) -> dict[str, Any]:
        """The instance as an in-memory document of the schema (tables as DataFrames)."""
        s = self.settings
        band: dict[str, int] = {}
        if s.lead_min is not None:
            band["min"] = s.lead_min
        if s.lead_max is not None:
            band["max"] = s.lead_max
        return {
            "schema": SCHEMA_VERSION,
            "name": self.name,
            "description": self.description,
            "units": dict(self.units),
            "settings": {
                "lead_providers": band,
                "single_sourcing": s.single_sourcing,
                "max_leads_per_subcontractor": s.max_leads_per_subcontractor,
                "lead_self_delivery_min_share": s.lead_self_delivery_min_share,
                "ccg_choice": s.ccg_choice,
            },
            "service_lines": self.service_lines.reset_index(),
            "providers": _providers_for_document(self.providers),
            "capabilities": self._given("capabilities", "provider", "service_line"),
            "ccgs": self.ccgs.reset_index(),
            "demand": self.demand.copy(),
            "assignment_costs": self._given("assignment_costs", "lead", "ccg"),
            "partnership_costs": self._given("partnership_costs", "subcontractor", "lead"),
            "mergers": self.mergers.assign(
                members=self.mergers["members"].map(lambda m: ";".join(m))
            ),
            "ccg_preferences": self.ccg_preferences.copy(),
            **({"boundaries": self.boundaries.to_document()} if self.boundaries else {}),
        }

    def _given(self, table: str, a: str, b: str) -> pd.DataFrame:
        """A table without the rows derived for merged bodies (they are derived again)."""
        frame: pd.DataFrame = getattr(self, table)
        derived = self.derived.get(table, frozenset())
        if not derived:
            return frame.copy()
        keep = [k not in derived for k in zip(frame[a], frame[b], strict=True)]
        return frame[keep].reset_index(drop=True)


def _providers_for_document(providers: pd.DataFrame) -> pd.DataFrame:
    """Providers as written: a lead cost defaulted for a provider that cannot lead is blank,
    so that making it lead-capable later asks for one, as loading a file would. Merged bodies
    are left out (the mergers table gives them)."""
    if "merger_of" in providers.columns:
        providers = providers[providers["merger_of"] == ""].drop(columns="merger_of")
    out = providers.reset_index().astype({"lead_fixed_cost": object})
    blank = ~out["can_lead"].astype(bool) & (out["lead_fixed_cost"] == 0)
    out.loc[blank, "lead_fixed_cost"] = None
    return out


# --------------------------------------------------------------------------- loading


def _yaml_problem(path: Path, exc: yaml.YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else None
    what = getattr(exc, "problem", None) or str(exc)
    return Problem(str(path), f"YAML syntax error: {what}", row=where)


def read_document(path: Path) -> tuple[dict[str, Any], bytes]:
    """The YAML document of an instance file, or InstanceError naming the line."""
    if not path.exists():
        raise InstanceError([Problem(str(path), "file not found")])
    if path.is_dir():
        raise InstanceError([Problem(str(path), "is a folder, not an instance file")])
    data = path.read_bytes()
    try:
        doc = yaml.safe_load(data)
    except yaml.YAMLError as exc:
        raise InstanceError([_yaml_problem(path, exc)]) from None
    if doc is None:
        raise InstanceError([Problem(str(path), "the file is empty")])
    if not isinstance(doc, dict):
        raise InstanceError(
            [
                Problem(
                    str(path), f"expected a mapping of fields at the top, got {type(doc).__name__}"
                )
            ]
        )
    return doc, data


def load_instance(
    path: str | Path,
    overrides: list[str] | tuple[str, ...] = (),
) -> Instance:
    """Read, override and validate an instance file; raises InstanceError with every problem.

    ``overrides`` are ``KEY=VALUE`` strings (``settings.lead_providers.max=12``,
    ``service_lines.BI.quality_threshold=70``, ``providers.OPTUM.can_lead=false``) or
    ``TABLE.COLUMN*=FACTOR`` scalings (``demand.volume*=1.5``).
    """
    path = Path(path)
    doc, data = read_document(path)
    parsed = [parse_override(o) for o in overrides]
    return instance_from_document(doc, path, yaml_bytes=data, overrides=parsed)


def instance_from_document(  # noqa: C901 (frozen, issue 17: to be split)
    doc: dict[str, Any],
    path: Path,
    *,
    yaml_bytes: bytes | None = None,
    sha256: str | None = None,
    overrides: list[Override] | None = None,
    previous: tuple[str, ...] = (),
) -> Instance:
    """Validate an in-memory document (tables as lists of records, DataFrames, or files)."""
    file = str(path)
    problems: list[Problem] = []
    overrides = overrides or []

    schema = doc.get("schema")
    if schema is None:
        problems.append(
            Problem(
                file, f"missing 'schema' field; expected schema: {SCHEMA_VERSION}", field="schema"
            )
        )
    elif schema != SCHEMA_VERSION:
        problems.append(
            Problem(
                file,
                f"unsupported schema version {schema!r}; this csu-opt reads {SCHEMA_VERSION}",
                field="schema",
            )
        )
    for key in doc:
        if key not in TOP_LEVEL_FIELDS:
            problems.append(
                Problem(
                    file,
                    f"unknown field{suggest(key, TOP_LEVEL_FIELDS)} "
                    f"(fields: {', '.join(TOP_LEVEL_FIELDS)})",
                    field=str(key),
                )
            )
    name = doc.get("name")
    if not isinstance(name, str | int) or not str(name).strip():
        problems.append(Problem(file, "a non-empty name is required", field="name"))
        name = path.stem
    units = doc.get("units") or {}
    if not isinstance(units, dict):
        problems.append(Problem(file, f"expected a mapping, got {units!r}", field="units"))
        units = {}

    raw: dict[str, RawTable] = {}
    for tname, spec in TABLES.items():
        if tname not in doc or doc[tname] is None:
            if spec.required:
                problems.append(Problem(file, "required table is missing", tname))
            continue
        table = read_table(doc[tname], tname, path, problems)
        if table is not None:
            raw[tname] = table

    settings_raw = doc.get("settings")
    settings_raw = dict(settings_raw) if isinstance(settings_raw, dict) else settings_raw
    applied = apply_overrides(overrides, raw, settings_raw, doc, file)
    settings_raw = applied.settings
    settings_model = validate_settings(settings_raw, file, problems)

    typed: dict[str, pd.DataFrame] = {}
    for tname, table in raw.items():
        typed[tname] = validate_table(TABLES[tname], table, problems)
    ids: dict[str, set[str]] = {
        t: set(typed[t]["id"].dropna())
        for t in ("service_lines", "providers", "ccgs")
        if t in typed
    }
    # merged bodies are providers for the other tables; members must be ordinary providers
    merger_ids = set(typed["mergers"]["id"].dropna()) if "mergers" in typed else set()
    with_bodies = dict(ids)
    if "providers" in ids:
        with_bodies["providers"] = ids["providers"] | merger_ids
    for tname, table in raw.items():
        # a reference into a table that could not be read is not checked (already reported)
        known = ids if tname == "mergers" else with_bodies
        check_refs(TABLES[tname], table, typed[tname], known, problems)
    if "providers" in typed:
        _check_lead_costs(raw["providers"], typed["providers"], problems)
    if "mergers" in typed:
        check_mergers(raw["mergers"], typed["mergers"], ids.get("providers", set()), problems)
        if "capabilities" in typed:
            check_body_capabilities(
                raw["capabilities"], typed["capabilities"], merger_ids, problems
            )
    if "ccg_preferences" in typed:
        check_preferences(raw["ccg_preferences"], typed["ccg_preferences"], problems)
    for tname in ("service_lines", "providers", "ccgs", "demand"):
        if tname in typed and typed[tname].empty:
            problems.append(Problem(raw[tname].file, "the table has no records", tname))
    boundaries = None
    if doc.get("boundaries") is not None:
        boundaries = boundaries_from_document(
            doc["boundaries"], path, raw.get("ccgs"), typed.get("ccgs"), problems
        )
    if problems or settings_model is None:
        raise InstanceError(problems)

    instance = _assemble(
        name=str(name).strip(),
        description=str(doc.get("description") or ""),
        units={str(k): str(v) for k, v in units.items()},
        settings=settings_model,
        typed=typed,
        source=file,
        sha256=sha256 or content_hash(yaml_bytes or b"", list(raw.values())),
        overrides=(*previous, *(o.text for o in overrides)),
    )
    if boundaries is not None:
        instance = replace(instance, boundaries=boundaries)
    return apply_scales(instance, [o for o in overrides if o.scale])


def _check_lead_costs(raw: RawTable, typed: pd.DataFrame, problems: list[Problem]) -> None:
    if "lead_fixed_cost" in raw.frame.columns:
        given = np.fromiter(
            (
                v is not None and not (isinstance(v, str) and not v.strip())
                for v in raw.frame["lead_fixed_cost"]
            ),
            bool,
            len(raw.frame),
        )
    else:
        given = np.zeros(len(raw.frame), bool)
    need = typed["can_lead"].eq(True).to_numpy() & ~given
    for i in np.flatnonzero(need)[:10]:
        problems.append(
            Problem(
                raw.file,
                "a lead-capable provider needs a lead_fixed_cost (or set can_lead: false)",
                "providers",
                raw.where(int(i)),
                "lead_fixed_cost",
            )
        )


def _assemble(
    *,
    name: str,
    description: str,
    units: dict[str, str],
    settings: SettingsModel,
    typed: dict[str, pd.DataFrame],
    source: str,
    sha256: str,
    overrides: tuple[str, ...],
) -> Instance:
    def indexed(t: str) -> pd.DataFrame:
        df = typed[t].copy()
        df["name"] = df["name"].where(df["name"].notna(), df["id"])
        return df.set_index("id")

    def plain(t: str) -> pd.DataFrame:
        if t in typed:
            return typed[t].reset_index(drop=True)
        return pd.DataFrame(
            {c.name: pd.Series(dtype=float if c.kind == "num" else object) for c in TABLES[t].cols}
        )

    providers = indexed("providers")
    for col in ("can_lead", "can_subcontract"):
        providers[col] = providers[col].astype(bool)
    mergers = plain("mergers") if "mergers" in typed else empty_mergers()
    bodies = derive_bodies(
        providers,
        plain("capabilities"),
        plain("assignment_costs"),
        plain("partnership_costs"),
        mergers,
    )
    providers = bodies.providers
    warnings = []
    assignment = bodies.assignment_costs
    not_lead = ~assignment["lead"].map(providers["can_lead"]).fillna(False).astype(bool)
    if not_lead.any():
        warnings.append(
            f"assignment_costs: {int(not_lead.sum())} rows name providers that cannot lead; "
            "they are ignored"
        )
    prefs = plain("ccg_preferences") if "ccg_preferences" in typed else empty_preferences()
    not_lead = ~prefs["lead"].map(providers["can_lead"]).fillna(False).astype(bool)
    if not_lead.any():
        warnings.append(
            f"ccg_preferences: {int(not_lead.sum())} rows name providers that cannot lead; "
            "they are ignored"
        )
    band = settings.lead_providers
    return Instance(
        name=name,
        description=description,
        units=units,
        settings=Settings(
            lead_min=band.min,
            lead_max=band.max,
            single_sourcing=settings.single_sourcing,
            max_leads_per_subcontractor=settings.max_leads_per_subcontractor,
            lead_self_delivery_min_share=settings.lead_self_delivery_min_share,
            ccg_choice=settings.ccg_choice,
        ),
        service_lines=indexed("service_lines"),
        providers=providers,
        capabilities=bodies.capabilities,
        ccgs=indexed("ccgs"),
        demand=plain("demand"),
        assignment_costs=assignment,
        partnership_costs=bodies.partnership_costs,
        source=source,
        sha256=sha256,
        overrides=overrides,
        warnings=tuple(warnings),
        mergers=mergers,
        derived=bodies.derived,
        ccg_preferences=prefs,
    )


def replace(instance: Instance, **changes: Any) -> Instance:
    """A copy of ``instance`` with some fields replaced (tables are not copied)."""
    return dataclasses.replace(instance, **changes)


def apply_scales(instance: Instance, scales: list[Override]) -> Instance:
    """Multiply numeric columns (``demand.volume*=1.5``) of a validated instance."""
    if not scales:
        return instance
    changes: dict[str, pd.DataFrame] = {}
    for o in scales:
        table, column = o.path
        frame = changes.get(table, getattr(instance, table)).copy()
        frame[column] = frame[column] * float(o.value)
        changes[table] = frame
    return replace(instance, **changes)


def fingerprint(instance: Instance) -> str:
    """A hash of the validated content (after overrides), for caches and sweep keys."""
    digest = hashlib.sha256(json.dumps(dataclasses.asdict(instance.settings)).encode())
    for t in (
        "service_lines",
        "providers",
        "capabilities",
        "ccgs",
        "demand",
        "assignment_costs",
        "partnership_costs",
    ):
        digest.update(pd.util.hash_pandas_object(getattr(instance, t)).to_numpy().tobytes())
    if len(instance.ccg_preferences):
        digest.update(
            pd.util.hash_pandas_object(instance.ccg_preferences.astype(str)).to_numpy().tobytes()
        )
    if len(instance.mergers):
        given = instance.mergers.astype(str)
        digest.update(pd.util.hash_pandas_object(given).to_numpy().tobytes())
    return digest.hexdigest()
