"""Conformance with published facility-location benchmarks (model/formulation.md, the special case).

The benchmark tests go through the path a planner uses: convert to instance files
(``convert_benchmark``), read them back (``csu_opt.load_instance``), solve at gap 1e-9, and
compare with the published optimum, on the files vendored in ``benchmarks/data`` (or
``$CSU_OPT_BENCHMARKS``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from benchmarks.readers import (
    ENV_VAR,
    Benchmark,
    BenchmarksNotFound,
    benchmark_catalogue,
    benchmark_root,
    convert_benchmark,
    read_holmberg,
    read_orlib_cap,
    select,
)

import csu_opt
from csu_opt.instance.load import instance_from_document
from factories.benchmarks import close_to_published, published_cases

CAP_NAMES = [
    *(f"cap4{i}" for i in range(1, 5)),
    "cap51",
    *(f"cap{group}{i}" for group in range(6, 14) for i in range(1, 5)),
]
HOLMBERG_SMALL = [f"p{i}" for i in range(1, 25)]


def _solve_as_planner(bench: Benchmark, folder: Path) -> csu_opt.Solution:
    yaml_path = convert_benchmark(bench.name, folder)
    assert yaml_path.is_file()
    instance = csu_opt.load_instance(yaml_path)
    return csu_opt.solve(instance, mip_gap=1e-9)


# --------------------------------------------------------------------------- published optima


def test_catalogue_lists_every_benchmark() -> None:
    catalogue = benchmark_catalogue()
    names = [b.name for b in catalogue]
    assert select(catalogue, "cap[0-9]*") == [b for b in catalogue if b.name in CAP_NAMES]
    assert len(select(catalogue, "cap[0-9]*")) == 37
    assert len(select(catalogue, "cap[abc]_*")) == 12
    assert [b.name for b in select(catalogue, "p*")] == [f"p{i}" for i in range(1, 72)]
    assert names.index("cap41") < names.index("cap134") < names.index("capa_8000")
    capb = next(b for b in catalogue if b.name == "capb_6000")
    assert capb.capacity == 6000.0 and capb.path.name == "capb.txt"
    assert capb.optimum == pytest.approx(13361927.449)
    assert capb.size() == (100, 1000) and not capb.single_sourcing
    p25 = next(b for b in catalogue if b.name == "p25")
    assert p25.single_sourcing and p25.size() == (30, 150) and p25.optimum == 11630
    for bench in catalogue:
        assert bench.path.is_file(), bench.path


@pytest.mark.parametrize(("name", "bench"), published_cases(CAP_NAMES))
def test_orlib_cap_published_optimum(name: str, bench: Benchmark | None, tmp_path: Path) -> None:
    assert bench is not None, f"{name} is missing from orlib_cap/optima.csv"
    assert not bench.single_sourcing
    sol = _solve_as_planner(bench, tmp_path)
    assert sol.status == "optimal", sol.message
    assert sol.objective is not None
    assert close_to_published(sol.objective, bench.optimum), (name, sol.objective, bench.optimum)
    assert sol.best_bound is not None and close_to_published(sol.best_bound, bench.optimum)
    # the objective is made of fixed and assignment costs only
    assert sol.cost_breakdown is not None
    parts = sol.cost_breakdown
    assert parts.delivery == parts.exit == parts.subcontractor_fixed == parts.partnership == 0
    assert parts.lead_fixed + parts.assignment == pytest.approx(sol.objective, abs=1e-4)
    # shares of every CCG add up to one, spread over open facilities only
    shares = sol.assignments.groupby("ccg")["share"].sum()
    assert len(shares) == 50 and np.allclose(shares.to_numpy(), 1.0, atol=1e-6)
    assert set(sol.assignments["lead"]) <= set(sol.leads)


@pytest.mark.parametrize(("name", "bench"), published_cases(HOLMBERG_SMALL))
def test_holmberg_published_optimum(name: str, bench: Benchmark | None, tmp_path: Path) -> None:
    assert bench is not None, f"{name} is missing from holmberg/optima.csv"
    assert bench.single_sourcing
    sol = _solve_as_planner(bench, tmp_path)
    assert sol.status == "optimal", sol.message
    assert sol.objective is not None
    assert close_to_published(sol.objective, bench.optimum), (name, sol.objective, bench.optimum)
    # single source: every customer is served whole by one open facility
    a = sol.assignments
    assert a["ccg"].is_unique and len(a) == 50
    assert np.allclose(a["share"].to_numpy(), 1.0)
    assert set(a["lead"]) <= set(sol.leads)


# --------------------------------------------------------------------------- readers

# 2 facilities x 3 customers in OR-Library layout: customer records span lines.
ORLIB_TINY = """\
 2 3
 10 5.5
 20 7
 4
 1.25 2.5
 6
 3 4.75
 8 9
 10
