"""docs/schema.md documents exactly the schema the loader enforces (schema.TABLES and the
settings model): every table, column, type, requirement, default and range; nothing more."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from csu_opt.instance.schema import TABLES, TOP_LEVEL_FIELDS, Col, LeadBand, SettingsModel

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
TYPES = {
    "id": "id",
    "ids": "ids",
    "str": "text",
    "num": "number",
    "bool": "true/false",
    "enum": "choice",
}
HEADER = ["column", "type", "required", "default", "allowed", "unit", "meaning"]


def section(heading: str) -> str:
    """The text under a heading, up to the next heading of the same or a higher level."""
    level = heading.split(" ", 1)[0]
    match = re.search(rf"^{re.escape(heading)}$(.*?)(?=^#{{1,{len(level)}}} |\Z)", DOC, re.M | re.S)
    assert match, f"docs/schema.md has no section {heading!r}"
    return match.group(1)


def rows(text: str) -> list[list[str]]:
    """The cells of the first markdown table in ``text`` (header first, rule line left out)."""
    lines = [ln for ln in text.splitlines() if ln.startswith("|")]
    cells = [[c.strip() for c in ln.strip().strip("|").split("|")] for ln in lines]
    return [c for c in cells if not all(set(x) <= {"-", ":"} for x in c)]


def plain(cell: str) -> str:
    return cell.replace("`", "").strip()


def default_text(col: Col) -> str:
    if col.default is None:
        return ""
    if isinstance(col.default, bool):
        return "true" if col.default else "false"
    if isinstance(col.default, float):
        return f"{col.default:g}"
    return "empty" if col.default == "" else str(col.default)


def allowed_text(col: Col) -> str:
    if col.kind == "enum":
        return ", ".join(col.choices)
    if col.ref is not None:
        return f"{'ids' if col.kind == 'ids' else 'id'} in {col.ref}"
    if col.lo is not None and col.hi is not None:
        return f"{col.lo:g}-{col.hi:g}"
    if col.lo is not None:
        return f">= {col.lo:g}"
    if col.pattern is not None:
        return f"like {col.example}"
    return ""


@pytest.mark.parametrize("table", list(TABLES))
def test_every_table_and_column_is_documented_as_enforced(table):
    spec = TABLES[table]
    kind = "required" if spec.required else "optional"
    found = rows(section(f"### `{table}` ({kind})"))
    assert found[0] == HEADER
    documented = {plain(r[0]): r for r in found[1:]}
    assert list(documented) == [c.name for c in spec.cols], "columns (in schema order)"
    for col in spec.cols:
        _, typ, required, default, allowed, _unit, meaning = documented[col.name]
        where = f"{table}.{col.name}"
        assert typ == TYPES[col.kind], where
        assert (required == "yes") == col.required, where
        assert plain(default) == default_text(col), where
        assert plain(allowed) == allowed_text(col), where
        assert meaning, where


def test_every_setting_and_top_level_field_is_documented():
    found = rows(section("## Settings"))
    documented = [plain(r[0]) for r in found[1:]]
    expected = [
        f"{name}.{sub}" if name == "lead_providers" else name
        for name in SettingsModel.model_fields
        for sub in (LeadBand.model_fields if name == "lead_providers" else [""])
    ]
    assert documented == [e.rstrip(".") for e in expected]
    defaults = {plain(r[0]): plain(r[2]) for r in found[1:]}
    model = SettingsModel()
    assert defaults["single_sourcing"] == str(model.single_sourcing).lower()
    assert defaults["max_leads_per_subcontractor"] == str(model.max_leads_per_subcontractor)
    assert float(defaults["lead_self_delivery_min_share"]) == model.lead_self_delivery_min_share
    assert defaults["lead_providers.min"] == defaults["lead_providers.max"] == "none"
    top = {
        f.strip() for r in rows(section("## Top-level fields"))[1:] for f in plain(r[0]).split(",")
    }
    assert top == set(TOP_LEVEL_FIELDS)
