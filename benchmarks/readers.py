"""Published facility-location benchmarks as csu-opt instances (the special case of
model/formulation.md).

With one service line, every provider lead-capable and none subcontracting, quality 100,
threshold 0, unit cost 0, no minimum volume, exit cost or self-delivery share, and no bound on
the lead count, the csu-opt model *is* the capacitated facility location problem: a lead is an
open facility (fixed cost ``lead_fixed_cost``, capacity ``capabilities.capacity``) and
``assignment_costs.cost`` is the cost of serving ALL of a customer's demand from it. Split
demand (``single_sourcing: false``) gives the CFLP of OR-Library's ``cap`` files; single
sourcing gives the SSCFLP of Holmberg, Rönnqvist & Yuan (1999).

Readers::

    read_orlib_cap(path, capacity=None) -> document   # Beasley's cap41..cap134, capa/b/c
    read_holmberg(path) -> document                   # Holmberg p1..p71 (facility-major costs)

``convert_benchmark`` writes one as instance files (YAML + CSV) so that ``csu-opt solve`` runs
on it exactly as on a planner's instance; ``benchmark_catalogue`` lists the stored benchmarks
with their published optima. The benchmark folder is ``$CSU_OPT_BENCHMARKS`` or, by default,
``benchmarks/data`` in the repository (the files the tests use, with their sources: its README).

A benchmark instrument, not part of the csu_opt package: scripts here import it as
``readers``, the tests as ``benchmarks.readers``.
"""

from __future__ import annotations

import csv
import fnmatch
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from csu_opt.instance.schema import SCHEMA_VERSION
from csu_opt.instance.writer import write_document

#: Environment variable naming the benchmark folder (holding ``orlib_cap/`` and ``holmberg/``).
ENV_VAR = "CSU_OPT_BENCHMARKS"
#: The id of the single service line of a converted benchmark.
LINE_ID = "S"

Family = Literal["orlib_cap", "holmberg"]


class BenchmarksNotFound(FileNotFoundError):
    """The benchmark folder (or a benchmark in it) is not there."""


# --------------------------------------------------------------------------- parsing


def _read_tokens(path: Path, capacity: float | None) -> np.ndarray:
    """All whitespace-separated numbers of ``path``; the word ``capacity`` is substituted."""
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except FileNotFoundError as exc:
        raise BenchmarksNotFound(f"{path}: no such benchmark file") from exc
    text = text.split("\0", 1)[0]  # some public copies are padded with NUL bytes
    words = text.split()
    is_word = np.array([w.lower() == "capacity" for w in words], dtype=bool)
    if is_word.any():
        if capacity is None:
            raise ValueError(
                f"{path}: the capacities are the literal word 'capacity'; give the capacity "
                "to substitute (e.g. capa: 8000, 10000, 12000 or 14000; capb: 5000-8000; "
                "capc: 5000-7250)"
            )
        if not (np.isfinite(capacity) and capacity >= 0):
            raise ValueError(f"{path}: capacity must be a non-negative number, got {capacity!r}")
        words = [repr(float(capacity)) if w else t for t, w in zip(words, is_word, strict=True)]
    elif capacity is not None:
        raise ValueError(
            f"{path}: the file gives its capacities as numbers; a capacity to substitute "
            "applies only to files holding the word 'capacity' (capa, capb, capc)"
        )
    try:
        return np.array(words, dtype=float)
    except ValueError as exc:
        raise ValueError(f"{path}: not a file of numbers ({exc})") from exc


