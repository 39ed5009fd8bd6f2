"""Regenerate the shipped instances: ``.venv/bin/python instances/make_instances.py``.

This script is the single source of every number in ``england-2014``, ``england-2013`` and
``demo``. Each value is either a published figure (``FACT``, listed in instances/README.md, cited
by name below) or an assumption derived from those figures by a rule written here and
explained in ``instances/README.md`` and ``instances/england-2014/ASSUMPTIONS.md``. The YAML
files it writes carry the same notes as comments, record by record.

Randomness: the small perturbations that keep the instances from being degenerate (CSU
quality and unit-cost spread, CCG size, noise in assignment and partnership costs) come from
``numpy.random.default_rng`` with fixed seeds, chosen before any solve and never tuned.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

# --------------------------------------------------------------------------- facts
#: FACT: North West CSU and Yorkshire and Humber CSU: 24 and 23 CCGs, combined 2013-14
#: turnover £183m; Yorkshire and Humber "a £90m business" (FACTS.md, the outcome section).
FACT_NW_CCGS, FACT_YH_CCGS = 24, 23
FACT_NW_YH_TURNOVER = 183_000.0  # £k
FACT_YH_TURNOVER = 90_000.0  # £k
#: FACT: 211 CCGs at April 2013; nearly 9,000 staff working in CSUs (2013).
FACT_CCGS = 211
FACT_CSU_STAFF = 9_000
#: FACT: NHS England: VAT adds 5-9% to end-to-end services from non-NHS providers.
FACT_VAT_LOW, FACT_VAT_HIGH = 0.05, 0.09
#: FACT: Optum won £3m a year for two Lincolnshire CCGs.
FACT_OPTUM_CONTRACT, FACT_OPTUM_CCGS = 3_000.0, 2
#: FACT: contracts of up to 5 years (2013): one-off costs are spread over 5 years.
FACT_CONTRACT_YEARS = 5

# --------------------------------------------------------------------------- assumptions
#: ASSUMPTION: a CCG's spend per CCG outside NW/YH equals the NW+YH average (£183m / 47).
SPEND_PER_CCG = FACT_NW_YH_TURNOVER / (FACT_NW_CCGS + FACT_YH_CCGS)
#: ASSUMPTION: how CCG spend splits over the five service lines.
LINE_SHARE = {"BST": 0.30, "PROC": 0.20, "REDES": 0.15, "COMMS": 0.10, "BI": 0.25}
#: ASSUMPTION: VAT on non-NHS providers at the middle of the published 5-9% range.
VAT = round((FACT_VAT_LOW + FACT_VAT_HIGH) / 2, 3)
#: ASSUMPTION: redundancy/transfer cost per CSU employee (£k, about a year's pay), spread
#: over the 5-year contract term.
REDUNDANCY_PER_STAFF = 35.0
EXIT_PER_STAFF = REDUNDANCY_PER_STAFF / FACT_CONTRACT_YEARS

LINES = [
    # id, name, quality_threshold (accreditation bar), network_quality_target: ASSUMPTIONS
    ("BST", "Business support and transactional services", 60, 64),
    ("PROC", "Healthcare procurement and provider management", 62, 66),
    ("REDES", "Service specific redesign", 62, 66),
    ("COMMS", "Communications", 55, 60),
    ("BI", "Business intelligence, data management and information governance", 65, 68),
]
LINE_IDS = [line[0] for line in LINES]


@dataclass
class Footprint:
    """A CSU footprint: the CCGs a CSU served in 2013-14 (2014 alliance level)."""

    id: str
    name: str
    ccgs: int
    turnover: float | None = None  # £k, None: ccgs x SPEND_PER_CCG
    members_2013: list[tuple[str, str, int]] = field(default_factory=list)  # id, name, ccgs


#: The nine CSU alliances that reached the final stage of the 2014 bid (FACT: nine; the
#: names of eight of them are in FACTS.md; the ninth, EAST, is an ASSUMPTION). CCG counts:
#: NW 24 and YH 23 are FACTS; the other counts are ASSUMPTIONS chosen so the total is 211.
#: ``members_2013`` are the 19 CSUs of spring 2013 (FACT: 19) that the 17 CSUs of October
#: 2014 (FACT: 17) and these nine alliances came from; names below alliance level are
#: illustrative ASSUMPTIONS, as are their CCG counts (except that GM + CM = 24, WSYB + NYH = 23).
FOOTPRINTS = [
    Footprint("NECS", "North of England CSU", 13, None, [("NECS", "North of England CSU", 13)]),
    Footprint(
        "NW",
        "North West CSU",
        FACT_NW_CCGS,
        FACT_NW_YH_TURNOVER - FACT_YH_TURNOVER,
        [("GM", "Greater Manchester CSU", 12), ("CM", "Cheshire and Merseyside CSU", 12)],
    ),
    Footprint(
        "YH",
        "Yorkshire and Humber CSU",
        FACT_YH_CCGS,
        FACT_YH_TURNOVER,
        [
            ("WSYB", "West and South Yorkshire and Bassetlaw CSU", 15),
            ("NYH", "North Yorkshire and Humber CSU", 8),
        ],
    ),
    Footprint(
        "ML",
        "Midlands and Lancashire CSU",
        26,
        None,
        [
            ("SL", "Staffordshire and Lancashire CSU", 12),
            ("CMID", "Central Midlands CSU", 8),
            ("WMID", "West Midlands CSU", 6),
        ],
    ),
    Footprint(
        "GEMA",
        "Greater East Midlands and Arden CSU",
        27,
        None,
        [("GEM", "Greater East Midlands CSU", 19), ("ARDEN", "Arden CSU", 8)],
    ),
    Footprint(
        "NEL",
        "North and East London CSU",
        19,
        None,
        [("NEEL", "North East London CSU", 11), ("NCL", "North Central London CSU", 8)],
    ),
    Footprint(
        "SE",
        "South East CSU",
        21,
        None,
        [("KM", "Kent and Medway CSU", 8), ("SS", "Surrey and Sussex CSU", 13)],
    ),
    Footprint(
        "SSWCS",
        "South, South West and Central Southern CSUs",
        32,
        None,
        [
            ("SOUTH", "South CSU", 11),
            ("SW", "South West CSU", 11),
            ("CS", "Central Southern CSU", 10),
        ],
    ),
    Footprint(
        "EAST",
        "East of England CSU alliance",
        26,
        None,
        [("ANGLIA", "Anglia CSU", 14), ("ESSEX", "Essex CSU", 12)],
    ),
]
assert sum(f.ccgs for f in FOOTPRINTS) == FACT_CCGS
assert sum(len(f.members_2013) for f in FOOTPRINTS) == 19
for _f in FOOTPRINTS:
    assert sum(m[2] for m in _f.members_2013) == _f.ccgs

#: ASSUMPTION: which footprints border which (for the locality cost of serving a CCG).
ADJACENT = {
    "NECS": {"NW", "YH", "ML"},
    "NW": {"NECS", "YH", "ML"},
    "YH": {"NECS", "NW", "ML", "GEMA"},
    "ML": {"NECS", "NW", "YH", "GEMA", "SSWCS"},
    "GEMA": {"YH", "ML", "EAST", "SSWCS"},
    "EAST": {"GEMA", "NEL", "SSWCS"},
    "NEL": {"EAST", "SE", "SSWCS"},
    "SE": {"NEL", "SSWCS"},
    "SSWCS": {"ML", "GEMA", "EAST", "NEL", "SE"},
}

#: ASSUMPTION: locality cost t[l,c] as a share of the CCG's annual spend. Moving a CCG to a
#: network that does not serve it today has a one-off cost (new team, TUPE transfers, lost
#: local knowledge; FACT: a full procurement takes 9-12 months) taken as 30% of a year's spend
#: for a neighbouring provider and 50% for a distant one, spread over the 5-year contract
#: (FACT: up to 5 years): 6% and 10% a year, plus 1% a year of account management for all.
RATE_OWN, RATE_ADJ, RATE_FAR = 0.01, 0.07, 0.11
#: national non-NHS providers: the same everywhere, between the neighbour and distant rates.
RATE_NATIONAL = 0.09
#: councils: local bodies; on their own patch like a neighbour CSU, far away dearer.
RATE_COUNCIL = (0.04, 0.10, 0.16)
#: noise added to every t[l,c], uniform in [0, 1%) of spend, so no two costs tie.
RATE_NOISE = 0.01


@dataclass
class Other:
    """A non-CSU provider (all values ASSUMPTIONS unless the note says FACT)."""

    id: str
    name: str
    kind: str
    region: str  # a footprint id, or "national"
    can_lead: bool
    F: float  # lead fixed cost, £k/yr
    G: float  # subcontractor fixed cost, £k/yr
    X: float  # exit cost, £k/yr
    v: float  # minimum volume, £k/yr
    lines: dict[str, tuple[float, float]]  # line: (capacity £k, quality 0-100)
    note: str


#: Non-NHS bidders and partners. Unit cost: ASSUMPTION of the same pre-VAT cost as a CSU (no
#: published evidence of a private-sector efficiency gap either way) plus VAT (FACT: 5-9%,
#: the middle taken): 1.07 per £1 of CSU-priced work.
OTHERS = [
    Other(
        "CAPITA",
        "Capita",
        "private",
        "national",
        True,
        2500,
        300,
        300,
        15000,
        {
            "BST": (60000, 80),
            "PROC": (20000, 66),
            "REDES": (12000, 63),
            "COMMS": (12000, 70),
            "BI": (25000, 74),
        },
        "bidder (FACT: accredited for Lot 1, Feb 2015); large outsourcer: big BST capacity",
    ),
    Other(
        "OPTUM",
        "Optum",
        "private",
        "national",
        True,
        2500,
        300,
        300,
        10000,
        {
            "BST": (15000, 70),
            "PROC": (20000, 74),
            "REDES": (20000, 77),
            "COMMS": (6000, 64),
            "BI": (40000, 86),
        },
        "bidder (FACT: accredited; FACT: £3m a year for two Lincolnshire CCGs); "
        "capacity is the ASSUMED scale-up within a 5-year framework",
    ),
    Other(
        "MBED",
        "MBED consortium (Mouchel, BDO, Engine, Dr Foster)",
        "private",
        "national",
        True,
        2200,
        300,
        200,
        8000,
        {
            "BST": (20000, 70),
            "PROC": (12000, 70),
            "REDES": (8000, 66),
            "COMMS": (12000, 80),
            "BI": (25000, 84),
        },
        "bidder (FACT: accredited; members FACT); line strengths follow the members",
    ),
    Other(
        "KPMG",
        "KPMG",
        "private",
        "national",
        False,
        0,
        250,
        100,
        2000,
        {"PROC": (10000, 78), "REDES": (15000, 82), "BI": (10000, 80)},
        "partner (FACT: in Optum's supply chain); consultancy: redesign and analytics",
    ),
    Other(
        "BT",
        "BT",
        "private",
        "national",
        False,
        0,
        250,
        100,
        2000,
        {"BST": (20000, 74), "BI": (12000, 72)},
        "partner (FACT: in Optum's supply chain); IT and data platforms",
    ),
    Other(
        "NHSSBS",
        "NHS Shared Business Services",
        "other",
        "national",
        False,
        0,
        200,
        100,
        3000,
        {"BST": (40000, 72)},
        "partner; transactional finance and payroll at scale (a joint venture: VAT applies)",
    ),
    Other(
        "ANALYTICS",
        "Specialist health analytics firm",
        "private",
        "national",
        False,
        0,
        150,
        50,
        1000,
        {"BI": (10000, 86)},
        "partner; narrow specialist (BI only)",
    ),
    Other(
        "PROCURE",
        "Procurement consultancy",
        "private",
        "national",
        False,
        0,
        150,
        50,
        1000,
        {"PROC": (8000, 78)},
        "partner; narrow specialist (PROC only)",
    ),
    Other(
        "COMMSAG",
        "Communications agency",
        "private",
        "national",
        False,
        0,
        100,
        50,
        800,
        {"COMMS": (5000, 76)},
        "partner; narrow specialist (COMMS only)",
    ),
    Other(
        "COUNCIL_N",
        "Northern county council shared services",
        "council",
        "NECS",
        True,
        1800,
        200,
        200,
        3000,
        {
            "BST": (8000, 72),
            "PROC": (3000, 55),
            "REDES": (3000, 60),
            "COMMS": (4000, 74),
            "BI": (3000, 58),
        },
        "bidder (FACT: councils could lead); local; weak in PROC and BI (below the bar)",
    ),
    Other(
        "COUNCIL_S",
        "Southern county council shared services",
        "council",
        "SE",
        True,
        1800,
        200,
        200,
        3000,
        {
            "BST": (10000, 70),
            "PROC": (4000, 58),
            "REDES": (3000, 63),
            "COMMS": (5000, 72),
            "BI": (4000, 60),
        },
        "bidder (FACT: councils could lead); local; weak in PROC and BI (below the bar)",
    ),
    Other(
        "SOCENT",
        "Commissioning social enterprise",
        "charity",
        "national",
        True,
        1500,
        150,
        150,
        3000,
        {
            "BST": (4000, 64),
            "PROC": (3000, 66),
            "REDES": (8000, 76),
            "COMMS": (4000, 70),
            "BI": (3000, 63),
        },
        "bidder (FACT: social enterprise was an ownership option discussed)",
    ),
    Other(
        "CHARITY",
        "Patient-engagement charity",
        "charity",
        "national",
        False,
        0,
        80,
        30,
        500,
        {"REDES": (4000, 78), "COMMS": (3000, 80)},
        "partner (FACT: charities in the market); engagement and communications",
    ),
    Other(
        "GPCOOP",
        "GP co-operative",
        "other",
        "national",
        False,
        0,
        80,
        30,
        500,
        {"PROC": (2000, 62), "REDES": (6000, 74)},
        "partner (FACT: GP co-operative was an ownership option); clinical redesign",
    ),
    Other(
        "UNIHE",
        "University health-economics unit",
        "other",
        "national",
        False,
        0,
        80,
        30,
        500,
        {"REDES": (3000, 80), "BI": (3000, 82)},
        "partner; evaluation and modelling",
    ),
]

#: ASSUMPTIONS for CSUs (NHS bodies: no VAT).
CSU_QUALITY_MEAN, CSU_QUALITY_SD = 68.0, 6.0
CSU_COST_SD = 0.01
CSU_HEADROOM = (1.10, 1.25)  # capacity / current workload, per line (manpower deals)
CSU_LEAD_F_BASE, CSU_LEAD_F_SHARE = 1500.0, 0.01  # F = 1,500 + 1% of turnover
CSU_G = 400.0
CSU_MIN_SHARE = 0.5  # viability: at least half of today's turnover
CSU_PARTNER_K = (60.0, 120.0, 180.0)  # k: same/adjacent footprint, distant, to a non-CSU lead
OTHER_PARTNER_K = 120.0
SUPPLY_CHAIN_K = 30.0  # FACT-based: Optum's existing supply chain (KPMG, BT)


# --------------------------------------------------------------------------- helpers


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def fmt(x: float) -> str:
    return f"{x:.0f}" if float(x).is_integer() else f"{x:g}"


@dataclass
class Market:
    """CCGs and their demand (the same CCGs in 2013 and 2014)."""

    ccgs: list[tuple[str, str, str, str]]  # id, name, footprint 2014, CSU 2013
    spend: dict[str, float]  # £k per CCG
    demand: dict[tuple[str, str], float]  # (ccg, line) -> £k


def build_market(seed: int = 211) -> Market:
    """CCG spend: footprint turnover split by lognormal CCG sizes; lines by shares +-15%."""
    rng = np.random.default_rng(seed)
    ccgs, spend, demand = [], {}, {}
    optum_done = 0
    for f in FOOTPRINTS:
        total = f.turnover if f.turnover is not None else f.ccgs * SPEND_PER_CCG
        size = rng.lognormal(0.0, 0.35, f.ccgs)
        size = size / size.sum() * total
        k = 0
        for member_id, _member_name, n in f.members_2013:
            for _ in range(n):
                cid = f"{f.id}{k + 1:02d}"
                name = f"{f.name.replace(' CSU', '').replace(' CSUs', '')} CCG {k + 1}"
                if f.id == "GEMA" and optum_done < FACT_OPTUM_CCGS:
                    optum_done += 1
                    name = f"Lincolnshire CCG {optum_done} (Optum's 2014 contract)"
                ccgs.append((cid, name, f.id, member_id))
                spend[cid] = round(float(size[k]), 0)
                mix = np.array([LINE_SHARE[s] for s in LINE_IDS])
                mix = mix * rng.uniform(0.85, 1.15, len(mix))
                mix = mix / mix.sum()
                for s, share in zip(LINE_IDS, mix, strict=True):
                    demand[(cid, s)] = round(spend[cid] * float(share), 0)
                k += 1
    return Market(ccgs, spend, demand)


@dataclass
class Csu:
    id: str
    name: str
    footprint: str  # 2014 footprint id (locality)
    own: set[str]  # the CCG ids it served
    turnover: float
    staff: float = 0.0


def csu_capabilities(
    csus: list[Csu], market: Market, rng: np.random.Generator
) -> list[list[object]]:
    rows: list[list[object]] = []
    for c in csus:
        for s in LINE_IDS:
            work = sum(market.demand[(cc, s)] for cc in sorted(c.own))
            cap = round(work * rng.uniform(*CSU_HEADROOM), 0)
            q = round(float(np.clip(rng.normal(CSU_QUALITY_MEAN, CSU_QUALITY_SD), 45, 90)), 0)
            cost = round(1.0 + rng.normal(0.0, CSU_COST_SD), 3)
            rows.append([c.id, s, fmt(cap), fmt(q), fmt(cost)])
    return rows


def other_capabilities() -> list[list[object]]:
    rows: list[list[object]] = []
    for o in OTHERS:
        for s in LINE_IDS:
            if s in o.lines:
                cap, q = o.lines[s]
                rows.append([o.id, s, fmt(cap), fmt(q), fmt(round(1.0 + VAT, 3))])
    return rows


def locality_rate(lead_region: str, lead_kind: str, ccg_fp: str) -> float:
    if lead_region == "national":
        return RATE_NATIONAL
    own, adj, far = (RATE_OWN, RATE_ADJ, RATE_FAR) if lead_kind == "csu" else RATE_COUNCIL
    if lead_region == ccg_fp:
        return own
    return adj if ccg_fp in ADJACENT[lead_region] else far


def assignment_rows(
    leads: list[tuple[str, str, str, set[str]]], market: Market, rng: np.random.Generator
) -> list[list[object]]:
    """Every lead-capable provider x CCG: spend x (locality rate + noise in [0, 1%))."""
    rows: list[list[object]] = []
    for lid, kind, region, own in leads:
        for cid, name, fp, _m in market.ccgs:
            if lid == "OPTUM" and "Optum" in name:
                rate = RATE_OWN  # incumbent on its two Lincolnshire CCGs (FACT)
            elif kind == "csu" and cid in own:
                rate = RATE_OWN
            elif kind == "csu" and fp == region:
                rate = RATE_ADJ  # 2013: a neighbouring CSU inside the same 2014 footprint
            else:
                rate = locality_rate(region, kind, fp)
            cost = market.spend[cid] * (rate + rng.uniform(0.0, RATE_NOISE))
            rows.append([lid, cid, fmt(round(cost, 1))])
    return rows


def partnership_rows(
    subs: list[tuple[str, str, str]],
    leads: list[tuple[str, str, str]],
    rng: np.random.Generator,
) -> list[list[object]]:
    """Every possible subcontractor -> lead link: a contract-management cost + noise."""
    rows: list[list[object]] = []
    for sid, skind, sregion in subs:
        for lid, lkind, lregion in leads:
            if sid == lid:
                continue
            if lid == "OPTUM" and sid in ("KPMG", "BT"):
                base = SUPPLY_CHAIN_K
            elif skind == "csu" and lkind == "csu":
                near = sregion == lregion or sregion in ADJACENT.get(lregion, set())
                base = CSU_PARTNER_K[0] if near else CSU_PARTNER_K[1]
            elif skind == "csu":
                base = CSU_PARTNER_K[2]
            else:
                base = OTHER_PARTNER_K
            rows.append([sid, lid, fmt(round(base + rng.uniform(0.0, 40.0), 1))])
    return rows


# --------------------------------------------------------------------------- England


def england(year: int) -> None:
    """Write england-<year>.yaml and its CSV tables."""
    name = f"england-{year}"
    folder = HERE / name
    market = build_market()
    rng = np.random.default_rng(year)

    csus: list[Csu] = []
    for f in FOOTPRINTS:
        units = (
            [(f.id, f.name, f.id)] if year == 2014 else [(m[0], m[1], f.id) for m in f.members_2013]
        )
        for cid, cname, fp in units:
            own = {c[0] for c in market.ccgs if (c[2] == fp if year == 2014 else c[3] == cid)}
            turnover = sum(market.spend[c] for c in own)
            csus.append(Csu(cid, cname, fp, own, turnover))
    total_turnover = sum(c.turnover for c in csus)
    for c in csus:
        c.staff = round(FACT_CSU_STAFF * c.turnover / total_turnover, 0)

    # --- capabilities
    cap_rows = csu_capabilities(csus, market, rng) + other_capabilities()
    write_csv(
        folder / "capabilities.csv",
        ["provider", "service_line", "capacity", "quality", "unit_cost"],
        cap_rows,
    )
    # --- ccgs and demand
    write_csv(
        folder / "ccgs.csv",
        ["id", "name", "region"],
        [[c[0], c[1], c[2] if year == 2014 else c[3]] for c in market.ccgs],
    )
    write_csv(
        folder / "demand.csv",
        ["ccg", "service_line", "volume"],
        [[c, s, fmt(v)] for (c, s), v in market.demand.items()],
    )
    # --- assignment costs (every lead-capable provider x CCG)
    leads = [(c.id, "csu", c.footprint, c.own) for c in csus] + [
        (o.id, o.kind, o.region, set()) for o in OTHERS if o.can_lead
    ]
    write_csv(
        folder / "assignment_costs.csv",
        ["lead", "ccg", "cost"],
        assignment_rows(leads, market, rng),
    )
    # --- partnership costs (every subcontract-capable provider x lead-capable provider)
    subs = [(c.id, "csu", c.footprint) for c in csus] + [(o.id, o.kind, o.region) for o in OTHERS]
    lead_meta = [(lid, kind, region) for lid, kind, region, _own in leads]
    write_csv(
        folder / "partnership_costs.csv",
        ["subcontractor", "lead", "cost"],
        partnership_rows(subs, lead_meta, rng),
    )

    write_england_yaml(year, csus, market)


def _pyval(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float | int):
        return fmt(float(v))
    text = str(v)
    if any(ch in text for ch in ",:{}[]#&*!|>'\"%@`") or text != text.strip():
        return json.dumps(text, ensure_ascii=False)
    return text


def _record(rec: dict[str, object]) -> str:
    body = ", ".join(f"{k}: {_pyval(v)}" for k, v in rec.items())
    return f"  - {{{body}}}"


def write_england_yaml(year: int, csus: list[Csu], market: Market) -> None:
    name = f"england-{year}"
    n_csu = len(csus)
    lines: list[str] = []
    add = lines.append
    add(f"# {name}: generated by instances/make_instances.py (edit there, then re-run).")
    add("# Every number is marked FACT (FACTS.md) or ASSUMPTION (with its derivation); the CSV")
    add(f"# tables in {name}/ are explained column by column in england-2014/ASSUMPTIONS.md.")
    add("# Unit of every volume and cost: £k per year.")
    add("schema: csu-opt/1")
    add(f"name: {name}")
    if year == 2014:
        desc = (
            "The market at the 2014 framework bid (Lot 1, end-to-end support): the nine CSU "
            "alliances that reached the final stage, the non-NHS bidders (Capita, Optum, MBED, "
            "two councils, a social enterprise) and specialist partners; 211 CCGs."
        )
    else:
        desc = (
            "The market in spring 2013, before the alliances: 19 CSUs, the same non-NHS "
            "bidders and partners, and the same 211 CCGs and demand as england-2014."
        )
    add(f"description: >-\n  {desc}")
    add('units: {volume: "£k per year", cost: "£k per year"}')
    add("service_lines:")
    add("  # ids and names: FACT (five lines, 2014). quality_threshold (the accreditation bar,")
    add("  # 0-100) and network_quality_target: ASSUMPTIONS; the scores they are compared with")
    add("  # are on the same assumed scale (a CSU scores about 68 +- 6 on average).")
    for sid, sname, theta, target in LINES:
        add(
            _record(
                {
                    "id": sid,
                    "name": sname,
                    "quality_threshold": theta,
                    "network_quality_target": target,
                }
            )
        )
    add("settings:")
    add("  lead_providers: {min: 10, max: 15}   # FACT: the framework makes room for 10 to 15")
    add("  single_sourcing: true                # FACT-based: a CCG buys from one network")
    add("  max_leads_per_subcontractor: 2       # ASSUMPTION: a partner may serve two networks")
    add("  lead_self_delivery_min_share: 0.25   # ASSUMPTION: a lead delivers a quarter itself")
    add("providers:")
    add("  # Columns: F = lead_fixed_cost, G = subcontractor_fixed_cost, X = exit_cost,")
    add("  # v = min_volume, all £k/yr.")
    add(f"  # CSUs ({n_csu}): NHS bodies, no VAT. turnover = the 2013-14 spend of the CCGs they")
    add("  #   served (NW £93m = £183m - £90m and YH £90m: FACTS; others: CCGs x £3,894k, the")
    add("  #   NW+YH average £183m/47: ASSUMPTION). staff = 9,000 (FACT) x turnover share.")
    add("  #   F = 1,500 + 1% of turnover (bid, accreditation, contract management: ASSUMPTION).")
    add("  #   G = 400 (a subcontractor's own overhead per network it serves: ASSUMPTION).")
    add(f"  #   X = staff x £{EXIT_PER_STAFF:g}k (redundancy about £35k a head, spread over the")
    add("  #   5-year contract term, FACT: contracts up to 5 years; £35k: ASSUMPTION).")
    add("  #   v = 50% of turnover (below that a CSU cannot balance its books: ASSUMPTION).")
    for c in csus:
        facts = ""
        if c.id == "NW":
            facts = " FACT: 24 CCGs, £93m (= £183m - £90m); not accredited (Feb 2015)."
        elif c.id == "YH":
            facts = " FACT: 23 CCGs, £90m; not accredited (Feb 2015)."
        elif c.id in ("GM", "CM"):
            facts = " FACT: GM + CM = North West CSU's 24 CCGs; split 12/12: ASSUMPTION."
        elif c.id in ("WSYB", "NYH"):
            facts = " FACT: WSYB + NYH = Y&H CSU's 23 CCGs (merger); split: ASSUMPTION."
        elif year == 2014 and c.id == "EAST":
            facts = " The ninth finalist (FACT: nine); its name and footprint: ASSUMPTION."
        elif year == 2014:
            facts = " FACT: accredited for Lot 1 (Feb 2015); CCG count: ASSUMPTION."
        else:
            facts = " Name and CCG count: illustrative ASSUMPTION."
        add(f"  # {c.id}: {len(c.own)} CCGs, turnover {c.turnover:,.0f}.{facts}")
        add(
            _record(
                {
                    "id": c.id,
                    "name": c.name,
                    "kind": "csu",
                    "region": c.footprint,
                    "can_lead": True,
                    "can_subcontract": True,
                    "lead_fixed_cost": round(CSU_LEAD_F_BASE + CSU_LEAD_F_SHARE * c.turnover, 0),
                    "subcontractor_fixed_cost": CSU_G,
                    "exit_cost": round(c.staff * EXIT_PER_STAFF, 0),
                    "min_volume": round(CSU_MIN_SHARE * c.turnover, 0),
                    "staff": c.staff,
                }
            )
        )
    add("  # Non-NHS providers: all F, G, X, v are ASSUMPTIONS (national firms: F 2,200-2,500")
    add("  #   for a national bid team; X small: staff are redeployed within the firm; staff not")
    add("  #   counted, as FACTS.md gives only the CSU figure). can_lead = bid for Lot 1.")
    for o in OTHERS:
        add(f"  # {o.id}: {o.note}.")
        rec: dict[str, object] = {
            "id": o.id,
            "name": o.name,
            "kind": o.kind,
            "region": o.region,
            "can_lead": o.can_lead,
            "can_subcontract": True,
        }
        if o.can_lead:
            rec["lead_fixed_cost"] = o.F
        rec.update({"subcontractor_fixed_cost": o.G, "exit_cost": o.X, "min_volume": o.v})
        add(_record(rec))
    add(f"capabilities: {{csv: {name}/capabilities.csv}}            # see ASSUMPTIONS.md")
    add(f"ccgs: {{csv: {name}/ccgs.csv}}  # 211 CCGs (FACT), synthetic ids")
    add(f"demand: {{csv: {name}/demand.csv}}                        # see ASSUMPTIONS.md")
    add(f"assignment_costs: {{csv: {name}/assignment_costs.csv}}    # see ASSUMPTIONS.md")
    add(f"partnership_costs: {{csv: {name}/partnership_costs.csv}}  # see ASSUMPTIONS.md")
    (HERE / f"{name}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- demo

#: The demo: two regions of ten CCGs, eight providers. Illustrative numbers (not calibrated),
#: on the same scale as the England instances: a CCG spends about £3.9m a year.
DEMO_PROVIDERS = [
    # id, name, kind, region, can_lead, F, G, X, v, staff, {line: (capacity, quality, cost)}
    (
        "NORTH",
        "North CSU",
        "csu",
        "N",
        True,
        1200,
        300,
        2100,
        15000,
        300,
        {
            "BST": (14000, 70, 1.00),
            "PROC": (9000, 68, 0.99),
            "REDES": (7000, 66, 1.01),
            "COMMS": (5000, 64, 1.00),
            "BI": (11000, 62, 1.00),
        },
    ),
    (
        "SOUTH",
        "South CSU",
        "csu",
        "S",
        True,
        1200,
        300,
        2300,
        16000,
        330,
        {
            "BST": (15000, 72, 0.99),
            "PROC": (10000, 70, 1.00),
            "REDES": (8000, 68, 1.00),
            "COMMS": (5000, 66, 1.01),
            "BI": (12000, 70, 0.99),
        },
    ),
    (
        "MIDS",
        "Midlands CSU",
        "csu",
        "M",
        True,
        1000,
        300,
        1400,
        9000,
        200,
        {
            "BST": (7000, 64, 1.03),
            "PROC": (5000, 63, 1.04),
            "REDES": (4000, 60, 1.04),
            "COMMS": (3000, 62, 1.03),
            "BI": (6000, 58, 1.05),
        },
    ),
    (
        "PRIVCO",
        "National private firm",
        "private",
        "national",
        True,
        1500,
        250,
        200,
        6000,
        0,
        {
            "BST": (12000, 78, 1.07),
            "PROC": (6000, 72, 1.07),
            "REDES": (5000, 70, 1.07),
            "COMMS": (3000, 68, 1.07),
            "BI": (9000, 85, 1.07),
        },
    ),
    (
        "DATA",
        "Analytics specialist",
        "private",
        "national",
        False,
        0,
        100,
        50,
        1500,
        0,
        {"BI": (6000, 88, 1.07)},
    ),
    (
        "ENGAGE",
        "Engagement charity",
        "charity",
        "national",
        False,
        0,
        60,
        30,
        800,
        0,
        {"COMMS": (2500, 80, 1.05), "REDES": (2000, 76, 1.05)},
    ),
    (
        "COUNCIL",
        "County council shared services",
        "council",
        "M",
        True,
        900,
        150,
        150,
        2500,
        0,
        {
            "BST": (5000, 72, 1.05),
            "PROC": (1500, 50, 1.07),
            "COMMS": (2000, 72, 1.05),
            "BI": (1500, 55, 1.07),
        },
    ),
    (
        "LEGACY",
        "Legacy shared-service unit",
        "other",
        "N",
        False,
        0,
        400,
        600,
        4000,
        80,
        {"BST": (6000, 61, 1.12), "BI": (2000, 60, 1.12)},
    ),
]
DEMO_ADJ = {"N": {"M"}, "S": {"M"}, "M": {"N", "S"}}


def demo(seed: int = 7) -> None:
    """Write demo.yaml (providers inline) and demo/*.csv (CCGs, demand, locality costs)."""
    rng = np.random.default_rng(seed)
    folder = HERE / "demo"
    ccgs = [
        (f"{r}{i + 1:02d}", f"{name} CCG {i + 1}", r)
        for r, name, n in (("N", "North", 8), ("M", "Midlands", 4), ("S", "South", 8))
        for i in range(n)
    ]
    spend = {c[0]: float(round(SPEND_PER_CCG * rng.uniform(0.7, 1.3), 0)) for c in ccgs}
    write_csv(folder / "ccgs.csv", ["id", "name", "region"], [list(c) for c in ccgs])
    demand_rows = []
    for cid, _n, _r in ccgs:
        for s in LINE_IDS:
            vol = spend[cid] * LINE_SHARE[s] * rng.uniform(0.9, 1.1)
            demand_rows.append([cid, s, fmt(round(vol, 0))])
    write_csv(folder / "demand.csv", ["ccg", "service_line", "volume"], demand_rows)
    rows = []
    for pid, _name, kind, region, can_lead, *_rest in DEMO_PROVIDERS:
        if not can_lead:
            continue
        for cid, _n, r in ccgs:
            if region == "national":
                rate = RATE_NATIONAL
            elif r == region:
                rate = RATE_OWN if kind == "csu" else RATE_COUNCIL[0]
            elif r in DEMO_ADJ[region]:
                rate = RATE_ADJ if kind == "csu" else RATE_COUNCIL[1]
            else:
                rate = RATE_FAR if kind == "csu" else RATE_COUNCIL[2]
            rows.append([pid, cid, fmt(round(spend[cid] * (rate + rng.uniform(0, RATE_NOISE)), 1))])
    write_csv(folder / "assignment_costs.csv", ["lead", "ccg", "cost"], rows)

    out = [
        "# demo: a small illustrative market (NOT calibrated to England; see england-2014 for",
        "# that). Generated by instances/make_instances.py. Unit: £k per year. It solves in about",
        "# a second and shows every role: lead providers, subcontractors and exits.",
        "schema: csu-opt/1",
        "name: demo",
        "description: >-",
        "  Eight providers (three CSUs, a national private firm, a council, two specialists",
        "  and a legacy shared-service unit) competing for twenty CCGs in three regions.",
        'units: {volume: "£k per year", cost: "£k per year"}',
        "service_lines:   # the five lines of the 2014 framework (FACT); bars are illustrative",
    ]
    for sid, sname, theta, target in LINES:
        out.append(
            _record(
                {
                    "id": sid,
                    "name": sname,
                    "quality_threshold": theta,
                    "network_quality_target": target,
                }
            )
        )
    out += [
        "settings:",
        "  lead_providers: {min: 2, max: 3}   # a small market: two or three networks",
        "  max_leads_per_subcontractor: 2",
        "  lead_self_delivery_min_share: 0.25",
        "providers:       # F/G/X/v as in england-2014: lead, subcontractor, exit, minimum volume",
    ]
    caps = []
    for pid, name, kind, region, can_lead, F, G, X, v, staff, lines in DEMO_PROVIDERS:
        rec: dict[str, object] = {
            "id": pid,
            "name": name,
            "kind": kind,
            "region": region,
            "can_lead": can_lead,
        }
        if can_lead:
            rec["lead_fixed_cost"] = F
        rec.update({"subcontractor_fixed_cost": G, "exit_cost": X, "min_volume": v, "staff": staff})
        out.append(_record(rec))
        for s, (cap, q, c) in lines.items():
            caps.append(
                _record(
                    {
                        "provider": pid,
                        "service_line": s,
                        "capacity": cap,
                        "quality": q,
                        "unit_cost": c,
                    }
                )
            )
    out.append("capabilities:    # capacity £k/yr, quality 0-100, unit cost per £1 of work")
    out += caps
    out += [
        "ccgs: {csv: demo/ccgs.csv}",
        "demand: {csv: demo/demand.csv}                      # about £3.9m a CCG, split by line",
        "assignment_costs: {csv: demo/assignment_costs.csv}  # locality rates of england-2014",
    ]
    (HERE / "demo.yaml").write_text("\n".join(out) + "\n", encoding="utf-8")


if __name__ == "__main__":
    england(2014)
    england(2013)
    demo()
    print("wrote england-2014, england-2013 and demo")
