"""Reading the tables of an instance file: inline lists, CSV files and Excel sheets.

Every table comes back as a :class:`RawTable`: an object-typed DataFrame of the cells exactly
as written (``None`` where a cell is empty), with the file and the row number a person would
use to find each record. Nothing here interprets values; :mod:`csu_opt.instance.load` does that.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from csu_opt.errors import Problem


@dataclass
class RawTable:
    """A table as written: cells as strings/numbers/None, each row's place in its file."""

    name: str
    frame: pd.DataFrame
    file: str
    row_kind: str  # "row" (inline list, spreadsheet) or "line" (CSV)
    row_numbers: np.ndarray  # what a person sees: list position, CSV line or sheet row
    source_path: Path | None = None  # the file the rows live in, when not the YAML itself

    def where(self, i: int) -> str:
        """The place of positional row ``i`` in words: ``"row 3"`` or ``"line 5"``."""
        return f"{self.row_kind} {int(self.row_numbers[i])}"


def _frame_from_records(
    records: list[Any], table: str, file: str, problems: list[Problem]
) -> pd.DataFrame | None:
    """Columns from an inline list of mappings, absent keys as ``None`` (never NaN)."""
    columns: dict[str, None] = {}
    ok = True
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            problems.append(
                Problem(
                    file,
                    f"expected a record with named fields ({{field: value, ...}}), "
                    f"got {type(rec).__name__} {rec!r}",
                    table,
                    f"row {i + 1}",
                )
            )
            ok = False
            continue
        for key in rec:
            columns.setdefault(str(key), None)
    if not ok:
        return None
    data = {col: [rec.get(col, rec.get(_int_key(col))) for rec in records] for col in columns}
    return pd.DataFrame(data, dtype=object, index=pd.RangeIndex(len(records)))


def _int_key(col: str) -> Any:
    # YAML turns a bare numeric key into an int; look it up under either spelling.
    return int(col) if col.isdigit() else col


def _check_header(header: list[str], table: str, file: str, row: str) -> list[Problem]:
    out = []
    seen: set[str] = set()
    for j, col in enumerate(header):
        name = col.strip()
        if not name:
            out.append(Problem(file, f"column {j + 1} has no name in the header", table, row))
        elif name in seen:
            out.append(Problem(file, f"column '{name}' appears twice in the header", table, row))
        seen.add(name)
    return out


def read_csv_table(path: Path, table: str, problems: list[Problem]) -> RawTable | None:
    """A CSV table: header on line 1; every malformed line reported with its number."""
    label = str(path)
    if not path.is_file():
        problems.append(Problem(label, "CSV file not found", table))
        return None
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            header = next(csv.reader(fh), None)
    except UnicodeDecodeError as exc:
        problems.append(Problem(label, f"not a UTF-8 text file ({exc.reason})", table))
        return None
    if header is None or not any(h.strip() for h in header):
        problems.append(Problem(label, "CSV file is empty (no header line)", table))
        return None
    header_problems = _check_header(header, table, label, "line 1")
    if header_problems:
        problems.extend(header_problems)
        return None
    try:
        frame = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skipinitialspace=True,
            encoding="utf-8-sig",
            skip_blank_lines=False,  # kept, so that row i is on line i + 2 ...
        )
    except (pd.errors.ParserError, ValueError):
        problems.extend(_malformed_csv_lines(path, table, len(header)))
        return None
    frame.columns = [c.strip() for c in frame.columns]
    lines = _csv_lines(frame, quoted=b'"' in path.read_bytes())
    # ... then dropped with the empty rows a spreadsheet writes for rows it thinks are used
    # (",,"; skipinitialspace leaves blank cells empty)
    empty = np.logical_and.reduce([frame[c].to_numpy() == "" for c in frame.columns])
    frame = frame[~empty].reset_index(drop=True).astype(object)
    return RawTable(table, frame, label, "line", lines[~empty], path)


