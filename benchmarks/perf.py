"""Where the time goes: modelling overhead vs HiGHS, Pyomo vs the matrix backend (issue 7).

For every instance, each *variant* runs in a fresh child process (so peak memory is its own
and no run warms another's caches), one after the other, never two at once. Instances: the
demo and England 2014 when ``instances/`` has them, generated ones (``--sizes PxC[xL]``) and
published benchmarks (``--bench PATTERN``, e.g. ``capa_*``, ``p2[5-9]``). Columns: model size,
build, hand-over, HiGHS, solution load, total, the modelling overhead (all but HiGHS) per
nonzero, peak memory (ru_maxrss), objective, bound, gap. On benchmarks the ``highs`` variant
solves the same strong facility-location formulation built straight from arrays in highspy,
and ratios against it are printed.

    python benchmarks/perf.py                                   # the default set (~30 min)
    python benchmarks/perf.py --sizes 20x211,200x2000 --time-limit 30 --variants pyomo,matrix
    python benchmarks/perf.py --bench 'capa_*' --bench p25 --no-generated --time-limit 60

Variants: ``pyomo`` (the Pyomo model via appsi, no greedy start: the code before issue 7),
``matrix`` (arrays into highspy, no start), ``matrix+start`` (with the greedy start),
``matrix+start+heur`` (also HiGHS ``mip_heuristic_effort=0.3``, default 0.05),
``matrix+start+nopresolve`` (``presolve=off``), ``matrix+start+reduce`` (the root reduction of
:mod:`csu_opt.solver.reduce`, the default on the matrix path since issue 7's second session),
``highs`` (plain highspy, benchmarks only).
Timings on a shared machine are noisy: compare rows of one run only.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from common import chosen_variants

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out" / "perf.csv"

VARIANTS: dict[str, dict[str, Any]] = {
    "pyomo": {"backend": "pyomo", "start_heuristic": False, "root_reduction": False},
    "matrix": {"backend": "matrix", "start_heuristic": False, "root_reduction": False},
    "matrix+start": {"backend": "matrix", "start_heuristic": True, "root_reduction": False},
    "matrix+start+heur": {
        "backend": "matrix",
        "start_heuristic": True,
        "root_reduction": False,
        "highs_options": {"mip_heuristic_effort": 0.3},
    },
    "matrix+start+nopresolve": {
        "backend": "matrix",
        "start_heuristic": True,
        "root_reduction": False,
        "highs_options": {"presolve": "off"},
    },
    "matrix+start+reduce": {"backend": "matrix", "start_heuristic": True, "root_reduction": True},
    "highs": {},
}
COLUMNS = [
    "instance",
    "variant",
    "cols",
    "rows",
    "nnz",
    "read_s",
    "build_s",
    "handover_s",
    "highs_s",
    "load_s",
    "total_s",
    "overhead_us_per_nnz",
    "peak_mb",
    "status",
    "objective",
    "bound",
    "gap",
    "start_objective",
    "time_limit",
]


# --------------------------------------------------------------------------- one run (child)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def run_csu(path: Path, variant: str, time_limit: float, threads: int) -> dict[str, Any]:
    import csu_opt
    from csu_opt.solver.engines import appsi_highs
    from csu_opt.solver.options import SolveOptions
    from csu_opt.solver.solve import ModelSession

    t0 = time.perf_counter()
    inst = csu_opt.load_instance(path)
    read_s = time.perf_counter() - t0
    opts = SolveOptions(time_limit=time_limit, threads=threads, **VARIANTS[variant])
    session = ModelSession(inst, opts)
    sol = session.solve(inst, opts)
    engine = session.engine
    if session.backend == "matrix":
        mm = session.model
        cols, rows, nnz = mm.n_cols, mm.n_rows, mm.nnz
    else:
        lp = appsi_highs(engine.opt).getLp()  # type: ignore[union-attr]
        cols, rows, nnz = lp.num_col_, lp.num_row_, len(lp.a_matrix_.value_)
    t = sol.timings
    start = sol.solver.get("start") or {}
    return {
        "cols": cols,
        "rows": rows,
        "nnz": nnz,
        "read_s": read_s,
        "build_s": t.build_s,
        "handover_s": t.handover_s,
        "highs_s": t.solve_s,
        "load_s": t.load_s,
        "total_s": t.total_s,
        "status": sol.status.value,
        "objective": sol.objective,
        "bound": sol.best_bound,
        "gap": sol.mip_gap,
        "start_objective": start.get("objective"),
    }


def run_plain_highs(
    path: Path, time_limit: float, threads: int, gap: float = 1e-4
) -> dict[str, Any]:
    """The strong CFLP formulation straight into highspy (a benchmark converted to csu-opt).

    min Σ F_i y_i + Σ t_ij x_ij  s.t.  Σ_i x_ij = 1;  Σ_j d_j x_ij <= cap_i y_i;
    x_ij <= y_i;  Σ_i cap_i y_i >= Σ_j d_j (the aggregate cut V1 of csu-opt's model);
    y binary, x in [0,1] (binary under single sourcing).
    """
    import highspy

    import csu_opt

    t0 = time.perf_counter()
    inst = csu_opt.load_instance(path)
    read_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    fac = list(inst.providers.index)
    cus = list(inst.ccgs.index)
    n, m = len(fac), len(cus)
    F = inst.providers["lead_fixed_cost"].to_numpy(dtype=float)
    cap = inst.capabilities.set_index("provider")["capacity"].reindex(fac).fillna(0).to_numpy(float)
    d = inst.demand.groupby("ccg")["volume"].sum().reindex(cus).fillna(0).to_numpy(float)
    ac = inst.assignment_costs
    t = np.zeros((n, m))
    t[
        np.asarray(inst.providers.index.get_indexer(ac["lead"])),
        np.asarray(inst.ccgs.index.get_indexer(ac["ccg"])),
    ] = ac["cost"].to_numpy(float)
    # columns: y (n) | x (n*m, facility-major)
    nx = n * m
    xi = np.repeat(np.arange(n), m)
    xj = np.tile(np.arange(m), n)
    xcol = n + np.arange(nx)
    rows = np.concatenate(
        [xj, m + xi, m + n + np.arange(nx), m + n + np.arange(nx), np.full(n, m + n + nx)]
    )
    r_cols = np.concatenate([xcol, xcol, xcol, xi, np.arange(n)])
    vals = np.concatenate([np.ones(nx), d[xj], np.ones(nx), -np.ones(nx), cap])
    # capacity rows: Σ_j d_j x_ij - cap_i y_i <= 0
    rows = np.concatenate([rows, m + np.arange(n)])
    r_cols = np.concatenate([r_cols, np.arange(n)])
    vals = np.concatenate([vals, -cap])
    n_rows = m + n + nx + 1
    lower = np.concatenate([np.ones(m), np.full(n + nx, -np.inf), [d.sum()]])
    upper = np.concatenate([np.ones(m), np.zeros(n + nx), [np.inf]])
    order = np.argsort(rows, kind="stable")
    start = np.zeros(n_rows + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=start[1:])
    integrality = np.zeros(n + nx, dtype=np.int32)
    integrality[:n] = 1
    if inst.settings.single_sourcing:
        integrality[n:] = 1
    cost = np.concatenate([F, t.ravel()])
    build_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(
        n + nx,
        n_rows,
        len(vals),
        2,
        1,
        0.0,
        cost,
        np.zeros(n + nx),
        np.ones(n + nx),
        lower,
        upper,
        start,
        r_cols[order].astype(np.int32),
        vals[order],
        integrality,
    )
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(gap))
    h.setOptionValue("threads", int(threads))
    h.setOptionValue("random_seed", 0)
    handover_s = time.perf_counter() - t2
    t3 = time.perf_counter()
    h.run()
    highs_s = time.perf_counter() - t3
    t4 = time.perf_counter()
    info = h.getInfo()
    has = info.primal_solution_status == 2
    np.asarray(h.getSolution().col_value)
    load_s = time.perf_counter() - t4
    obj = float(info.objective_function_value) if has else None
    bound = float(info.mip_dual_bound) if abs(info.mip_dual_bound) < 1e29 else None
    return {
        "cols": n + nx,
        "rows": n_rows,
        "nnz": len(vals),
        "read_s": read_s,
        "build_s": build_s,
        "handover_s": handover_s,
        "highs_s": highs_s,
        "load_s": load_s,
        "total_s": build_s + handover_s + highs_s + load_s,
        "status": h.modelStatusToString(h.getModelStatus()),
        "objective": obj,
        "bound": bound,
        "gap": float(info.mip_gap) if has and bound is not None else None,
        "start_objective": None,
    }


def child(args: argparse.Namespace) -> None:
    path = Path(args.one)
    if args.variant == "highs":
        row = run_plain_highs(path, args.time_limit, args.threads, args.gap)
    else:
        row = run_csu(path, args.variant, args.time_limit, args.threads)
    row["peak_mb"] = _peak_mb()
    print("RESULT " + json.dumps(row))


# --------------------------------------------------------------------------- driver (parent)


def measure(
    path: Path, variant: str, time_limit: float, threads: int, gap: float = 1e-4
) -> dict[str, Any]:
    """One run in a fresh child process; ``gap`` is plain HiGHS's ``mip_rel_gap`` (``highs``)."""
    cmd = [sys.executable, __file__, "--one", str(path), "--variant", variant]
    cmd += ["--time-limit", str(time_limit), "--threads", str(threads), "--gap", str(gap)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            row: dict[str, Any] = json.loads(line[7:])
            over = row["build_s"] + row["handover_s"] + row["load_s"]
            row["overhead_us_per_nnz"] = 1e6 * over / max(row["nnz"], 1)
            return row
    return {"status": "error: " + (proc.stderr.strip().splitlines() or ["?"])[-1]}


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if abs(v) >= 1e5:
            return f"{v:,.0f}"
        return f"{v:.4g}" if abs(v) < 1 else f"{v:.2f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


SHOWN = [
    ("instance", "instance"),
    ("variant", "variant"),
    ("cols", "columns"),
    ("rows", "rows"),
    ("nnz", "nonzeros"),
    ("build_s", "build s"),
    ("handover_s", "hand-over s"),
    ("highs_s", "HiGHS s"),
    ("load_s", "load s"),
    ("total_s", "total s"),
    ("overhead_us_per_nnz", "overhead µs/nz"),
    ("peak_mb", "peak MB"),
    ("objective", "objective"),
    ("bound", "bound"),
    ("gap", "gap"),
]


def instances(args: argparse.Namespace, tmp: Path) -> list[tuple[str, Path]]:
    from csu_opt.instance.generate import generate_to_folder
    from readers import benchmark_catalogue, convert_benchmark, select

    items: list[tuple[str, Path]] = []
    if not args.no_generated:
        for name in ("demo", "england-2014"):
            path = ROOT / "instances" / f"{name}.yaml"
            if path.is_file():
                items.append((name, path))
        for size in (s for s in args.sizes.split(",") if s):
            parts = [int(v) for v in size.split("x")]
            p, c, lines = parts[0], parts[1], parts[2] if len(parts) > 2 else 5
            out = generate_to_folder(tmp / f"gen-{size}", p, c, lines=lines, seed=args.seed)
            items.append((f"gen {p}x{c}x{lines}", out))
    if args.bench:
        for bench in select(benchmark_catalogue(), *args.bench):
            items.append((bench.name, convert_benchmark(bench.name, tmp / bench.name)))
    return items


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", default="20x211,50x500,200x2000,500x7000", help="PxC[xL],...")
    ap.add_argument("--bench", action="append", default=[], metavar="PATTERN")
    ap.add_argument("--no-generated", action="store_true", help="benchmarks only")
    ap.add_argument("--variants", default="pyomo,matrix,matrix+start")
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--variant", help=argparse.SUPPRESS)
    ap.add_argument("--gap", type=float, default=1e-4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        child(args)
        return
    variants = chosen_variants(ap, args.variants, VARIANTS)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    print(" | ".join(h for _, h in SHOWN))
    print(" | ".join("---" for _ in SHOWN))
    with tempfile.TemporaryDirectory() as d:
        for name, path in instances(args, Path(d)):
            is_bench = bool(args.bench) and not name.startswith(("gen ", "demo", "england"))
            todo = list(variants)
            if is_bench and "highs" not in todo:
                todo.append("highs")
            for variant in todo:
                if variant == "highs" and not is_bench:
                    continue
                row = {"instance": name, "variant": variant, "time_limit": args.time_limit}
                row.update(measure(path, variant, args.time_limit, args.threads))
                rows.append(row)
                print(" | ".join(_fmt(row.get(k)) for k, _ in SHOWN), flush=True)
                with args.out.open("w", newline="", encoding="utf-8") as fh:
                    w = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="ignore")
                    w.writeheader()
                    w.writerows(rows)
    ratios(rows)


def ratios(rows: list[dict[str, Any]]) -> None:
    """Per instance: each variant's overhead and total against pyomo's and plain HiGHS's."""
    print("\ninstance | variant | overhead s | x pyomo overhead | total / plain HiGHS total")
    print("--- | --- | --- | --- | ---")
    by: dict[str, dict[str, dict[str, Any]]] = {}
    for r in rows:
        by.setdefault(r["instance"], {})[r["variant"]] = r
    for inst, vs in by.items():
        ref = vs.get("pyomo")
        plain = vs.get("highs")
        for v, r in vs.items():
            if "build_s" not in r:
                continue
            over = r["build_s"] + r["handover_s"] + r["load_s"]
            ref_over = (
                ref["build_s"] + ref["handover_s"] + ref["load_s"]
                if ref and "build_s" in ref
                else None
            )
            x_ref = f"{over / ref_over:.3f}" if ref_over else "-"
            x_plain = (
                f"{r['total_s'] / plain['total_s']:.2f}" if plain and "total_s" in plain else "-"
            )
            print(f"{inst} | {v} | {over:.3f} | {x_ref} | {x_plain}")


if __name__ == "__main__":
    main()
