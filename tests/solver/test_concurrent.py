"""Concurrent search (csu_opt.solver.concurrent): several HiGHS searches race on one model.

Known answers: published facility-location optima, the brute-force oracle of test_rules,
hand-made infeasibility. Also: the searches' settings, a stop request, the log, and that no
search process outlives the solve.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import csu_opt
from csu_opt.solver.concurrent import EFFORTS, search_configs
from csu_opt.solver.options import SolveOptions
from csu_opt.solver.reduce import CombinedBound, Reduction
from csu_opt.solver.solve import solve
from factories.generated import benchmark
from factories.oracle_refs import random_case
from factories.rules import big_instance

DATA = Path(__file__).resolve().parents[1] / "data"
REL = 1e-6


def _configs(n: int, seed: int, highs_options: dict[str, Any], log_file: str) -> Any:
    return search_configs(
        n,
        seed=seed,
        highs_options=highs_options,
        log_file=log_file,
        time_limit=None,
        mip_gap=1e-4,
        fix_zero=[],
        fix_one=[],
        start=None,
        bounds=CombinedBound(),
    )


def test_search_settings() -> None:
    configs = _configs(3, 7, {"presolve": "on"}, "/x/highs.log")
    # search 0 is the sequential solve; the others change seed and heuristic effort
    assert configs[0].highs_options == {"presolve": "on", "random_seed": 7, "threads": 1}
    assert configs[1].highs_options["random_seed"] == 8
    assert configs[1].highs_options["mip_heuristic_effort"] == EFFORTS[0]
    assert configs[2].highs_options["mip_heuristic_effort"] == EFFORTS[1]
    assert [c.log_file for c in configs] == [f"/x/highs.log.search{k}" for k in range(3)]
    mine = _configs(2, 0, {"mip_heuristic_effort": 0.9}, "l")
    assert mine[1].highs_options["mip_heuristic_effort"] == 0.9  # the caller's choice stands


def test_combined_bound_is_decided_once() -> None:
    # max(LB, min(HiGHS's bound on the reduced model, threshold of the fixings))
    assert CombinedBound(100.0, 103.0).whole(105.0) == 103.0
    assert CombinedBound(100.0, 103.0).whole(101.0) == 101.0
    assert CombinedBound(100.0, 103.0).whole(99.0) == 100.0
    assert CombinedBound(None, float("inf")).whole(99.0) == 99.0
    assert CombinedBound(100.0, 103.0).whole(None) == 100.0  # nothing proved: LB stands
    # the sequential solve's combined bound is the very same rule
    red = Reduction(lower_bound=100.0, threshold=103.0)
    assert red.bounds() == CombinedBound(100.0, 103.0)
    assert [red.combined_bound(b) for b in (105.0, 101.0, 99.0, None)] == [
        103.0,
        101.0,
        100.0,
        100.0,
    ]


@pytest.mark.parametrize(
    ("name", "optimum", "backend"),
    [("cap41", 1040444.375, "pyomo"), ("cap71", 932615.75, "matrix"), ("p1", 8848.0, "pyomo")],
)
def test_concurrent_solve_reaches_the_published_optimum(
    name: str, optimum: float, backend: str
) -> None:
    sol = solve(
        benchmark(name),
        SolveOptions(concurrent=2, mip_gap=1e-9, backend=backend, root_reduction=False),  # type: ignore[arg-type]
    )
    assert sol.status == "optimal", sol.message
    assert sol.objective == pytest.approx(optimum, abs=1e-3)
    assert sol.best_bound is not None and sol.best_bound <= sol.objective + 1e-6
    race = sol.solver["concurrent"]
    assert race["searches"] == 2 and race["winner"] in (0, 1)
    assert sol.cost_breakdown is not None
    assert sol.cost_breakdown.total == pytest.approx(sol.objective, rel=REL)
    assert mp.active_children() == []  # no search outlives the solve


@pytest.mark.parametrize("seed", [1, 4, 10, 17])
def test_concurrent_solve_equals_the_oracle(seed: int) -> None:
    inst, ref = random_case(seed)
    sol = csu_opt.solve(inst, concurrent=2, mip_gap=1e-9)
    if ref is None:
        assert sol.status == "infeasible"
    else:
        assert sol.status == "optimal"
        assert sol.objective == pytest.approx(ref.objective, rel=1e-6, abs=1e-6)


def test_concurrent_solve_of_an_infeasible_instance() -> None:
    inst = csu_opt.load_instance(DATA / "infeasible_capacity.yaml")
    assert csu_opt.solve(inst, concurrent=2).status == "infeasible"


def test_concurrent_solve_stops_on_request_with_a_valid_bound() -> None:
    # test_rules.big_instance: optimum 9,803.62, not proven in the first second
    calls: list[object] = []
    sol = solve(
        big_instance(),
        SolveOptions(
            concurrent=2,
            mip_gap=1e-9,
            threads=1,
            on_progress=calls.append,
            should_stop=lambda: len(calls) >= 8,
        ),
    )
    assert sol.status in ("feasible", "no_solution", "optimal")
    if sol.status == "feasible":
        assert "interrupt" in sol.message
        assert sol.objective is not None and sol.objective >= 9803.62 - 1e-6
        assert sol.best_bound is not None and sol.best_bound <= 9803.62 + 1e-6
    assert mp.active_children() == []


def test_cli_concurrent_writes_both_logs(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "csu_opt.cli.main",
            "solve",
            str(DATA / "tiny.yaml"),
            "--concurrent",
            "2",
            "--out",
            str(out),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["status"] == "optimal" and summary["verified"] is True
    assert summary["solver"]["options"]["concurrent"] == 2
    log = (out / "highs.log").read_text()
    assert "concurrent search 0" in log and "concurrent search 1" in log
    assert sorted(p.name for p in out.iterdir()) == [
        "assignments.csv",
        "flows.csv",
        "highs.log",
        "roles.csv",
        "summary.json",
    ]


def test_search_whose_objective_disagrees_with_its_solution_reports_no_bound(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # one search run in this process, with HiGHS's objective made to disagree with the cost
    # of its solution (highspy 1.16.0's fault): the true cost stands and no bound is claimed
    import os
    import threading
    from types import SimpleNamespace

    import csu_opt.solver.concurrent as conc
    import csu_opt.solver.highs as highs_module
    from csu_opt.model.index import build_index
    from csu_opt.model.matrix import build_matrix

    mm = build_matrix(build_index(benchmark("cap41")))
    true_cost = highs_module.solution_cost
    monkeypatch.setattr(highs_module, "solution_cost", lambda h, c: true_cost(h, c) + 50.0)
    shared = SimpleNamespace(
        ub=SimpleNamespace(value=float("inf")),
        lb=SimpleNamespace(value=-float("inf")),
        stop=SimpleNamespace(value=0),
        lock=threading.Lock(),
    )
    (cfg,) = _configs(1, 0, {}, str(tmp_path / "highs.log"))
    result = conc._run_search(mm, cfg, shared, os.getppid())
    assert result.bound is None
    assert result.objective == pytest.approx(1040444.375 + 50.0, abs=1e-3)
