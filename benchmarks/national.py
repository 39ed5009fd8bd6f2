"""The national-scale runs (issue 19, section 2): how good a bound and a network csu-opt has
after a planner's time limit on generated markets of every GP practice's size.

Generates each size (``csu_opt.instance.generate``, seed 0, 5 lines) into a temporary folder,
runs ``csu-opt solve FILE --threads 1 --time-limit T`` as a whole process and prints, from its
summary.json: the network's cost, the bound and gap, where the bound came from (the aggregate
relaxation, the Lagrangian bound of the column generation's rounds, the LP relaxation), the
LP stage's rounds and seconds, the alternating fixes' rounds, network and seconds, network
exchange's moves (tried, improving: pairs/openings/triples), network and seconds (``bg_``:
its run from the greedy start during the LP stage and the restricted MIPs, with
``--concurrent``), the wall time and the process's peak
memory. Usage::

    python benchmarks/national.py --size 200x2000:600 --size 500x7000:1800 [--seed S] \
        [--concurrent N]

``--concurrent N`` passes ``--concurrent N`` to the solve (N searches after the root
reduction, and network exchange's sub-MIPs N at a time on worker processes).

Each run is one process at a time, so the peak memory (``RUSAGE_CHILDREN``) is the largest
so far: sizes are run smallest first.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import cli_solve, write_csv
from csu_opt.solver.background import DURING
from csu_opt.solver.exchange import KINDS

COLUMNS = [
    "size",
    "time_limit",
    "status",
    "objective",
    "bound",
    "gap_pct",
    "aggregate_bound",
    "lagrangian_bound",
    "lp_bound",
    "lp_status",
    "lp_rounds",
    "lp_s",
    "restricted_mip_s",
    "alt_rounds",
    "alt_network",
    "alt_s",
    "bg_network",
    "bg_tried",
    "bg_s",
    "ex_tried",
    "ex_improved",
    "ex_workers",
    "ex_network",
    "ex_s",
    "incumbent_source",
    "wall_s",
    "peak_gb",
]


def run(
    size: str, time_limit: float, folder: Path, seed: int = 0, concurrent: int = 1
) -> dict[str, Any]:
    from csu_opt.instance.generate import generate_to_folder

    p, c = (int(v) for v in size.split("x"))
    path = generate_to_folder(folder / size, p, c, lines=5, seed=seed)
    extra = ["--concurrent", str(concurrent)] if concurrent > 1 else []
    wall, summary = cli_solve(path, time_limit, extra)
    solver = summary.get("solver", {})
    red = solver.get("reduction") or {}
    alt = (red.get("alternating_fixes") or [{}])[-1]
    ex = (red.get("network_exchange") or [{}])[-1]
    early = [r for r in red.get("network_exchange") or [] if r.get("during") == DURING]
    bg = early[0] if early else {}
    gap = summary.get("mip_gap")
    return {
        "size": size,
        "time_limit": time_limit,
        "status": summary.get("status"),
        "objective": summary.get("objective"),
        "bound": summary.get("best_bound"),
        "gap_pct": None if gap is None else 100 * gap,
        "aggregate_bound": red.get("aggregate_bound"),
        "lagrangian_bound": red.get("lagrangian_bound"),
        "lp_bound": red.get("lp_bound"),
        "lp_status": red.get("lp_status"),
        "lp_rounds": red.get("lp_rounds"),
        "lp_s": red.get("lp_s"),
        "restricted_mip_s": red.get("restricted_mip_s"),
        "alt_rounds": alt.get("rounds"),
        "alt_network": alt.get("network"),
        "alt_s": alt.get("time_s"),
        "bg_network": bg.get("network"),
        "bg_tried": "/".join(str(bg.get(f"{k}_tried", "-")) for k in KINDS) if bg else None,
        "bg_s": bg.get("time_s"),
        "ex_tried": "/".join(str(ex.get(f"{k}_tried", "-")) for k in KINDS),
        "ex_improved": "/".join(str(ex.get(f"{k}_improved", "-")) for k in KINDS),
        "ex_workers": ex.get("workers", 1),
        "ex_network": ex.get("network"),
        "ex_s": ex.get("time_s"),
        "incumbent_source": red.get("incumbent_source"),
        "wall_s": wall,
        "peak_gb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2,
    }


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.2f}"
    return "—" if v is None else str(v)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--size",
        action="append",
        default=[],
        help="PxC:SECONDS, e.g. 500x7000:1800 (default: 200x2000:600 and 500x7000:1800)",
    )
    ap.add_argument("--seed", type=int, default=0, help="the generator's seed (default 0)")
    ap.add_argument("--concurrent", type=int, default=1, help="csu-opt solve --concurrent N")
    ap.add_argument("--csv", type=Path, default=None)
    args = ap.parse_args()
    sizes = args.size or ["200x2000:600", "500x7000:1800"]
    rows: list[dict[str, Any]] = []
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    with tempfile.TemporaryDirectory() as d:
        for item in sizes:
            size, seconds = item.split(":")
            row = run(size, float(seconds), Path(d), args.seed, args.concurrent)
            rows.append(row)
            print("| " + " | ".join(_fmt(row[k]) for k in COLUMNS) + " |", flush=True)
            if args.csv is not None:
                write_csv(args.csv, COLUMNS, rows)


if __name__ == "__main__":
    main()