def _header(tokens: np.ndarray, path: Path, what: str) -> tuple[int, int]:
    if len(tokens) < 2 or tokens[0] != int(tokens[0]) or tokens[1] != int(tokens[1]):
        raise ValueError(f"{path}: expected '<facilities> <customers>' on the first line")
    m, n = int(tokens[0]), int(tokens[1])
    if m < 1 or n < 1:
        raise ValueError(f"{path}: expected at least one facility and one customer, got {m} {n}")
    expected = 2 + 2 * m + n * (1 + m)
    if len(tokens) != expected:
        raise ValueError(
            f"{path}: {what} file with {m} facilities and {n} customers holds "
            f"{expected} numbers, found {len(tokens)}"
        )
    if (tokens < 0).any() or not np.isfinite(tokens).all():
        raise ValueError(f"{path}: negative or non-finite numbers are not allowed")
    return m, n


def cflp_document(
    *,
    name: str,
    description: str,
    capacity: np.ndarray,
    fixed_cost: np.ndarray,
    demand: np.ndarray,
    cost: np.ndarray,
    single_sourcing: bool,
) -> dict[str, Any]:
    """A csu-opt document for the CFLP with m facilities and n customers.

    ``cost`` is the m x n matrix (facility-major) of the cost of serving all of customer j's
    demand from facility i.
    """
    m, n = cost.shape
    fac = np.array([f"F{i + 1}" for i in range(m)], dtype=object)
    cus = np.array([f"C{j + 1}" for j in range(n)], dtype=object)
    providers = pd.DataFrame(
        {
            "id": fac,
            "kind": "other",
            "can_lead": True,
            "can_subcontract": False,
            "lead_fixed_cost": fixed_cost.astype(float),
            "subcontractor_fixed_cost": 0.0,
            "exit_cost": 0.0,
            "min_volume": 0.0,
        }
    )
    capabilities = pd.DataFrame(
        {
            "provider": fac,
            "service_line": LINE_ID,
            "capacity": capacity.astype(float),
            "quality": 100.0,
            "unit_cost": 0.0,
        }
    )
    ccgs = pd.DataFrame({"id": cus})
    demand_frame = pd.DataFrame(
        {"ccg": cus, "service_line": LINE_ID, "volume": demand.astype(float)}
    )
    assignment = pd.DataFrame(
        {
            "lead": np.repeat(fac, n),
            "ccg": np.tile(cus, m),
            "cost": cost.astype(float).ravel(),
        }
    )
    return {
        "schema": SCHEMA_VERSION,
        "name": name,
        "description": description,
        "units": {"volume": "units of demand", "cost": "cost units"},
        "service_lines": [
            {
                "id": LINE_ID,
                "name": "the single product of the facility-location benchmark",
                "quality_threshold": 0.0,
                "network_quality_target": 0.0,
            }
        ],
        "settings": {
            "single_sourcing": single_sourcing,
            "max_leads_per_subcontractor": 1,
            "lead_self_delivery_min_share": 0.0,
        },
        "providers": providers,
        "capabilities": capabilities,
        "ccgs": ccgs,
        "demand": demand_frame,
        "assignment_costs": assignment,
    }


def read_orlib_cap(
    path: str | Path, capacity: float | None = None, *, name: str | None = None
) -> dict[str, Any]:
    """An OR-Library ``cap`` file (Beasley 1988) as a split-demand csu-opt document.

    Format: ``m n``; m lines ``capacity fixed_cost``; then per customer its ``demand`` and m
    allocation costs (the cost of ALL of that customer's demand at each warehouse), records
    running over several lines. capa/capb/capc hold the word ``capacity`` instead of numbers:
    ``capacity`` is substituted for it (and is required there).
    """
    path = Path(path)
    tokens = _read_tokens(path, capacity)
    m, n = _header(tokens, path, "an OR-Library cap")
    fac = tokens[2 : 2 + 2 * m].reshape(m, 2)
    rec = tokens[2 + 2 * m :].reshape(n, 1 + m)  # customer-major: demand, m costs
    if name is None:
        name = path.stem if capacity is None else f"{path.stem}_{capacity:g}"
    return cflp_document(
        name=name,
        description=(
            f"OR-Library capacitated warehouse location {path.name} (Beasley 1988), "
            f"{m} facilities x {n} customers"
            + (f", capacity {capacity:g}" if capacity is not None else "")
            + "; split demand (CFLP)"
        ),
        capacity=fac[:, 0],
        fixed_cost=fac[:, 1],
        demand=rec[:, 0],
        cost=rec[:, 1:].T,
        single_sourcing=False,
    )


