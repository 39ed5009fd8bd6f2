"""Synthetic instances shaped like the English commissioning-support market (issue 3, item 4).

``generate(providers, ccgs, lines, seed, tightness)`` returns a ``csu-opt/1`` document (tables
as DataFrames); ``generate_to_folder`` writes it with
:func:`csu_opt.instance.writer.write_document`.
Everything is drawn from one ``numpy.random.Generator(seed)`` in a fixed order, so a seed gives
the same bytes on every run. All values are assumptions; the figures they are scaled by come
from the published facts (instances/README.md) and are named where used.

Structure
    Regions: ``max(1, round(ccgs / 15))`` points in a unit square (one unit ~ 500 km).
    Providers by kind (exact shares, Hamilton rounding): 10% CSUs (big, offer nearly every
    line, regional: steep out-of-region assignment cost, no VAT), 20% private firms (national:
    flat assignment cost, VAT 5-9% on unit cost, a quality edge in some lines), 25% charities
    and 25% councils (small, niche: one or two lines, rarely lead-capable), 20% other bodies.
    Every non-CSU pays VAT (FACTS: non-NHS providers). About 22% of providers are lead-capable
    (at least 2), drawn by weighted sampling without replacement (kind weights CSU 20,
    private 4, other 1, council 0.6, charity 0.4: at 500 providers about 45 of the 50 CSUs,
    40 private firms and 25 others). ``assignment_costs`` has one row per lead-capable
    provider and CCG, so at 500 x 7,000 it holds 110 x 7,000 = 770,000 rows (12 MB of CSV);
    the lead-capable share is kept this low for that reason.
    Demand: CCG sizes lognormal, line mix Dirichlet, total £822.9m a year whatever the number
    of CCGs (FACTS: NW + Y&H CSUs turned over £183m for 47 CCGs, about £3.9m per CCG; x 211).
    Quality: bars θ[s] in 55-70, network targets Q[s] = θ[s] + 3-8; provider scores normal
    around θ[s] plus a kind offset (sd 10), so some pairs miss the bar.
    Staff: one per £100k of capacity (the FACTS scale, £820m over nearly 9,000 CSU staff, is
    about £91k of turnover each; capacity exceeds turnover).
    Exit cost per staff member: CSU 30, council 25, charity/other 15, private 10 (£k).
    min_volume: a kind-typical share (20-40%) of the provider's eligible capacity.
    Partnership costs for a random 10% of (subcontractor, lead) pairs, rising with distance.

Tightness
    For every line s, Σ_c d[c,s] = tightness · Σ_{p eligible in s} cap[p,s] (up to rounding to
    £10 a year), for 0 < tightness < 1. Higher is a tighter market. At 1 every eligible unit
    would have to be sold under single sourcing (a packing problem), so 1 is excluded.

Feasible by construction
    A *backbone* B of b lead-capable providers (the largest ones) gets, in every line, quality
    ``ceil(max(θ[s], Q[s])) + 1..15`` (so eligible everywhere and above the network target).
    Every CCG is placed in one backbone network (the nearest; each backbone provider first
    gets one "anchor" CCG in its home region). With load[l,s] the demand so placed, each
    backbone provider gets cap[l,s] = ceil(load[l,s] / u) >= load[l,s] where the utilisation
    u = tightness + 0.75 (1 - tightness) (u = tightness in a line where no other provider is
    eligible); its min_volume is at most 0.9 Σ_s load[l,s]; the lead band is
    [max(1, floor(0.7 b)), min(|L|, ceil(1.3 b))], which holds b. Then this is a solution:
    u[l] = 1 exactly for l in B (C1), every other provider exits (a = 0, w = 0: C2, C3), each
    CCG wholly in its backbone network (C4, also under single sourcing), each lead delivers its
    network's whole demand itself (C5, C6 as load <= cap, C7 and C8 as it is eligible in every
    line, C9 as q >= Q, C10 as its own share is 1, C11 as load >= min_volume). Capacities of
    the other providers are then scaled so that the tightness holds; they never enter the
    argument, so the instance is feasible whatever they are. :func:`check_witness` verifies
    this solution rule by rule on any document, :func:`witness_cost` prices it (an upper bound
    on the optimum).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from csu_opt.errors import UsageError
from csu_opt.instance.schema import PROVIDER_KINDS, SCHEMA_VERSION
from csu_opt.instance.writer import write_document

DEFAULT_TIGHTNESS = 0.6
FRAMEWORK_LINES = (
    ("BST", "Business support and transactional services"),
    ("PROC", "Healthcare procurement and provider management"),
    ("REDES", "Service specific redesign"),
    ("COMMS", "Communications"),
    ("BI", "Business intelligence, data management and information governance"),
)
#: £k a year: 211 CCGs x £3.9m (FACTS: £183m turnover for 47 CCGs).
MARKET_VOLUME = 211 * 3900.0
LEAD_SHARE = 0.22
PARTNERSHIP_SHARE = 0.10
SELF_DELIVERY_SHARE = 0.2
STAFF_PER_VOLUME = 1 / 100.0  # one staff member per £100k of capacity


@dataclass(frozen=True)
class KindTraits:
    """What is typical of one kind of provider (all values are assumptions)."""

    label: str
    share: float  # of providers
    lead_weight: float  # lottery weight for being lead-capable
    sub_prob: float  # probability of can_subcontract
    size: float  # median total capacity weight
    lines: tuple[float, float]  # range of the share of lines offered
    quality: float  # offset to the bar θ[s]
    strong: float  # bonus in a random 30% of lines (private: high quality in some lines)
    vat: bool
    viability: float  # min_volume as a share of eligible capacity
    exit_per_staff: float  # £k
    premium: float  # out-of-region assignment cost, share of the CCG's demand
    gradient: float  # assignment cost per unit distance, share of the CCG's demand


KINDS: dict[str, KindTraits] = {
    "csu": KindTraits(
        "CSU", 0.10, 20.0, 0.9, 10.0, (0.8, 1.0), 4.0, 0.0, False, 0.4, 30.0, 0.04, 0.10
    ),
    "private": KindTraits(
        "Private firm", 0.20, 4.0, 0.9, 5.0, (0.6, 1.0), 0.0, 12.0, True, 0.2, 10.0, 0.02, 0.01
    ),
    "charity": KindTraits(
        "Charity", 0.25, 0.4, 1.0, 0.8, (0.0, 0.4), 2.0, 8.0, True, 0.3, 15.0, 0.06, 0.15
    ),
    "council": KindTraits(
        "Council", 0.25, 0.6, 0.9, 1.2, (0.0, 0.6), -2.0, 0.0, True, 0.2, 25.0, 0.06, 0.15
    ),
    "other": KindTraits(
        "Other body", 0.20, 1.0, 0.9, 2.0, (0.2, 0.6), 0.0, 0.0, True, 0.25, 15.0, 0.03, 0.05
    ),
}
assert tuple(KINDS) == PROVIDER_KINDS


@dataclass(frozen=True)
class Witness:
    """The solution the construction guarantees: these leads, each CCG wholly in one network."""

    leads: tuple[str, ...]
    assignment: pd.Series  # CCG id -> lead id


def line_ids(lines: int) -> list[str]:
    """The 2014 framework's ids for the first five lines, then L6, L7, ..."""
    n = len(FRAMEWORK_LINES)
    return [FRAMEWORK_LINES[i][0] if i < n else f"L{i + 1}" for i in range(lines)]