"""

# the same sizes in Holmberg layout: I J, I lines (capacity, fixed cost), J demands,
# then the costs facility by facility: F1's three customers, then F2's.
HOLMBERG_TINY = """\
2 3
10 5
20 7
4 6 8
11 12 13
21 22 23
"""


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="ascii")
    return path


def _cost(doc: dict, lead: str, ccg: str) -> float:
    t = doc["assignment_costs"]
    return float(t.loc[(t["lead"] == lead) & (t["ccg"] == ccg), "cost"].item())


def _check_special_case(doc: dict) -> None:
    """The settings that make csu-opt's model the CFLP."""
    assert [line["id"] for line in doc["service_lines"]] == ["S"]
    assert doc["service_lines"][0]["quality_threshold"] == 0
    assert "lead_providers" not in doc["settings"]
    assert doc["settings"]["lead_self_delivery_min_share"] == 0
    prov = doc["providers"]
    assert prov["can_lead"].all() and not prov["can_subcontract"].any()
    assert (prov["exit_cost"] == 0).all() and (prov["min_volume"] == 0).all()
    caps = doc["capabilities"]
    assert (caps["quality"] == 100).all() and (caps["unit_cost"] == 0).all()
    assert (caps["service_line"] == "S").all()


def test_read_orlib_cap_tiny(tmp_path: Path) -> None:
    doc = read_orlib_cap(_write(tmp_path, "cap00.txt", ORLIB_TINY))
    _check_special_case(doc)
    assert doc["name"] == "cap00"
    assert doc["settings"]["single_sourcing"] is False
    assert list(doc["providers"]["id"]) == ["F1", "F2"]
    assert list(doc["providers"]["lead_fixed_cost"]) == [5.5, 7.0]
    assert list(doc["capabilities"]["capacity"]) == [10.0, 20.0]
    assert list(doc["ccgs"]["id"]) == ["C1", "C2", "C3"]
    assert list(doc["demand"]["volume"]) == [4.0, 6.0, 8.0]
    # customer-major in the file: each customer's demand is followed by its m costs
    expected = {
        ("F1", "C1"): 1.25,
        ("F2", "C1"): 2.5,
        ("F1", "C2"): 3.0,
        ("F2", "C2"): 4.75,
        ("F1", "C3"): 9.0,
        ("F2", "C3"): 10.0,
    }
    assert len(doc["assignment_costs"]) == 6
    for (lead, ccg), cost in expected.items():
        assert _cost(doc, lead, ccg) == cost
    instance_from_document(doc, tmp_path / "cap00.yaml")  # a valid document


def test_read_holmberg_is_facility_major(tmp_path: Path) -> None:
    doc = read_holmberg(_write(tmp_path, "p0", HOLMBERG_TINY))
    _check_special_case(doc)
    assert doc["settings"]["single_sourcing"] is True
    assert list(doc["providers"]["lead_fixed_cost"]) == [5.0, 7.0]
    assert list(doc["capabilities"]["capacity"]) == [10.0, 20.0]
    assert list(doc["demand"]["volume"]) == [4.0, 6.0, 8.0]
    for i, lead in enumerate(("F1", "F2"), start=1):
        for j, ccg in enumerate(("C1", "C2", "C3"), start=1):
            assert _cost(doc, lead, ccg) == 10 * i + j  # row = facility, column = customer


def test_holmberg_nul_padding_is_ignored(tmp_path: Path) -> None:
    doc = read_holmberg(_write(tmp_path, "p0", HOLMBERG_TINY + "\0\0\0 9 9 9"))
    assert len(doc["assignment_costs"]) == 6


def test_capacity_word_must_be_substituted(tmp_path: Path) -> None:
    text = ORLIB_TINY.replace(" 10 5.5", " capacity 5.5").replace(" 20 7", " capacity 7")
    path = _write(tmp_path, "capz.txt", text)
    with pytest.raises(ValueError, match="literal word 'capacity'"):
        read_orlib_cap(path)
    doc = read_orlib_cap(path, capacity=15)
    assert doc["name"] == "capz_15"
    assert list(doc["capabilities"]["capacity"]) == [15.0, 15.0]
    assert _cost(doc, "F2", "C3") == 10.0
    with pytest.raises(ValueError, match="only to files holding the word"):
        read_orlib_cap(_write(tmp_path, "cap00.txt", ORLIB_TINY), capacity=15)


