"""Time to proven optimality at the planner's size: England and generated P x 211 (issue 7).

Every instance is solved by the command a planner types, ``csu-opt solve FILE --threads 1
--out DIR --quiet --time-limit T`` plus each variant's options, as a whole process (start-up,
reading, the solve, verification and the result folder all count), one run at a time, in
the same invocation, so that ratios compare like with like:

- ``default``: the ordinary solve;
- ``reduction``: with the root reduction (``--reduction``; default only on large models);
- ``concurrent2``: two searches racing (``--concurrent 2``, one core each);
- ``reduction+concurrent2``: both;
- ``polish33``: the last third of the time limit polishes the best network's lead set
  (``--polish 0.33``) when the search has not proven optimality by then.

``--highs-seeds 0,1,2`` repeats every instance and variant with each HiGHS seed (``--seed``):
on instances that are not proven within the limit, the network found varies with the seed.

Prints one row per instance and variant (wall time, status, objective, bound, gap, nodes)
and, per variant, the number proven optimal within the limit, the slowest, the sum and the
ratio of the sum to the default's; writes the rows as CSV.

    python benchmarks/planner_size.py                                  # ~30-60 min
    python benchmarks/planner_size.py --sizes 30x211 --seeds 0,1,2 --variants default,concurrent2
    python benchmarks/planner_size.py --england england-2013 --sizes "" --highs-seeds 0,1,2 \
        --variants default,polish33                                    # 30 min
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import chosen_variants, cli_solve, write_csv  # noqa: E402

OUT = ROOT / "benchmarks" / "out" / "planner_size.csv"
VARIANTS: dict[str, list[str]] = {
    "default": [],
    "reduction": ["--reduction"],
    "concurrent2": ["--concurrent", "2"],
    "reduction+concurrent2": ["--reduction", "--concurrent", "2"],
    "polish33": ["--polish", "0.33"],
}
COLUMNS = ["instance", "variant", "wall_s", "status", "objective", "bound", "gap", "nodes"]


def run(path: Path, extra: list[str], time_limit: float) -> dict[str, Any]:
    """One ``csu-opt solve`` as a process; its wall time and summary.json."""
    wall, s = cli_solve(path, time_limit, extra)
    return {
        "wall_s": wall,
        "status": s["status"],
        "objective": s.get("objective"),
        "bound": s.get("best_bound"),
        "gap": s.get("mip_gap"),
        "nodes": s.get("solver", {}).get("nodes"),
    }


def instances(args: argparse.Namespace, tmp: Path) -> list[tuple[str, Path]]:
    from csu_opt.instance.generate import generate_to_folder

    items = [(n, ROOT / "instances" / f"{n}.yaml") for n in args.england if n]
    for size in (s for s in args.sizes.split(",") if s):
        p, c = (int(v) for v in size.split("x"))
        for seed in (int(v) for v in args.seeds.split(",") if v):
            path = generate_to_folder(tmp / f"{size}-{seed}", p, c, lines=5, seed=seed)
            items.append((f"gen {p}x{c} s{seed}", path))
    return items


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.1f}" if abs(v) >= 1000 else (f"{v:.2e}" if abs(v) < 0.01 else f"{v:.1f}")
    return str(v)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--england", action="append", default=None, help="england-2014, ...")
    ap.add_argument("--sizes", default="20x211,25x211,30x211")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--variants", default="default,reduction,concurrent2,reduction+concurrent2")
    ap.add_argument("--highs-seeds", default="0", help="HiGHS seeds (--seed), e.g. 0,1,2")
    ap.add_argument("--time-limit", type=float, default=300.0)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    if args.england is None:
        args.england = ["england-2014"]
    variants = chosen_variants(ap, args.variants, VARIANTS)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    print(" | ".join(COLUMNS))
    print(" | ".join("---" for _ in COLUMNS))
    with tempfile.TemporaryDirectory() as d:
        seeds = [int(v) for v in args.highs_seeds.split(",")]
        for (name, path), seed in itertools.product(instances(args, Path(d)), seeds):
            label = name if seeds == [0] else f"{name} seed {seed}"
            for variant in variants:
                row: dict[str, Any] = {"instance": label, "variant": variant}
                extra = VARIANTS[variant] + (["--seed", str(seed)] if seed else [])
                row.update(run(path, extra, args.time_limit))
                rows.append(row)
                print(" | ".join(_fmt(row.get(k)) for k in COLUMNS), flush=True)
                write_csv(args.out, COLUMNS, rows)
    print("\nvariant | proven optimal | slowest s | sum s | sum / default's")
    print("--- | --- | --- | --- | ---")
    base = sum(r["wall_s"] for r in rows if r["variant"] == variants[0])
    for v in variants:
        mine = [r for r in rows if r["variant"] == v]
        total = sum(r["wall_s"] for r in mine)
        optimal = sum(r.get("status") == "optimal" for r in mine)
        slowest = max((r["wall_s"] for r in mine), default=0.0)
        print(f"{v} | {optimal}/{len(mine)} | {slowest:.1f} | {total:.1f} | {total / base:.2f}")


if __name__ == "__main__":
    main()
