"""Bad input: every problem found, each located by file, table, row and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import csu_opt
from csu_opt import InstanceError, UsageError
from csu_opt.errors import Problem

DATA = Path(__file__).parents[1] / "data"
TINY = DATA / "tiny.yaml"


def tiny_doc() -> dict:
    return yaml.safe_load(TINY.read_text())


def write(tmp_path: Path, doc: dict, name: str = "inst.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def problems_of(path: Path, overrides: tuple[str, ...] = ()) -> list[Problem]:
    with pytest.raises(InstanceError) as info:
        csu_opt.load_instance(path, overrides)
    return info.value.problems


def has(problems: list[Problem], *, table=None, row=None, field=None, text="") -> bool:
    return any(
        (table is None or p.table == table)
        and (row is None or p.row == row)
        and (field is None or p.field == field)
        and text in p.message
        for p in problems
    )


def mutate(doc: dict, table: str, row: int, **changes) -> dict:
    doc[table][row].update(changes)
    return doc


CASES = [
    # (description, mutation, expected location and words)
    (
        "typo in field name",
        lambda d: mutate(d, "providers", 0, lead_fixd_cost=1),
        {"table": "providers", "field": "lead_fixd_cost", "text": "did you mean 'lead_fixed_cost'"},
    ),
    (
        "text where a number belongs",
        lambda d: mutate(d, "capabilities", 2, capacity="fifty"),
        {"table": "capabilities", "row": "row 3", "field": "capacity", "text": "'fifty'"},
    ),
    (
        "NaN",
        lambda d: mutate(d, "capabilities", 0, unit_cost=float("nan")),
        {"table": "capabilities", "row": "row 1", "field": "unit_cost", "text": "NaN"},
    ),
    (
        "NaN as an id (YAML .nan)",
        lambda d: mutate(d, "capabilities", 4, provider=float("nan")),
        {"table": "capabilities", "row": "row 5", "field": "provider", "text": "got NaN"},
    ),
    (
        "NaN as a line id",
        lambda d: mutate(d, "demand", 1, service_line=float("nan")),
        {"table": "demand", "row": "row 2", "field": "service_line", "text": "got NaN"},
    ),
    (
        "NaN as an enum",
        lambda d: mutate(d, "providers", 2, kind=float("nan")),
        {"table": "providers", "row": "row 3", "field": "kind", "text": "got NaN"},
    ),
    (
        "infinity",
        lambda d: mutate(d, "demand", 0, volume=float("inf")),
        {"table": "demand", "row": "row 1", "field": "volume", "text": "finite"},
    ),
    (
        "negative capacity",
        lambda d: mutate(d, "capabilities", 1, capacity=-5),
        {"table": "capabilities", "row": "row 2", "field": "capacity", "text": "negative"},
    ),
    (
        "negative demand",
        lambda d: mutate(d, "demand", 3, volume=-1),
        {"table": "demand", "row": "row 4", "field": "volume", "text": "negative"},
    ),
    (
        "quality above 100",
        lambda d: mutate(d, "capabilities", 4, quality=101),
        {"table": "capabilities", "row": "row 5", "field": "quality", "text": "0-100"},
    ),
    (
        "unknown provider id",
        lambda d: mutate(d, "capabilities", 0, provider="P7"),
        {"table": "capabilities", "row": "row 1", "field": "provider", "text": "'P7'"},
    ),
    (
        "unknown line id with suggestion",
        lambda d: mutate(d, "demand", 0, service_line="a"),
        {"table": "demand", "field": "service_line", "text": "not an id in service_lines"},
    ),
    (
        "duplicate id",
        lambda d: mutate(d, "providers", 1, id="P1"),
        {"table": "providers", "row": "row 2", "field": "id", "text": "first given at row 1"},
    ),
    (
        "missing required value",
        lambda d: mutate(d, "capabilities", 0, quality=None),
        {"table": "capabilities", "row": "row 1", "field": "quality", "text": "required"},
    ),
    (
        "bad kind",
        lambda d: mutate(d, "providers", 0, kind="NHS"),
        {"table": "providers", "field": "kind", "text": "expected one of"},
    ),
    (
        "bad boolean",
        lambda d: mutate(d, "providers", 2, can_subcontract="sometimes"),
        {"table": "providers", "row": "row 3", "field": "can_subcontract", "text": "true or false"},
    ),
    (
        "min above max",
        lambda d: d["settings"]["lead_providers"].update(min=3, max=2) or d,
        {"table": "settings", "field": "lead_providers", "text": "min (3) is above max (2)"},
    ),
    (
        "unknown setting",
        lambda d: d["settings"].update(max_leads=3) or d,
        {"table": "settings", "field": "max_leads"},
    ),
    (
        "share out of range",
        lambda d: d["settings"].update(lead_self_delivery_min_share=1.5) or d,
        {"table": "settings", "field": "lead_self_delivery_min_share"},
    ),
    (
        "unsupported schema",
        lambda d: d.update(schema="csu-opt/9") or d,
        {"field": "schema", "text": "unsupported schema version"},
    ),
    (
        "missing table",
        lambda d: d.pop("demand") and d,
        {"table": "demand", "text": "required table is missing"},
    ),
    (
        "ONS code of the wrong form",
        lambda d: mutate(d, "ccgs", 1, ons_code="E39000001"),
        {"table": "ccgs", "row": "row 2", "field": "ons_code", "text": "such as E38000001"},
    ),
    (
        "ONS code that is a number",
        lambda d: mutate(d, "ccgs", 0, ons_code=38000001),
        {"table": "ccgs", "row": "row 1", "field": "ons_code", "text": "38000001"},
    ),
    (
        "CCG served by an unknown provider",
        lambda d: mutate(d, "ccgs", 2, csu="P9"),
        {"table": "ccgs", "row": "row 3", "field": "csu", "text": "'P9' is not an id in providers"},
    ),
    (
        "lead without fixed cost",
        lambda d: d["providers"][0].pop("lead_fixed_cost") and d,
        {"table": "providers", "row": "row 1", "field": "lead_fixed_cost"},
    ),
]


@pytest.mark.parametrize("mutation,expect", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_mistake_is_located(tmp_path, mutation, expect):
    path = write(tmp_path, mutation(tiny_doc()))
    problems = problems_of(path)
    assert has(problems, **expect), "\n".join(map(str, problems))
    assert all(p.file == str(path) for p in problems if p.table != "capabilities")


def test_every_problem_is_collected_in_one_pass(tmp_path):
    doc = tiny_doc()
    doc["extra_field"] = 1
    mutate(doc, "providers", 0, exit_cost=-1)
    mutate(doc, "capabilities", 1, quality="high")
    mutate(doc, "demand", 2, ccg="C9")
    doc["settings"]["single_sorcing"] = True
    problems = problems_of(write(tmp_path, doc))
    fields = {p.field for p in problems}
    assert {"extra_field", "exit_cost", "quality", "ccg", "single_sorcing"} <= fields


def test_real_ccg_columns_are_optional_and_kept(tmp_path):
    """ons_code, area_team and csu (the England instances' real CCGs) load as given."""
    doc = tiny_doc()
    mutate(doc, "ccgs", 0, name="NHS Airedale, Wharfedale and Craven", ons_code="E38000001")
    mutate(doc, "ccgs", 0, area_team="West Yorkshire", region="North of England", csu="P1")
    inst = csu_opt.load_instance(write(tmp_path, doc))
    c1 = inst.ccgs.loc["C1"]
    assert (c1["ons_code"], c1["area_team"], c1["csu"]) == ("E38000001", "West Yorkshire", "P1")
    assert inst.ccgs.loc["C2", ["ons_code", "area_team", "csu"]].isna().all()
    # and survive a round trip through the in-memory document (--set, what-ifs)
    again = inst.with_changes(["ccgs.C2.area_team=Essex"])
    assert again.ccgs.loc["C1", "ons_code"] == "E38000001"
    assert again.ccgs.loc["C2", "area_team"] == "Essex"


def test_csv_tables_name_the_csv_file_and_line(tmp_path):
    doc = tiny_doc()
    (tmp_path / "caps.csv").write_text(
        "provider,service_line,capacity,quality,unit_cost\n"
        "P1,A,100,70,1\n"
        "P1,B,abc,40,1\n"
        "P2,A,50,60,2,9\n"
    )
    doc["capabilities"] = {"csv": "caps.csv"}
    problems = problems_of(write(tmp_path, doc))
    # a malformed row stops the reading of that file, with its line number
    assert has(problems, table="capabilities", row="line 4", text="expected 5")
    (tmp_path / "caps.csv").write_text(
        "provider,service_line,capacity,quality,unit_cost\nP1,A,100,70,1\nP1,B,abc,40,1\n"
    )
    problems = problems_of(tmp_path / "inst.yaml")
    assert has(problems, table="capabilities", row="line 3", field="capacity", text="'abc'")
    assert any(p.file.endswith("caps.csv") for p in problems)


CAPS_HEADER = "provider,service_line,capacity,quality,unit_cost\n"


@pytest.mark.parametrize(
    ("body", "line"),
    [
        ("P1,A,100,70,1\n\nP1,B,abc,40,1\n", 4),  # a blank line before the bad row
        ("\n\nP1,A,100,70,1\n\nP1,B,abc,40,1\n", 6),
        ('P1,A,100,70,1\n"P1",B,abc,40,"two\nlines"\n', 3),  # a quoted line break after it
        ('P1,"A",100,70,"one\nbreak"\nP1,B,abc,40,1\n', 4),  # ... and before it
    ],
)
def test_csv_line_numbers_count_blank_lines_and_quoted_breaks(tmp_path, body, line):
    doc = tiny_doc()
    (tmp_path / "caps.csv").write_text(CAPS_HEADER + body)
    doc["capabilities"] = {"csv": "caps.csv"}
    problems = problems_of(write(tmp_path, doc))
    bad = [p for p in problems if p.table == "capabilities" and p.field == "capacity"]
    assert [p.row for p in bad] == [f"line {line}"], problems


def test_csv_empty_rows_from_a_spreadsheet_are_ignored(tmp_path):
    """Excel writes ',,' for rows it thinks are used: they are not records."""
    doc = tiny_doc()
    rows = [CAPS_HEADER.strip()] + [
        ",".join(str(r.get(c, "")) for c in CAPS_HEADER.strip().split(","))
        for r in doc["capabilities"]
    ]
    (tmp_path / "caps.csv").write_text("\n".join(rows) + "\n,,,,\n, , , ,\n,,,,\n")
    doc["capabilities"] = {"csv": "caps.csv"}
    inst = csu_opt.load_instance(write(tmp_path, doc))
    reference = csu_opt.load_instance(TINY)
    assert len(inst.capabilities) == len(reference.capabilities)
    # an empty row in the middle is skipped too, and the next row keeps its own line number
    (tmp_path / "caps.csv").write_text(
        "\n".join([rows[0], rows[1], ",,,,", rows[2].replace(",", ",x", 1)]) + "\n"
    )
    problems = problems_of(tmp_path / "inst.yaml")
    assert [p.row for p in problems if p.table == "capabilities"] == ["line 4"], problems


def test_missing_and_empty_csv(tmp_path):
    doc = tiny_doc()
    doc["ccgs"] = {"csv": "nowhere.csv"}
    doc["demand"] = {"csv": "empty.csv"}
    (tmp_path / "empty.csv").write_text("")
    problems = problems_of(write(tmp_path, doc))
    assert has(problems, table="ccgs", text="CSV file not found")
    assert has(problems, table="demand", text="empty")


def test_yaml_syntax_error_gives_the_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("schema: csu-opt/1\nname: x\nproviders: [\n  {id: P1,\n  : }\n")
    (problem,) = problems_of(path)
    assert "YAML syntax error" in problem.message
    assert problem.row is not None and problem.row.startswith("line ")


@pytest.mark.parametrize("text", ["", "# only a comment\n"])
def test_empty_file(tmp_path, text):
    path = tmp_path / "empty.yaml"
    path.write_text(text)
    (problem,) = problems_of(path)
    assert "empty" in problem.message


def test_missing_file():
    (problem,) = problems_of(Path("no/such/file.yaml"))
    assert "not found" in problem.message


def test_defaults_are_applied():
    inst = csu_opt.load_instance(TINY)
    p3 = inst.providers.loc["P3"]
    assert p3["can_lead"] is False or p3["can_lead"] == False  # noqa: E712
    assert inst.providers.loc["P1", "can_subcontract"]
    assert inst.providers.loc["P1", "subcontractor_fixed_cost"] == 0.0
    assert inst.providers.loc["P1", "name"] == "P1"  # name defaults to id
    assert inst.service_lines.loc["A", "network_quality_target"] == 0.0
    assert inst.settings.single_sourcing is True
    assert inst.settings.max_leads_per_subcontractor == 1
    assert inst.assignment_costs.empty and inst.partnership_costs.empty


def test_overrides_are_validated_like_input():
    inst = csu_opt.load_instance(
        TINY, ["settings.lead_providers.max=1", "service_lines.B.quality_threshold=95"]
    )
    assert inst.settings.lead_max == 1
    assert inst.service_lines.loc["B", "quality_threshold"] == 95
    assert inst.overrides == (
        "settings.lead_providers.max=1",
        "service_lines.B.quality_threshold=95",
    )
    with pytest.raises(InstanceError) as info:
        csu_opt.load_instance(TINY, ["capabilities.P1.A.quality=120"])
    assert has(info.value.problems, table="capabilities", field="quality", text="0-100")


@pytest.mark.parametrize(
    "override,words",
    [
        ("settings.lead_provider.max=3", "did you mean 'lead_providers'"),
        ("providers.P9.exit_cost=1", "no id 'P9'"),
        ("providers.P1.exit_cots=1", "did you mean 'exit_cost'"),
        ("nonsense", "KEY=VALUE"),
        ("demand.volume*=-2", "cannot be negative"),
        ("services.A.quality_threshold=3", "unknown key"),
    ],
)
def test_bad_overrides_are_usage_errors(override, words):
    with pytest.raises(UsageError, match=words.replace("(", r"\(")):
        csu_opt.load_instance(TINY, [override])


def test_scale_override_multiplies_a_column():
    base = csu_opt.load_instance(TINY)
    scaled = csu_opt.load_instance(TINY, ["demand.volume*=1.5"])
    assert scaled.demand["volume"].sum() == pytest.approx(1.5 * base.demand["volume"].sum())
    assert scaled.overrides == ("demand.volume*=1.5",)


def test_wildcard_override_sets_every_record():
    inst = csu_opt.load_instance(TINY, ["providers.*.exit_cost=0"])
    assert (inst.providers["exit_cost"] == 0).all()


def test_xlsx_table_errors_name_sheet_and_row(tmp_path):
    import pandas as pd

    doc = tiny_doc()
    caps = pd.DataFrame(doc["capabilities"]).astype(object)
    caps.loc[2, "capacity"] = "lots"
    with pd.ExcelWriter(tmp_path / "book.xlsx") as xw:
        caps.to_excel(xw, sheet_name="caps", index=False)
    doc["capabilities"] = {"xlsx": "book.xlsx", "sheet": "caps"}
    problems = problems_of(write(tmp_path, doc))
    assert has(problems, table="capabilities", row="row 4", field="capacity", text="'lots'")
    assert any("sheet 'caps'" in p.file for p in problems)
    doc["capabilities"] = {"xlsx": "book.xlsx", "sheet": "nope"}
    problems = problems_of(write(tmp_path, doc))
    assert has(problems, table="capabilities", text="no sheet named 'nope'")
