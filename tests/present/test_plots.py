"""Figures of one solve and of a sweep: checked for content (bars, cells, labels, legends),
on a hand-built 'board' instance whose optimum is known:

L1 (csu, named '<script>alert(1)</script>') leads the North CCGs with S2 (council) doing
line B; L2 (private) leads the South CCGs with S1 (charity) doing line C, which L2 cannot;
X1 (other, 25 staff) is eligible nowhere and exits. Cost 200 + 10 + 150 + 0 + 10 = 370.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner
from matplotlib.collections import PolyCollection
from matplotlib.patches import Rectangle

import csu_opt
from csu_opt.cli.figures import compare, plot, report
from csu_opt.cli.main import main as cli_main
from csu_opt.present.plots import costs_figure, lines_figure, map_figure, network_figure
from csu_opt.present.plots_sweep import (
    load_sweep,
    sweep_heatmap_figure,
    sweep_leads_figure,
    sweep_lines_figure,
)
from csu_opt.results.run import load_run
from factories.boards import EVIL, LINES, UNIT, invoke, solve_board, write_board


@pytest.fixture(scope="module")
def board(tmp_path_factory) -> Path:
    """The solved board instance's result folder."""
    base = tmp_path_factory.mktemp("board")
    return solve_board(write_board(base), base / "run")


# --------------------------------------------------------------------------- one run


def test_board_solution_is_the_known_one(board):
    sol = csu_opt.read_results(board)
    assert sorted(sol.leads) == ["L1", "L2"] and sol.exits == ["X1"]
    assert sol.objective == pytest.approx(370.0)


def test_network_figure(board):
    fig = network_figure(load_run(board))
    ax, ax_exit = fig.axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["L1 (csu)", "L2 (private)"]
    members = {p.get_gid(): p.get_width() for p in ax.patches if p.get_gid()}
    assert members == {
        "member:L1:L1": 60.0,
        "member:L1:S2": 30.0,
        "member:L2:L2": 60.0,
        "member:L2:S1": 30.0,
    }
    assert "2 networks, 2 subcontractors, 1 exit" in ax.get_title()
    assert "optimal" in ax.get_title()
    assert UNIT in ax.get_xlabel() and ax.get_ylabel()
    kinds = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"csu", "private", "charity", "council", "other"} <= set(kinds)
    assert {"3 CCGs"} == {t.get_text().strip() for t in ax.texts if "CCG" in t.get_text()}
    exits = [p for p in ax_exit.patches if p.get_gid()]
    assert [(p.get_gid(), p.get_width()) for p in exits] == [("exit:X1", 25.0)]
    assert "1 provider exit: 25 staff affected" in ax_exit.get_title(loc="left")
    assert "headcount" in ax_exit.get_xlabel()


def test_lines_figure_stacks_reach_demand(board):
    fig = lines_figure(load_run(board))
    panels = [a for a in fig.axes if a.get_visible()]
    assert len(panels) == 2  # one per network
    for ax in panels:
        assert [t.get_text().split("\n")[0] for t in ax.get_xticklabels()] == list(LINES)
        assert UNIT in ax.get_ylabel() and ax.get_xlabel() == "service line"
        assert "demand" in [t.get_text() for t in ax.get_legend().get_texts()]
        tops = np.zeros(3)
        for bar in ax.patches:
            tops[round(bar.get_x() + bar.get_width() / 2)] += bar.get_height()
        demand = ax.collections[0].get_offsets()[:, 1]
        assert list(tops) == pytest.approx([30, 30, 30])
        assert list(demand) == pytest.approx([30, 30, 30])
        quality = sorted(t.get_text() for t in ax.texts)
        assert len(quality) == 3 and all(q.startswith("q ") for q in quality)
    l1 = next(a for a in panels if a.get_title().startswith("L1"))
    assert "q 90" in [t.get_text() for t in l1.texts]  # S2 delivers all of line B
    assert "Q≥55" in fig.axes[0].get_xticklabels()[0].get_text()
    assert fig.get_suptitle()


