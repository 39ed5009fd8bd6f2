"""Regenerate the shipped instances: ``.venv/bin/python instances/make_instances.py``.

This script is the single source of every number in ``england-2014``, ``england-2013`` and
``demo``. Each value is either a published figure (``FACT``: listed in instances/README.md,
cited by name below, or the public data in ``instances/data/nhs-england-2013/``, whose README
gives every file's source and the licence), a value derived from published figures by a rule
written here (``DERIVED``), or an assumption (``ASSUMPTION``), all explained in
``instances/README.md`` and ``instances/england-2014/ASSUMPTIONS.md``. The YAML files it writes
carry the same notes as comments, record by record.

The England instances are built on the 211 real CCGs of April 2013 (ids are their NHS ODS
codes) and their registered patients; which CSU served which CCG is not public, so the CSU
footprints are ASSUMPTIONS built from NHS area teams. The demo stays invented.

Randomness: the small perturbations that keep the instances from being degenerate (CSU
quality and unit-cost spread, each CCG's split over the lines, noise in assignment and
partnership costs) come from ``numpy.random.default_rng`` with fixed seeds, chosen before any
solve and never tuned.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
#: The public data this script reads (copies; see its README for sources and licence).
DATA = HERE / "data" / "nhs-england-2013"

# --------------------------------------------------------------------------- facts
#: FACT: North West CSU and Yorkshire and Humber CSU: 24 and 23 CCGs, combined 2013-14
#: turnover £183m; Yorkshire and Humber "a £90m business" (published facts, instances/README.md).
#: The CCG counts fix their footprints; the turnovers are a cross-check (turnover includes
#: income from NHS England and others, which the instances do not model).
FACT_NW_CCGS, FACT_YH_CCGS = 24, 23
FACT_NW_YH_TURNOVER = 183_000.0  # £k
FACT_YH_TURNOVER = 90_000.0  # £k
#: FACT: 211 CCGs at April 2013; nearly 9,000 staff working in CSUs (2013).
FACT_CCGS = 211
FACT_CSU_STAFF = 9_000
#: FACT: Greater Manchester CSU served the 12 Greater Manchester CCGs with 550 staff
#: (PUBLISHED-FIGURES.md: rochdaleonline, April 2013).
FACT_GM_CCGS, FACT_GM_STAFF = 12, 550
#: FACT: CSU sector income 2013-14 from CCGs £602m of a £808m turnover (PUBLISHED-FIGURES.md:
#: HSJ 5074376 and 5072007).
FACT_CSU_INCOME_FROM_CCGS = 602_000.0  # £k
FACT_CSU_TURNOVER = 808_000.0  # £k
#: FACT: CCG running-cost allowance, at most £25 a head in 2013-14 and £24.73 in 2014-15
#: (PUBLISHED-FIGURES.md: NHS England, "ccg-rca" and "costs-allowances").
FACT_RCA_PER_HEAD = {2013: 25.0, 2014: 24.73}
FACT_RCA_TOTAL_2013 = 1_300_000.0  # £k, all CCGs, 2013-14
#: FACT: NHS England: VAT adds 5-9% to end-to-end services from non-NHS providers.
FACT_VAT_LOW, FACT_VAT_HIGH = 0.05, 0.09
#: FACT: Optum won £3m a year for two Lincolnshire CCGs (published); they are South
#: Lincolnshire (99D) and South West Lincolnshire (04Q), until then served by Arden and
#: Greater East Midlands CSU (HSJ 5090717, "Private firm wins first full commissioning
#: support tender", 2014).
FACT_OPTUM_CONTRACT = 3_000.0  # £k a year
FACT_OPTUM_CCGS = ("99D", "04Q")
#: FACT: contracts of up to 5 years (2013): one-off costs are spread over 5 years.
FACT_CONTRACT_YEARS = 5
#: FACT: the quarter of registered patients each instance uses (2013 Q2, 2014 Q2).
PATIENTS_COLUMN = {2013: "reg_patients_2013_04-06", 2014: "reg_patients_2014_04-06"}

# --------------------------------------------------------------------------- assumptions
#: DERIVED: what a CCG spends a year on commissioning support per registered patient. 2013:
#: the CSU sector's income from CCGs over England's registered patients (£602m / 56.0m =
#: £10.75). 2014: the same share of the running-cost allowance (ASSUMPTION), which fell from
#: £25 to £24.73 a head (FACT): £10.63. Computed in ``per_head``.
#: ASSUMPTION: how CCG spend splits over the five service lines.
LINE_SHARE = {"BST": 0.30, "PROC": 0.20, "REDES": 0.15, "COMMS": 0.10, "BI": 0.25}
#: ASSUMPTION: each CCG's split varies by a uniform factor in [0.85, 1.15] per line.
LINE_MIX_SPREAD = 0.15
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


# --------------------------------------------------------------------------- the real CCGs


@dataclass(frozen=True)
class Ccg:
    """One of the 211 CCGs of April 2013, as the public data describe it (FACTS)."""

    ods: str  # NHS ODS code, e.g. 02N: the instances' id
    ons: str  # ONS code, E38000001-E38000211
    name: str
    area_team_code: str  # E39...
    area_team: str
    region: str  # NHS commissioning region
    patients: dict[int, int]  # year -> registered patients in that year's Q2


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@cache
def real_ccgs() -> tuple[Ccg, ...]:
    """The 211 CCGs in ONS-code order (alphabetical by name), from the copied public data."""
    codes = {r["CCG13CD"]: r for r in _rows("ccg_apr_2013.csv")}
    lookup = {r["CCG13CD"]: r for r in _rows("ccg13_nhsat13_nhscr13_ew_lu.csv")}
    patients = {r["ccg13cd"]: r for r in _rows("ccg2013_registered_patients.csv")}
    area_teams = {r["NHSAT13CD"]: r["NHSAT13NM"] for r in _rows("nhsat_apr_2013_en_nc.csv")}
    assert set(codes) == set(lookup) == set(patients) and len(codes) == FACT_CCGS
    out = []
    for ons in sorted(codes):
        at = lookup[ons]["NHSAT13CD"]
        assert area_teams[at] == lookup[ons]["NHSAT13NM"]
        assert patients[ons]["ods_code"] == codes[ons]["CCG13CDH"]
        out.append(
            Ccg(
                ods=codes[ons]["CCG13CDH"],
                ons=ons,
                name=codes[ons]["CCG13NM"].strip(),
                area_team_code=at,
                area_team=area_teams[at],
                region=lookup[ons]["NHSCR13NM"],
                patients={y: int(patients[ons][col]) for y, col in PATIENTS_COLUMN.items()},
            )
        )
    return tuple(out)


@cache
def csu_names() -> dict[str, str]:
    """ODS code -> name of every commissioning support unit (csu_organisations.csv)."""
    return {r["ods_code"]: r["name"] for r in _rows("csu_organisations.csv")}


def per_head(year: int) -> float:
    """DERIVED: £ a year spent on commissioning support per registered patient."""
    patients_2013 = sum(c.patients[2013] for c in real_ccgs())
    base = FACT_CSU_INCOME_FROM_CCGS * 1000 / patients_2013  # £602m / 56.0m
    return base * FACT_RCA_PER_HEAD[year] / FACT_RCA_PER_HEAD[2013]


# --------------------------------------------------------------------------- footprints


@dataclass(frozen=True)
class Member:
    """A CSU of spring 2013 and its footprint: whole area teams plus or minus named CCGs."""

    id: str
    ods: str  # its code in csu_organisations.csv
    area_teams: tuple[str, ...] = ()  # E39 codes served whole
    ccgs: tuple[str, ...] = ()  # ODS codes of CCGs served outside those area teams
    note: str = ""


@dataclass(frozen=True)
class Alliance:
    """One of the nine CSU alliances of the 2014 bid and the 2013 CSUs it came from."""

    id: str
    ods: str | None  # the merged body's code in csu_organisations.csv, where there is one
    name: str  # used only where ``ods`` is None
    members: tuple[Member, ...]

    @property
    def display_name(self) -> str:
        return csu_names()[self.ods] if self.ods else self.name


#: London's area team covered all 32 London CCGs, served by three CSUs (North and East London,
#: North West London, South London; csu_organisations.csv). ASSUMPTION: each served the CCGs
#: of its part of London, the sub-regions of the former London PCT clusters.
LONDON = {
    # North Central London (Barnet, Camden, Enfield, Haringey, Islington) and North East
    # London (Barking and Dagenham, City and Hackney, Havering, Newham, Redbridge, Tower
    # Hamlets, Waltham Forest)
    "NEEL": ("07M", "07R", "07X", "08D", "08H", "07L", "07T", "08F", "08M", "08N", "08V", "08W"),
    # North West London
    "NWL": ("07P", "09A", "07W", "08C", "08E", "08G", "07Y", "08Y"),
    # South East and South West London
    "SLON": ("07N", "07Q", "08A", "08K", "08L", "08Q", "07V", "08J", "08R", "08P", "08T", "08X"),
}
#: ASSUMPTION: Northamptonshire's two CCGs (Nene 04G, Corby 03V; area team Hertfordshire and
#: the South Midlands) were served by Greater East Midlands CSU, which was based in Northampton
#: (csu_organisations.csv); the rest of that area team by Central Eastern CSU.
NORTHAMPTONSHIRE = ("04G", "03V")

#: The nine CSU alliances that reached the final stage of the 2014 bid (FACT: nine; the names
#: of eight are published, and csu_organisations.csv has the merged bodies' names; the
#: ninth, EAST, and its name are ASSUMPTIONS) and the 19 CSUs of spring 2013 (FACT: 19; their
#: names and codes are csu_organisations.csv's 19 first-generation CSUs). Which 2013 CSUs
#: formed which alliance follows the merged bodies' names and addresses in that file
#: (ASSUMPTION where no merged body exists: EAST). Every footprint is an ASSUMPTION built from
#: area teams, except where FACTS fix it: Greater Manchester CSU = the 12 Greater Manchester
#: CCGs; North West = Greater Manchester + Cheshire and Merseyside = 24 CCGs; Yorkshire and
#: Humber = 23 CCGs; North of England CSU = the North East and Cumbria.
ALLIANCES = (
    Alliance(
        "NECS",
        "0AR",
        "",
        (
            Member(
                "NECS",
                "0AR",
                ("E39000002", "E39000006"),
                note="FACT: the North East and Cumbria = area teams Durham, Darlington and "
                "Tees and Cumbria, Northumberland, Tyne and Wear",
            ),
        ),
    ),
    Alliance(
        "NW",
        "0CY",
        "",
        (
            Member("GM", "0AJ", ("E39000003",), note="FACT: the 12 Greater Manchester CCGs"),
            Member(
                "CM",
                "0CE",
                ("E39000001", "E39000005"),
                note="area teams Cheshire, Warrington and Wirral and Merseyside; FACT: with GM "
                "the North West CSU's 24 CCGs",
            ),
        ),
    ),
    Alliance(
        "YH",
        "0DA",
        "",
        (
            Member(
                "WSYB",
                "0CF",
                ("E39000009", "E39000008"),
                note="area teams West Yorkshire and South Yorkshire and Bassetlaw",
            ),
            Member(
                "NYH",
                "0AV",
                ("E39000007",),
                note="area team North Yorkshire and Humber; FACT: with WSYB the Yorkshire and "
                "Humber CSU's 23 CCGs",
            ),
        ),
    ),
    Alliance(
        "ML",
        "0CX",
        "",
        (
            Member(
                "SL",
                "0CH",
                ("E39000004", "E39000017"),
                note="area teams Lancashire and Shropshire and Staffordshire",
            ),
            Member(
                "CMID", "0AD", ("E39000011",), note="area team Birmingham and the Black Country"
            ),
        ),
    ),
    Alliance(
        "GEMA",
        "0DE",
        "",
        (
            Member(
                "GEM",
                "0AK",
                ("E39000012", "E39000016"),
                NORTHAMPTONSHIRE,
                note="area teams Derbyshire and Nottinghamshire and Leicestershire and "
                "Lincolnshire, and Northamptonshire's two CCGs",
            ),
            Member(
                "ARDEN",
                "0AA",
                ("E39000010",),
                note="area team Arden, Herefordshire and Worcestershire",
            ),
        ),
    ),
    Alliance(
        "NEL",
        "0DJ",
        "",
        (
            Member("NEEL", "0AQ", (), LONDON["NEEL"], note="North Central and North East London"),
            Member("NWL", "0AT", (), LONDON["NWL"], note="North West London"),
        ),
    ),
    Alliance(
        "SE",
        "0DC",
        "",
        (
            Member("KM", "0AM", ("E39000022",), note="area team Kent and Medway"),
            Member("SS", "0CC", ("E39000023",), note="area team Surrey and Sussex"),
            Member("SLON", "0AX", (), LONDON["SLON"], note="South East and South West London"),
        ),
    ),
    Alliance(
        "SSWCS",
        "0DF",
        "",
        (
            Member(
                "SOUTH",
                "0AW",
                ("E39000025", "E39000019"),
                note="area teams Wessex and Bath, Gloucestershire, Swindon and Wiltshire",
            ),
            Member(
                "SW",
                "0AC",
                ("E39000020", "E39000021"),
                note="area teams Bristol, North Somerset, Somerset and South Gloucestershire "
                "and Devon, Cornwall and Isles of Scilly",
            ),
            Member("CS", "0AE", ("E39000024",), note="area team Thames Valley"),
        ),
    ),
    Alliance(
        "EAST",
        None,
        "East of England CSU alliance",
        (
            Member("ANGLIA", "0AP", ("E39000013",), note="area team East Anglia"),
            Member(
                "CE",
                "0CG",
                ("E39000014", "E39000015"),
                note="area teams Essex and Hertfordshire and the South Midlands (without "
                "Northamptonshire)",
            ),
        ),
    ),
)


@cache
def footprints() -> dict[str, tuple[str, str]]:
    """ODS code of every CCG -> (its 2013 CSU, its 2014 alliance): ASSUMPTIONS, checked here."""
    taken = {c for a in ALLIANCES for m in a.members for c in m.ccgs}
    out: dict[str, tuple[str, str]] = {}
    for a in ALLIANCES:
        for m in a.members:
            for c in real_ccgs():
                whole = c.area_team_code in m.area_teams and c.ods not in taken
                if whole or c.ods in m.ccgs:
                    assert c.ods not in out, f"{c.ods} in two footprints"
                    out[c.ods] = (m.id, a.id)
    assert len(out) == FACT_CCGS, "every CCG in exactly one footprint"
    members = Counter(m for m, _a in out.values())
    alliances = Counter(a for _m, a in out.values())
    assert len(members) == 19 and len(alliances) == 9
    assert members["GM"] == FACT_GM_CCGS
    assert (alliances["NW"], alliances["YH"]) == (FACT_NW_CCGS, FACT_YH_CCGS)
    return out


@cache
def adjacent() -> dict[str, set[str]]:
    """DERIVED: which 2014 footprints border which: two footprints border when a CCG of one
    shares a boundary line with a CCG of the other (ccg2013_boundaries.topojson: shared arcs).
    """
    ons_to_ods = {c.ons: c.ods for c in real_ccgs()}
    topo = json.loads((DATA / "ccg2013_boundaries.topojson").read_text(encoding="utf-8"))
    owners: dict[int, set[str]] = {}

    def walk(arcs: object, ccg: str) -> None:
        if isinstance(arcs, int):
            owners.setdefault(arcs if arcs >= 0 else ~arcs, set()).add(ccg)
        elif isinstance(arcs, list):
            for a in arcs:
                walk(a, ccg)

    for geometry in topo["objects"]["CCG_APR_2013_EN_BGC_WGS84"]["geometries"]:
        walk(geometry["arcs"], ons_to_ods[geometry["id"]])
    fp = {c: a for c, (_m, a) in footprints().items()}
    out: dict[str, set[str]] = {a.id: set() for a in ALLIANCES}
    for ccgs in owners.values():
        for x in ccgs:
            out[fp[x]] |= {fp[y] for y in ccgs} - {fp[x]}
    return out


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
    """One year's CCGs and their demand."""

    year: int
    ccgs: tuple[Ccg, ...]
    spend: dict[str, float]  # £k per CCG (ODS code)
    demand: dict[tuple[str, str], float]  # (ccg, line) -> £k


