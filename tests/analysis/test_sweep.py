"""Sweeps: equal to single solves, resumable after a kill, local == Dask, tipping points."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import csu_opt
from csu_opt.analysis.sweep import SweepSpec, parse_axis, parse_values
from csu_opt.analysis.sweep_exec import Executor, SweepRun, find_thresholds
from csu_opt.cli.main import main
from factories.processes import holds_within

DATA = Path(__file__).parents[1] / "data"
TINY = DATA / "tiny.yaml"


def test_values_and_ranges():
    assert parse_values("10,12,15") == (10, 12, 15)
    assert parse_values("50:80:10") == (50, 60, 70, 80)
    assert parse_values("0.5:1.0:0.25") == (0.5, 0.75, 1.0)
    assert parse_values("true,false") == (True, False)
    axis = parse_axis("demand.volume=1,2", scale=True)
    assert axis.override(2) == "demand.volume*=2"


def test_grid_and_one_at_a_time_cases():
    axes = [parse_axis("settings.lead_providers.max=1,2"), parse_axis("demand.volume=1,2,3", True)]
    assert len(SweepSpec(TINY, axes).cases()) == 6
    oat = SweepSpec(TINY, axes, one_at_a_time=True).cases()
    assert len(oat) == 1 + 2 + 3  # the base case, then each axis alone
    assert oat[0].overrides == ()
    # keys are stable: the same command names the same cases
    assert [c.key for c in SweepSpec(TINY, axes).cases()] == [
        c.key for c in SweepSpec(TINY, axes).cases()
    ]


def run_cli(*args) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


SWEEP = (
    "--vary",
    "settings.lead_providers.max=1,2",
    "--scale",
    "demand.volume=1,2.5",
    "--vary",
    "providers.P1.can_lead=true,false",
)


def test_sweep_objectives_equal_single_solves(tmp_path):
    code, _ = run_cli(
        "sweep",
        TINY,
        *SWEEP,
        "--out",
        tmp_path / "sw",
        "--workers",
        "2",
        "--export",
        tmp_path / "out.csv",
    )
    assert code == 0
    df = pd.read_csv(tmp_path / "out.csv")
    assert len(df) == 8
    for col in (
        "settings.lead_providers.max",
        "demand.volume",
        "providers.P1.can_lead",
        "status",
        "objective",
        "best_bound",
        "mip_gap",
        "leads",
    ):
        assert col in df.columns
    for row in df.itertuples(index=False):
        values = row._asdict()
        inst = csu_opt.load_instance(
            TINY,
            [
                f"settings.lead_providers.max={values['_1']}",
                f"providers.P1.can_lead={str(values['_2']).lower()}",
                f"demand.volume*={values['_3']}",
            ],
        )
        single = csu_opt.solve(inst)
        assert row.status == single.status.value
        assert row.objective == pytest.approx(single.objective, rel=1e-9)
        assert row.leads == ";".join(single.leads)
    # every case's full solution is kept
    cases = [p for p in (tmp_path / "sw" / "cases").iterdir() if not p.name.startswith(".")]
    assert len(cases) == 8
    assert all((c / "roles.csv").exists() and (c / "highs.log").exists() for c in cases)


def test_persistent_resolves_match_rebuilds(tmp_path):
    args = (
        "sweep",
        TINY,
        "--vary",
        "settings.lead_providers.min=1,2",
        "--scale",
        "demand.volume=1,1.7,3",
        "--workers",
        "1",
    )
    assert run_cli(*args, "--out", tmp_path / "a", "--export", tmp_path / "a.csv")[0] == 0
    assert (
        run_cli(*args, "--out", tmp_path / "b", "--export", tmp_path / "b.csv", "--no-persist")[0]
        == 0
    )
    a, b = pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv")
    assert list(a["objective"]) == pytest.approx(list(b["objective"]), rel=1e-9)
    with sqlite3.connect(tmp_path / "a" / "sweep.db") as db:
        warm = db.execute("SELECT SUM(warm_start) FROM cases").fetchone()[0]
    assert warm >= 4  # one worker: one build, then re-solves of the kept model


def test_invalid_case_stops_before_any_solve(tmp_path):
    code, out = run_cli(
        "sweep",
        TINY,
        "--vary",
        "service_lines.A.quality_threshold=50,120",
        "--out",
        tmp_path / "sw",
    )
    assert code == 1
    assert "0-100" in out and "sweep case" in out
    assert not (tmp_path / "sw" / "cases").exists()


def _rows(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        try:
            return conn.execute("SELECT case_key, finished_at FROM cases").fetchall()
        except sqlite3.OperationalError:  # the sweep has not created its table yet
            return []


def test_resume_after_kill(tmp_path):
    out = tmp_path / "sw"
    cmd = [
        sys.executable,
        "-m",
        "csu_opt.cli.main",
        "sweep",
        str(TINY),
        "--vary",
        "providers.P2.lead_fixed_cost=0:290:10",
        "--workers",
        "1",
        "--out",
        str(out),
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    holds_within(lambda: (out / "sweep.db").exists() and len(_rows(out / "sweep.db")) >= 3, 120)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    first = dict(_rows(out / "sweep.db"))
    assert 3 <= len(first) < 30, "the kill must land mid-sweep"
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    second = _rows(out / "sweep.db")
    keys = [k for k, _ in second]
    assert len(keys) == len(set(keys)) == 30  # every case exactly once
    finished = dict(second)
    assert all(finished[k] == t for k, t in first.items())  # finished cases were not redone
    folders = [p for p in (out / "cases").iterdir()]
    assert len(folders) == 30 and not any(p.name.startswith(".") for p in folders)


def _folders(out: Path) -> list[str]:
    return sorted(p.name for p in (out / "cases").iterdir())


def test_a_case_has_a_folder_exactly_when_sweep_db_records_it(tmp_path):
    """What a killed run can leave (a half-written case, a case written but never recorded,
    a recorded case whose folder is gone) is tidied before the next run solves anything."""
    out = tmp_path / "sw"
    cases = SweepSpec(TINY, [parse_axis("settings.lead_providers.max=1,2,3")]).cases()
    first = SweepRun(TINY, (), out, Executor(workers=1))
    first.run(cases[:2])
    first.executor.close()
    first.store.close()
    kept, gone, never = (c.key for c in cases)
    assert _folders(out) == sorted([kept, gone])
    (out / "cases" / f".{never}.partial-999").mkdir()
    (out / "cases" / never).mkdir()
    shutil.rmtree(out / "cases" / gone)
    again = SweepRun(TINY, (), out, Executor(workers=1))
    assert _folders(out) == [kept] and again.store.finished() == {kept}
    counts = again.run(cases)
    again.executor.close()
    assert counts == {"total": 3, "skipped": 1, "done": 2, "failed": 0}
    assert _folders(out) == sorted(c.key for c in cases) == sorted(again.store.finished())


def test_dask_local_cluster_gives_the_same_results(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    axes = [parse_axis("settings.lead_providers.max=1,2"), parse_axis("demand.volume=1,2", True)]
    cases = SweepSpec(TINY, axes).cases()
    local = SweepRun(TINY, (), tmp_path / "local", Executor(workers=2))
    local.run(cases)
    local.executor.close()
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = SweepRun(TINY, (), tmp_path / "dask", Executor(client=client))
        counts = remote.run(cases)
    assert counts["done"] == 4 and counts["failed"] == 0
    a = local.store.frame().set_index("case_key").sort_index()
    b = remote.store.frame().set_index("case_key").sort_index()
    assert list(a.index) == list(b.index)
    assert list(a["objective"]) == pytest.approx(list(b["objective"]), rel=1e-9)
    assert list(a["leads"]) == list(b["leads"])


def test_threshold_search_finds_the_tipping_point(tmp_path):
    # P2 leads at F2 + 62 (tiny.yaml); P1 leads at 100 + 2 + 60 + 5 (P2 idle sub) = 167,
    # so the lead set changes at F2 = 105.
    run = SweepRun(TINY, (), tmp_path / "th", Executor(workers=2))
    tips, evaluated = find_thresholds(run, "providers.P2.lead_fixed_cost", 0, 300, tol=1.0)
    run.executor.close()
    assert len(tips) == 1
    (tip,) = tips
    assert tip.leads_below == ("P2",) and tip.leads_above == ("P1",)
    assert tip.proven  # both cases beside it proven optimal
    assert tip.below <= 105 <= tip.above and tip.above - tip.below <= 1.0
    # a fine grid confirms it
    for f2 in range(95, 116):
        inst = csu_opt.load_instance(TINY, [f"providers.P2.lead_fixed_cost={f2}"])
        leads = csu_opt.solve(inst).leads
        if f2 < 105:
            assert leads == ["P2"]
        elif f2 > 105:
            assert leads == ["P1"]
    assert len(evaluated) < 20  # bisection, not a grid


def test_threshold_cli_writes_thresholds_json(tmp_path):
    code, _ = run_cli(
        "sweep",
        TINY,
        "--find-threshold",
        "providers.P2.lead_fixed_cost",
        "--range",
        "50:150",
        "--tol",
        "2",
        "--out",
        tmp_path / "th",
    )
    assert code == 0
    data = json.loads((tmp_path / "th" / "thresholds.json").read_text())
    (tip,) = data["tipping_points"]
    assert tip["below"] <= 105 <= tip["above"] and tip["proven"] is True


def test_sweep_polish_option(tmp_path):
    """--polish (or 'polish:' in a sweep file) reaches every case's solve; it needs a limit."""
    code, out = run_cli(
        "sweep",
        TINY,
        "--vary",
        "settings.lead_providers.max=1,2",
        "--out",
        tmp_path / "no",
        "--polish",
        "0.3",
    )
    assert code == 2 and "--polish keeps a share of the time limit" in out
    assert not (tmp_path / "no" / "sweep.db").exists()
    sweep_file = tmp_path / "sweep.yaml"
    sweep_file.write_text(
        f"instance: {TINY}\nvary:\n  settings.lead_providers.max: [1, 2]\n"
        "time_limit: 30\npolish: 0.25\n",
        encoding="utf-8",
    )
    code, out = run_cli("sweep", "--file", sweep_file, "--out", tmp_path / "sw", "--workers", "1")
    assert code == 0, out
    assert json.loads((tmp_path / "sw" / "sweep.json").read_text())["polish"] == 0.25
    cases = [p for p in (tmp_path / "sw" / "cases").iterdir() if not p.name.startswith(".")]
    assert len(cases) == 2
    for case in cases:
        solver = json.loads((case / "summary.json").read_text())["solver"]
        assert solver["options"]["polish"] == 0.25 and solver["options"]["time_limit"] == 30
        assert solver["polish"]["ran"] is False  # tiny: proven before its share ends
