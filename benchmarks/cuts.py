"""Does the capacity-cover inequality (V1, model/formulation.md) pay for itself?

Solves each instance with and without V1 in the same run, through the same code path as
``csu-opt solve``, and prints objective, HiGHS time, nodes and the ratio. Usage::

    python benchmarks/cuts.py [--time-limit 300] [--only cap6 ...]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import csu_opt
from csu_opt.instance.generate import generate_to_folder
from csu_opt.solver.options import SolveOptions
from csu_opt.solver.solve import solve
from readers import convert_benchmark

ROOT = Path(__file__).resolve().parent.parent
BENCH = ["cap61", "cap62", "cap63", "cap64", "cap121", "cap122", "p13", "p20", "p24", "p25", "p26"]
GENERATED = [(12, 40, 1), (20, 211, 2), (25, 211, 3)]


def instances(tmp: Path, only: list[str]) -> list[tuple[str, Path]]:
    out: list[tuple[str, Path]] = []
    for name in BENCH:
        out.append((name, convert_benchmark(name, tmp / name)))
    for n_p, n_c, seed in GENERATED:
        out.append((f"gen {n_p}x{n_c}", generate_to_folder(tmp / "gen", n_p, n_c, seed=seed)))
    for path in ("instances/demo.yaml", "instances/england-2014.yaml"):
        if (ROOT / path).exists():
            out.append((Path(path).stem, ROOT / path))
    return [(n, p) for n, p in out if not only or any(o in n for o in only)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--time-limit", type=float, default=300.0)
    ap.add_argument("--only", action="append", default=[])
    args = ap.parse_args()
    print(
        f"{'instance':16} {'objective':>16} {'HiGHS s (V1)':>13} {'nodes':>7} "
        f"{'HiGHS s (no V1)':>16} {'nodes':>7} {'ratio':>6}"
    )
    total = [0.0, 0.0]
    with tempfile.TemporaryDirectory() as d:
        for name, path in instances(Path(d), args.only):
            inst = csu_opt.load_instance(path)
            row = []
            for cuts in (True, False):
                sol = solve(
                    inst,
                    SolveOptions(
                        time_limit=args.time_limit,
                        mip_gap=1e-9 if name.startswith(("cap", "p")) else 1e-4,
                        valid_inequalities=cuts,
                        threads=1,
                    ),
                )
                row.append(sol)
            a, b = row
            total[0] += a.timings.solve_s
            total[1] += b.timings.solve_s
            obj = f"{a.objective:,.3f}" if a.objective is not None else "-"
            flag = (
                ""
                if a.status == b.status == csu_opt.Status.OPTIMAL
                else f" ({a.status}/{b.status})"
            )
            print(
                f"{name:16} {obj:>16} {a.timings.solve_s:13.2f} {a.solver.get('nodes'):>7} "
                f"{b.timings.solve_s:16.2f} {b.solver.get('nodes'):>7} "
                f"{a.timings.solve_s / max(b.timings.solve_s, 1e-9):6.2f}{flag}"
            )
    print(
        f"{'sum':16} {'':>16} {total[0]:13.2f} {'':>7} {total[1]:16.2f} {'':>7} "
        f"{total[0] / max(total[1], 1e-9):6.2f}"
    )


if __name__ == "__main__":
    main()
