"""Sensitivity sweeps: a base instance, varied parameters, one case per combination.

A case is a tuple of overrides (``settings.lead_providers.max=12``, ``demand.volume*=1.5``)
with a stable key derived from them, so the same command always names the same cases and a
re-run resumes. Results go to ``sweep.db`` (SQLite, one row per case, committed as each case
finishes) and each case's full solution to ``cases/<key>/``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from csu_opt.analysis.proof import Optimum
from csu_opt.errors import UsageError
from csu_opt.instance.overrides import parse_override

#: Override keys a kept model can take as parameter changes without a rebuild.
PERSISTABLE = ("settings.lead_providers.min", "settings.lead_providers.max", "demand.volume")


@dataclass(frozen=True)
class Axis:
    """One varied parameter: a key and its values; ``scale`` multiplies a column."""

    key: str
    values: tuple[Any, ...]
    scale: bool = False

    def override(self, value: Any) -> str:
        return f"{self.key}{'*' if self.scale else ''}={_text(value)}"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_values(text: str) -> tuple[Any, ...]:
    """``"10,12,15"`` (YAML scalars) or an inclusive range ``"50:80:10"``."""
    text = text.strip()
    if ":" in text and "," not in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise UsageError(f"range {text!r}: expected START:STOP:STEP, e.g. 50:80:10")
        try:
            start, stop, step = (yaml.safe_load(p) for p in parts)
            if not all(isinstance(v, int | float) for v in (start, stop, step)) or step <= 0:
                raise ValueError
        except (ValueError, yaml.YAMLError):
            raise UsageError(
                f"range {text!r}: START, STOP and a positive STEP must be numbers"
            ) from None
        n = math.floor((stop - start) / step + 1e-9) + 1
        if n < 1:
            raise UsageError(f"range {text!r} is empty")
        vals = [start + i * step for i in range(n)]
        if all(isinstance(v, int) for v in (start, step)):
            return tuple(int(v) for v in vals)
        return tuple(round(v, 12) for v in vals)
    values = tuple(yaml.safe_load(v) for v in text.split(",") if v.strip())
    if not values:
        raise UsageError(f"no values in {text!r}")
    return values


def parse_axis(spec: str, scale: bool = False) -> Axis:
    """``KEY=V1,V2,...`` or ``KEY=START:STOP:STEP`` into an :class:`Axis`."""
    if "=" not in spec:
        raise UsageError(f"{spec!r}: expected KEY=V1,V2,... or KEY=START:STOP:STEP")
    key, _, values = spec.partition("=")
    axis = Axis(key.strip(), parse_values(values), scale)
    for v in axis.values:  # the key and every value must make a well-formed override
        parse_override(axis.override(v))
    return axis


@dataclass(frozen=True)
class Case:
    key: str
    values: dict[str, Any]
    overrides: tuple[str, ...]

    @staticmethod
    def make(values: dict[str, Any], overrides: tuple[str, ...]) -> Case:
        digest = hashlib.sha256("\n".join(sorted(overrides)).encode()).hexdigest()[:12]
        return Case(f"case-{digest}", values, overrides)


@dataclass
class SweepSpec:
    """What a sweep runs: base instance, fixed overrides, axes, grid or one-at-a-time."""

    instance: Path
    axes: list[Axis]
    base_overrides: tuple[str, ...] = ()
    one_at_a_time: bool = False
    options: dict[str, Any] = field(default_factory=dict)

    def cases(self) -> list[Case]:
        if not self.axes:
            return [Case.make({}, ())]
        keys = [a.key for a in self.axes]
        if len(set(keys)) != len(keys):
            raise UsageError("a key is varied twice in the sweep")
        out: list[Case] = []
        if self.one_at_a_time:
            out.append(Case.make({}, ()))  # the base case
            for axis in self.axes:
                for v in axis.values:
                    out.append(Case.make({axis.key: v}, (axis.override(v),)))
        else:
            for combo in itertools.product(*(a.values for a in self.axes)):
                values = dict(zip(keys, combo, strict=True))
                ovr = tuple(a.override(v) for a, v in zip(self.axes, combo, strict=True))
                out.append(Case.make(values, ovr))
        unique: dict[str, Case] = {}
        for c in out:
            unique.setdefault(c.key, c)
        return list(unique.values())


def load_sweep_file(path: Path) -> dict[str, Any]:
    """A sweep file: ``instance``, ``vary`` {key: values}, ``scale``, ``set``, options."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"sweep file {path}: {exc}") from None
    allowed = {
        "instance",
        "vary",
        "scale",
        "set",
        "one_at_a_time",
        "time_limit",
        "mip_gap",
        "polish",
    }
    unknown = set(doc) - allowed
    if unknown:
        raise UsageError(
            f"sweep file {path}: unknown fields {sorted(unknown)}; use {sorted(allowed)}"
        )

    def axes(section: str, scale: bool) -> list[Axis]:
        items = doc.get(section) or {}
        if not isinstance(items, dict):
            raise UsageError(f"sweep file {path}: '{section}' must map keys to values")
        out = []
        for key, vals in items.items():
            text = vals if isinstance(vals, str) else ",".join(_text(v) for v in vals)
            out.append(parse_axis(f"{key}={text}", scale))
        return out

    inst = doc.get("instance")
    return {
        "instance": (path.parent / inst) if inst else None,
        "axes": axes("vary", False) + axes("scale", True),
        "set": tuple(doc.get("set") or ()),
        "one_at_a_time": bool(doc.get("one_at_a_time", False)),
        "time_limit": doc.get("time_limit"),
        "mip_gap": doc.get("mip_gap"),
        "polish": doc.get("polish"),
    }