def test_costs_figure_parts_and_gap_band(board):
    run = load_run(board)
    ax = costs_figure(run).axes[0]
    parts = {p.get_gid().split(":")[-1]: p.get_height() for p in ax.patches if p.get_gid()}
    assert parts == {
        "lead_fixed": 200,
        "subcontractor_fixed": 10,
        "partnership": 0,
        "delivery": 150,
        "assignment": 0,
        "exit": 10,
    }
    assert UNIT in ax.get_ylabel() and "cost breakdown" in ax.get_title()
    assert len(ax.get_legend().get_texts()) == 6  # optimal: no gap band
    # the same run stopped at a limit: a band from the bound to the objective, and said so
    sol = run.solution
    sol.status, sol.best_bound, sol.mip_gap = csu_opt.Status.FEASIBLE, 300.0, 70 / 370
    ax = costs_figure(run).axes[0]
    band = next(p for p in ax.patches if p.get_gid() == "gap:board")
    assert (band.get_y(), band.get_height()) == pytest.approx((300.0, 70.0))
    assert "stopped at a limit, gap 19%" in ax.get_title()
    assert "MIP gap" in next(t.get_text() for t in ax.get_legend().get_texts())


def test_map_figure_cells_by_network(board):
    fig = map_figure(load_run(board))
    ax = fig.axes[0]
    cells = {p.get_gid(): p.get_facecolor() for p in ax.patches if isinstance(p, Rectangle)}
    assert sorted(cells) == sorted(f"ccg:{c}" for c in ("N1", "N2", "N3", "S1c", "S2c", "S3c"))
    assert cells["ccg:N1"] == cells["ccg:N2"] == cells["ccg:N3"]
    assert cells["ccg:S1c"] == cells["ccg:S3c"] != cells["ccg:N1"]
    assert {"North (3)", "South (3)"} <= {t.get_text() for t in ax.texts}
    side = fig.axes[1]  # the legend (lead name and CCG count) and the lists beside the map
    assert [t.get_text() for t in side.get_legend().get_texts()] == [
        f"{EVIL} (L1): 3 CCGs",
        "South Ltd (L2): 3 CCGs",
    ]
    lists = next(t for t in side.texts if t.get_gid() == "lists").get_text()
    assert "L1: S2 (County Council)" in lists and "L2: S1 (Comms Charity)" in lists
    assert r"X1 (Weak \$firm\$): other, 25 staff" in lists
    assert fig.get_suptitle() and ax.get_xlabel()


def test_figures_without_the_instance(board, tmp_path):
    """The instance moved: figures still draw from the result files, and say so."""
    moved = tmp_path / "run"
    shutil.copytree(board, moved)
    summary = json.loads((moved / "summary.json").read_text())
    summary["instance"]["path"] = str(tmp_path / "gone.yaml")
    (moved / "summary.json").write_text(json.dumps(summary))
    run = load_run(moved)
    assert run.instance is None and "not found" in run.note
    assert "units not given" in network_figure(run).axes[0].get_xlabel()
    assert len([a for a in lines_figure(run).axes if a.get_visible()]) == 2
    assert "all CCGs (6)" in {t.get_text() for t in map_figure(run).axes[0].texts}


# --------------------------------------------------------------------------- command


def test_plot_command_png_and_svg(board, tmp_path):
    code, out = invoke(plot, board, "--kind", "network", "--out", tmp_path / "n.png")
    assert code == 0, out
    assert (tmp_path / "n.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, out = invoke(plot, board, "--kind", "map", "--out", tmp_path / "m.svg")
    assert code == 0, out
    root = ET.parse(tmp_path / "m.svg").getroot()
    assert root.tag.endswith("svg")
    ids = {e.get("id") for e in root.iter()}
    assert {"ccg:N1", "ccg:S3c"} <= ids
    code, _ = invoke(plot, board, "--kind", "costs")
    assert code == 0 and (board / "costs.png").stat().st_size > 1000


def test_plot_command_errors(board, tmp_path):
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "summary.json").write_text("{}")
    code, out = invoke(plot, tmp_path / "half")
    assert code == 1 and "roles.csv" in out and "Traceback" not in out
    code, out = invoke(plot, tmp_path / "nothing")
    assert code == 1 and "not a result folder" in out
    assert invoke(plot, board, "--kind", "heatmap")[0] == 2
    assert invoke(plot, board, "--out", tmp_path / "x.txt")[0] == 2
    assert invoke(plot, board, "--kind", "pie")[0] == 2


def test_commands_register_in_a_group(board):
    group = click.Group(commands=[plot, compare, report])
    assert invoke(group, "plot", "--help")[0] == 0
    assert invoke(group, "compare", board)[0] == 2  # needs two folders