def read_holmberg(path: str | Path, *, name: str | None = None) -> dict[str, Any]:
    """A Holmberg, Rönnqvist & Yuan (1999) file as a single-source csu-opt document.

    Format: ``I J``; I lines ``capacity fixed_cost``; J demands; then the I*J assignment costs
    facility-major (all J customers of facility 1, then facility 2, ...), each the cost of
    serving the customer's whole demand.
    """
    path = Path(path)
    tokens = _read_tokens(path, None)
    m, n = _header(tokens, path, "a Holmberg")
    fac = tokens[2 : 2 + 2 * m].reshape(m, 2)
    demand = tokens[2 + 2 * m : 2 + 2 * m + n]
    cost = tokens[2 + 2 * m + n :].reshape(m, n)  # facility-major
    return cflp_document(
        name=name or path.stem,
        description=(
            f"Holmberg, Rönnqvist & Yuan (1999) single-source CFLP {path.name}, "
            f"{m} facilities x {n} customers"
        ),
        capacity=fac[:, 0],
        fixed_cost=fac[:, 1],
        demand=demand,
        cost=cost,
        single_sourcing=True,
    )


# --------------------------------------------------------------------------- catalogue


def _default_roots() -> list[Path]:
    return [Path(__file__).resolve().parent / "data"]  # <repo>/benchmarks/data


def benchmark_root() -> Path:
    """The benchmark folder: ``$CSU_OPT_BENCHMARKS``, else the repository's ``benchmarks/data``."""
    env = os.environ.get(ENV_VAR)
    candidates = [Path(env).expanduser()] if env else _default_roots()
    for root in candidates:
        if (root / "orlib_cap").is_dir() or (root / "holmberg").is_dir():
            return root
    tried = ", ".join(str(c) for c in candidates)
    how = f"{ENV_VAR} is set to {env}" if env else f"set {ENV_VAR} to point elsewhere"
    raise BenchmarksNotFound(
        f"benchmark folder not found (looked for orlib_cap/ or holmberg/ in {tried}); {how}"
    )


@dataclass(frozen=True)
class Benchmark:
    """One published benchmark: its file, the capacity to substitute, its published optimum."""

    name: str
    family: Family
    path: Path
    optimum: float
    capacity: float | None = None

    @property
    def single_sourcing(self) -> bool:
        return self.family == "holmberg"

    def size(self) -> tuple[int, int]:
        """(facilities, customers) from the file's first line."""
        with self.path.open(encoding="ascii", errors="replace") as fh:
            first = fh.readline().split()
        return int(first[0]), int(first[1])

    def document(self) -> dict[str, Any]:
        """The benchmark as an in-memory csu-opt document."""
        if self.family == "holmberg":
            return read_holmberg(self.path, name=self.name)
        return read_orlib_cap(self.path, self.capacity, name=self.name)


_SUFFIXED = re.compile(r"^(?P<stem>.+)_(?P<cap>\d+(?:\.\d+)?)$")


def _natural(name: str) -> tuple[Any, ...]:
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name))


