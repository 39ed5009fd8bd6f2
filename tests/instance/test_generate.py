"""The synthetic instance generator: determinism, validity, structure, feasibility, scale."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import csu_opt
from csu_opt.errors import UsageError
from csu_opt.instance.generate import (
    DEFAULT_TIGHTNESS,
    check_witness,
    generate,
    generate_to_folder,
    generate_with_witness,
    line_ids,
    witness_cost,
)
from csu_opt.instance.load import instance_from_document


def file_hashes(folder: Path) -> dict[str, str]:
    return {
        str(f.relative_to(folder)): hashlib.sha256(f.read_bytes()).hexdigest()
        for f in sorted(folder.rglob("*"))
        if f.is_file()
    }


def eligible_ratio(inst: csu_opt.Instance) -> pd.Series:
    """Total demand over total eligible capacity per line, as the loader sees the instance."""
    cap = inst.eligible.groupby("service_line")["capacity"].sum()
    return inst.total_demand() / cap.reindex(inst.line_ids)


# --------------------------------------------------------------------------- files


def test_same_seed_gives_byte_identical_files(tmp_path):
    a = generate_to_folder(tmp_path / "a", 20, 60, lines=5, seed=7)
    b = generate_to_folder(tmp_path / "b", 20, 60, lines=5, seed=7)
    assert a.name == b.name == "gen-p20-c60-l5-s7.yaml"
    ha, hb = file_hashes(tmp_path / "a"), file_hashes(tmp_path / "b")
    assert len(ha) >= 6  # the YAML plus CSV tables
    assert ha == hb


def test_different_seed_gives_different_files(tmp_path):
    generate_to_folder(tmp_path / "a", 20, 60, seed=1)
    generate_to_folder(tmp_path / "b", 20, 60, seed=2)
    ha, hb = file_hashes(tmp_path / "a"), file_hashes(tmp_path / "b")
    # same file layout apart from the seed in the name, different content in every table
    assert [k.replace("s1", "s2") for k in ha] == list(hb)
    changed = [k for k in ha if ha[k] != hb[k.replace("s1", "s2")]]
    assert len(changed) == len(ha)


def test_name_carries_a_non_default_tightness(tmp_path):
    path = generate_to_folder(tmp_path, 8, 20, lines=3, seed=4, tightness=0.8)
    assert path.name == "gen-p8-c20-l3-s4-t0.8.yaml"
    assert path.read_text(encoding="utf-8").startswith("# Synthetic instance")


@pytest.mark.parametrize(
    ("providers", "ccgs", "lines", "seed"),
    [(1, 1, 1, 0), (2, 3, 2, 1), (12, 40, 5, 2), (40, 150, 7, 3)],
)
def test_generated_files_validate(tmp_path, providers, ccgs, lines, seed):
    inst = csu_opt.load_instance(generate_to_folder(tmp_path, providers, ccgs, lines, seed))
    assert len(inst.providers) == providers
    assert len(inst.ccgs) == ccgs
    assert inst.line_ids == line_ids(lines)
    assert len(inst.demand) == ccgs * lines and (inst.demand["volume"] > 0).all()
    assert inst.warnings == ()
    lead_capable = int(inst.providers["can_lead"].sum())
    assert len(inst.assignment_costs) == lead_capable * ccgs


def test_line_ids_follow_spec_then_number():
    assert line_ids(1) == ["BST"]
    assert line_ids(3) == ["BST", "PROC", "REDES"]
    assert line_ids(7) == ["BST", "PROC", "REDES", "COMMS", "BI", "L6", "L7"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"providers": 0, "ccgs": 5},
        {"providers": 5, "ccgs": 0},
        {"providers": 5, "ccgs": 5, "lines": 0},
        {"providers": 5, "ccgs": 5, "tightness": 0.0},
        {"providers": 5, "ccgs": 5, "tightness": 1.0},
        {"providers": 5.5, "ccgs": 5},
    ],
)
def test_bad_arguments_are_refused(kwargs):
    with pytest.raises(UsageError, match="must"):
        generate(**kwargs)


# --------------------------------------------------------------------------- structure


@pytest.mark.parametrize("tightness", [0.3, DEFAULT_TIGHTNESS, 0.9])
def test_tightness_is_demand_over_eligible_capacity(tightness):
    doc = generate(30, 120, lines=5, seed=5, tightness=tightness)
    ratio = eligible_ratio(instance_from_document(doc, Path("<generated>")))
    assert np.allclose(ratio.to_numpy(), tightness, rtol=1e-3)


def test_market_structure_by_kind():
    doc = generate(200, 600, lines=5, seed=11)
    prov = doc["providers"].set_index("id")
    caps = doc["capabilities"].merge(prov[["kind"]], left_on="provider", right_index=True)
    # exact kind shares; about 22% lead-capable, nearly every CSU among them
    counts = prov["kind"].value_counts()
    assert counts.to_dict() == {"charity": 50, "council": 50, "private": 40, "other": 40, "csu": 20}
    assert prov["can_lead"].sum() == 44
    assert prov.loc[prov["kind"] == "csu", "can_lead"].mean() >= 0.7
    assert prov.loc[prov["kind"].isin(["charity", "council"]), "can_lead"].mean() <= 0.2
    # no VAT for CSUs, 5-9% for everyone else (base unit cost 0.75-0.95)
    csu_cost = caps.loc[caps["kind"] == "csu", "unit_cost"]
    private_cost = caps.loc[caps["kind"] == "private", "unit_cost"]
    assert csu_cost.max() <= 0.95 and private_cost.min() >= 0.75 * 1.05
    assert private_cost.mean() > csu_cost.mean()
    # charities are niche (at most 2 of 5 lines) and small; CSUs are big and broad
    lines_offered = caps.groupby("provider").size()
    assert lines_offered[prov.index[prov["kind"] == "charity"]].max() <= 2
    assert lines_offered[prov.index[prov["kind"] == "csu"]].min() >= 4
    size = caps.groupby("provider")["capacity"].sum()
    assert size[prov["kind"] == "csu"].median() > 5 * size[prov["kind"] == "charity"].median()
    # quality spreads around the bar: some offered pairs miss it
    theta = caps["service_line"].map(doc["service_lines"].set_index("id")["quality_threshold"])
    below = (caps["quality"] < theta).mean()
    assert 0.05 < below < 0.6
    # exit cost follows staff
    assert np.corrcoef(prov["staff"], prov["exit_cost"])[0, 1] > 0.8
    # regions: one per ~15 CCGs; serving a CCG outside a CSU's home region costs more
    assert doc["ccgs"]["region"].nunique() <= round(600 / 15)
    ac = doc["assignment_costs"].merge(prov[["kind", "region"]], left_on="lead", right_index=True)
    ac = ac.merge(doc["ccgs"][["id", "region"]].rename(columns={"id": "ccg", "region": "cr"}))
    csu = ac[ac["kind"] == "csu"]
    home = csu["region"] == csu["cr"]
    assert home.any() and (csu.loc[home, "cost"] == 0).all()
    assert (csu.loc[~home, "cost"] > 0).all()
    # some partnership costs, never a provider with itself
    pc = doc["partnership_costs"]
    assert len(pc) > 0 and (pc["subcontractor"] != pc["lead"]).all()


# --------------------------------------------------------------------------- feasibility


def test_witness_check_reports_broken_rules():
    doc, witness = generate_with_witness(10, 30, seed=3)
    assert check_witness(doc, witness) == []
    lead = witness.leads[0]
    caps = doc["capabilities"]
    row = caps.index[(caps["provider"] == lead) & (caps["service_line"] == "PROC")][0]
    caps.loc[row, "capacity"] = 0.5
    doc["settings"]["lead_providers"]["max"] = len(witness.leads) - 1
    problems = check_witness(doc, witness)
    assert any(p.startswith("C1:") for p in problems)
    assert any(p.startswith("C6:") and lead in p for p in problems)


@pytest.mark.parametrize(
    ("providers", "ccgs", "lines", "seed", "tightness"),
    [
        (6, 20, 5, 0, DEFAULT_TIGHTNESS),
        (8, 30, 5, 1, DEFAULT_TIGHTNESS),
        (12, 40, 5, 2, DEFAULT_TIGHTNESS),
        (10, 30, 1, 3, DEFAULT_TIGHTNESS),
        (10, 30, 3, 4, DEFAULT_TIGHTNESS),
        (9, 25, 5, 5, 0.9),
    ],
)
def test_small_generated_instances_solve(providers, ccgs, lines, seed, tightness):
    doc, witness = generate_with_witness(providers, ccgs, lines, seed, tightness)
    inst = instance_from_document(doc, Path("<generated>"))
    assert check_witness(inst.to_document(), witness) == []
    sol = csu_opt.solve(inst, time_limit=20, threads=1)
    assert sol.status in (csu_opt.Status.OPTIMAL, csu_opt.Status.FEASIBLE)
    lo, hi = doc["settings"]["lead_providers"]["min"], doc["settings"]["lead_providers"]["max"]
    assert lo <= len(sol.leads) <= hi
    if sol.status == csu_opt.Status.OPTIMAL:
        # the witness is feasible, so the optimum is no dearer (up to the 1e-4 gap)
        assert sol.objective is not None
        assert sol.objective <= witness_cost(doc, witness) * (1 + 1e-4)


def test_construction_invariant_at_england_scale():
    """500 providers x 7,000 customers (about the GP practices in England), without solving."""
    t0 = time.perf_counter()
    doc, witness = generate_with_witness(500, 7000, lines=5, seed=0)
    elapsed = time.perf_counter() - t0
    assert elapsed < 10.0
    assert check_witness(doc, witness) == []
    n_lead = int(doc["providers"]["can_lead"].sum())
    assert n_lead == 110  # 22% of providers: keeps assignment_costs at 770,000 rows
    assert len(doc["assignment_costs"]) == n_lead * 7000
    band = doc["settings"]["lead_providers"]
    assert band["min"] <= len(witness.leads) <= band["max"] <= n_lead
    assert witness.assignment.index.is_unique and len(witness.assignment) == 7000


def test_england_scale_files_load_and_keep_the_witness(tmp_path):
    path = generate_to_folder(tmp_path, 500, 7000, seed=1)
    inst = csu_opt.load_instance(path)
    assert len(inst.ccgs) == 7000 and len(inst.providers) == 500
    _, witness = generate_with_witness(500, 7000, seed=1)
    assert check_witness(inst.to_document(), witness) == []
    assert np.allclose(eligible_ratio(inst).to_numpy(), DEFAULT_TIGHTNESS, rtol=1e-3)
