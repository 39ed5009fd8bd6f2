"""Conformance of csu-opt with published facility-location optima, on the larger benchmarks.

Each benchmark goes through the path a planner uses: it is converted to instance files
(``readers.convert_benchmark``), read back with ``csu_opt.load_instance``
and solved
with ``csu_opt.solver.solve``. One row per benchmark is printed and written to a CSV file (rewritten
after every benchmark, so an interrupted run keeps what it finished).

    python benchmarks/conformance.py                        # capa/b/c (12) and Holmberg p25-p71
    python benchmarks/conformance.py --only p25 --only p26 --only capa_8000 --time-limit 120
    python benchmarks/conformance.py --set small            # cap41-cap134 and p1-p24 (the tests)

Run it on an otherwise idle machine: concurrent jobs make the timings meaningless. Exit code:
0 when no benchmark contradicts its published optimum, 1 otherwise.

Verdicts: ``match`` (proven optimal, objective = published within 1e-3 or 1e-8 relative);
``consistent`` (stopped at the limit; bound <= published <= objective); ``MISMATCH``
(an optimal objective that differs, a bound above the published optimum, or a solution
below it); ``no_solution``.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

import csu_opt
from readers import (
    Benchmark,
    BenchmarksNotFound,
    benchmark_catalogue,
    convert_benchmark,
    select,
)

ABS_TOL = 1e-3
REL_TOL = 1e-8
DEFAULT_OUT = Path(__file__).resolve().parent / "out" / "conformance.csv"
SETS = {
    "large": ["cap[abc]_*", *(f"p{i}" for i in range(25, 72))],
    "small": ["cap[0-9]*", *(f"p{i}" for i in range(1, 25))],
    "all": ["*"],
}
COLUMNS = [
    "instance",
    "family",
    "facilities",
    "customers",
    "single_sourcing",
    "published",
    "objective",
    "best_bound",
    "gap",
    "abs_diff",
    "verdict",
    "status",
    "convert_s",
    "read_s",
    "build_s",
    "handover_s",
    "solve_s",
    "load_s",
    "total_s",
    "time_limit_s",
]


def _tol(published: float) -> float:
    return max(ABS_TOL, REL_TOL * abs(published))


def verdict(status: str, objective: float | None, bound: float | None, published: float) -> str:
    """How a solve's outcome compares with the published optimum."""
    tol = _tol(published)
    if bound is not None and bound > published + tol:
        return "MISMATCH"
    if objective is None:
        return "no_solution"
    if objective < published - tol:
        return "MISMATCH"
    if status == "optimal":
        return "match" if abs(objective - published) <= tol else "MISMATCH"
    return "consistent"


def run_one(
    bench: Benchmark,
    work: Path,
    *,
    time_limit: float | None,
    mip_gap: float,
    threads: int | None,
    log_dir: Path | None,
) -> dict[str, Any]:
    m, n = bench.size()
    t0 = time.perf_counter()
    yaml_path = convert_benchmark(bench.name, work / bench.name)
    t1 = time.perf_counter()
    instance = csu_opt.load_instance(yaml_path)
    t2 = time.perf_counter()
    options: dict[str, Any] = {"mip_gap": mip_gap, "time_limit": time_limit, "threads": threads}
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        options["log_file"] = log_dir / f"{bench.name}.log"
    sol = csu_opt.solve(instance, **options)
    status = str(sol.status)
    tm = sol.timings
    return {
        "instance": bench.name,
        "family": bench.family,
        "facilities": m,
        "customers": n,
        "single_sourcing": bench.single_sourcing,
        "published": bench.optimum,
        "objective": sol.objective,
        "best_bound": sol.best_bound,
        "gap": sol.mip_gap,
        "abs_diff": None if sol.objective is None else sol.objective - bench.optimum,
        "verdict": verdict(status, sol.objective, sol.best_bound, bench.optimum),
        "status": status,
        "convert_s": t1 - t0,
        "read_s": t2 - t1,
        "build_s": tm.build_s,
        "handover_s": tm.handover_s,
        "solve_s": tm.solve_s,
        "load_s": tm.load_s,
        "total_s": tm.total_s,
        "time_limit_s": time_limit,
    }


def _fmt(value: Any, column: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if column.endswith("_s"):
        return f"{value:.2f}"
    if column == "gap":
        return f"{value:.2e}"
    if column == "abs_diff":
        return f"{value:+.4f}"
    if isinstance(value, float):
        return f"{value:,.3f}"
    return str(value)


def print_table(rows: list[dict[str, Any]]) -> None:
    shown = [
        "instance",
        "size",
        "published",
        "objective",
        "best_bound",
        "gap",
        "abs_diff",
        "verdict",
        "status",
        "build_s",
        "handover_s",
        "solve_s",
        "total_s",
    ]
    table = [{**r, "size": f"{r['facilities']}x{r['customers']}"} for r in rows if "instance" in r]
    cells = [[_fmt(r.get(c), c) for c in shown] for r in table]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(shown)]
    print("  ".join(c.rjust(w) for c, w in zip(shown, widths, strict=True)))
    for row in cells:
        print("  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="PATTERN",
        help="benchmark names to run, shell-style (capa_*, p2?); repeatable; overrides --set",
    )
    parser.add_argument(
        "--set",
        choices=sorted(SETS),
        default="large",
        help="large: capa/b/c and p25-p71 (default); small: what the tests run; all",
    )
    parser.add_argument("--time-limit", type=float, default=600.0, help="seconds per benchmark")
    parser.add_argument("--mip-gap", type=float, default=1e-9)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV file to write")
    parser.add_argument("--logs", type=Path, default=None, help="folder for HiGHS logs")
    parser.add_argument("--list", action="store_true", help="list the selection and stop")
    args = parser.parse_args(argv)

    try:
        catalogue = benchmark_catalogue()
    except BenchmarksNotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    chosen = select(catalogue, *(args.only or SETS[args.set]))
    if not chosen:
        print("error: no benchmark matches the selection", file=sys.stderr)
        return 2
    if args.list:
        for b in chosen:
            m, n = b.size()
            print(f"{b.name:12s} {m:4d}x{n:<5d} {b.optimum:>16,.3f}  {b.path}")
        return 0

    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="csu-opt-conformance-") as tmp:
        for bench in chosen:
            row = run_one(
                bench,
                Path(tmp),
                time_limit=args.time_limit,
                mip_gap=args.mip_gap,
                threads=args.threads,
                log_dir=args.logs,
            )
            rows.append(row)
            pd.DataFrame(rows, columns=COLUMNS).to_csv(args.out, index=False)
            print(
                f"{row['instance']:>10s}  {row['verdict']:<11s} {row['status']:<8s} "
                f"objective {_fmt(row['objective'], 'objective')}  "
                f"published {_fmt(row['published'], 'published')}  "
                f"total {row['total_s']:.1f}s",
                flush=True,
            )
    print()
    print_table(rows)
    print(f"\nwritten: {args.out}")
    return 1 if any(r["verdict"] == "MISMATCH" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