def benchmark_catalogue(root: str | Path | None = None) -> list[Benchmark]:
    """Every benchmark listed in the ``optima.csv`` files under ``root``, in natural order.

    Names are ``cap41`` ... ``cap134``, ``capa_8000`` ... ``capc_7250`` (OR-Library, split
    demand; the suffix is the capacity substituted) and ``p1`` ... ``p71`` (Holmberg, single
    source).
    """
    base = Path(root) if root is not None else benchmark_root()
    out: list[Benchmark] = []
    for family, folder, file_of in (
        ("orlib_cap", base / "orlib_cap", lambda stem: f"{stem}.txt"),
        ("holmberg", base / "holmberg", lambda stem: f"clean/{stem}"),
    ):
        table = folder / "optima.csv"
        if not table.is_file():
            continue
        with table.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        for row in rows:
            name = row["name"].strip()
            capacity: float | None = None
            stem = name
            match = _SUFFIXED.match(name)
            if family == "orlib_cap" and match:
                stem, capacity = match["stem"], float(match["cap"])
            out.append(
                Benchmark(
                    name=name,
                    family=family,  # type: ignore[arg-type]
                    path=folder / file_of(stem),
                    optimum=float(row["optimal_value"]),
                    capacity=capacity,
                )
            )
    if not out:
        raise BenchmarksNotFound(f"{base}: no orlib_cap/optima.csv or holmberg/optima.csv")
    return sorted(out, key=lambda b: (b.family != "orlib_cap", _natural(b.name)))


def select(catalogue: list[Benchmark], *patterns: str) -> list[Benchmark]:
    """The benchmarks whose name matches any of the shell-style ``patterns``."""
    return [b for b in catalogue if any(fnmatch.fnmatchcase(b.name, p) for p in patterns)]


def find_benchmark(name: str, root: str | Path | None = None) -> Benchmark:
    """The catalogue entry called ``name`` (e.g. ``cap41``, ``capa_8000``, ``p25``)."""
    catalogue = benchmark_catalogue(root)
    for bench in catalogue:
        if bench.name == name:
            return bench
    raise KeyError(
        f"no benchmark called {name!r} (known: {catalogue[0].name} ... {catalogue[-1].name})"
    )


def _guess_family(path: Path) -> Family | None:
    if path.parent.name == "clean" or "holmberg" in (p.name.lower() for p in path.parents):
        return "holmberg"
    if re.fullmatch(r"cap[a-z0-9]+", path.stem.lower()):
        return "orlib_cap"
    if re.fullmatch(r"p\d+", path.stem.lower()):
        return "holmberg"
    return None


def convert_benchmark(
    name_or_path: str | Path,
    out_dir: str | Path,
    capacity: float | None = None,
    *,
    family: Family | None = None,
) -> Path:
    """Write a benchmark as csu-opt instance files in ``out_dir``; returns the YAML path.

    ``name_or_path`` is a catalogue name (``cap41``, ``capa_8000``, ``p25``) or a file. For a
    file, ``family`` (``orlib_cap`` or ``holmberg``) is guessed from its name when not given,
    and ``capacity`` is substituted for the word ``capacity`` in capa/capb/capc.
    """
    optimum: float | None = None
    text = str(name_or_path)
    path = Path(name_or_path)
    if isinstance(name_or_path, str) and not path.exists() and os.sep not in text:
        bench = find_benchmark(text)
        if capacity is not None and capacity != bench.capacity:
            raise ValueError(f"{text} fixes its capacity ({bench.capacity}); got {capacity}")
        doc, optimum, fam = bench.document(), bench.optimum, bench.family
    else:
        fam_guess = family or _guess_family(path)
        if fam_guess is None:
            raise ValueError(
                f"{path}: cannot tell the file format from the name; "
                "say family='orlib_cap' or family='holmberg'"
            )
        fam = fam_guess
        doc = read_holmberg(path) if fam == "holmberg" else read_orlib_cap(path, capacity)
    header = [
        f"{doc['name']}: {doc['description']}.",
        "Converted by readers.convert_benchmark: one service line, every",
        "provider a possible lead (a facility), none a subcontractor; assignment_costs.cost is the",
        "cost of serving ALL of a CCG's (customer's) demand from that lead.",
    ]
    if optimum is not None:
        header.append(f"Published optimum: {optimum!r} ({fam}/optima.csv).")
    return write_document(doc, out_dir, header="\n".join(header))
