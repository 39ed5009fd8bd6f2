"""A --find-threshold sweep plots, exports and reports like any sweep: the searched key on
the x axis, the tipping points marked (tiny.yaml: the lead set changes at F2 = 105)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from csu_opt.cli.main import main
from csu_opt.present.plots_sweep import load_sweep, sweep_leads_figure, sweep_lines_figure

DATA = Path(__file__).parents[1] / "data"
KEY = "providers.P2.lead_fixed_cost"


def cli(*args: object) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def searched(tmp_path_factory) -> tuple[Path, Path, str]:
    base = tmp_path_factory.mktemp("th")
    folder, export = base / "th", base / "th.csv"
    code, out = cli(
        "sweep",
        DATA / "tiny.yaml",
        "--find-threshold",
        KEY,
        "--range",
        "50:150",
        "--tol",
        "2",
        "--workers",
        "1",
        "--out",
        folder,
        "--export",
        export,
    )
    assert code == 0, out
    return folder, export, out


def test_threshold_export_has_the_key_and_marks_the_change(searched):
    folder, export, out = searched
    evaluated = json.loads((folder / "thresholds.json").read_text())["evaluated"]
    frame = pd.read_csv(export)
    assert f"exported {len(evaluated)} cases to {export}" in " ".join(out.split())
    assert list(frame[KEY]) == sorted(e["value"] for e in evaluated)
    assert {"status", "objective", "best_bound", "mip_gap", "leads"} <= set(frame.columns)
    (changed,) = frame.index[frame["leads_changed"]]
    below, above = frame.loc[changed - 1], frame.loc[changed]
    assert below["leads"] == "P2" and above["leads"] == "P1"
    assert below[KEY] <= 105 <= above[KEY] and above[KEY] - below[KEY] <= 2
    assert set(frame.loc[: changed - 1, "leads"]) == {"P2"}
    assert set(frame.loc[changed:, "leads"]) == {"P1"}


def test_threshold_lines_figure_marks_the_tipping_point(searched):
    folder, _, _ = searched
    sw = load_sweep(folder)
    assert sw.axes == [KEY]
    ((below, above),) = sw.tipping
    fig = sweep_lines_figure(sw, KEY, "objective")
    ax = fig.axes[0]
    assert KEY in ax.get_xlabel()
    marks = [ln for ln in ax.get_lines() if (ln.get_gid() or "").startswith("tipping:")]
    assert [m.get_gid() for m in marks] == [f"tipping:{below:g}:{above:g}"]
    assert below <= marks[0].get_xdata()[0] <= above
    assert "the set of leads changes (tipping point)" in [
        t.get_text() for t in ax.get_legend().get_texts()
    ]
    # every value searched is a point on the line (all cases are feasible here)
    (curve,) = [ln for ln in ax.get_lines() if ln.get_linestyle() == "-"]
    assert len(curve.get_xdata()) == len(sw.cases)


def test_threshold_leads_figure_labels_each_value(searched):
    folder, _, _ = searched
    sw = load_sweep(folder)
    ax = sweep_leads_figure(sw).axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert len(labels) == len(sw.cases) and not any("base" in lab for lab in labels)
    values = [float(lab.split("=")[1]) for lab in labels]
    assert values == sorted(values)
    ((below, above),) = sw.tipping
    (mark,) = [ln for ln in ax.get_lines() if (ln.get_gid() or "").startswith("tipping:")]
    j = values.index(above)
    assert values[j - 1] == below and mark.get_xdata()[0] == j - 0.5


def test_threshold_plot_and_report_commands(searched, tmp_path):
    folder, _, _ = searched
    for kind in ("lines", "leads"):
        code, out = cli("plot", folder, "--kind", kind, "--out", tmp_path / f"{kind}.png")
        assert code == 0, out
        assert (tmp_path / f"{kind}.png").read_bytes()[:4] == b"\x89PNG"
    code, out = cli("report", folder, "--out", tmp_path / "report.html")
    assert code == 0, out
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert f"Tipping points of {KEY}" in html and html.count("<img ") >= 3
    assert f"--find-threshold {KEY} --range 50:150 --tol 2.0" in html
    assert "--vary" not in html