@cache
def line_mixes(seed: int = 211) -> dict[str, np.ndarray]:
    """Each CCG's split of its spend over the lines (ASSUMPTION): LINE_SHARE, each share
    times a uniform factor in [0.85, 1.15], renormalised; one draw per CCG, in ONS-code order,
    used in both years."""
    rng = np.random.default_rng(seed)
    base = np.array([LINE_SHARE[s] for s in LINE_IDS])
    out = {}
    for c in real_ccgs():
        mix = base * rng.uniform(1 - LINE_MIX_SPREAD, 1 + LINE_MIX_SPREAD, len(base))
        out[c.ods] = mix / mix.sum()
    return out


def build_market(year: int) -> Market:
    """A CCG's spend = its registered patients (that year's Q2) x the spend per head
    (DERIVED), rounded to £1k; split over the lines by its mix, each rounded to £1k."""
    head = per_head(year)
    spend, demand = {}, {}
    for c in real_ccgs():
        spend[c.ods] = float(round(c.patients[year] * head / 1000, 0))
        for s, share in zip(LINE_IDS, line_mixes()[c.ods], strict=True):
            demand[(c.ods, s)] = float(round(spend[c.ods] * float(share), 0))
    return Market(year, real_ccgs(), spend, demand)


@dataclass
class Csu:
    id: str
    name: str
    ods: str | None
    footprint: str  # 2014 footprint id (locality)
    own: set[str]  # the CCG ids it served
    turnover: float  # £k: the spend of the CCGs it served (its CCG income)
    note: str = ""
    staff: float = 0.0


