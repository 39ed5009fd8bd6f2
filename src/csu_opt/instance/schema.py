"""The instance schema ``csu-opt/1`` as data: tables, columns, settings (docs/schema.md
documents it, and tests/instance/test_schema_doc.py checks that it does).

Column checks are vectorised over a whole table; each failing cell becomes a
:class:`~csu_opt.errors.Problem` naming its file, table, row and field.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from csu_opt.errors import Problem
from csu_opt.instance.tables import RawTable

SCHEMA_VERSION = "csu-opt/1"
PROVIDER_KINDS = ("csu", "private", "charity", "council", "other")
#: settings.ccg_choice: the planner places every CCG (managed), or each CCG picks (free).
CCG_CHOICES = ("managed", "free")
QUALITY_RULES = ("weighted", "max")
#: At most this many rows are listed for one kind of mistake in one column.
MAX_ROWS_LISTED = 10

Kind = Literal["id", "ids", "str", "num", "bool", "enum"]


@dataclass(frozen=True)
class Col:
    """One column of a table: its type, whether it is required, its default and range."""

    name: str
    kind: Kind
    required: bool = False
    default: Any = None
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()
    ref: str | None = None  # the table whose ids this column names (kind "ids": each id)
    pattern: str | None = None  # kind "str": a regular expression every value must match
    example: str = ""  # a value that matches ``pattern``, for the message


@dataclass(frozen=True)
class TableSpec:
    name: str
    cols: tuple[Col, ...]
    key: tuple[str, ...]  # columns that identify a record (unique)
    required: bool = True

    def col(self, name: str) -> Col:
        return next(c for c in self.cols if c.name == name)


TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        TableSpec(
            "service_lines",
            (
                Col("id", "id", required=True),
                Col("name", "str"),
                Col("quality_threshold", "num", default=0.0, lo=0.0, hi=100.0),
                Col("network_quality_target", "num", default=0.0, lo=0.0, hi=100.0),
            ),
            ("id",),
        ),
        TableSpec(
            "providers",
            (
                Col("id", "id", required=True),
                Col("name", "str"),
                Col("kind", "enum", default="other", choices=PROVIDER_KINDS),
                Col("region", "str", default=""),
                Col("can_lead", "bool", default=True),
                Col("can_subcontract", "bool", default=True),
                # required where can_lead is true (checked in instance.py)
                Col("lead_fixed_cost", "num", default=0.0, lo=0.0),
                Col("subcontractor_fixed_cost", "num", default=0.0, lo=0.0),
                Col("exit_cost", "num", default=0.0, lo=0.0),
                Col("min_volume", "num", default=0.0, lo=0.0),
                Col("staff", "num", default=0.0, lo=0.0),
            ),
            ("id",),
        ),
        TableSpec(
            "capabilities",
            (
                Col("provider", "id", required=True, ref="providers"),
                Col("service_line", "id", required=True, ref="service_lines"),
                Col("capacity", "num", required=True, lo=0.0),
                Col("quality", "num", required=True, lo=0.0, hi=100.0),
                Col("unit_cost", "num", default=0.0, lo=0.0),
            ),
            ("provider", "service_line"),
        ),
        TableSpec(
            "ccgs",
            (
                Col("id", "id", required=True),
                Col("name", "str"),
                Col("region", "str", default=""),
                # optional descriptions of real CCGs (the England instances): the ONS code,
                # the NHS area team, and the provider that served the CCG before the solve
                Col("ons_code", "str", pattern=r"E38\d{6}", example="E38000001"),
                Col("area_team", "str"),
                Col("csu", "id", ref="providers"),
            ),
            ("id",),
        ),
        TableSpec(
            "demand",
            (
                Col("ccg", "id", required=True, ref="ccgs"),
                Col("service_line", "id", required=True, ref="service_lines"),
                Col("volume", "num", required=True, lo=0.0),
            ),
            ("ccg", "service_line"),
        ),
        TableSpec(
            "assignment_costs",
            (
                Col("lead", "id", required=True, ref="providers"),
                Col("ccg", "id", required=True, ref="ccgs"),
                Col("cost", "num", required=True, lo=0.0),
            ),
            ("lead", "ccg"),
            required=False,
        ),
        TableSpec(
            "partnership_costs",
            (
                Col("subcontractor", "id", required=True, ref="providers"),
                Col("lead", "id", required=True, ref="providers"),
                Col("cost", "num", required=True, lo=0.0),
            ),
            ("subcontractor", "lead"),
            required=False,
        ),
        # A merged body the model may form instead of its members (issue 8). Optional
        # columns left empty are derived from the members (instance.py, merged_bodies).
        TableSpec(
            "mergers",
            (
                Col("id", "id", required=True),
                Col("members", "ids", required=True, ref="providers"),
                Col("name", "str"),
                Col("kind", "enum", choices=PROVIDER_KINDS),
                Col("region", "str"),
                Col("can_lead", "bool"),
                Col("can_subcontract", "bool"),
                Col("merger_cost", "num", default=0.0, lo=0.0),
                Col("synergy", "num", default=0.0, lo=0.0, hi=1.0),
                Col("quality_rule", "enum", default="weighted", choices=QUALITY_RULES),
            ),
            ("id",),
            required=False,
        ),
        # How each CCG ranks the leads under free choice (settings.ccg_choice: free; issue 18):
        # 1 = most preferred. Checked further in csu_opt.instance.preference_table (whole ranks, one
        # lead per rank and CCG).
        TableSpec(
            "ccg_preferences",
            (
                Col("ccg", "id", required=True, ref="ccgs"),
                Col("lead", "id", required=True, ref="providers"),
                Col("rank", "num", required=True, lo=1.0),
            ),
            ("ccg", "lead"),
            required=False,
        ),
    )
}
#: ``boundaries``: the CCGs' shapes for maps (csu_opt.instance.geo), a file path or a mapping.
TOP_LEVEL_FIELDS = ("schema", "name", "description", "units", "settings", *TABLES, "boundaries")


def suggest(word: str, choices: Any) -> str:
    """``"; did you mean 'x'?"`` when a close spelling exists, else ``""``."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


