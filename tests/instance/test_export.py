"""The Excel workbook export: same content, same optimum, bad cells located by sheet and row."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import csu_opt
from csu_opt.instance.export import write_workbook
from csu_opt.instance.load import fingerprint

INSTANCES = Path(__file__).resolve().parents[2] / "instances"
TABLES = (
    "service_lines",
    "providers",
    "capabilities",
    "ccgs",
    "demand",
    "assignment_costs",
    "partnership_costs",
)


def assert_same_content(a: csu_opt.Instance, b: csu_opt.Instance) -> None:
    assert a.name == b.name
    assert a.settings == b.settings
    for t in TABLES:
        left, right = getattr(a, t), getattr(b, t)
        pd.testing.assert_frame_equal(left, right, check_dtype=False, obj=t)
    assert fingerprint(a) == fingerprint(b)


def test_demo_workbook_round_trip_same_content_and_optimum(tmp_path: Path) -> None:
    book = write_workbook(INSTANCES / "demo.yaml", tmp_path / "demo.xlsx", tmp_path / "d.yaml")
    assert book == tmp_path / "demo.xlsx"
    sheets = openpyxl.load_workbook(book, read_only=True).sheetnames
    assert sheets == [
        "service_lines",
        "providers",
        "capabilities",
        "ccgs",
        "demand",
        "assignment_costs",
    ]  # demo has no partnership costs
    csv_version = csu_opt.load_instance(INSTANCES / "demo.yaml")
    xlsx_version = csu_opt.load_instance(tmp_path / "d.yaml")
    assert_same_content(csv_version, xlsx_version)
    a = csu_opt.solve(csv_version, time_limit=60)
    b = csu_opt.solve(xlsx_version, time_limit=60)
    assert a.status == b.status == csu_opt.Status.OPTIMAL
    assert b.objective == pytest.approx(a.objective, rel=1e-9)
    assert sorted(a.leads) == sorted(b.leads)


def test_shipped_workbook_matches_csv_instance() -> None:
    """instances/england-2014.xlsx is what write_workbook makes of the CSV instance."""
    csv_version = csu_opt.load_instance(INSTANCES / "england-2014.yaml")
    xlsx_version = csu_opt.load_instance(INSTANCES / "england-2014-xlsx.yaml")
    assert_same_content(csv_version, xlsx_version)


def test_bad_cell_in_sheet_is_reported_with_sheet_and_row(tmp_path: Path) -> None:
    book = write_workbook(INSTANCES / "demo.yaml", tmp_path / "demo.xlsx", tmp_path / "d.yaml")
    wb = openpyxl.load_workbook(book)
    ws = wb["capabilities"]
    header = [c.value for c in ws[1]]
    col = header.index("capacity") + 1
    ws.cell(row=5, column=col, value="lots")  # the 4th record: sheet row 5
    ws.cell(row=7, column=header.index("quality") + 1, value=140)
    wb.save(book)
    with pytest.raises(csu_opt.InstanceError) as err:
        csu_opt.load_instance(tmp_path / "d.yaml")
    problems = err.value.problems
    assert len(problems) == 2
    by_field = {p.field: p for p in problems}
    cap, qual = by_field["capacity"], by_field["quality"]
    assert "sheet 'capabilities'" in cap.file and cap.file.endswith("(sheet 'capabilities')")
    assert (cap.table, cap.row) == ("capabilities", "row 5")
    assert "'lots'" in cap.message
    assert (qual.row, qual.field) == ("row 7", "quality")
    assert "140" in qual.message
    assert "sheet 'capabilities'" in str(cap) and "row 5" in str(cap)
