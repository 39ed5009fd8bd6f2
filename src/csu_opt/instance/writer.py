"""Writing an in-memory instance document to disk: one YAML file plus CSV tables.

Used by the generator, the benchmark converters and the workbook export, so that every
instance csu-opt writes is read back by exactly the loader a planner uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from csu_opt.files import write_text
from csu_opt.instance.schema import TABLES

#: Tables with at most this many records stay inline in the YAML file.
INLINE_MAX = 12


def _records(table: Any) -> list[dict[str, Any]]:
    if isinstance(table, pd.DataFrame):
        return [
            {k: (v.item() if hasattr(v, "item") else v) for k, v in rec.items() if v is not None}
            for rec in table.astype(object).where(table.notna(), None).to_dict("records")
        ]
    return list(table)


def write_document(
    doc: dict[str, Any],
    folder: str | Path,
    *,
    inline_max: int = INLINE_MAX,
    header: str | None = None,
) -> Path:
    """Write ``doc`` as ``folder/<name>.yaml`` with large tables in ``folder/<name>/*.csv``.

    Returns the YAML path. ``header`` is written as a leading comment block.
    """
    folder = Path(folder)
    name = str(doc["name"])
    table_dir = folder / name
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if key not in TABLES or value is None:
            out[key] = value
            continue
        frame = value if isinstance(value, pd.DataFrame) else pd.DataFrame(_records(value))
        if len(frame) <= inline_max:
            out[key] = _records(frame)
            continue
        table_dir.mkdir(parents=True, exist_ok=True)
        write_text(table_dir / f"{key}.csv", frame.to_csv(index=False))
        out[key] = {"csv": f"{name}/{key}.csv"}
    path = folder / f"{name}.yaml"
    text = yaml.safe_dump(out, sort_keys=False, allow_unicode=True, width=100)
    if header:
        text = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines()) + text
    return write_text(path, text)
