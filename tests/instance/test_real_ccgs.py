"""The England instances are built on the 211 real CCGs of April 2013 (issue 18).

Checked against the public data copied into ``instances/data/nhs-england-2013/`` (read here
with the standard library, independently of ``make_instances.py``): the CCGs' codes, names,
area teams and regions; demand that follows registered patients; CSU footprints that cover
every CCG once and nest from 2013 into 2014; the licence attribution; and a generator that
reproduces the shipped files byte for byte.
"""

from __future__ import annotations

import csv
import importlib.util
import sys
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

import csu_opt

ROOT = Path(__file__).resolve().parents[2]
INSTANCES = ROOT / "instances"
DATA = INSTANCES / "data" / "nhs-england-2013"
ENGLAND = {"england-2013": "reg_patients_2013_04-06", "england-2014": "reg_patients_2014_04-06"}
#: The attribution the data's licence asks for (Open Government Licence v3.0).
ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0.",
    "Contains National Statistics data (c) Crown copyright and database right.",
    "Contains OS data (c) Crown copyright and database right.",
)


def rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@cache
def load(name: str) -> csu_opt.Instance:
    return csu_opt.load_instance(INSTANCES / f"{name}.yaml")


@cache
def published() -> pd.DataFrame:
    """The 211 CCGs as published: ODS code -> ONS code, name, area team, region, patients."""
    names = pd.DataFrame(rows("ccg_apr_2013.csv")).set_index("CCG13CD")
    lookup = pd.DataFrame(rows("ccg13_nhsat13_nhscr13_ew_lu.csv")).set_index("CCG13CD")
    patients = pd.DataFrame(rows("ccg2013_registered_patients.csv")).set_index("ccg13cd")
    out = pd.DataFrame(
        {
            "ods": names["CCG13CDH"],
            "name": names["CCG13NM"].str.strip(),
            "area_team": lookup["NHSAT13NM"],
            "region": lookup["NHSCR13NM"],
            **{col: patients[col].astype(int) for col in ENGLAND.values()},
        }
    )
    out.index.name = "ons_code"
    return out.reset_index().set_index("ods")


def test_the_copied_data_holds_the_211_ccgs() -> None:
    pub = published()
    assert len(pub) == 211 and pub.index.is_unique
    assert pub["ons_code"].tolist() == [f"E38{i:06d}" for i in range(1, 212)]
    assert pub["region"].value_counts().to_dict() == {
        "North of England": 68,
        "Midlands and East of England": 61,
        "South of England": 50,
        "London": 32,
    }
    assert pub["reg_patients_2013_04-06"].sum() == pytest.approx(56.0e6, rel=1e-3)


@pytest.mark.parametrize("name", [*ENGLAND, "england-2014-xlsx"])
def test_england_instances_carry_the_real_ccgs(name: str) -> None:
    ccgs, pub = load(name).ccgs, published()
    assert sorted(ccgs.index) == sorted(pub.index)
    got = ccgs.loc[pub.index]
    for col in ("name", "ons_code", "area_team", "region"):
        assert got[col].tolist() == pub[col].tolist(), col
    assert ccgs.loc["02N", "name"] == "NHS Airedale, Wharfedale and Craven"


@pytest.mark.parametrize(("name", "column"), ENGLAND.items())
def test_demand_follows_registered_patients(name: str, column: str) -> None:
    inst = load(name)
    spend = inst.demand.groupby("ccg")["volume"].sum()
    patients = published()[column].reindex(spend.index)
    assert spend.corr(patients, method="spearman") > 0.9999
    # £ per head: the CSU sector's £602m from CCGs over 2013 Q2's 56.0m patients (2013),
    # and that times the running-cost allowance's fall from £25 to £24.73 a head (2014)
    per_head = {"england-2013": 602_000 / 56_002.534, "england-2014": 10.7495 * 24.73 / 25}
    ratio = spend * 1000 / patients
    assert ratio.to_numpy() == pytest.approx(per_head[name], abs=0.05)
    if name == "england-2013":
        assert spend.sum() == pytest.approx(602_000, abs=150)  # per-line rounding to £1k
    # every CCG has demand in every line, split around 30/20/15/10/25%
    share = inst.demand.pivot(index="ccg", columns="service_line", values="volume")
    share = share.div(share.sum(axis=1), axis=0)
    mid = {"BST": 0.30, "PROC": 0.20, "REDES": 0.15, "COMMS": 0.10, "BI": 0.25}
    for line, s in mid.items():
        assert share[line].between(s * 0.85**2 - 0.01, s * 1.15**2 + 0.01).all(), line