def split_persistable(overrides: tuple[str, ...]) -> tuple[tuple[str, ...], dict[str, Any]]:
    """Overrides that change the model's structure, and the parameter values of the rest."""
    structural = []
    params: dict[str, Any] = {}
    for text in overrides:
        o = parse_override(text)
        key = ".".join(o.path)
        if key in PERSISTABLE[:2] and not o.scale:
            params[o.path[-1]] = o.value
        elif key == "demand.volume" and o.scale:
            params["demand_scale"] = params.get("demand_scale", 1.0) * float(o.value)
        else:
            structural.append(text)
    return tuple(structural), params


# --------------------------------------------------------------------------- storage

_COLUMNS = {
    "case_key": "TEXT PRIMARY KEY",
    "params": "TEXT",
    "overrides": "TEXT",
    "status": "TEXT",
    "objective": "REAL",
    "best_bound": "REAL",
    "mip_gap": "REAL",
    "leads": "TEXT",
    "n_leads": "INTEGER",
    "n_subcontractors": "INTEGER",
    "n_exits": "INTEGER",
    "roles": "TEXT",
    "lead_fixed": "REAL",
    "subcontractor_fixed": "REAL",
    "partnership": "REAL",
    "delivery": "REAL",
    "assignment": "REAL",
    "exit": "REAL",
    "build_s": "REAL",
    "handover_s": "REAL",
    "solve_s": "REAL",
    "total_s": "REAL",
    "warm_start": "INTEGER",
    "verified": "INTEGER",
    "worker": "TEXT",
    "error": "TEXT",
    "finished_at": "TEXT",
}
FINISHED = ("optimal", "feasible", "infeasible", "no_solution")


class SweepStore:
    """``sweep.db``: one row per case, each committed when its case finishes."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "sweep.db"
        self.db = sqlite3.connect(self.path, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        cols = ", ".join(f'"{k}" {v}' for k, v in _COLUMNS.items())
        self.db.execute(f"CREATE TABLE IF NOT EXISTS cases ({cols})")
        self.db.commit()

    def finished(self) -> set[str]:
        marks = ",".join("?" * len(FINISHED))
        rows = self.db.execute(f"SELECT case_key FROM cases WHERE status IN ({marks})", FINISHED)
        return {r[0] for r in rows}

    def record(self, row: dict[str, Any]) -> None:
        keys = [k for k in _COLUMNS if k in row]
        sql = (
            f"INSERT OR REPLACE INTO cases ({', '.join(f'{k!r}' for k in keys)}) "
            f"VALUES ({', '.join('?' * len(keys))})"
        )
        with self.db:
            self.db.execute(sql, [row[k] for k in keys])

    def forget(self, keys: list[str]) -> None:
        """Delete the rows of ``keys`` (their cases are solved again by the next run)."""
        with self.db:
            self.db.executemany("DELETE FROM cases WHERE case_key = ?", [(k,) for k in keys])

    def frame(self, keys: list[str] | None = None) -> pd.DataFrame:
        df = pd.read_sql_query("SELECT * FROM cases", self.db)
        if keys is not None:
            df = df[df["case_key"].isin(keys)]
        return df.reset_index(drop=True)

    def close(self) -> None:
        self.db.close()


def case_proven(status: Any, objective: Any, best_bound: Any, mip_gap: Any) -> bool:
    """A stored case is proven when optimal within the gap (with its bound) or infeasible."""

    def num(x: Any) -> float | None:
        return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)

    return Optimum(str(status), num(objective), num(best_bound), num(mip_gap)).proven


def export_frame(store: SweepStore, cases: list[Case], axes: list[Axis]) -> pd.DataFrame:
    """One row per finished case: a column per varied key, then the results (``proven``:
    optimal within the gap or proven infeasible; a case stopped at a limit is not, and its
    optimum lies between ``best_bound`` and ``objective``)."""
    df = store.frame([c.key for c in cases]).set_index("case_key")
    rows = []
    for c in cases:
        if c.key not in df.index or df.at[c.key, "status"] not in FINISHED:
            continue
        r = df.loc[c.key]
        row: dict[str, Any] = {"case": c.key}
        for a in axes:
            row[a.key] = c.values.get(a.key, "base")
        leads = json.loads(r["leads"]) if r["leads"] else []
        row.update(
            status=r["status"],
            objective=r["objective"],
            best_bound=r["best_bound"],
            mip_gap=r["mip_gap"],
            proven=case_proven(r["status"], r["objective"], r["best_bound"], r["mip_gap"]),
            leads=";".join(leads),
            n_leads=r["n_leads"],
            n_subcontractors=r["n_subcontractors"],
            n_exits=r["n_exits"],
        )
        for k in (
            "lead_fixed",
            "subcontractor_fixed",
            "partnership",
            "delivery",
            "assignment",
            "exit",
            "build_s",
            "handover_s",
            "solve_s",
            "total_s",
        ):
            row[k] = r[k]
        rows.append(row)
    return pd.DataFrame(rows)


def mark_lead_changes(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """``frame`` (one row per case, a column ``key``) sorted by ``key``, with a column
    ``leads_changed``: true where the set of leads differs from the case before (the upper
    side of a tipping point)."""
    if frame.empty:
        return frame.assign(leads_changed=pd.Series(dtype=bool))
    out = frame.sort_values(key, kind="stable").reset_index(drop=True)
    lead_sets = [
        frozenset(str(s).split(";")) if status in ("optimal", "feasible") else None
        for s, status in zip(out["leads"], out["status"], strict=True)
    ]
    changed = [False] + [a != b for a, b in itertools.pairwise(lead_sets)]
    return out.assign(leads_changed=changed)