# --------------------------------------------------------------------------- settings


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class LeadBand(_Model):
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=1)


class SettingsModel(_Model):
    lead_providers: LeadBand = Field(default_factory=LeadBand)
    single_sourcing: bool = True
    max_leads_per_subcontractor: int = Field(default=1, ge=1)
    lead_self_delivery_min_share: float = Field(default=0.0, ge=0.0, le=1.0)
    ccg_choice: Literal["managed", "free"] = "managed"


def validate_settings(raw: Any, file: str, problems: list[Problem]) -> SettingsModel | None:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        problems.append(Problem(file, f"expected a mapping of settings, got {raw!r}", "settings"))
        return None
    try:
        settings = SettingsModel.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            path = ".".join(str(p) for p in err["loc"])
            if err["type"] == "extra_forbidden":
                parent: type[BaseModel] = SettingsModel
                if len(err["loc"]) > 1:
                    parent = LeadBand
                msg = "unknown setting" + suggest(str(err["loc"][-1]), parent.model_fields)
            else:
                msg = f"{err['msg'].lower()}, got {err.get('input')!r}"
            problems.append(Problem(file, msg, "settings", field=path))
        return None
    if settings.ccg_choice == "free" and not settings.single_sourcing:
        problems.append(
            Problem(
                file,
                "free choice means each CCG buys from the one network it prefers: "
                "single_sourcing: false cannot go with ccg_choice: free",
                "settings",
                field="single_sourcing",
            )
        )
    band = settings.lead_providers
    if band.min is not None and band.max is not None and band.min > band.max:
        problems.append(
            Problem(
                file,
                f"min ({band.min}) is above max ({band.max})",
                "settings",
                field="lead_providers",
            )
        )
    return settings


# --------------------------------------------------------------------------- tables

_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f"}


def missing_mask(s: pd.Series) -> np.ndarray:
    """Cells that are empty: None, or blank text (NaN is a value, reported as such)."""
    isnull = s.isna().to_numpy()
    if isnull.any():  # None vs a NaN float: only None (or pandas' NA) means "not given"
        isnull = np.fromiter((v is None or v is pd.NA for v in s), bool, len(s))
    is_str = s.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    blank = np.zeros(len(s), bool)
    if is_str.any():
        blank[is_str] = s[is_str].str.strip().eq("").to_numpy()
    return isnull | blank


