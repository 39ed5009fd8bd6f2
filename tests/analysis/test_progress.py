"""Long runs of explain and the what-ifs show a progress line as solve does; --quiet does not."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from csu_opt.analysis import runner
from csu_opt.analysis.runner import ProgressLine, run_solve
from csu_opt.cli.main import main
from csu_opt.solver.options import Progress, SolveOptions
from factories.processes import stderr_lines

DATA = Path(__file__).parents[1] / "data"


def test_progress_line_before_any_solver_report_says_it_is_working(capfd):
    line = ProgressLine(delay=0.05, every=0.2, label="explain")
    err = stderr_lines(capfd, 2, 30, "two progress lines")
    line.close()
    lines = [x for x in (err + capfd.readouterr().err).splitlines() if x]
    assert lines and all(x.startswith("  explain ") for x in lines)
    assert all("(working; no solver report yet)" in x for x in lines)
    elapsed = [float(x.split()[1].rstrip("s")) for x in lines]
    assert elapsed == sorted(elapsed) and elapsed[0] >= 0.05


def test_progress_line_of_many_solves_says_whose_numbers_they_are(capfd):
    line = ProgressLine(delay=0.0, every=0.0, label="rule-costs", several=True)
    line(Progress(elapsed_s=3.0, incumbent=1234.5, bound=1200.0, gap=0.028))
    line.close()
    err = capfd.readouterr().err
    assert err.startswith("  rule-costs ")
    assert "current solve: incumbent 1,234.50  bound 1,200.00  gap 2.8%" in err


@pytest.fixture
def run_folder(tmp_path: Path) -> Path:
    from csu_opt.instance.load import load_instance

    inst = load_instance(DATA / "whatif_resilience.yaml")
    return run_solve(inst, tmp_path / "run", SolveOptions(mip_gap=1e-9), explain=False).folder


def commands(run_folder: Path, out: Path) -> dict[str, list[str]]:
    return {
        "resilience": ["resilience", str(run_folder), "--out", str(out)],
        "tradeoff": [
            "tradeoff",
            str(DATA / "whatif_disruption.yaml"),
            "--incumbent",
            str(DATA / "whatif_incumbent.csv"),
            "--out",
            str(out),
        ],
        "rule-costs": ["rule-costs", str(DATA / "whatif_rules.yaml"), "--out", str(out)],
        "alternatives": [
            "alternatives",
            str(DATA / "whatif_alternatives.yaml"),
            "--k",
            "2",
            "--within",
            "20%",
            "--out",
            str(out),
        ],
        "explain": ["explain", str(DATA / "infeasible_quality.yaml")],
    }


LONG_RUNS = ["resilience", "tradeoff", "rule-costs", "alternatives", "explain"]


@pytest.mark.parametrize("name", LONG_RUNS)
def test_long_runs_show_progress_unless_quiet(name, run_folder, tmp_path, capfd, monkeypatch):
    # every run counts as long here (solve's threshold is 2 s)
    monkeypatch.setattr(runner, "PROGRESS_DELAY", 0.001)
    args = commands(run_folder, tmp_path / "out")[name]
    res = CliRunner().invoke(main, args)
    assert res.exit_code in (0, 3), res.output
    err = capfd.readouterr().err
    assert f"  {name} " in err, err  # the progress line, on stderr
    assert res.output.strip()  # and the answer
    res = CliRunner().invoke(main, [*args, "--quiet"])
    assert res.exit_code in (0, 3), res.output
    assert f"  {name} " not in capfd.readouterr().err
    if name == "explain":  # no files: the answer is printed
        assert "INFEASIBLE" in res.output
    else:  # the answer is in the files written: nothing printed
        assert res.output == ""
        assert any((tmp_path / "out").iterdir())
