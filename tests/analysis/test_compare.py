"""csu-opt compare: runs against the first, within and across instances."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pandas as pd
import pytest

from csu_opt.analysis.compare import ABSENT, compare_runs
from csu_opt.cli.figures import compare
from csu_opt.present.compare import comparison_figure
from csu_opt.results.run import load_run
from factories.boards import board_document, invoke, solve_board, write_board


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, Path, Path]:
    """A: the board; B: the board with one lead allowed; C: another instance (X1 gone,
    a provider NEW and a CCG N4 added)."""
    base = tmp_path_factory.mktemp("cmp")
    inst = write_board(base / "a")
    a = solve_board(inst, base / "runA")
    b = solve_board(
        inst,
        base / "runB",
        ("settings.lead_providers.min=1", "settings.lead_providers.max=1"),
    )
    doc = copy.deepcopy(board_document())
    doc["name"] = "board-2"
    doc["providers"] = [p for p in doc["providers"] if p["id"] != "X1"] + [
        {"id": "NEW", "kind": "private", "can_lead": False, "subcontractor_fixed_cost": 1}
    ]
    doc["capabilities"] = [c for c in doc["capabilities"] if c["provider"] != "X1"] + [
        {"provider": "NEW", "service_line": "A", "capacity": 100, "quality": 75, "unit_cost": 0.2}
    ]
    doc["ccgs"].append({"id": "N4", "region": "North"})
    doc["demand"] += [{"ccg": "N4", "service_line": s, "volume": 5} for s in "ABC"]
    c = solve_board(write_board(base / "c", doc), base / "runC")
    return a, b, c


def test_same_instance_fewer_leads(runs):
    a, b, _ = runs
    cmp = compare_runs([load_run(a), load_run(b)])
    assert cmp.labels == ["board (runA)", "board (runB)"]
    ra, rb = (r.solution for r in cmp.runs)
    assert len(ra.leads) == 2 and len(rb.leads) == 1
    (row,) = cmp.leads.itertuples()
    assert row.leads_in == [] and row.leads_out == sorted(set(ra.leads) - set(rb.leads))
    gone = row.leads_out[0]
    assert cmp.roles.loc[gone, "board (runA)"] == "lead"
    assert cmp.roles.loc[gone, "board (runB)"] != "lead"
    # every CCG the lost lead served moved to the remaining one
    served = set(ra.assignments.loc[ra.assignments["lead"] == gone, "ccg"])
    assert set(cmp.moves.index) == served
    assert set(cmp.moves["board (runB)"]) == set(rb.leads)
    assert cmp.overview.at["objective", "board (runA)"] == pytest.approx(370.0)
    assert cmp.overview.at["objective", "board (runB)"] == pytest.approx(rb.objective)
    assert cmp.overview.at["leads", "board (runB)"] == 1
    assert cmp.overview.at["staff exiting", "board (runA)"] == pytest.approx(25.0)
    assert list(cmp.quality.index) == ["A", "B", "C"]


def test_across_instances_marks_what_is_missing(runs):
    a, _, c = runs
    cmp = compare_runs([load_run(a), load_run(c)])
    assert cmp.labels == ["board", "board-2"]
    assert cmp.roles.loc["X1"].tolist() == ["exit", ABSENT]
    assert cmp.roles.loc["NEW", "board"] == ABSENT
    assert cmp.roles.loc["NEW", "board-2"] in ("subcontractor", "exit")
    assert cmp.moves.loc["N4", "board"] == ABSENT
    assert cmp.moves.loc["N4", "board-2"] in load_run(c).solution.leads
    assert "X1" not in cmp.moves.index and "L1" not in cmp.roles.index


def test_comparison_figure_content(runs):
    cmp = compare_runs([load_run(r) for r in runs])
    fig = comparison_figure(cmp)
    a_cost, a_count, a_q, a_chg = fig.axes[:4]
    gids = [p.get_gid() for p in a_cost.patches if p.get_gid() and p.get_gid().startswith("cost")]
    assert len(gids) == 6 * 3
    assert "£k per year" in a_cost.get_ylabel()
    assert [t.get_text() for t in a_count.get_xticklabels()] == cmp.labels
    heights = [p.get_height() for p in a_count.patches]
    expected = [
        cmp.overview.at[k, lab] for k in ("leads", "subcontractors", "exits") for lab in cmp.labels
    ]
    assert heights == expected
    assert [t.get_text() for t in a_q.get_xticklabels()] == ["A", "B", "C"]
    assert "quality" in a_q.get_ylabel()
    assert len(a_chg.patches) == 4 * 2  # four kinds of change, for the two non-reference runs
    for ax in (a_cost, a_count, a_q, a_chg):
        assert ax.get_legend() is not None and ax.get_title() and ax.get_xlabel()
    assert "reference" in fig.get_suptitle()


def test_compare_command(runs, tmp_path):
    a, b, c = runs
    code, out = invoke(compare, a, b, c, "--out", tmp_path / "cmp.png")
    assert code == 0, out
    for text in (
        "Runs compared",
        "Providers whose role changed",
        "CCGs that moved network",
        "not in instance",
        "Volume-weighted quality",
        "N4",
        "X1",
    ):
        assert text in out
    # headcounts as whole numbers, money with two decimals, gaps as percentages
    assert re.search(r"staff exiting\W+25\s", out)
    assert re.search(r"objective\W+370\.00\W", out)
    assert re.search(r"MIP gap\W+(0|[\d.]*[1-9])%\s", out)
    assert (tmp_path / "cmp.png").read_bytes()[:4] == b"\x89PNG"
    assert invoke(compare, a)[0] == 2
    code, out = invoke(compare, a, tmp_path / "missing")
    assert code == 1 and "not a result folder" in out and "Traceback" not in out
    assert invoke(compare, a, b, "--out", tmp_path / "cmp.doc")[0] == 2


def test_ccg_names_travel_with_the_result_files(tmp_path):
    """assignments.csv carries each CCG's name, so a run whose instance file is gone still
    shows CCGs by name."""
    doc = board_document()
    for ccg in doc["ccgs"]:
        ccg["name"] = f'NHS {ccg["id"]} & Co, "quoted"'
    inst = write_board(tmp_path / "inst", doc)
    run = solve_board(inst, tmp_path / "run")
    written = pd.read_csv(run / "assignments.csv", keep_default_na=False)
    assert list(written.columns) == ["ccg", "lead", "share", "ccg_name"]
    assert (written["ccg_name"] == "NHS " + written["ccg"] + ' & Co, "quoted"').all()
    inst.unlink()
    alone = load_run(run)
    assert alone.instance is None
    table = alone.ccg_networks().set_index("ccg")
    assert table.loc["N1", "name"] == 'NHS N1 & Co, "quoted"'
