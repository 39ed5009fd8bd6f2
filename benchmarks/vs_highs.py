"""Time to proven optimality: `csu-opt solve` end to end against plain HiGHS (issue 7).

For every selected benchmark (default: the 12 OR-Library capa/capb/capc variants), one run
each, one after the other, never two at once, in the same invocation:

- ``plain``: plain highspy on the strong facility-location formulation built straight from
  arrays (``benchmarks/perf.py``'s ``highs`` variant), timed from reading the converted file
  to HiGHS's end;
- ``csu-opt``: the command a planner types, ``csu-opt solve FILE --threads 1 --out DIR``,
  timed as a whole process (Python start-up, reading, building, the root reduction, HiGHS,
  verification and writing the result folder all count against it).

Both stop at the same relative gap (1e-4, csu-opt's default) and time limit. Prints one row
per instance and the sums, the ratio csu-opt / plain, and whether each objective matches the
published optimum; writes the rows as CSV.

    python benchmarks/vs_highs.py                          # capa/capb/capc, ~25 min
    python benchmarks/vs_highs.py --bench 'p2[5-9]' --time-limit 600
    python benchmarks/vs_highs.py --csu-args="--no-reduction"  # the same, reduction off
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import cli_solve, write_csv  # noqa: E402
from perf import measure  # noqa: E402

OUT = ROOT / "benchmarks" / "out" / "vs_highs.csv"
COLUMNS = [
    "instance",
    "published",
    "plain_s",
    "plain_status",
    "plain_objective",
    "csu_s",
    "csu_status",
    "csu_objective",
    "csu_bound",
    "ratio",
    "lp_s",
    "restricted_mip_s",
    "fixed",
    "highs_s",
    "match",
]


def run_csu(path: Path, time_limit: float, extra: list[str]) -> dict[str, Any]:
    wall, summary = cli_solve(path, time_limit, extra)
    solver = summary.get("solver", {})
    red = solver.get("reduction") or {}
    return {
        "csu_s": wall,
        "csu_status": summary["status"],
        "csu_objective": summary.get("objective"),
        "csu_bound": summary.get("best_bound"),
        "lp_s": red.get("lp_s"),
        "restricted_mip_s": red.get("restricted_mip_s"),
        "fixed": (red.get("fixed_to_zero") or 0) + (red.get("fixed_to_one") or 0) if red else None,
        "highs_s": solver.get("highs_time_s"),
    }


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) >= 1000 else f"{v:.2f}"
    return str(v)


def main() -> None:
    from readers import benchmark_catalogue, convert_benchmark, select

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--bench", action="append", default=[], metavar="PATTERN")
    ap.add_argument("--time-limit", type=float, default=900.0)
    ap.add_argument("--csu-args", default="", help="extra arguments for csu-opt solve")
    ap.add_argument("--no-plain", action="store_true", help="skip plain HiGHS")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    patterns = args.bench or ["capa_*", "capb_*", "capc_*"]
    extra = shlex.split(args.csu_args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    shown = ["instance", "plain_s", "csu_s", "ratio", "lp_s", "restricted_mip_s", "fixed"]
    shown += ["plain_objective", "csu_objective", "published", "match"]
    print(" | ".join(shown))
    print(" | ".join("---" for _ in shown))
    with tempfile.TemporaryDirectory() as d:
        for bench in select(benchmark_catalogue(), *patterns):
            path = convert_benchmark(bench.name, Path(d) / bench.name)
            row: dict[str, Any] = {"instance": bench.name, "published": bench.optimum}
            if not args.no_plain:
                plain = measure(path, "highs", args.time_limit, 1)
                row.update(
                    plain_s=plain.get("read_s", 0.0) + plain.get("total_s", float("nan")),
                    plain_status=plain.get("status"),
                    plain_objective=plain.get("objective"),
                )
            row.update(run_csu(path, args.time_limit, extra))
            if row.get("plain_s") and row.get("csu_s"):
                row["ratio"] = row["csu_s"] / row["plain_s"]
            obj = row.get("csu_objective")
            row["match"] = obj is not None and abs(obj - bench.optimum) <= 1e-3 + 1e-9 * abs(
                bench.optimum
            )
            rows.append(row)
            print(" | ".join(_fmt(row.get(k)) for k in shown), flush=True)
            write_csv(args.out, COLUMNS, rows)
    plain_sum = sum(r.get("plain_s") or 0.0 for r in rows)
    csu_sum = sum(r.get("csu_s") or 0.0 for r in rows)
    print(f"\nsum over {len(rows)} instances: plain HiGHS {plain_sum:.1f} s,", end=" ")
    print(f"csu-opt {csu_sum:.1f} s")
    if plain_sum:
        print(f"ratio csu-opt / plain HiGHS: {csu_sum / plain_sum:.3f}")
    print(f"all match the published optima: {all(r['match'] for r in rows)}")


if __name__ == "__main__":
    main()