def _csv_lines(frame: pd.DataFrame, quoted: bool) -> np.ndarray:
    """The line each record of a CSV file starts on: line 2 for the first, one more for
    every record before it and every line break inside its quoted cells."""
    lines = np.arange(len(frame)) + 2
    if not quoted or not len(frame):  # line breaks in a cell need quotes
        return lines
    breaks = np.zeros(len(frame), dtype=int)
    for col in frame.columns:
        breaks += frame[col].str.count("\n").to_numpy()
    return lines + np.concatenate(([0], np.cumsum(breaks)[:-1]))


def _malformed_csv_lines(path: Path, table: str, width: int) -> list[Problem]:
    out = []
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        start = reader.line_num + 1
        for fields in reader:
            line, start = start, reader.line_num + 1  # where the record starts
            if any(f.strip() for f in fields) and len(fields) != width:
                out.append(
                    Problem(
                        str(path),
                        f"expected {width} comma-separated fields like the header, "
                        f"found {len(fields)}",
                        table,
                        f"line {line}",
                    )
                )
    return out or [Problem(str(path), "the CSV file could not be parsed", table)]


def read_xlsx_table(path: Path, sheet: str, table: str, problems: list[Problem]) -> RawTable | None:
    """A table from an Excel sheet: header in row 1, records from row 2."""
    label = f"{path} (sheet '{sheet}')"
    if not path.is_file():
        problems.append(Problem(str(path), "Excel workbook not found", table))
        return None
    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        problems.append(Problem(str(path), f"not a readable .xlsx workbook ({exc})", table))
        return None
    if sheet not in book.sheet_names:
        problems.append(
            Problem(
                str(path),
                f"no sheet named '{sheet}' (the workbook has: {', '.join(book.sheet_names)})",
                table,
            )
        )
        return None
    frame = pd.read_excel(book, sheet_name=sheet, dtype=object, header=0)
    header = [str(c) for c in frame.columns]
    bad = [
        Problem(label, f"column {j + 1} has no name in the header", table, "row 1")
        for j, c in enumerate(header)
        if c.startswith("Unnamed:")
    ]
    if bad:
        problems.extend(bad)
        return None
    frame.columns = [c.strip() for c in header]
    frame = frame.astype(object).where(frame.notna(), None)
    keep = ~frame.isna().all(axis=1).to_numpy()
    rows = (np.arange(len(frame)) + 2)[keep]
    frame = frame[keep].reset_index(drop=True)
    return RawTable(table, frame, label, "row", rows, path)


def read_table(spec: Any, table: str, yaml_file: Path, problems: list[Problem]) -> RawTable | None:
    """A table given inline (list of records or DataFrame), as ``{csv: ...}`` or ``{xlsx: ...}``."""
    label = str(yaml_file)
    base = yaml_file.parent
    if isinstance(spec, pd.DataFrame):
        frame = spec.astype(object).where(spec.notna(), None).reset_index(drop=True)
        return RawTable(table, frame, label, "row", np.arange(len(frame)) + 1)
    if isinstance(spec, list):
        frame = _frame_from_records(spec, table, label, problems)
        if frame is None:
            return None
        return RawTable(table, frame, label, "row", np.arange(len(frame)) + 1)
    if isinstance(spec, dict):
        keys = set(spec)
        if keys == {"csv"} and isinstance(spec["csv"], str):
            return read_csv_table(base / spec["csv"], table, problems)
        if keys == {"xlsx", "sheet"} and isinstance(spec["xlsx"], str):
            return read_xlsx_table(base / spec["xlsx"], str(spec["sheet"]), table, problems)
    problems.append(
        Problem(
            label,
            "expected a list of records, {csv: file.csv} or {xlsx: book.xlsx, sheet: NAME}, "
            f"got {spec!r}",
            table,
        )
    )
    return None


def content_hash(yaml_bytes: bytes, tables: list[RawTable]) -> str:
    """sha256 over the YAML text and every table file it names, in a fixed order."""
    digest = hashlib.sha256(yaml_bytes)
    for path in sorted({str(t.source_path) for t in tables if t.source_path is not None}):
        digest.update(b"\0" + Path(path).name.encode() + b"\0")
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()