def csu_staff(market_2013: Market) -> dict[str, float]:
    """Staff of each 2013 CSU: Greater Manchester 550 (FACT); the rest of the 9,000 (FACT)
    shared by the other CSUs in proportion to the 2013 spend of their CCGs (ASSUMPTION). An
    alliance of 2014 has its members' staff."""
    fp = footprints()
    income = Counter[str]()
    for c, (member, _alliance) in fp.items():
        income[member] += market_2013.spend[c]
    rest = sum(v for m, v in income.items() if m != "GM")
    staff = {
        m: float(round((FACT_CSU_STAFF - FACT_GM_STAFF) * v / rest, 0))
        for m, v in income.items()
        if m != "GM"
    }
    staff["GM"] = float(FACT_GM_STAFF)
    for a in ALLIANCES:
        staff[a.id] = sum(staff[m.id] for m in a.members)
    return staff


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
    return adj if ccg_fp in adjacent()[lead_region] else far


def assignment_rows(
    leads: list[tuple[str, str, str, set[str]]], market: Market, rng: np.random.Generator
) -> list[list[object]]:
    """Every lead-capable provider x CCG: spend x (locality rate + noise in [0, 1%))."""
    fp = footprints()
    rows: list[list[object]] = []
    for lid, kind, region, own in leads:
        for c in market.ccgs:
            cid = c.ods
            if lid == "OPTUM" and cid in FACT_OPTUM_CCGS:
                rate = RATE_OWN  # incumbent on its two Lincolnshire CCGs (FACT)
            elif kind == "csu" and cid in own:
                rate = RATE_OWN
            elif kind == "csu" and fp[cid][1] == region:
                rate = RATE_ADJ  # 2013: a neighbouring CSU inside the same 2014 footprint
            else:
                rate = locality_rate(region, kind, fp[cid][1])
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
                near = sregion == lregion or sregion in adjacent().get(lregion, set())
                base = CSU_PARTNER_K[0] if near else CSU_PARTNER_K[1]
            elif skind == "csu":
                base = CSU_PARTNER_K[2]
            else:
                base = OTHER_PARTNER_K
            rows.append([sid, lid, fmt(round(base + rng.uniform(0.0, 40.0), 1))])
    return rows