class Reporter:
    """Collects problems for one table, listing at most MAX_ROWS_LISTED rows per mistake."""

    def __init__(self, table: RawTable, problems: list[Problem]):
        self.table = table
        self.problems = problems

    def rows(self, mask: np.ndarray, field: str | None, message: Any) -> None:
        """Report every row where ``mask`` holds; ``message(i)`` words the problem at row i."""
        idx = np.flatnonzero(mask)
        for i in idx[:MAX_ROWS_LISTED]:
            text = message(int(i)) if callable(message) else str(message)
            self.problems.append(
                Problem(self.table.file, text, self.table.name, self.table.where(int(i)), field)
            )
        if len(idx) > MAX_ROWS_LISTED:
            self.problems.append(
                Problem(
                    self.table.file,
                    f"... and {len(idx) - MAX_ROWS_LISTED:,} more rows with the same kind of "
                    "problem",
                    self.table.name,
                    None,
                    field,
                )
            )


def split_ids(value: Any) -> tuple[str, ...]:
    """A list of ids as written: ``"A;B"`` in a table cell, or a YAML list ``[A, B]``."""
    items = value if isinstance(value, list | tuple) else str(value).split(";")
    return tuple(t for t in (str(v).strip() for v in items if v is not None) if t)


def _convert_column(col: Col, s: pd.Series, rep: Reporter) -> pd.Series:  # noqa: C901 (frozen, issue 17: to be split)
    """Typed values of one column; every bad cell reported; missing cells get the default."""
    missing = missing_mask(s)
    n = len(s)
    if col.required:
        rep.rows(missing, col.name, "a value is required here")
    if col.kind == "ids":
        return pd.Series(
            [None if m else split_ids(v) for v, m in zip(s, missing, strict=True)],
            index=s.index,
            dtype=object,
        )
    if col.kind in ("id", "str", "enum"):
        # a float NaN (YAML's .nan) is a value, not text: reported, never kept as an id
        is_nan = ~missing & s.map(lambda v: isinstance(v, float) and v != v).to_numpy(bool)
        rep.rows(is_nan, col.name, "expected text, got NaN (not a number)")
        out = s.map(str).str.strip().astype(object).where(~(missing | is_nan), None)
        if col.kind == "enum":
            low = out.where(missing, out.astype(str).str.lower())
            bad = ~(missing | is_nan) & ~low.isin(col.choices).to_numpy()
            rep.rows(
                bad,
                col.name,
                lambda i: (
                    f"expected one of {', '.join(col.choices)}, got {s.iloc[i]!r}"
                    + suggest(str(s.iloc[i]).lower(), col.choices)
                ),
            )
            out = low
        if col.pattern is not None:
            text = out.where(~missing, "").astype(str)
            bad = ~(missing | is_nan) & ~text.str.fullmatch(col.pattern).to_numpy(dtype=bool)
            rep.rows(
                bad,
                col.name,
                lambda i: f"expected a code such as {col.example}, got {s.iloc[i]!r}",
            )
        if col.default is not None:
            out = out.where(~missing, col.default)
        return out
    if col.kind == "bool":
        vals: list[bool | None] = []
        bad = np.zeros(n, bool)
        for i, (v, m) in enumerate(zip(s, missing, strict=True)):
            if m:
                vals.append(col.default)
            elif isinstance(v, bool):
                vals.append(v)
            elif str(v).strip().lower() in _TRUE:
                vals.append(True)
            elif str(v).strip().lower() in _FALSE:
                vals.append(False)
            else:
                vals.append(None)
                bad[i] = True
        rep.rows(bad, col.name, lambda i: f"expected true or false, got {s.iloc[i]!r}")
        return pd.Series(vals, index=s.index, dtype=object)
    # numbers
    is_bool = np.fromiter((isinstance(v, bool) for v in s), bool, n)
    num = pd.to_numeric(s.where(~missing & ~is_bool, None), errors="coerce").astype(float)
    arr = num.to_numpy()
    not_number = ~missing & (np.isnan(arr) | is_bool)
    rep.rows(
        not_number,
        col.name,
        lambda i: (
            "NaN is not allowed here; give a number"
            if isinstance(s.iloc[i], float) or str(s.iloc[i]).strip().lower() == "nan"
            else f"expected a number, got {s.iloc[i]!r}"
        ),
    )
    infinite = ~missing & np.isinf(arr)
    rep.rows(infinite, col.name, lambda i: f"expected a finite number, got {s.iloc[i]!r}")
    finite = ~missing & np.isfinite(arr)
    if col.lo is not None:
        below = finite & (arr < col.lo)
        what = "negative" if col.lo == 0 else f"below {col.lo:g}"
        rep.rows(below, col.name, lambda i: f"{arr[i]:g} is {what}; expected at least {col.lo:g}")
    if col.hi is not None:
        above = finite & (arr > col.hi)
        rep.rows(
            above,
            col.name,
            lambda i: f"{arr[i]:g} is outside {col.lo:g}-{col.hi:g}",
        )
    if col.default is not None:
        arr = np.where(missing, float(col.default), arr)
    return pd.Series(arr, index=s.index, dtype=float)


