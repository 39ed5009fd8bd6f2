"""The fixed cost of one `csu-opt solve` (issue 19): where a small solve's wall time goes.

Three tables, for ``instances/demo.yaml`` and a converted OR-Library instance (default cap41,
16 x 50, converted as benchmarks/vs_highs.py does):

1. imports: ``python -X importtime`` of the solve command itself, self time summed by
   top-level package (csu_opt by room), largest first;
2. phases: the same solve in-process after the imports, step by step as ``csu-opt solve``
   takes them: reading and validation, the model build, the hand-over to HiGHS, HiGHS, the
   rest of the solve (reduction, start, reading results), verification, each result file
   (highs.log is written by HiGHS during the solve), the printed summary; summary.json's own
   timings are used where it records them;
3. whole processes: ``csu-opt --help``, ``csu-opt solve demo.yaml`` and the OR-Library solve,
   each run ``--repeat`` times (median); with ``--before GITREF`` the same commands run from
   a temporary checkout of GITREF (its src/ first on PYTHONPATH, the same interpreter and
   packages), alternating with this tree, so both are measured side by side in one run.

    python benchmarks/startup.py                          # this tree, ~1 min
    python benchmarks/startup.py --before main --repeat 5  # before/after, ~2 min
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

DEMO = ROOT / "instances" / "demo.yaml"
#: the console script's entry, run from whichever src/ is first on PYTHONPATH
ENTRY = "import sys; from csu_opt.cli.main import main; sys.argv[0] = 'csu-opt'; main()"
SOLVE = ["solve", "--threads", "1"]


def env_for(src: Path) -> dict[str, str]:
    """The environment that makes ``src`` (a checkout's src/) the csu_opt imported."""
    return os.environ | {"PYTHONPATH": str(src)}


# --------------------------------------------------------------------------- 1. imports
_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def package_of(module: str) -> str:
    """``csu_opt.analysis.x`` -> ``csu_opt.analysis``; ``pandas.core.x`` -> ``pandas``."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "csu_opt" and len(parts) > 1 else parts[0]


def import_table(args: list[str], src: Path) -> tuple[float, list[tuple[str, float]]]:
    """Total import time (s) of ``csu-opt ARGS`` and its self time by package, largest first."""
    cmd = [sys.executable, "-X", "importtime", "-c", ENTRY, *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env_for(src), check=False)
    by_package: dict[str, float] = defaultdict(float)
    for m in _LINE.finditer(proc.stderr):
        by_package[package_of(m.group(4))] += int(m.group(1)) / 1e6
    rows = sorted(by_package.items(), key=lambda kv: -kv[1])
    return sum(by_package.values()), rows


# --------------------------------------------------------------------------- 2. phases
@contextmanager
def timed(phases: dict[str, float], name: str) -> Iterator[None]:
    t0 = time.perf_counter()
    yield
    phases[name] = phases.get(name, 0.0) + time.perf_counter() - t0


def phase_table(instance: Path, out: Path) -> dict[str, float]:
    """One ``csu-opt solve`` in-process (this tree), its steps timed: seconds by phase.

    Mirrors csu_opt.cli.main.solve -> analysis.runner.run_solve -> results.solution.write_files
    step by step, so each result file is timed on its own.
    """
    from rich.console import Console

    from csu_opt.analysis.runner import verify_into
    from csu_opt.files import write_text
    from csu_opt.instance.load import load_instance
    from csu_opt.numbers import clean_frame, clean_record
    from csu_opt.present.render import solution_summary
    from csu_opt.solver.options import SolveOptions
    from csu_opt.solver.solve import solve

    phases: dict[str, float] = {}
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with timed(phases, "read + validate"):
        inst = load_instance(instance)
    with timed(phases, "solve (all)"):
        sol = solve(inst, SolveOptions(threads=1, log_file=out / "highs.log"))
    t = sol.timings
    highs = float(sol.solver.get("highs_time_s") or 0.0)
    phases["  build (summary.json)"] = t.build_s
    phases["  hand-over (summary.json)"] = t.handover_s
    phases["  HiGHS (highs_time_s)"] = highs
    phases["  reduction/start/other (solve_s - HiGHS)"] = t.solve_s - highs
    phases["  reading results (load_s)"] = t.load_s
    phases["  outside total_s (loading Pyomo, session)"] = phases["solve (all)"] - t.total_s
    with timed(phases, "verify"):
        verify_into(inst, sol)
    with timed(phases, "write summary.json"):
        write_text(out / "summary.json", json.dumps(clean_record(sol.summary()), indent=2) + "\n")
    for name, frame in (
        ("roles.csv", sol.roles),
        ("assignments.csv", sol.assignments),
        ("flows.csv", sol.flows),
    ):
        with timed(phases, f"write {name}"):
            write_text(out / name, clean_frame(frame).to_csv(index=False))
    with timed(phases, "print the summary (rich)"):
        solution_summary(Console(file=io.StringIO(), width=100), sol, out)
    phases["total after imports"] = time.perf_counter() - t0
    return phases


# --------------------------------------------------------------------------- 3. processes
def wall(args: list[str], src: Path) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", ENTRY, *args], capture_output=True, env=env_for(src), check=False
    )
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"csu-opt {' '.join(args)}: exit {proc.returncode}: {proc.stderr!r}")
    return elapsed


@contextmanager
def checkout(ref: str) -> Iterator[Path]:
    """A temporary detached worktree of ``ref``; yields its src/."""
    with tempfile.TemporaryDirectory() as d:
        tree = Path(d) / "tree"
        git = ["git", "-C", str(ROOT)]
        subprocess.run([*git, "worktree", "add", "--detach", "-q", str(tree), ref], check=True)
        try:
            yield tree / "src"
        finally:
            subprocess.run([*git, "worktree", "remove", "--force", str(tree)], check=True)


def process_table(
    commands: dict[str, Callable[[Path], list[str]]], trees: dict[str, Path], repeat: int
) -> dict[str, dict[str, float]]:
    """Median wall time (s) of each command under each tree, the trees alternating."""
    times: dict[str, dict[str, list[float]]] = {c: {t: [] for t in trees} for c in commands}
    with tempfile.TemporaryDirectory() as d:
        for i in range(repeat):
            for cname, make in commands.items():
                for tname, src in trees.items():
                    out = Path(d) / f"{tname}-{i}-{len(times[cname][tname])}"
                    times[cname][tname].append(wall(make(out), src))
    return {c: {t: statistics.median(v) for t, v in by.items()} for c, by in times.items()}


# --------------------------------------------------------------------------- main
def main() -> None:
    from readers import convert_benchmark

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--bench", default="cap41", help="the OR-Library instance (default cap41)")
    ap.add_argument("--before", metavar="GITREF", help="also measure GITREF, side by side")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--top", type=int, default=12, help="packages shown in the import table")
    args = ap.parse_args()
    src = ROOT / "src"
    with tempfile.TemporaryDirectory() as d:
        bench = convert_benchmark(args.bench, Path(d) / args.bench)
        instances = {"demo": DEMO, args.bench: bench}

        print("## 1. Imports of `csu-opt solve` (python -X importtime; self time by package)\n")
        for label, path in instances.items():
            total, rows = import_table([*SOLVE, str(path), "--out", f"{d}/imp-{label}"], src)
            print(f"{label}: {total:.3f} s in total")
            print("package | s\n--- | ---")
            for name, s in rows[: args.top]:
                print(f"{name} | {s:.3f}")
            print(f"(others) | {sum(s for _, s in rows[args.top :]):.3f}\n")

        print("## 2. Phases of one solve after the imports (in-process, s)\n")
        tables = {label: phase_table(p, Path(d) / f"ph-{label}") for label, p in instances.items()}
        print("phase | " + " | ".join(tables) + "\n--- | " + " | ".join("---" for _ in tables))
        for phase in next(iter(tables.values())):
            print(f"{phase} | " + " | ".join(f"{t[phase]:.3f}" for t in tables.values()))

        print(f"\n## 3. Whole processes (wall s, median of {args.repeat})\n")
        commands: dict[str, Callable[[Path], list[str]]] = {"csu-opt --help": lambda o: ["--help"]}
        for path in instances.values():
            commands[f"csu-opt solve {path.name}"] = lambda o, p=path: [
                *SOLVE,
                str(p),
                "--out",
                str(o),
            ]
        # the same small instance on the matrix path (auto gives it to Pyomo: < 50k nonzeros)
        commands[f"csu-opt solve {bench.name} --backend matrix"] = lambda o: [
            *SOLVE, str(bench), "--out", str(o), "--backend", "matrix"
        ]  # fmt: skip
        if args.before:
            with checkout(args.before) as before:
                trees = {f"before ({args.before})": before, "after (this tree)": src}
                result = process_table(commands, trees, args.repeat)
        else:
            result = process_table(commands, {"this tree": src}, args.repeat)
    heads = list(next(iter(result.values())))
    extra = " | after - before" if args.before else ""
    print("command | " + " | ".join(heads) + extra)
    print("--- | " + " | ".join("---" for _ in heads) + (" | ---" if args.before else ""))
    for cname, by in result.items():
        cells = [f"{by[h]:.2f}" for h in heads]
        if args.before:
            cells.append(f"{by[heads[1]] - by[heads[0]]:+.2f}")
        print(f"{cname} | " + " | ".join(cells))


if __name__ == "__main__":
    main()
