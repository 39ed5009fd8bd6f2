"""Seeded families of capacitated facility-location instances for the held-out study (issue 19).

Each instance is a csu-opt instance document made by the same conversion as the published
benchmarks (``readers.cflp_document``): one service line, every provider a possible lead (a
facility), ``assignment_costs.cost`` the cost of serving ALL of a customer's demand.

The generator follows Cornuéjols, Sridharan & Thizy (1991) where it can: demands U[5, 35],
capacities U[10, 160] scaled so that total capacity / total demand is the family's
*tightness* r, fixed costs U[0, 90] + U[100, 110] * sqrt(capacity), assignment cost
10 x distance x demand. A family varies:

- ``source``: ``single`` (``single_sourcing: true``, the SSCFLP) or ``multi`` (split demand);
- ``costs``: ``euclid`` (facilities and customers uniform in the unit square), ``clustered``
  (customers around 5 centres, facilities uniform), ``random`` (per-unit costs U[1, 14], no
  geometry, so no triangle inequality), ``fixed`` (euclid with fixed costs x 10: they
  dominate);
- ``demand``: ``uniform`` (U[5, 35]) or ``bimodal`` (85 % U[5, 15], 15 % U[50, 100]);
- ``tightness`` r in 1.3 .. 5.

The three sets TUNE, HELDOUT and FRESH were fixed here before anything was measured and are
not to be changed: tune on TUNE only; HELDOUT and FRESH are reported once.

    python benchmarks/families.py --list                      # the sets and their instances
    python benchmarks/families.py --write DIR [--set tune]    # instance files (YAML + CSV)
    python benchmarks/families.py --optima [--set tune]       # recompute families/optima.csv

``--optima`` proves each instance's optimum with plain HiGHS (``perf.measure``'s ``highs``
variant: the strong formulation from arrays) single-threaded, gap 1e-6, 300 s, one instance
after the other, and (re)writes the rows of the instances it ran in ``families/optima.csv``.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from csu_opt.instance.writer import write_document  # noqa: E402
from readers import cflp_document  # noqa: E402

OPTIMA = HERE / "families" / "optima.csv"
OPTIMA_COLUMNS = [
    "set",
    "family",
    "instance",
    "status",
    "objective",
    "bound",
    "gap",
    "time_s",
    "mip_rel_gap",
    "time_limit",
]

Source = Literal["single", "multi"]
Costs = Literal["euclid", "clustered", "random", "fixed"]
Demand = Literal["uniform", "bimodal"]

#: Cost per unit of demand per unit of distance (Cornuéjols et al.).
DISTANCE_SCALE = 10.0
#: Factor on the fixed costs of the ``fixed`` structure.
FIXED_WEIGHT = 10.0
#: Clusters of the ``clustered`` structure and their spread.
CLUSTERS = 5
CLUSTER_SD = 0.05


@dataclass(frozen=True)
class Family:
    """A family of generated instances: one per (size, seed)."""

    name: str
    source: Source
    costs: Costs
    tightness: float
    demand: Demand
    sizes: tuple[tuple[int, int], ...]
    seeds: tuple[int, ...] = (1,)

    def instances(self) -> Iterator[tuple[str, int, int, int]]:
        """(instance name, facilities, customers, seed) of each instance."""
        for n, m in self.sizes:
            for seed in self.seeds:
                yield f"{self.name}_{n}x{m}_s{seed}", n, m, seed


def _fam(name: str, source: Source, costs: Costs, r: float, demand: Demand, *sizes: str) -> Family:
    parsed = tuple((int(s.split("x")[0]), int(s.split("x")[1])) for s in sizes)
    return Family(name, source, costs, r, demand, parsed)


# Fixed before any measurement (issue 19); never change them after.
TUNE: tuple[Family, ...] = (
    _fam("tune-euclid-multi", "multi", "euclid", 3.0, "uniform", "30x60", "40x100", "50x200"),
    _fam("tune-euclid-single", "single", "euclid", 2.0, "uniform", "30x60", "40x100", "50x200"),
    _fam("tune-random-multi", "multi", "random", 1.5, "uniform", "30x60", "40x100", "50x200"),
    _fam("tune-clustered-single", "single", "clustered", 3.0, "bimodal", "30x60", "40x100"),
)
HELDOUT: tuple[Family, ...] = (
    _fam("held-fixed-single", "single", "fixed", 2.0, "uniform", "30x60", "40x100"),
    _fam("held-clustered-multi", "multi", "clustered", 1.3, "bimodal", "40x100", "60x300"),
    _fam("held-random-single", "single", "random", 4.0, "bimodal", "30x60", "50x200"),
    _fam("held-euclid-multi", "multi", "euclid", 5.0, "bimodal", "50x200", "60x300"),
)
FRESH: tuple[Family, ...] = (
    _fam("fresh-fixed-multi", "multi", "fixed", 2.0, "bimodal", "35x80", "80x400", "100x1000"),
    _fam("fresh-euclid-single", "single", "euclid", 1.5, "bimodal", "35x80", "45x120"),
    _fam("fresh-clustered-single", "single", "clustered", 2.0, "uniform", "35x80", "45x120"),
    _fam("fresh-random-multi", "multi", "random", 2.5, "bimodal", "45x120", "80x400"),
)
SETS: dict[str, tuple[Family, ...]] = {"tune": TUNE, "heldout": HELDOUT, "fresh": FRESH}


def find_family(name: str) -> tuple[str, Family]:
    """(set name, family) of the family called ``name``."""
    for set_name, families in SETS.items():
        for fam in families:
            if fam.name == name:
                return set_name, fam
    known = ", ".join(f.name for fs in SETS.values() for f in fs)
    raise KeyError(f"no family called {name!r} (known: {known})")


# --------------------------------------------------------------------------- generation


def _rng(family: Family, n: int, m: int, seed: int) -> np.random.Generator:
    return np.random.default_rng([seed, n, m, zlib.crc32(family.name.encode())])


def _demand(rng: np.random.Generator, kind: Demand, m: int) -> np.ndarray:
    if kind == "uniform":
        return rng.integers(5, 36, m).astype(float)
    big = rng.random(m) < 0.15
    return np.where(big, rng.integers(50, 101, m), rng.integers(5, 16, m)).astype(float)


def _customer_points(rng: np.random.Generator, costs: Costs, m: int) -> np.ndarray:
    if costs != "clustered":
        return rng.random((m, 2))
    centres = rng.uniform(0.1, 0.9, (CLUSTERS, 2))
    which = rng.integers(0, CLUSTERS, m)
    return np.clip(centres[which] + rng.normal(0.0, CLUSTER_SD, (m, 2)), 0.0, 1.0)


def _unit_costs(rng: np.random.Generator, costs: Costs, n: int, m: int) -> np.ndarray:
    """n x m cost per unit of demand."""
    if costs == "random":
        return rng.uniform(1.0, 14.0, (n, m))
    fac = rng.random((n, 2))
    cus = _customer_points(rng, costs, m)
    dist = np.sqrt(((fac[:, None, :] - cus[None, :, :]) ** 2).sum(axis=2))
    return DISTANCE_SCALE * dist


def generate(family: Family, n: int, m: int, seed: int) -> dict[str, Any]:
    """The csu-opt document of ``family``'s instance with n facilities, m customers, ``seed``."""
    rng = _rng(family, n, m, seed)
    demand = _demand(rng, family.demand, m)
    raw = rng.uniform(10.0, 160.0, n)
    capacity = np.ceil(raw * family.tightness * demand.sum() / raw.sum())
    fixed = rng.uniform(0.0, 90.0, n) + rng.uniform(100.0, 110.0, n) * np.sqrt(capacity)
    if family.costs == "fixed":
        fixed *= FIXED_WEIGHT
    cost = np.round(_unit_costs(rng, family.costs, n, m) * demand[None, :], 2)
    name = f"{family.name}_{n}x{m}_s{seed}"
    return cflp_document(
        name=name,
        description=(
            f"generated CFLP (benchmarks/families.py) family {family.name}: {family.source}-"
            f"source, {family.costs} costs, capacity / demand {family.tightness:g}, "
            f"{family.demand} demand, {n} facilities x {m} customers, seed {seed}"
        ),
        capacity=capacity,
        fixed_cost=np.round(fixed),
        demand=demand,
        cost=cost,
        single_sourcing=family.source == "single",
    )


