"""The held-out study (issue 19): csu-opt against plain HiGHS on generated CFLP families.

For every instance of a set of ``benchmarks/families.py`` (``--set tune|heldout|fresh``,
optionally ``--family NAME``), one run each, one after the other, never two at once:

- ``plain``: plain highspy on the strong facility-location formulation from arrays
  (``perf.measure``'s ``highs`` variant), one thread, gap 1e-4, timed from reading the file;
- ``csu``: ``csu-opt solve FILE --threads 1`` as a whole process (``common.cli_solve``), its
  default gap 1e-4;
- every ``--variant NAME="--csu args"``: the same with those arguments;
- ``before`` (with ``--before GITREF``): csu-opt as it was at GITREF, its ``src/`` taken out
  of git into a temporary folder and put first on PYTHONPATH, run by this same venv (so a
  dependency added since GITREF is not undone).

Each objective is checked against the optimum stored in ``benchmarks/families/optima.csv``
(``families.py --optima``). Prints a table per instance (times, ratio to plain, status,
objective checks) and per family (sums, ratio of sums, count of instances where csu-opt took
more than plain HiGHS + 1 s); writes every run as CSV (``benchmarks/out/study-SET.csv``).

    python benchmarks/study.py --set tune                        # csu-opt as it is
    python benchmarks/study.py --set tune --before main --variant noreduce="--no-reduction"

Tune on TUNE only. HELDOUT and FRESH are reported once, at the end.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import cli_solve, write_csv  # noqa: E402
from families import SETS, read_optima, set_instances  # noqa: E402
from perf import measure  # noqa: E402

OUT_DIR = ROOT / "benchmarks" / "out"
#: csu-opt stops at a relative gap of 1e-4: its objective may exceed the optimum by that much.
CSU_GAP = 1e-4
#: "csu-opt loses" on an instance when it takes this much longer than plain HiGHS.
SLACK_S = 1.0
COLUMNS = [
    "set",
    "family",
    "instance",
    "variant",
    "wall_s",
    "plain_s",
    "ratio",
    "status",
    "objective",
    "bound",
    "optimum",
    "optimum_status",
    "check",
    "build_s",
    "solve_s",
    "highs_s",
    "lp_s",
    "restricted_mip_s",
    "fixed",
    "start_s",
    "start_objective",
    "nodes",
    "late_root_gap",
    "late_s",
    "late_handed",
    "late_split",
]


# --------------------------------------------------------------------------- checks


def check_objective(objective: float | None, stored: dict[str, str] | None) -> str:
    """``yes`` when ``objective`` is within csu-opt's gap (1e-4) of the proven optimum.

    ``NO``: worse than that; ``BELOW``: better than the stored optimum or bound (the stored
    row, or the run, is wrong); ``unproven``/``best``: the stored row is only a best solution
    and a bound (HiGHS's time limit), and the objective is not / is within 1e-4 of the best.
    """
    if objective is None:
        return "no solution"
    if not stored or not stored.get("objective"):
        return "no optimum stored"
    best = float(stored["objective"])
    proven = stored["status"] == "Optimal"
    bound = float(stored["bound"]) if stored.get("bound") else -float("inf")
    tol = 1e-6 * abs(best) + 1e-6
    if objective < (best if proven else bound) - tol:
        return "BELOW"
    within = objective <= best + CSU_GAP * abs(best) + tol
    if proven:
        return "yes" if within else "NO"
    return "best" if within else "unproven"


# --------------------------------------------------------------------------- runs


def run_plain(path: Path, time_limit: float) -> dict[str, Any]:
    res = measure(path, "highs", time_limit, 1, gap=CSU_GAP)
    wall = res.get("read_s", 0.0) + res.get("total_s", float("nan"))
    return {
        "variant": "plain",
        "wall_s": wall,
        "status": res.get("status"),
        "objective": res.get("objective"),
        "bound": res.get("bound"),
        "solve_s": res.get("highs_s"),
        "highs_s": res.get("highs_s"),
        "build_s": res.get("build_s"),
    }


def run_csu(
    name: str, path: Path, time_limit: float, extra: list[str], env: dict[str, str] | None
) -> dict[str, Any]:
    wall, summary = cli_solve(path, time_limit, extra, env)
    solver = summary.get("solver", {})
    red = solver.get("reduction") or {}
    start = solver.get("start") or {}
    late = solver.get("late_reduction") or {}
    timings = summary.get("timings") or {}
    return {
        "variant": name,
        "wall_s": wall,
        "status": summary.get("status"),
        "objective": summary.get("objective"),
        "bound": summary.get("best_bound"),
        "build_s": timings.get("build_s"),
        "solve_s": timings.get("solve_s"),
        "highs_s": solver.get("highs_time_s"),
        "lp_s": red.get("lp_s"),
        "restricted_mip_s": red.get("restricted_mip_s"),
        "fixed": (red.get("fixed_to_zero") or 0) + (red.get("fixed_to_one") or 0) if red else None,
        "start_s": start.get("time_s"),
        "start_objective": start.get("objective"),
        "nodes": solver.get("nodes"),
        "late_root_gap": late.get("root_gap"),
        "late_s": late.get("time_s") if late.get("ran") else None,
        "late_handed": late.get("handed"),
        "late_split": (late.get("split") or {}).get("status"),
    }


@contextmanager
def before_env(ref: str) -> Iterator[dict[str, str]]:
    """An environment running csu-opt as at git ``ref``: its src/ first on PYTHONPATH."""
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", f"{ref}^{{commit}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="csu-before-") as d:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", commit, "src"], capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", d], input=archive.stdout, check=True)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(Path(d) / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
        where = subprocess.run(
            [sys.executable, "-c", "import csu_opt; print(csu_opt.__file__)"],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        ).stdout.strip()
        if not where.startswith(d):
            raise SystemExit(f"--before {ref}: csu_opt still imports from {where}")
        print(f"before = {ref} ({commit}), csu_opt from {where}")
        yield env


# --------------------------------------------------------------------------- tables


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if v != v:
            return "-"
        return f"{v:,.2f}" if abs(v) >= 1000 else f"{v:.2f}"
    return str(v)


def instance_line(rows: list[dict[str, Any]], variants: list[str]) -> str:
    by = {r["variant"]: r for r in rows}
    plain = by.get("plain", {})
    cells = [rows[0]["instance"], _fmt(plain.get("wall_s")), str(plain.get("status"))]
    cells.append(str(plain.get("check")))
    for v in variants:
        r = by.get(v, {})
        cells += [_fmt(r.get("wall_s")), _fmt(r.get("ratio")), str(r.get("status"))]
        cells.append(str(r.get("check")))
    return " | ".join(cells)


def instance_header(variants: list[str]) -> str:
    cells = ["instance", "plain s", "plain status", "plain obj"]
    for v in variants:
        cells += [f"{v} s", f"{v}/plain", f"{v} status", f"{v} obj"]
    return " | ".join(cells) + "\n" + " | ".join("---" for _ in cells)


def family_table(rows: list[dict[str, Any]], variants: list[str]) -> None:
    """Per family and variant: sums of times, ratio of sums, instances lost by > 1 s."""
    head = "family | variant | n | plain sum s | variant sum s | ratio of sums"
    print(f"\n{head} | > plain + {SLACK_S:g} s")
    print("--- | --- | --- | --- | --- | --- | ---")
    families = list(dict.fromkeys(r["family"] for r in rows))
    for fam in [*families, "ALL"]:
        mine = [r for r in rows if fam in ("ALL", r["family"])]
        plain = {r["instance"]: r["wall_s"] for r in mine if r["variant"] == "plain"}
        for v in variants:
            runs = [r for r in mine if r["variant"] == v and r["instance"] in plain]
            p_sum = sum(plain[r["instance"]] for r in runs)
            v_sum = sum(r["wall_s"] for r in runs)
            lost = sum(r["wall_s"] > plain[r["instance"]] + SLACK_S for r in runs)
            ratio = v_sum / p_sum if p_sum else float("nan")
            print(f"{fam} | {v} | {len(runs)} | {p_sum:.1f} | {v_sum:.1f} | {ratio:.2f} | {lost}")


# --------------------------------------------------------------------------- main


def _variants(ap: argparse.ArgumentParser, given: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"csu": []}
    for text in given:
        name, sep, csu_args = text.partition("=")
        if not sep or not name or name in ("plain", "csu", "before") or name in out:
            ap.error(f'--variant {text!r}: expected a new NAME="--csu args"')
        out[name] = shlex.split(csu_args)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--set", required=True, choices=list(SETS))
    ap.add_argument("--family", action="append", help="only these families of the set")
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--variant", action="append", default=[], metavar='NAME="ARGS"')
    ap.add_argument("--before", metavar="GITREF", help="also csu-opt as at GITREF")
    ap.add_argument("--out", type=Path, help="CSV (default benchmarks/out/study-SET.csv)")
    args = ap.parse_args()
    known = [f.name for f in SETS[args.set]]
    if args.family and set(args.family) - set(known):
        ap.error(f"--family: the set {args.set} has {', '.join(known)}")
    csu_variants = _variants(ap, args.variant)
    out = args.out or OUT_DIR / f"study-{args.set}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    optima = read_optima()
    with tempfile.TemporaryDirectory() as d, _maybe_before(args.before) as env:
        names = [*csu_variants, *(["before"] if env is not None else [])]
        print(f"set {args.set}, time limit {args.time_limit:g} s, one thread, gap 1e-4\n")
        print(instance_header(names))
        rows: list[dict[str, Any]] = []
        for fam, name, path in set_instances(args.set, Path(d), args.family):
            base = {"set": args.set, "family": fam.name, "instance": name}
            runs = [run_plain(path, args.time_limit)]
            for v, extra in csu_variants.items():
                runs.append(run_csu(v, path, args.time_limit, extra, None))
            if env is not None:
                runs.append(run_csu("before", path, args.time_limit, [], env))
            stored = optima.get(name)
            for r in runs:
                r.update(base)
                r["plain_s"] = runs[0]["wall_s"]
                r["ratio"] = r["wall_s"] / runs[0]["wall_s"] if runs[0]["wall_s"] else None
                r["optimum"] = stored.get("objective") if stored else None
                r["optimum_status"] = stored.get("status") if stored else None
                r["check"] = check_objective(r.get("objective"), stored)
            rows += runs
            print(instance_line(runs, names), flush=True)
            write_csv(out, COLUMNS, rows)
    family_table(rows, names)
    print(f"\nrows: {out}")


@contextmanager
def _maybe_before(ref: str | None) -> Iterator[dict[str, str] | None]:
    if ref is None:
        yield None
        return
    with before_env(ref) as env:
        yield env


if __name__ == "__main__":
    main()