def default_name(providers: int, ccgs: int, lines: int, seed: int, tightness: float) -> str:
    name = f"gen-p{providers}-c{ccgs}-l{lines}-s{seed}"
    return name if tightness == DEFAULT_TIGHTNESS else f"{name}-t{tightness:g}"


def _ids(prefix: str, n: int) -> np.ndarray:
    width = max(2, len(str(n)))
    return np.array([f"{prefix}{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


def _apportion(shares: np.ndarray, n: int) -> np.ndarray:
    """Integer counts summing to n, proportional to shares (largest remainders)."""
    raw = shares * n
    counts = np.floor(raw).astype(int)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return counts


def _ceil2(x: np.ndarray) -> np.ndarray:
    return np.ceil(x * 100.0) / 100.0


def _floor2(x: np.ndarray) -> np.ndarray:
    return np.floor(x * 100.0) / 100.0


def _dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances between the rows of a (n,2) and b (m,2): an (n, m) array."""
    return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=-1))


def _check_args(providers: int, ccgs: int, lines: int, tightness: float) -> None:
    for what, value in (("providers", providers), ("ccgs", ccgs), ("lines", lines)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise UsageError(f"{what} must be a whole number of at least 1, got {value!r}")
    if not 0.0 < float(tightness) < 1.0:
        raise UsageError(f"tightness must lie strictly between 0 and 1, got {tightness!r}")


def generate_with_witness(
    providers: int,
    ccgs: int,
    lines: int = 5,
    seed: int = 0,
    tightness: float = DEFAULT_TIGHTNESS,
) -> tuple[dict[str, Any], Witness]:
    """A generated document and the feasible solution its construction guarantees."""
    _check_args(providers, ccgs, lines, tightness)
    P, C, K, t = int(providers), int(ccgs), int(lines), float(tightness)
    rng = np.random.default_rng(seed)
    kinds = list(KINDS.values())
    trait = {
        f: np.array([getattr(k, f) for k in kinds], dtype=float)
        for f in (
            "lead_weight",
            "sub_prob",
            "size",
            "quality",
            "strong",
            "viability",
            "exit_per_staff",
            "premium",
            "gradient",
        )
    }

    # ---- service lines and regions
    lids = line_ids(K)
    theta = rng.integers(55, 71, K).astype(float)
    target = theta + rng.integers(3, 9, K)
    R = max(1, round(C / 15))
    reg_xy = rng.random((R, 2))
    reg_ids = _ids("R", R)

    # ---- providers: kind, size, home region, roles
    kind = rng.permutation(
        np.repeat(np.arange(len(kinds)), _apportion(np.array([k.share for k in kinds]), P))
    )
    size = trait["size"][kind] * rng.lognormal(0.0, 0.5, P)
    home = rng.integers(0, R, P)
    n_lead = min(P, max(2, round(LEAD_SHARE * P)))
    # weighted sampling without replacement (Efraimidis-Spirakis keys)
    score = np.log(rng.random(P)) / trait["lead_weight"][kind]
    lead_idx = np.sort(np.argsort(-score, kind="stable")[:n_lead])
    can_lead = np.zeros(P, bool)
    can_lead[lead_idx] = True
    can_sub = rng.random(P) < trait["sub_prob"][kind]
    b = max(1, min(math.ceil(0.6 * n_lead), round(math.sqrt(C)), C))
    bb = np.sort(lead_idx[np.argsort(-size[lead_idx], kind="stable")[:b]])
    is_bb = np.zeros(P, bool)
    is_bb[bb] = True

    # ---- CCGs and demand (each CCG asks for every line)
    ccg_region = rng.integers(0, R, C)
    anchors = rng.choice(C, size=b, replace=False)
    ccg_region[anchors] = home[bb]
    ccg_size = rng.lognormal(0.0, 0.6, C)
    mix = rng.dirichlet(np.full(K, 4.0))
    d = ccg_size[:, None] * mix[None, :] * rng.uniform(0.7, 1.3, (C, K))
    d = np.maximum(np.round(d * (MARKET_VOLUME / d.sum()), 2), 0.01)
    total_d = d.sum(axis=0)

    # ---- the witness: every CCG in its nearest backbone network (random among equals)
    ccg_xy = reg_xy[ccg_region]
    near = _dist(ccg_xy, reg_xy[home[bb]])
    key = rng.random((C, b))
    key[near > near.min(axis=1, keepdims=True)] = -1.0
    choice = np.argmax(key, axis=1)
    choice[anchors] = np.arange(b)
    load = np.zeros((b, K))
    np.add.at(load, choice, d)

    # ---- capabilities: lines offered, quality, capacity, unit cost
    lo = np.array([k.lines[0] for k in kinds])[kind]
    hi = np.array([k.lines[1] for k in kinds])[kind]
    n_lines = np.clip(np.ceil(rng.uniform(lo, hi) * K), 1, K).astype(int)
    rank = np.argsort(np.argsort(rng.random((P, K)), axis=1), axis=1)
    offered = rank < n_lines[:, None]
    offered[bb] = True
    q = theta[None, :] + trait["quality"][kind][:, None] + rng.normal(0.0, 10.0, (P, K))
    q += np.where(rng.random((P, K)) < 0.3, trait["strong"][kind][:, None], 0.0)
    q = np.round(np.clip(q, 0.0, 100.0), 1)
    q[bb] = np.minimum(
        100.0, np.ceil(np.maximum(theta, target))[None, :] + rng.integers(1, 16, (b, K))
    )
    eligible = offered & (q >= theta[None, :])
    others = eligible & ~is_bb[:, None]
    has_others = others.any(axis=0)
    util = np.where(has_others, t + 0.75 * (1.0 - t), t)
    raw = size[:, None] * rng.uniform(0.5, 1.5, (P, K)) / n_lines[:, None] * offered
    cap = np.zeros((P, K))
    cap[bb] = _ceil2(load / util[None, :])
    budget = np.maximum(total_d / t - cap[bb].sum(axis=0), 0.0)
    raw_elig = (raw * others).sum(axis=0)
    scale = np.where(
        has_others, budget / np.where(raw_elig > 0, raw_elig, 1.0), total_d / max(raw.sum(), 1e-9)
    )
    rest = offered & ~is_bb[:, None]
    cap[rest] = np.maximum(np.round((raw * scale[None, :])[rest], 2), 0.01)
    vat = np.where(np.array([k.vat for k in kinds])[kind], rng.uniform(0.05, 0.09, P), 0.0)
    unit_cost = np.round(rng.uniform(0.75, 0.95, (P, K)) * (1.0 + vat)[:, None], 4)

    # ---- provider economics
    total_cap = (cap * offered).sum(axis=1)
    elig_cap = (cap * eligible).sum(axis=1)
    staff = np.maximum(1.0, np.round(total_cap * STAFF_PER_VOLUME))
    exit_cost = np.round(staff * trait["exit_per_staff"][kind] * rng.uniform(0.8, 1.2, P), 2)
    lead_fixed = np.where(
        can_lead, np.round((150.0 + 0.03 * total_cap) * rng.uniform(0.8, 1.2, P), 2), 0.0
    )
    sub_fixed = np.round((20.0 + 0.01 * total_cap) * rng.uniform(0.8, 1.2, P), 2)
    min_volume = _floor2(trait["viability"][kind] * elig_cap)
    min_volume[bb] = np.minimum(min_volume[bb], _floor2(0.9 * load.sum(axis=1)))

    # ---- assignment costs: every lead-capable provider x CCG (vectorised)
    lk = kind[lead_idx]
    dist_lc = _dist(reg_xy[home[lead_idx]], ccg_xy)
    away = home[lead_idx][:, None] != ccg_region[None, :]
    rate = trait["premium"][lk][:, None] * away + trait["gradient"][lk][:, None] * dist_lc
    t_lc = np.round(rate * d.sum(axis=1)[None, :] * rng.uniform(0.9, 1.1, (n_lead, C)), 2)

    # ---- partnership costs for some (subcontractor, lead) pairs
    sub_idx = np.flatnonzero(can_sub)
    pick = rng.random((len(sub_idx), n_lead)) < PARTNERSHIP_SHARE
    pick &= sub_idx[:, None] != lead_idx[None, :]
    pi, li = np.nonzero(pick)
    k_cost = np.round(
        (5.0 + 40.0 * np.hypot(*(reg_xy[home[sub_idx[pi]]] - reg_xy[home[lead_idx[li]]]).T))
        * rng.uniform(0.5, 1.5, len(pi)),
        2,
    )

    # ---- the document
    pids, cids = _ids("P", P), _ids("C", C)
    names = np.empty(P, dtype=object)
    for j, k in enumerate(kinds):
        at = np.flatnonzero(kind == j)
        names[at] = [f"{k.label} {i}" for i in range(1, len(at) + 1)]
    band_min = max(1, math.floor(0.7 * b))
    band_max = min(n_lead, math.ceil(1.3 * b))
    pr, ps = np.nonzero(offered)
    doc: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "name": default_name(P, C, K, seed, tightness),
        "description": (
            f"Synthetic market: {P} providers ({n_lead} lead-capable), {C} CCGs in {R} regions, "
            f"{K} service lines, seed {seed}, tightness {t:g} (demand / eligible capacity per "
            f"line). Generated by csu_opt.instance.generate; every value is an assumption."
        ),
        "units": {"volume": "£k per year", "cost": "£k per year"},
        "settings": {
            "lead_providers": {"min": band_min, "max": band_max},
            "single_sourcing": True,
            "max_leads_per_subcontractor": 1,
            "lead_self_delivery_min_share": SELF_DELIVERY_SHARE,
        },
        "service_lines": pd.DataFrame(
            {
                "id": lids,
                "name": [
                    FRAMEWORK_LINES[i][1] if i < len(FRAMEWORK_LINES) else f"Service line {i + 1}"
                    for i in range(K)
                ],
                "quality_threshold": theta,
                "network_quality_target": target,
            }
        ),
        "providers": pd.DataFrame(
            {
                "id": pids,
                "name": names,
                "kind": np.array(PROVIDER_KINDS, dtype=object)[kind],
                "region": reg_ids[home],
                "can_lead": can_lead,
                "can_subcontract": can_sub,
                "lead_fixed_cost": lead_fixed,
                "subcontractor_fixed_cost": sub_fixed,
                "exit_cost": exit_cost,
                "min_volume": min_volume,
                "staff": staff,
            }
        ),
        "capabilities": pd.DataFrame(
            {
                "provider": pids[pr],
                "service_line": np.array(lids, dtype=object)[ps],
                "capacity": cap[pr, ps],
                "quality": q[pr, ps],
                "unit_cost": unit_cost[pr, ps],
            }
        ),
        "ccgs": pd.DataFrame({"id": cids, "name": cids, "region": reg_ids[ccg_region]}),
        "demand": pd.DataFrame(
            {
                "ccg": np.repeat(cids, K),
                "service_line": np.tile(np.array(lids, dtype=object), C),
                "volume": d.ravel(),
            }
        ),
        "assignment_costs": pd.DataFrame(
            {
                "lead": np.repeat(pids[lead_idx], C),
                "ccg": np.tile(cids, n_lead),
                "cost": t_lc.ravel(),
            }
        ),
        "partnership_costs": pd.DataFrame(
            {
                "subcontractor": pids[sub_idx[pi]],
                "lead": pids[lead_idx[li]],
                "cost": k_cost,
            }
        ),
    }
    witness = Witness(
        leads=tuple(pids[bb]),
        assignment=pd.Series(pids[bb][choice], index=pd.Index(cids, name="ccg"), name="lead"),
    )
    return doc, witness


def generate(
    providers: int,
    ccgs: int,
    lines: int = 5,
    seed: int = 0,
    tightness: float = DEFAULT_TIGHTNESS,
) -> dict[str, Any]:
    """A feasible synthetic instance as a ``csu-opt/1`` document (see the module docstring).

    ``tightness`` in (0, 1) is total demand over total eligible capacity, per line.
    """
    return generate_with_witness(providers, ccgs, lines, seed, tightness)[0]


def generate_to_folder(
    out_dir: str | Path,
    providers: int,
    ccgs: int,
    lines: int = 5,
    seed: int = 0,
    tightness: float = DEFAULT_TIGHTNESS,
) -> Path:
    """Write a generated instance as ``out_dir/<name>.yaml`` plus CSV tables; return the YAML."""
    doc = generate(providers, ccgs, lines, seed, tightness)
    header = (
        f"Synthetic instance written by csu-opt generate: --providers {providers} "
        f"--ccgs {ccgs} --lines {lines} --seed {seed} --tightness {tightness:g}\n"
        "Every value is an assumption drawn at random; scales follow the published facts\n"
        "(total demand 211 CCGs x £3.9m a year, VAT 5-9% for non-NHS providers,\n"
        "one staff member per £100k).\n"
        "Feasible by construction: see the docstring of csu_opt.instance.generate."
    )
    return write_document(doc, out_dir, header=header)


# --------------------------------------------------------------------------- the witness


def _witness_frames(doc: dict[str, Any], witness: Witness) -> dict[str, Any]:
    """Loads per (lead, line) joined with the leads' capabilities, from a document."""
    lines = pd.DataFrame(doc["service_lines"]).set_index("id")
    prov = pd.DataFrame(doc["providers"]).set_index("id")
    demand = pd.DataFrame(doc["demand"])
    lead_of = demand["ccg"].map(witness.assignment)
    grid = pd.MultiIndex.from_product(
        [list(witness.leads), list(lines.index)], names=["lead", "service_line"]
    )
    load = demand.assign(lead=lead_of).groupby(["lead", "service_line"])["volume"].sum()
    cap = pd.DataFrame(doc["capabilities"]).rename(columns={"provider": "lead"})
    cap = cap.set_index(["lead", "service_line"]).reindex(grid)
    frame = cap.assign(load=load.reindex(grid, fill_value=0.0)).reset_index()
    return {"lines": lines, "prov": prov, "frame": frame}


def check_witness(doc: dict[str, Any], witness: Witness) -> list[str]:
    """Every rule (C1-C11) the witness breaks in ``doc``, in words; empty when it is feasible.

    The witness: its leads lead and deliver their networks' whole demand themselves, every
    other provider exits. C2, C3, C5, C7 and C10 (own share 1 >= ρ) hold by its form; the
    data-dependent rules C1, C4, C6, C8, C9 and C11 are checked here. Works on a generated
    document or on ``Instance.to_document()``.
    """
    out: list[str] = []
    w = _witness_frames(doc, witness)
    lines, prov, frame = w["lines"], w["prov"], w["frame"]
    leads = list(witness.leads)
    band = (doc.get("settings") or {}).get("lead_providers") or {}
    lo, hi = band.get("min"), band.get("max")
    if (lo is not None and len(leads) < lo) or (hi is not None and len(leads) > hi):
        out.append(f"C1: {len(leads)} leads outside the band [{lo}, {hi}]")
    unknown = [p for p in leads if p not in prov.index]
    if unknown or not prov.loc[[p for p in leads if p in prov.index], "can_lead"].all():
        out.append("C1: a witness lead is unknown or cannot lead")
    ccgs = pd.DataFrame(doc["ccgs"])["id"]
    placed = ccgs.map(witness.assignment)
    if placed.isna().any() or not placed.isin(leads).all():
        out.append("C4: some CCG is not placed in a witness network")
    theta = frame["service_line"].map(lines["quality_threshold"])
    target = frame["service_line"].map(lines["network_quality_target"])
    ok = frame["capacity"].notna() & (frame["capacity"] > 0) & (frame["quality"] >= theta)
    for r in frame[~ok].head(10).itertuples():
        out.append(f"C8: lead {r.lead} is not eligible in {r.service_line}")
    for r in frame[frame["load"] > frame["capacity"].fillna(0.0)].head(10).itertuples():
        out.append(
            f"C6: lead {r.lead} carries {r.load:g} of {r.service_line}, capacity {r.capacity:g}"
        )
    for r in frame[(frame["load"] > 0) & (frame["quality"] < target)].head(10).itertuples():
        out.append(f"C9: lead {r.lead} quality {r.quality:g} below target in {r.service_line}")
    volume = frame.groupby("lead")["load"].sum()
    short = volume < prov["min_volume"].reindex(volume.index).fillna(0.0)
    out.extend(
        f"C11: lead {p} delivers {volume[p]:g}, below its min_volume"
        for p in volume.index[short][:10]
    )
    return out


def witness_cost(doc: dict[str, Any], witness: Witness) -> float:
    """The objective of the witness solution: an upper bound on the optimum."""
    w = _witness_frames(doc, witness)
    prov, frame = w["prov"], w["frame"]
    leads = list(witness.leads)
    fixed = float(prov.loc[leads, "lead_fixed_cost"].sum())
    exits = float(prov.loc[~prov.index.isin(leads), "exit_cost"].sum())
    delivery = float((frame["unit_cost"].fillna(0.0) * frame["load"]).sum())
    ac = pd.DataFrame(doc.get("assignment_costs", pd.DataFrame(columns=["lead", "ccg", "cost"])))
    ccgs = pd.DataFrame(doc["ccgs"])["id"]
    pairs = pd.DataFrame({"lead": ccgs.map(witness.assignment), "ccg": ccgs})
    assign = float(pairs.merge(ac, on=["lead", "ccg"], how="left")["cost"].fillna(0.0).sum())
    return fixed + exits + delivery + assign