def validate_table(spec: TableSpec, raw: RawTable, problems: list[Problem]) -> pd.DataFrame:
    """Typed columns of one table (every problem reported); foreign keys are checked later."""
    rep = Reporter(raw, problems)
    frame = raw.frame
    known = {c.name for c in spec.cols}
    for col in frame.columns:
        if col not in known:
            problems.append(
                Problem(
                    raw.file,
                    f"unknown column '{col}'{suggest(col, known)} "
                    f"(columns of {spec.name}: {', '.join(c.name for c in spec.cols)})",
                    spec.name,
                    field=str(col),
                )
            )
    out = {}
    for col in spec.cols:
        if col.name not in frame.columns:
            if col.required and len(frame):
                problems.append(
                    Problem(raw.file, "required column is missing", spec.name, field=col.name)
                )
            fill = col.default
            dtype: Any = float if col.kind == "num" else object
            out[col.name] = pd.Series([fill] * len(frame), index=frame.index, dtype=dtype)
            continue
        out[col.name] = _convert_column(col, frame[col.name], rep)
    typed = pd.DataFrame(out, index=frame.index)
    # duplicate keys
    if all(k in frame.columns for k in spec.key) and len(typed):
        keys = typed[list(spec.key)]
        dup = keys.duplicated(keep="first").to_numpy() & keys.notna().all(axis=1).to_numpy()
        if dup.any():  # where each duplicated key was first given (only when needed)
            first = keys.reset_index(drop=True).drop_duplicates(keep="first")
            first_pos = {
                tuple(r): i for i, r in zip(first.index, first.itertuples(index=False), strict=True)
            }
            rep.rows(
                dup,
                "/".join(spec.key),
                lambda i: (
                    f"duplicate {'/'.join(spec.key)} {'/'.join(map(str, keys.iloc[i]))!s} "
                    f"(first given at {raw.where(first_pos[tuple(keys.iloc[i])])})"
                ),
            )
    return typed


def check_refs(
    spec: TableSpec,
    raw: RawTable,
    typed: pd.DataFrame,
    ids: dict[str, set[str]],
    problems: list[Problem],
) -> None:
    """Every id column names a record of the table it refers to."""
    rep = Reporter(raw, problems)
    for col in spec.cols:
        if col.ref is None or col.ref not in ids or col.name not in raw.frame.columns:
            continue
        known = ids[col.ref]
        vals = typed[col.name]
        if col.kind == "ids":  # every unknown id of each list, in one problem per row
            unknown = [
                [t for t in v if t not in known] if isinstance(v, tuple) else [] for v in vals
            ]
            rep.rows(
                np.array([bool(u) for u in unknown], bool),
                col.name,
                lambda i, col=col, unknown=unknown, known=known: "; ".join(
                    f"'{t}' is not an id in {col.ref}{suggest(t, known)}" for t in unknown[i]
                ),
            )
            continue
        bad = (vals.notna() & ~vals.isin(known)).to_numpy()
        rep.rows(
            bad,
            col.name,
            lambda i, col=col, vals=vals, known=known: (
                f"'{vals.iloc[i]}' is not an id in {col.ref}{suggest(vals.iloc[i], known)}"
            ),
        )
