"""Shipping an instance as an Excel workbook: one sheet per table (docs/schema.md).

``write_workbook`` loads an instance (so what lands in the workbook is exactly what the loader
validated), writes each table as a sheet of ``out_xlsx`` and, if asked, a YAML file whose
tables point at those sheets as ``{xlsx: book.xlsx, sheet: NAME}``. The YAML file keeps the
instance's name, description, units, settings and boundaries (for maps), so loading it gives
the same instance.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from csu_opt.files import atomic_path, write_text
from csu_opt.instance.load import load_instance
from csu_opt.instance.schema import TABLES

#: Sheet names are the schema's table names (Excel allows at most 31 characters).
SHEETS = tuple(TABLES)


def _sheet_frame(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """A table with the schema's columns in schema order; booleans as true/false text."""
    cols = [c.name for c in TABLES[table].cols if c.name in frame.columns]
    out = frame[cols].copy()
    for col in TABLES[table].cols:
        if col.kind == "bool" and col.name in out.columns:
            out[col.name] = out[col.name].map(  # None: left empty (mergers: derived)
                lambda v: None if v is None else "true" if bool(v) else "false"
            )
    return out


def write_workbook(instance_path: Path, out_xlsx: Path, yaml_out: Path | None = None) -> Path:
    """Write every table of the instance at ``instance_path`` as a sheet of ``out_xlsx``.

    With ``yaml_out``, also write an instance file whose tables are
    ``{xlsx: <path of out_xlsx relative to yaml_out>, sheet: <table>}``. Returns ``out_xlsx``.
    Raises :class:`~csu_opt.errors.InstanceError` if the instance does not load.
    """
    instance_path, out_xlsx = Path(instance_path), Path(out_xlsx)
    inst = load_instance(instance_path)
    doc = inst.to_document()
    out_xlsx.parent.mkdir(parents=True, exist_ok=True)
    present = [t for t in SHEETS if t in TABLES and _has_rows(doc[t])]
    with atomic_path(out_xlsx) as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as book:
        for table in present:
            _sheet_frame(table, doc[table]).to_excel(book, sheet_name=table, index=False)
    if yaml_out is not None:
        yaml_out = Path(yaml_out)
        rel = Path(os.path.relpath(out_xlsx.resolve(), yaml_out.resolve().parent)).as_posix()
        out: dict[str, Any] = {
            "schema": doc["schema"],
            "name": doc["name"],
            "description": doc["description"],
            "units": doc["units"],
            "settings": doc["settings"],
        }
        for table in present:
            out[table] = {"xlsx": rel, "sheet": table}
        if "boundaries" in doc:  # the map's file, relative to the new instance file
            shapes = dict(doc["boundaries"])
            shapes["file"] = Path(
                os.path.relpath(shapes["file"], yaml_out.resolve().parent)
            ).as_posix()
            out["boundaries"] = shapes
        header = (
            f"# {doc['name']} as an Excel workbook: every table is a sheet of {rel}.\n"
            f"# Written by csu_opt.instance.export.write_workbook from {instance_path.name};\n"
            "# the notes on which numbers are facts and which are assumptions are in that file.\n"
        )
        yaml_out.parent.mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump(out, sort_keys=False, allow_unicode=True, width=100)
        write_text(yaml_out, header + text)
    return out_xlsx


def _has_rows(table: Any) -> bool:
    return isinstance(table, pd.DataFrame) and len(table) > 0