# --------------------------------------------------------------------------- sweep


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("sweep")
    inst = write_board(base)
    out = base / "sw"
    result = CliRunner().invoke(
        cli_main,
        [
            "sweep",
            str(inst),
            "--vary",
            "settings.lead_providers.min=1,2",
            "--scale",
            "demand.volume=1,2",
            "--workers",
            "1",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    return out


def test_sweep_lines_one_line_per_other_value_with_gap_band(sweep, tmp_path):
    sw = load_sweep(sweep)
    ax = sweep_lines_figure(sw, "min").axes[0]
    series = [ln for ln in ax.lines if ln.get_linestyle() == "-"]
    assert [ln.get_label() for ln in series] == ["demand.volume ×1", "demand.volume ×2"]
    assert all(len(ln.get_xdata()) == 2 for ln in series)
    assert ax.get_xlabel() == "settings.lead_providers.min"
    assert UNIT in ax.get_ylabel()
    assert len([c for c in ax.collections if isinstance(c, PolyCollection)]) == 2
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "stopped at a limit (not proven optimal)" in legend
    # one case stopped at a limit: drawn open, with a band of its gap, and named in the title
    copy = tmp_path / "sw"
    shutil.copytree(sweep, copy)
    with sqlite3.connect(copy / "sweep.db") as db:
        key, obj = db.execute(
            "SELECT case_key, objective FROM cases ORDER BY objective DESC LIMIT 1"
        ).fetchone()
        db.execute(
            "UPDATE cases SET status='feasible', best_bound=?, mip_gap=0.25 WHERE case_key=?",
            (obj * 0.75, key),
        )
    ax = sweep_lines_figure(load_sweep(copy), "min").axes[0]
    open_markers = [ln for ln in ax.lines if ln.get_markerfacecolor() == "white"]
    assert sum(len(ln.get_xdata()) for ln in open_markers) == 1
    assert "open markers stopped at a limit" in ax.get_title()
    band = max(
        (c for c in ax.collections if isinstance(c, PolyCollection)),
        key=lambda c: np.ptp(c.get_paths()[0].vertices[:, 1]),
    )
    assert np.ptp(band.get_paths()[0].vertices[:, 1]) == pytest.approx(obj * 0.25, rel=1e-6)
    # other metrics, and an exit over the varied key
    ax = sweep_lines_figure(sw, "volume", "leads").axes[0]
    assert ax.get_ylabel() == "lead providers (count)"
    assert "scale factor" in ax.get_xlabel()


def test_sweep_heatmap_and_leads_matrix(sweep):
    sw = load_sweep(sweep)
    fig = sweep_heatmap_figure(sw, "min", "volume")
    ax = fig.axes[0]
    assert ax.images[0].get_array().shape == (2, 2)
    assert len(ax.texts) == 4
    assert ax.get_xlabel() == "settings.lead_providers.min"
    assert ax.get_ylabel() == "demand.volume (scale factor)"
    assert UNIT in fig.axes[1].get_ylabel()  # the colour bar
    fig = sweep_leads_figure(sw)
    ax = fig.axes[0]
    matrix = ax.images[0].get_array()
    assert matrix.shape == (5, 4)  # providers x cases
    providers = [t.get_text() for t in ax.get_yticklabels()]
    # rows: most often a lead first, then by id (L1 and L2 tie for the single lead at min 1,
    # so which of them leads there is HiGHS's choice)
    cases = [json.loads(r) for r in sw.cases["roles"]]
    times_lead = {p: sum(r.get(p) == "lead" for r in cases) for p in providers}
    assert providers == sorted(providers, key=lambda p: (-times_lead[p], p))
    assert set(providers[:2]) == {"L1", "L2"}
    codes = {"lead": 0, "subcontractor": 1, "exit": 2}
    for j, (roles, low) in enumerate(
        zip(sw.cases["roles"], sw.cases["settings.lead_providers.min"], strict=True)
    ):
        roles = json.loads(roles)
        assert list(matrix[:, j]) == [codes[roles[p]] for p in providers]
        assert (matrix[:2, j] == 0).sum() == (2 if low == 2 else 1)  # min 2: both lead
    assert ax.get_legend() is not None and ax.get_title()


def test_plot_command_on_a_sweep(sweep, tmp_path):
    for kind, extra in (("lines", ["--x", "min", "--y", "exits"]), ("heatmap", []), ("leads", [])):
        code, out = invoke(plot, sweep, "--kind", kind, *extra, "--out", tmp_path / f"{kind}.png")
        assert code == 0, out
        assert (tmp_path / f"{kind}.png").stat().st_size > 5000
    code, out = invoke(plot, sweep, "--x", "nonsense")
    assert code == 2 and "settings.lead_providers.min" in out
    assert invoke(plot, sweep, "--kind", "network")[0] == 2
    code, out = invoke(
        plot, sweep, "--fix", "min=1", "--kind", "leads", "--out", tmp_path / "f.png"
    )
    assert code == 0, out
