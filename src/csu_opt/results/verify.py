"""An independent check of a solution against every rule of model/formulation.md (C1-C11,
and C12 under free choice).

``verify`` reads a result folder (summary.json, roles.csv, assignments.csv, flows.csv) and the
validated instance, never the Pyomo model: it rebuilds the decisions from the files

- u[l] = 1 for the providers whose role is ``lead``; a[p] = 0 for ``exit``;
- w[p,l] = 1 for every lead l named in a subcontractor's ``leads`` column;
- z[l,c] = ``share`` and x[p,l,s] = ``volume`` from assignments.csv and flows.csv;
- mergers: a merged body is formed (a[M] = 1) when it is listed as lead or subcontractor (an
  unformed body may be left out of roles.csv); a member whose role is ``merged`` names its
  body in ``leads``,

checks integrality and each rule with the tolerances of :class:`Tolerances`, and recomputes the
objective and its breakdown (six parts, and ``merger`` for an instance with mergers). Every
violation is worded for a planner: which provider, line or CCG, and by how much.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from csu_opt.errors import ResultFolderError, UsageError
from csu_opt.instance.load import Instance, load_instance
from csu_opt.numbers import number
from csu_opt.results.checks import Tolerances, VerifyReport, Violation, check
from csu_opt.results.solution import Solution

_COLUMNS = {
    "roles.csv": ("provider", "role", "leads"),
    "assignments.csv": ("ccg", "lead", "share"),
    "flows.csv": ("provider", "lead", "service_line", "volume"),
}
_NUMERIC = {"assignments.csv": ("share",), "flows.csv": ("volume",)}


# --------------------------------------------------------------------------- reading


def _read_csv(folder: Path, name: str, out: list[Violation]) -> pd.DataFrame | None:
    path = folder / name
    if not path.is_file():
        out.append(Violation("files", f"{name} is missing from {folder}"))
        return None
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        out.append(Violation("files", f"{name} cannot be read: {exc}"))
        return None
    return frame


def _read_summary(folder: Path, out: list[Violation]) -> dict[str, Any] | None:
    path = folder / "summary.json"
    if not path.is_file():
        out.append(Violation("files", f"summary.json is missing from {folder}"))
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        out.append(Violation("files", f"summary.json is not valid JSON: {exc}"))
        return None
    if not isinstance(data, dict):
        out.append(Violation("files", "summary.json does not hold a mapping of fields"))
        return None
    return data


def _normalise(name: str, frame: pd.DataFrame, out: list[Violation]) -> pd.DataFrame | None:
    """String id columns and float number columns; bad cells reported and their rows dropped."""
    missing = [c for c in _COLUMNS[name] if c not in frame.columns]
    if missing:
        out.append(Violation("files", f"{name} lacks the column(s) {', '.join(missing)}"))
        return None
    frame = frame.reset_index(drop=True).copy()
    for col in _COLUMNS[name]:
        if col not in _NUMERIC.get(name, ()):
            frame[col] = frame[col].map(lambda v: "" if v is None else str(v).strip())
    keep = np.ones(len(frame), bool)
    for col in _NUMERIC.get(name, ()):
        raw = frame[col]
        num = pd.to_numeric(raw, errors="coerce").astype(float)
        bad = ~np.isfinite(num.to_numpy())
        for i in np.flatnonzero(bad):
            out.append(
                Violation("files", f"{name} line {i + 2}: {col} {raw.iloc[i]!r} is not a number")
            )
        keep &= ~bad
        frame[col] = num
    return frame[keep].reset_index(drop=True)


def verify(instance: Instance, folder: str | Path, tol: Tolerances | None = None) -> VerifyReport:
    """Check the result folder ``folder`` against ``instance`` (files only, no model)."""
    folder = Path(folder)
    problems: list[Violation] = []
    summary = _read_summary(folder, problems)
    frames = {}
    for name in _COLUMNS:
        raw = _read_csv(folder, name, problems)
        frames[name] = None if raw is None else _normalise(name, raw, problems)
    if summary is None or any(f is None for f in frames.values()):
        return VerifyReport(False, problems, None, None, None, tol or Tolerances())
    return check(
        instance,
        frames["roles.csv"],
        frames["assignments.csv"],
        frames["flows.csv"],
        summary,
        tol,
        problems,
    )


def verify_run(
    instance_path: str | Path | None, folder: str | Path, tol: Tolerances | None = None
) -> VerifyReport:
    """``csu-opt verify [INSTANCE] RUN``: the instance with the overrides the run recorded.

    Without ``instance_path`` the instance file recorded in the run's summary.json is used
    (as ``plot``, ``report`` and ``resilience`` do). A run solved with ``--set`` overrides is
    checked against the same changed instance. When the instance's content differs from the
    one the run was solved with, ``instance_changed`` says so. Bad input raises
    :class:`~csu_opt.errors.InstanceError` or ``UsageError`` like ``validate``.
    """

    problems: list[Violation] = []
    summary = _read_summary(Path(folder), problems)
    record = summary.get("instance") if summary else None
    record = record if isinstance(record, dict) else {}
    overrides = [str(o) for o in record.get("overrides") or []]
    if instance_path is None:
        instance_path = recorded_instance(Path(folder), record, summary is not None)
    instance = load_instance(instance_path, overrides)
    report = verify(instance, folder, tol)
    if overrides:
        report.notes.append(f"checked with the run's overrides: {' '.join(overrides)}")
    sha = record.get("sha256")
    if sha and instance.sha256 and sha != instance.sha256:
        report.instance_changed = (
            f"the instance {instance_path} differs from the one the run was solved with "
            f"(sha256 {instance.sha256[:12]}... now, {str(sha)[:12]}... in summary.json)"
        )
    return report


def recorded_instance(folder: Path, record: dict[str, Any], has_summary: bool = True) -> Path:
    """The instance file a run's summary.json names: as written, or relative to the working
    folder, the result folder or its parents. ``UsageError`` when there is none."""

    hint = f"give it: csu-opt verify INSTANCE {folder}"
    if not has_summary:
        raise ResultFolderError(
            f"{folder} is not a result folder: no readable summary.json names its instance; {hint}"
        )
    raw = record.get("path")
    if not raw or raw == "<memory>":
        raise UsageError(f"{folder}: summary.json does not record the instance file; {hint}")
    path = Path(raw)
    bases = [Path.cwd(), folder, *folder.resolve().parents[:4]]
    candidates = [path] if path.is_absolute() else [b / path for b in bases]
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:
        raise UsageError(f"the run's instance file {raw} is not found; {hint}")
    return found


def verify_solution(
    instance: Instance, solution: Solution, tol: Tolerances | None = None
) -> VerifyReport:
    """The same checks on an in-memory :class:`Solution` (what ``solve`` runs after a solve)."""
    problems: list[Violation] = []
    frames = {}
    for name, frame in (
        ("roles.csv", solution.roles),
        ("assignments.csv", solution.assignments),
        ("flows.csv", solution.flows),
    ):
        frames[name] = _normalise(name, frame.astype(object), problems)
    if any(f is None for f in frames.values()):
        return VerifyReport(False, problems, None, None, solution.objective, tol or Tolerances())
    return check(
        instance,
        frames["roles.csv"],
        frames["assignments.csv"],
        frames["flows.csv"],
        solution.summary(),
        tol,
        problems,
    )


# --------------------------------------------------------------------------- rendering


def format_report(report: VerifyReport, max_listed: int | None = None) -> list[str]:
    """The report as lines of text for the command line.

    A changed instance is said first: against another instance most violations only echo
    that difference, so at most ``max_listed`` (default 10 then, all otherwise) are listed.
    """
    lines = []
    if report.instance_changed:
        lines.append(f"WARNING: {report.instance_changed}.")
        lines.append(
            "  Violations found against it may only reflect that difference; verify "
            "against the instance the run was solved with."
        )
        if max_listed is None:
            max_listed = 10
    if report.ok:
        lines.append(
            f"verified: the solution satisfies every rule C1-{report.last_rule} "
            f"(objective {number(report.objective)})"
        )
    else:
        n = len(report.violations)
        counts = Counter(v.rule for v in report.violations)
        by_rule = ", ".join(f"{r} {counts[r]}" if counts[r] > 1 else r for r in sorted(counts))
        lines.append(f"NOT verified: {n} violation{'s' if n != 1 else ''} ({by_rule})")
        shown = report.violations if max_listed is None else report.violations[:max_listed]
        lines.extend(f"  - {v}" for v in shown)
        if len(shown) < n:
            lines.append(f"  ... and {n - len(shown)} more")
    if report.breakdown is not None:
        parts = ", ".join(f"{k} {number(v)}" for k, v in vars(report.breakdown).items())
        lines.append(
            f"recomputed objective {number(report.objective)} "
            f"(summary.json: {number(report.reported_objective)}): {parts}"
        )
    lines.append(f"tolerances: {report.tolerances.describe()}")
    lines.extend(f"note: {n}" for n in report.notes)
    return lines
