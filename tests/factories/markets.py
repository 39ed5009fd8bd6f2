"""A mid-sized market with many ties (test_fuzz; imported by a fresh interpreter too)."""

from __future__ import annotations

import numpy as np

import csu_opt
from csu_opt.instance.load import instance_from_document
from factories import TESTS

DATA = TESTS / "data"


def market(seed: int = 7) -> csu_opt.Instance:
    """A mid-sized market with many ties (identical twins among providers and CCGs)."""
    rng = np.random.default_rng(seed)
    lines = ["BST", "PROC", "REDES", "COMMS", "BI"]
    providers, caps = [], []
    for i in range(14):
        twin = i // 2  # providers 2k and 2k+1 are identical: many optimal solutions
        r = np.random.default_rng(seed * 100 + twin)
        providers.append({
            "id": f"P{i:02d}", "kind": "csu" if twin < 4 else "private",
            "can_lead": twin < 5, "lead_fixed_cost": float(r.integers(50, 80)),
            "subcontractor_fixed_cost": float(r.integers(2, 6)),
            "exit_cost": float(r.integers(5, 20)),
        })  # fmt: skip
        for s in lines:
            if r.random() < 0.7:
                caps.append({
                    "provider": f"P{i:02d}", "service_line": s,
                    "capacity": float(r.integers(40, 120)), "quality": float(r.integers(40, 95)),
                    "unit_cost": float(r.integers(1, 4)),
                })  # fmt: skip
    ccgs = [{"id": f"C{j:02d}"} for j in range(16)]
    demand = [
        {"ccg": c["id"], "service_line": s, "volume": float(rng.integers(2, 8) // 2 * 2)}
        for c in ccgs
        for s in lines
    ]
    doc = {
        "schema": "csu-opt/1",
        "name": "market",
        "service_lines": [{"id": s, "quality_threshold": 50} for s in lines],
        "settings": {"lead_providers": {"min": 2, "max": 6}},
        "providers": providers,
        "capabilities": caps,
        "ccgs": ccgs,
        "demand": demand,
    }
    return instance_from_document(doc, DATA / "market.yaml")