@pytest.mark.parametrize(("name", "n_csus"), [("england-2013", 19), ("england-2014", 9)])
def test_footprints_cover_every_ccg_once(name: str, n_csus: int) -> None:
    inst = load(name)
    csus = inst.providers.index[inst.providers["kind"] == "csu"]
    served = inst.ccgs["csu"]
    assert served.notna().all() and set(served) == set(csus) and len(csus) == n_csus
    assert len(served) == 211 and served.index.is_unique  # one CSU per CCG
    # a CSU's own CCGs are those where its locality cost is lowest (1% of spend)
    ac = inst.assignment_costs.pivot(index="ccg", columns="lead", values="cost")
    spend = inst.demand.groupby("ccg")["volume"].sum()
    own = ac[list(csus)].div(spend, axis=0)
    for ccg, csu in served.items():
        assert own.loc[ccg, csu] < 0.02, (ccg, csu)


def test_footprints_follow_area_teams_and_the_published_facts() -> None:
    a, b = load("england-2013").ccgs, load("england-2014").ccgs
    # each 2013 CSU's CCGs lie in one 2014 alliance
    nested = pd.crosstab(a["csu"], b.loc[a.index, "csu"])
    assert ((nested > 0).sum(axis=1) == 1).all()
    # FACTS: Greater Manchester CSU = the 12 Greater Manchester CCGs; North West 24 and
    # Yorkshire and Humber 23 CCGs; NECS = the North East and Cumbria
    gm = set(a.index[a["area_team"] == "Greater Manchester"])
    assert set(a.index[a["csu"] == "GM"]) == gm and len(gm) == 12
    assert (b["csu"] == "NW").sum() == 24 and (b["csu"] == "YH").sum() == 23
    ne = {"Durham, Darlington and Tees", "Cumbria, Northumberland, Tyne and Wear"}
    assert set(a.index[a["csu"] == "NECS"]) == set(a.index[a["area_team"].isin(ne)])
    # built from area teams: every area team lies in one CSU's footprint, except London
    # (three CSUs) and Hertfordshire and the South Midlands (Northamptonshire to GEM)
    per_team = a.groupby("area_team")["csu"].nunique()
    split = per_team[per_team > 1].to_dict()
    assert split == {"London": 3, "Hertfordshire and the South Midlands": 2}
    assert set(a.loc[["04G", "03V"], "csu"]) == {"GEM"}


def test_csu_names_come_from_the_ods_list() -> None:
    names = {r["name"] for r in rows("csu_organisations.csv")}
    for name in ("england-2013", "england-2014"):
        prov = load(name).providers
        csus = prov.loc[prov["kind"] == "csu", "name"]
        unmatched = sorted(set(csus) - names)
        # only the ninth alliance of 2014 has no NHS organisation of its own
        assert unmatched == ([] if name == "england-2013" else ["East of England CSU alliance"])


def test_the_data_folder_carries_its_attribution_and_sources() -> None:
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    for sentence in ATTRIBUTION:
        assert sentence in readme
    # every file shipped in the folder is described in its README
    for path in DATA.iterdir():
        if path.name != "README.md":
            assert f"`{path.name}`" in readme, path.name
    # and the instances point to it
    for doc in ("README.md", "england-2014/ASSUMPTIONS.md"):
        assert "data/nhs-england-2013" in (INSTANCES / doc).read_text(encoding="utf-8"), doc


def test_make_instances_reproduces_the_shipped_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = importlib.util.spec_from_file_location("make_instances", INSTANCES / "make_instances.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "make_instances", script)  # its dataclasses need it
    spec.loader.exec_module(script)
    script.main(tmp_path)
    written = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert len(written) == 2 * 6 + 4  # two England YAMLs with 5 tables each; demo + 3 tables
    for path in written:
        shipped = INSTANCES / path.relative_to(tmp_path)
        assert path.read_bytes() == shipped.read_bytes(), shipped