def test_wrong_token_count_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="holds 15 numbers, found 14"):
        read_orlib_cap(_write(tmp_path, "cap00.txt", ORLIB_TINY.rsplit(" ", 1)[0]))
    with pytest.raises(ValueError, match="holds 15 numbers, found 16"):
        read_holmberg(_write(tmp_path, "p0", HOLMBERG_TINY + "1\n"))
    with pytest.raises(ValueError, match="not a file of numbers"):
        read_holmberg(_write(tmp_path, "p0", HOLMBERG_TINY.replace("22", "x")))


# A tiny CFLP whose split-demand and single-source optima differ: F1 and F2 (capacity 10,
# fixed cost 1) cannot each take a whole customer of demand 6 plus another, F3 (capacity
# 100, fixed cost 100) can take everything. Costs are for a customer's WHOLE demand.
#   split:  open F1, F2; 10 units at F1 (10/6 per unit), 8 at F2 (20/6):  2 + 260/6
#   single: open F3 alone: 100 (F1+F2 cannot hold three customers of 6)
CFLP_ORLIB = """\
3 3
10 1
10 1
100 100
6 10 20 0
6 10 20 0
6 10 20 0
"""
CFLP_HOLMBERG = """\
3 3
10 1
10 1
100 100
6 6 6
10 10 10
20 20 20
0 0 0
"""


def test_tiny_cflp_solves_through_files(tmp_path: Path) -> None:
    split_yaml = convert_benchmark(
        _write(tmp_path, "tiny_split.dat", CFLP_ORLIB), tmp_path / "a", family="orlib_cap"
    )
    single_yaml = convert_benchmark(
        _write(tmp_path, "tiny_single.dat", CFLP_HOLMBERG), tmp_path / "b", family="holmberg"
    )
    split = csu_opt.solve(csu_opt.load_instance(split_yaml), mip_gap=1e-9)
    single = csu_opt.solve(csu_opt.load_instance(single_yaml), mip_gap=1e-9)
    assert split.status == single.status == "optimal"
    assert split.objective == pytest.approx(2 + 260 / 6, abs=1e-6)
    assert sorted(split.leads) == ["F1", "F2"]
    assert single.objective == pytest.approx(100, abs=1e-6)
    assert single.leads == ["F3"]


def test_convert_writes_csv_tables(tmp_path: Path) -> None:
    path = convert_benchmark(_write(tmp_path, "p0", HOLMBERG_TINY), tmp_path / "out")
    assert path == tmp_path / "out" / "p0.yaml"
    text = path.read_text()
    assert text.startswith("# p0: Holmberg")
    inst = csu_opt.load_instance(path)
    assert inst.settings.single_sourcing
    costs = inst.assignment_costs.set_index(["lead", "ccg"])["cost"]
    assert costs[("F2", "C1")] == 21 and costs[("F1", "C3")] == 13
    with pytest.raises(ValueError, match="cannot tell the file format"):
        convert_benchmark(_write(tmp_path, "mystery.txt", HOLMBERG_TINY), tmp_path / "x")


# --------------------------------------------------------------------------- benchmark folder


def test_missing_benchmark_folder_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(BenchmarksNotFound, match="benchmark folder not found"):
        benchmark_root()
    with pytest.raises(BenchmarksNotFound, match=ENV_VAR):
        benchmark_catalogue()


def test_catalogue_from_env_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "orlib_cap").mkdir()
    _write(
        tmp_path / "orlib_cap",
        "capz.txt",
        ORLIB_TINY.replace(" 10 5.5", " capacity 5.5").replace(" 20 7", " capacity 7"),
    )
    pd.DataFrame(
        {"name": ["capz_15", "capz_40"], "optimal_value": [1.5, 2.5], "source": ["x", "y"]}
    ).to_csv(tmp_path / "orlib_cap" / "optima.csv", index=False)
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert benchmark_root() == tmp_path
    catalogue = benchmark_catalogue()
    assert [(b.name, b.capacity, b.optimum) for b in catalogue] == [
        ("capz_15", 15.0, 1.5),
        ("capz_40", 40.0, 2.5),
    ]
    yaml_path = convert_benchmark("capz_40", tmp_path / "out")
    inst = csu_opt.load_instance(yaml_path)
    assert inst.name == "capz_40" and not inst.settings.single_sourcing
    assert list(inst.capabilities["capacity"]) == [40.0, 40.0]
    assert "Published optimum: 2.5" in yaml_path.read_text()
