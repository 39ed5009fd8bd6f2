"""How much do the valid inequalities (V1-V5, model/formulation.md) tighten the LP?

For each instance, solves the LP relaxation of the Pyomo model with and without them (HiGHS,
integrality dropped, no presolve) and prints both bounds, the MIP optimum (or, where a
2-minute solve does not prove one, its best solution) and the share of the integrality gap
the cuts close. Usage::

    python benchmarks/lp_bound.py [--only cap4 ...]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pyomo.environ as pyo
from pyomo.contrib.appsi.solvers import Highs

import csu_opt
from csu_opt.model.index import build_index
from csu_opt.model.pyomo_model import build_model
from readers import benchmark_catalogue, convert_benchmark

ROOT = Path(__file__).resolve().parent.parent
NAMES = [
    "cap41",
    "cap44",
    "cap51",
    "cap61",
    "cap64",
    "cap81",
    "cap84",
    "cap111",
    "cap114",
    "p1",
    "p13",
    "p25",
]


def lp_bound(inst: csu_opt.Instance, cuts: bool) -> float:
    model = build_model(build_index(inst), valid_inequalities=cuts)
    pyo.TransformationFactory("core.relax_integer_vars").apply_to(model)
    opt = Highs()
    opt.highs_options = {"presolve": "off", "log_to_console": False}
    res = opt.solve(model)
    return float(res.best_feasible_objective)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--only", action="append", default=[])
    args = ap.parse_args()
    optima = {b.name: b.optimum for b in benchmark_catalogue()}
    rows = []
    with tempfile.TemporaryDirectory() as d:
        items = [(n, convert_benchmark(n, Path(d) / n), optima.get(n)) for n in NAMES]
        for path in (
            "instances/demo.yaml",
            "instances/england-2014.yaml",
            "instances/england-2013.yaml",
        ):
            items.append((Path(path).stem, ROOT / path, None))
        for name, path, opt in items:
            if args.only and not any(o in name for o in args.only):
                continue
            inst = csu_opt.load_instance(path)
            if opt is None:
                opt = csu_opt.solve(inst, time_limit=120).objective
            without, with_cuts = lp_bound(inst, False), lp_bound(inst, True)
            closed = (with_cuts - without) / (opt - without) if opt and opt > without else 0.0
            rows.append((name, without, with_cuts, opt, closed))
            print(
                f"{name:14} LP {without:16,.2f}  LP+V1-V5 {with_cuts:16,.2f}  "
                f"MIP {opt:16,.2f}  gap closed by the cuts {100 * closed:5.1f}%",
                flush=True,
            )


if __name__ == "__main__":
    main()
