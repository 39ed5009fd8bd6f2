"""``--set KEY=VALUE`` overrides and ``TABLE.COLUMN*=FACTOR`` scalings.

Keys name a setting (``settings.lead_providers.max``), a field of one record of a table keyed
by one id (``service_lines.BI.quality_threshold``, ``providers.OPTUM.can_lead``; ``*`` for
every record) or by two ids (``capabilities.OPTUM.BI.quality``, ``demand.*.BI.volume``).
Values are read as YAML scalars (``12``, ``0.5``, ``false``, ``text``). Set-overrides are
applied to the raw tables *before* validation, so an override is checked like any input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import yaml

from csu_opt.errors import UsageError
from csu_opt.instance.schema import TABLES, LeadBand, SettingsModel, suggest
from csu_opt.instance.tables import RawTable


@dataclass(frozen=True)
class Override:
    text: str  # as given, recorded in summary.json
    path: tuple[str, ...]
    value: Any
    scale: bool = False  # multiply a numeric column instead of setting a value


def parse_override(text: str) -> Override:
    """``KEY=VALUE`` (set) or ``KEY*=FACTOR`` (scale) into an :class:`Override`."""
    if "=" not in text:
        raise UsageError(
            f"override {text!r}: expected KEY=VALUE, e.g. settings.lead_providers.max=12"
        )
    raw_key, _, value = text.partition("=")
    scale = raw_key.endswith("*")
    key = raw_key.rstrip("*").strip()
    path = tuple(key.split("."))
    if not key or any(not p for p in path):
        raise UsageError(f"override {text!r}: the key {key!r} is empty or has an empty part")
    try:
        parsed = yaml.safe_load(value) if value.strip() else None
    except yaml.YAMLError:
        parsed = value
    if scale:
        if isinstance(parsed, bool) or not isinstance(parsed, int | float):
            raise UsageError(f"override {text!r}: a scale factor must be a number")
        if parsed < 0:
            raise UsageError(f"override {text!r}: a scale factor cannot be negative")
        if path[0] not in TABLES or len(path) != 2:
            raise UsageError(f"override {text!r}: scale a column as TABLE.COLUMN*=FACTOR")
        _check_column(text, path[0], path[1], numeric=True)
        if path == ("mergers", "synergy"):  # the bodies' fixed costs are derived from it
            raise UsageError(
                f"override {text!r}: a synergy cannot be scaled; set it, e.g. mergers.*.synergy=0.2"
            )
    canonical = f"{key}{'*' if scale else ''}={value.strip()}"
    return Override(canonical, path, parsed, scale)


def _check_column(text: str, table: str, column: str, numeric: bool = False) -> None:
    spec = TABLES[table]
    names = [c.name for c in spec.cols]
    if column not in names:
        raise UsageError(
            f"override {text!r}: {table} has no column '{column}'{suggest(column, names)}"
        )
    if numeric and spec.col(column).kind != "num":
        raise UsageError(f"override {text!r}: {table}.{column} is not a numeric column")


@dataclass
class Applied:
    settings: Any


def apply_overrides(
    overrides: list[Override],
    raw: dict[str, RawTable],
    settings: Any,
    doc: dict[str, Any],
    file: str,
) -> Applied:
    """Apply set-overrides in order to the raw settings and tables (in place)."""
    settings = {} if settings is None else settings
    for o in overrides:
        if o.scale:
            continue
        head = o.path[0]
        if head == "settings":
            settings = _set_setting(o, settings)
        elif head in TABLES:
            _set_cell(o, raw)
        else:
            raise UsageError(
                f"override {o.text!r}: unknown key '{head}'"
                f"{suggest(head, ['settings', *TABLES])}; keys start with settings or a table"
            )
    return Applied(settings)


def _set_setting(o: Override, settings: Any) -> Any:
    if not isinstance(settings, dict):
        return settings  # validation reports the malformed settings block
    rest = o.path[1:]
    valid: dict[str, Any] = dict(SettingsModel.model_fields)
    if not rest or rest[0] not in valid:
        name = rest[0] if rest else ""
        raise UsageError(f"override {o.text!r}: unknown setting '{name}'{suggest(name, valid)}")
    if rest[0] == "lead_providers":
        if len(rest) != 2 or rest[1] not in LeadBand.model_fields:
            raise UsageError(
                f"override {o.text!r}: use settings.lead_providers.min or "
                "settings.lead_providers.max"
            )
        band = dict(settings.get("lead_providers") or {})
        band[rest[1]] = o.value
        return {**settings, "lead_providers": band}
    if len(rest) != 1:
        raise UsageError(f"override {o.text!r}: settings.{rest[0]} has no sub-fields")
    return {**settings, rest[0]: o.value}


def _set_cell(o: Override, raw: dict[str, RawTable]) -> None:
    table = o.path[0]
    spec = TABLES[table]
    nkeys = len(spec.key)
    if len(o.path) != nkeys + 2:
        form = ".".join(k.upper() for k in spec.key)
        raise UsageError(f"override {o.text!r}: expected {table}.{form}.FIELD=VALUE")
    ids, column = o.path[1:-1], o.path[-1]
    _check_column(o.text, table, column)
    if column in spec.key:
        raise UsageError(f"override {o.text!r}: ids cannot be overridden")
    if table not in raw:
        raise UsageError(f"override {o.text!r}: the instance has no {table} table")
    frame = raw[table].frame
    mask = pd.Series(True, index=frame.index)
    for key_col, wanted in zip(spec.key, ids, strict=True):
        if wanted == "*":
            continue
        values = frame[key_col].map(lambda v: None if v is None else str(v).strip())
        hit = values == wanted
        if not hit.any():
            raise UsageError(
                f"override {o.text!r}: no {key_col} '{wanted}' in {table}"
                f"{suggest(wanted, values.dropna().unique())}"
            )
        mask &= hit
    if not mask.any():
        raise UsageError(f"override {o.text!r}: no {table} record for {'/'.join(ids)}")
    if column not in frame.columns:
        frame[column] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    frame.loc[mask, column] = o.value