# --------------------------------------------------------------------------- England


def england_csus(year: int, market: Market) -> list[Csu]:
    """The CSUs of ``year`` (19 in 2013, nine alliances in 2014) with their CCGs and staff."""
    fp = footprints()
    staff = csu_staff(build_market(2013))
    csus: list[Csu] = []
    for a in ALLIANCES:
        if year == 2014:
            own = {c for c, f in fp.items() if f[1] == a.id}
            units = [(a.id, a.display_name, a.ods, own, "")]
        else:
            units = [
                (
                    m.id,
                    csu_names()[m.ods],
                    m.ods,
                    {c for c, f in fp.items() if f[0] == m.id},
                    m.note,
                )
                for m in a.members
            ]
        for cid, cname, ods, own, note in units:
            turnover = sum(market.spend[c] for c in own)
            csus.append(Csu(cid, cname, ods, a.id, own, turnover, note, staff[cid]))
    return csus


def england(year: int, out: Path = HERE) -> None:
    """Write england-<year>.yaml and its CSV tables into ``out``."""
    name = f"england-{year}"
    folder = out / name
    market = build_market(year)
    rng = np.random.default_rng(year)
    csus = england_csus(year, market)

    # --- capabilities
    cap_rows = csu_capabilities(csus, market, rng) + other_capabilities()
    write_csv(
        folder / "capabilities.csv",
        ["provider", "service_line", "capacity", "quality", "unit_cost"],
        cap_rows,
    )
    # --- ccgs and demand
    served_by = {c: cid for csu in csus for c in csu.own for cid in [csu.id]}
    write_csv(
        folder / "ccgs.csv",
        ["id", "name", "ons_code", "area_team", "region", "csu"],
        [[c.ods, c.name, c.ons, c.area_team, c.region, served_by[c.ods]] for c in market.ccgs],
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

    write_england_yaml(year, csus, market, out)


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


def _csu_note(year: int, c: Csu) -> str:
    """The FACT / ASSUMPTION note of one CSU record."""
    ods = f"ODS {c.ods}" if c.ods else "no ODS body (name: ASSUMPTION)"
    if year == 2013:
        where = f"footprint ({c.note}): ASSUMPTION"
        if c.id in ("GM", "NECS"):
            where = f"footprint: {c.note}"
        return f"{ods}; {where}."
    facts = {
        "NW": " FACT: 24 CCGs; not accredited (Feb 2015).",
        "YH": " FACT: 23 CCGs; not accredited (Feb 2015).",
        "EAST": " The ninth finalist (FACT: nine).",
    }
    members = "+".join(m.id for a in ALLIANCES if a.id == c.id for m in a.members)
    accredited = "" if c.id in facts else " FACT: accredited for Lot 1 (Feb 2015)."
    formed = f"the 2013 CSU{'s' if '+' in members else ''} {members}"
    return f"{ods}; {formed}.{facts.get(c.id, '')}{accredited}"


def write_england_yaml(year: int, csus: list[Csu], market: Market, out: Path) -> None:
    name = f"england-{year}"
    n_csu = len(csus)
    head = per_head(year)
    patients = sum(c.patients[year] for c in market.ccgs)
    total = sum(market.spend.values())
    lines: list[str] = []
    add = lines.append
    add(f"# {name}: generated by instances/make_instances.py (edit there, then re-run).")
    add("# Every number is marked FACT (published, listed in instances/README.md, or the public")
    add("# data in data/nhs-england-2013/),")
    add("# DERIVED (from facts, by the rule given) or ASSUMPTION; the CSV tables in")
    add(f"# {name}/ are explained column by column in england-2014/ASSUMPTIONS.md.")
    add("# Unit of every volume and cost: £k per year.")
    add("schema: csu-opt/1")
    add(f"name: {name}")
    if year == 2014:
        desc = (
            "The market at the 2014 framework bid (Lot 1, end-to-end support): the nine CSU "
            "alliances that reached the final stage, the non-NHS bidders (Capita, Optum, MBED, "
            "two councils, a social enterprise) and specialist partners; the 211 CCGs of "
            "England, demand from their registered patients in 2014 Q2."
        )
    else:
        desc = (
            "The market in spring 2013, before the alliances: 19 CSUs, the same non-NHS "
            "bidders and partners as england-2014, and the 211 CCGs of England, demand from "
            "their registered patients in 2013 Q2."
        )
    add(f"description: >-\n  {desc}")
    add('units: {volume: "£k per year", cost: "£k per year"}')
    add("# FACT: the CCGs' generalised boundaries (ONS, April 2013), for the map; the ccgs")
    add("# table's ons_code finds each CCG's shape.")
    add("boundaries:")
    add("  file: data/nhs-england-2013/ccg2013_boundaries.topojson")
    add("  attribution: >-")
    add("    Contains public sector information licensed under the Open Government Licence v3.0.")
    add("    Contains National Statistics data (c) Crown copyright and database right.")
    add("    Contains OS data (c) Crown copyright and database right.")
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
    add(f"  # CSUs ({n_csu}): NHS bodies, no VAT; names from csu_organisations.csv (FACT).")
    add("  #   turnover = the spend of the CCGs it served (its CCG income; DERIVED from")
    add("  #   registered patients; which CCGs it served: ASSUMPTION, see ccgs.csv, csu).")
    add("  #   staff: Greater Manchester 550 (FACT); the rest of 9,000 (FACT) in proportion to")
    add("  #   2013 CCG income (ASSUMPTION); a 2014 alliance has its 2013 members' staff.")
    add("  #   F = 1,500 + 1% of turnover (bid, accreditation, contract management: ASSUMPTION).")
    add("  #   G = 400 (a subcontractor's own overhead per network it serves: ASSUMPTION).")
    add(f"  #   X = staff x £{EXIT_PER_STAFF:g}k (redundancy about £35k a head, spread over the")
    add("  #   5-year contract term, FACT: contracts up to 5 years; £35k: ASSUMPTION).")
    add("  #   v = 50% of turnover (below that a CSU cannot balance its books: ASSUMPTION).")
    for c in csus:
        add(
            f"  # {c.id}: {len(c.own)} CCGs, turnover {c.turnover:,.0f}, staff "
            f"{c.staff:,.0f}; {_csu_note(year, c)}"
        )
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
    add("  #   counted: the published facts give only the CSU figure). can_lead = bid for Lot 1.")
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
    add(f"capabilities: {{csv: {name}/capabilities.csv}}  # see ASSUMPTIONS.md")
    add("# ccgs: the 211 CCGs of April 2013 (FACT): id = NHS ODS code, name, ONS code, area")
    add("#   team and commissioning region (FACTS); csu = the CSU that served it before the")
    add("#   framework (ASSUMPTION: footprints built from area teams).")
    add(f"ccgs: {{csv: {name}/ccgs.csv}}")
    add(f"# demand: registered patients {year} Q2 ({patients:,}, FACT) x £{head:.2f} a head")
    add(f"#   (DERIVED) = £{total:,.0f}k, split over the lines (ASSUMPTION).")
    add(f"demand: {{csv: {name}/demand.csv}}")
    add(f"assignment_costs: {{csv: {name}/assignment_costs.csv}}  # see ASSUMPTIONS.md")
    add(f"partnership_costs: {{csv: {name}/partnership_costs.csv}}  # see ASSUMPTIONS.md")
    (out / f"{name}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- demo

#: The demo: two regions of ten CCGs, eight providers. Invented, illustrative numbers (not
#: calibrated to England): a CCG spends about £3.9m a year, the North West and Yorkshire and
#: Humber CSUs' turnover per CCG (£183m / 47, FACTS), the scale of England before issue 18.
DEMO_SPEND_PER_CCG = FACT_NW_YH_TURNOVER / (FACT_NW_CCGS + FACT_YH_CCGS)
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


def demo(seed: int = 7, out: Path = HERE) -> None:
    """Write demo.yaml (providers inline) and demo/*.csv (CCGs, demand, locality costs)."""
    rng = np.random.default_rng(seed)
    folder = out / "demo"
    ccgs = [
        (f"{r}{i + 1:02d}", f"{name} CCG {i + 1}", r)
        for r, name, n in (("N", "North", 8), ("M", "Midlands", 4), ("S", "South", 8))
        for i in range(n)
    ]
    spend = {c[0]: float(round(DEMO_SPEND_PER_CCG * rng.uniform(0.7, 1.3), 0)) for c in ccgs}
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

    lines = [
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
        lines.append(
            _record(
                {
                    "id": sid,
                    "name": sname,
                    "quality_threshold": theta,
                    "network_quality_target": target,
                }
            )
        )
    lines += [
        "settings:",
        "  lead_providers: {min: 2, max: 3}   # a small market: two or three networks",
        "  max_leads_per_subcontractor: 2",
        "  lead_self_delivery_min_share: 0.25",
        "providers:       # F/G/X/v as in england-2014: lead, subcontractor, exit, minimum volume",
    ]
    caps = []
    for pid, name, kind, region, can_lead, F, G, X, v, staff, offered in DEMO_PROVIDERS:
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
        lines.append(_record(rec))
        for s, (cap, q, c) in offered.items():
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
    lines.append("capabilities:    # capacity £k/yr, quality 0-100, unit cost per £1 of work")
    lines += caps
    lines += [
        "ccgs: {csv: demo/ccgs.csv}",
        "demand: {csv: demo/demand.csv}                      # about £3.9m a CCG, split by line",
        "assignment_costs: {csv: demo/assignment_costs.csv}  # locality rates of england-2014",
    ]
    (out / "demo.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(out: Path = HERE) -> None:
    """Write every generated instance into ``out`` (the shipped ones: this folder)."""
    england(2014, out)
    england(2013, out)
    demo(out=out)


if __name__ == "__main__":
    main()
    print("wrote england-2014, england-2013 and demo")