def write_instance(family: Family, n: int, m: int, seed: int, out_dir: Path) -> Path:
    """Write one instance as csu-opt files in ``out_dir``; returns the YAML path."""
    doc = generate(family, n, m, seed)
    header = f"{doc['name']}: {doc['description']}."
    return write_document(doc, out_dir, header=header)


def set_instances(
    set_name: str, out_dir: Path, families: list[str] | None = None
) -> Iterator[tuple[Family, str, Path]]:
    """Write (lazily, one at a time) the instances of a set; yields (family, name, path)."""
    for fam in SETS[set_name]:
        if families and fam.name not in families:
            continue
        for name, n, m, seed in fam.instances():
            yield fam, name, write_instance(fam, n, m, seed, out_dir / fam.name)


# --------------------------------------------------------------------------- optima


def read_optima(path: Path = OPTIMA) -> dict[str, dict[str, str]]:
    """The stored rows of ``optima.csv`` by instance name (empty when there is none)."""
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8") as fh:
        return {row["instance"]: row for row in csv.DictReader(fh)}


def _write_optima(rows: dict[str, dict[str, Any]], path: Path) -> None:
    order = {name: i for i, (name, *_rest) in enumerate(_all_instances())}
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=OPTIMA_COLUMNS, extrasaction="ignore")
        w.writeheader()
        w.writerows(sorted(rows.values(), key=lambda r: order.get(r["instance"], 1 << 30)))


