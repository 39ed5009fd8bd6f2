"""Sweep performance: cold solve vs re-solve of a kept model, and 1 vs 2 workers.

For each instance, a lead-band sweep (cases that change only C1's bounds and the demand
scale, which a kept model takes as parameter changes) is solved three ways in one run:
cold (build + hand-over + solve per case), re-solved (one ModelSession, warm-started) and
as a ``csu-opt sweep`` with 1 and with 2 worker processes. Usage::

    python benchmarks/sweep_bench.py [--instance PATH ...] [--generated 20x2000] [--time-limit 60]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import csu_opt
from csu_opt.analysis.sweep import Case
from csu_opt.analysis.sweep_exec import Executor, SweepRun
from csu_opt.instance.generate import generate_to_folder
from csu_opt.solver.options import SolveOptions
from csu_opt.solver.solve import ModelSession

ROOT = Path(__file__).resolve().parent.parent


def band_cases(inst: csu_opt.Instance) -> list[tuple[int | None, int | None, float]]:
    n = int(inst.providers["can_lead"].sum())
    hi = inst.settings.lead_max or n
    lo = inst.settings.lead_min or 1
    maxes = sorted({max(lo, hi - 1), hi})
    return [(lo, m, f) for m in maxes for f in (1.0, 1.25)]


def overrides(lo: int | None, hi: int | None, f: float) -> list[str]:
    return [
        f"settings.lead_providers.min={lo}",
        f"settings.lead_providers.max={hi}",
        f"demand.volume*={f}",
    ]


def bench(name: str, path: Path, time_limit: float, tmp: Path) -> list[str]:
    base = csu_opt.load_instance(path)
    cases = band_cases(base)
    opts = SolveOptions(time_limit=time_limit, threads=1)
    cold = []
    for lo, hi, f in cases:
        sol = csu_opt.solve(
            base.with_changes(overrides(lo, hi, f)), time_limit=time_limit, threads=1
        )
        cold.append((sol.timings.total_s, sol.objective))
    session = ModelSession(base, opts, mutable=True)
    warm = []
    for lo, hi, f in cases:
        session.set_parameters(lo, hi, f)
        sol = session.solve(base.with_changes(overrides(lo, hi, f)), opts)
        warm.append((sol.timings.total_s, sol.objective))
    sweep_cases = [
        Case.make({"max": hi, "f": f}, tuple(overrides(lo, hi, f))) for lo, hi, f in cases
    ]
    through = {}
    for workers in (1, 2):
        run = SweepRun(
            path, (), tmp / f"{name}-{workers}", Executor(workers=workers), time_limit=time_limit
        )
        t = time.perf_counter()
        run.run(sweep_cases)
        run.executor.close()
        through[workers] = len(sweep_cases) / (time.perf_counter() - t) * 60
    same = all(
        a is not None and b is not None and abs(a - b) <= 1e-4 * max(1.0, abs(a))
        for (_, a), (_, b) in zip(cold, warm, strict=True)
    )
    c, w = statistics.mean(t for t, _ in cold), statistics.mean(t for t, _ in warm[1:])
    return [
        name,
        str(len(cases)),
        f"{c:.2f}",
        f"{w:.2f}",
        f"{w / c:.2f}",
        f"{through[1]:.1f}",
        f"{through[2]:.1f}",
        f"{through[2] / through[1]:.2f}",
        "yes" if same else "NO",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--instance", action="append", default=[])
    ap.add_argument("--generated", action="append", default=[], metavar="PxC")
    ap.add_argument("--time-limit", type=float, default=120.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        items = [(Path(p).stem, Path(p)) for p in args.instance]
        if not items and not args.generated:
            items = [("england-2014", ROOT / "instances/england-2014.yaml")]
            args.generated = ["20x2000"]
        for g in args.generated:
            n_p, n_c = (int(v) for v in g.split("x"))
            items.append((f"gen {g}", generate_to_folder(tmp / "gen", n_p, n_c, seed=1)))
        head = [
            "instance",
            "cases",
            "cold s/case",
            "re-solve s/case",
            "ratio",
            "cases/min 1w",
            "cases/min 2w",
            "speed-up",
            "same obj",
        ]
        print(" | ".join(head))
        print(" | ".join("---" for _ in head))
        for name, path in items:
            print(" | ".join(bench(name, path, args.time_limit, tmp)), flush=True)


if __name__ == "__main__":
    main()