def _all_instances() -> Iterator[tuple[str, str, str]]:
    for set_name, families in SETS.items():
        for fam in families:
            for name, *_ in fam.instances():
                yield name, set_name, fam.name


def compute_optima(
    sets: list[str], time_limit: float, gap: float, families: list[str] | None
) -> None:
    """Prove every instance's optimum with plain HiGHS, one at a time; rewrite its row."""
    from perf import measure

    rows: dict[str, dict[str, Any]] = dict(read_optima())
    print("instance | status | objective | bound | gap | s")
    with tempfile.TemporaryDirectory() as d:
        for set_name in sets:
            for fam, name, path in set_instances(set_name, Path(d), families):
                res = measure(path, "highs", time_limit, 1, gap=gap)
                row = {
                    "set": set_name,
                    "family": fam.name,
                    "instance": name,
                    "status": res.get("status"),
                    "objective": res.get("objective"),
                    "bound": res.get("bound"),
                    "gap": res.get("gap"),
                    "time_s": round(res.get("read_s", 0.0) + res.get("total_s", 0.0), 2),
                    "mip_rel_gap": gap,
                    "time_limit": time_limit,
                }
                rows[name] = row
                _write_optima(rows, OPTIMA)
                shown = ("status", "objective", "bound", "gap", "time_s")
                print(name, *(row[k] for k in shown), sep=" | ", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--set", action="append", choices=list(SETS), help="default: all three")
    ap.add_argument("--family", action="append", help="only these families")
    ap.add_argument("--write", type=Path, metavar="DIR", help="write the instance files")
    ap.add_argument("--optima", action="store_true", help="recompute families/optima.csv")
    ap.add_argument("--list", action="store_true", help="list the sets' instances")
    ap.add_argument("--time-limit", type=float, default=300.0, help="for --optima")
    ap.add_argument("--gap", type=float, default=1e-6, help="for --optima")
    args = ap.parse_args()
    sets = args.set or list(SETS)
    if args.list:
        for set_name in sets:
            for fam in SETS[set_name]:
                names = ", ".join(name for name, *_ in fam.instances())
                print(f"{set_name} | {fam.name} | {names}")
    if args.write:
        for set_name in sets:
            for _f, _n, path in set_instances(set_name, args.write / set_name, args.family):
                print(path)
    if args.optima:
        compute_optima(sets, args.time_limit, args.gap, args.family)
    if not (args.list or args.write or args.optima):
        ap.error("say --list, --write DIR or --optima")


if __name__ == "__main__":
    main()
