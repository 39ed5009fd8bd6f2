"""Instances with mergers: a compact document builder and seeded random ones (test_mergers,
test_matrix)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from csu_opt.instance.load import Instance, instance_from_document


def document(
    providers: list[dict[str, Any]],
    caps: list[tuple[str, str, float, float, float]],
    mergers: list[dict[str, Any]],
    *,
    demand: list[tuple[str, str, float]] | None = None,
    lines: dict[str, dict[str, float]] | None = None,
    settings: dict[str, Any] | None = None,
    extra_caps: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An instance document: ``caps`` rows (provider, line, capacity, quality, unit_cost);
    by default one line A and two CCGs of 50 each."""
    demand = demand or [("C1", "A", 50.0), ("C2", "A", 50.0)]
    lines = lines if lines is not None else {"A": {}}
    return {
        "schema": "csu-opt/1",
        "name": "mergers",
        "service_lines": [{"id": s, **kw} for s, kw in lines.items()],
        "settings": settings or {},
        "providers": providers,
        "capabilities": [
            {"provider": p, "service_line": s, "capacity": a, "quality": q, "unit_cost": c}
            for p, s, a, q, c in caps
        ]
        + list(extra_caps or []),
        "ccgs": [{"id": c} for c in dict.fromkeys(c for c, _, _ in demand)],
        "demand": [{"ccg": c, "service_line": s, "volume": v} for c, s, v in demand],
        "mergers": mergers,
    }


def build(*args: Any, **kw: Any) -> Instance:
    return instance_from_document(document(*args, **kw), Path("<test>"))


def random_instance(seed: int) -> Instance:
    """Three or four providers, one or two lines, two CCGs, one or two mergers."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 5))
    lines = ["A", "B"][: int(rng.integers(1, 3))]
    ids = [f"P{i}" for i in range(n)]
    providers = [
        {
            "id": p,
            "can_lead": bool(i == 0 or rng.random() < 0.6),
            "can_subcontract": bool(rng.random() < 0.6),
            "lead_fixed_cost": int(rng.integers(20, 120)),
            "subcontractor_fixed_cost": int(rng.integers(0, 30)),
            "exit_cost": int(rng.integers(0, 40)),
        }
        for i, p in enumerate(ids)
    ]
    caps = [
        (p, s, float(rng.integers(20, 90)), float(rng.integers(50, 100)), float(rng.uniform(1, 2)))
        for p in ids
        for s in lines
        if rng.random() < 0.8
    ]
    pairs = [
        tuple(sorted(rng.choice(ids, 2, replace=False))) for _ in range(int(rng.integers(1, 3)))
    ]
    mergers = [
        {
            "id": f"M{j}",
            "members": ";".join(pair),
            "merger_cost": int(rng.integers(0, 40)),
            "synergy": round(float(rng.uniform(0, 0.8)), 2),
            "quality_rule": str(rng.choice(["weighted", "max"])),
        }
        for j, pair in enumerate(dict.fromkeys(pairs))
    ]
    demand = [(c, s, float(rng.integers(10, 50))) for c in ("C1", "C2") for s in lines]
    return build(
        providers,
        caps,
        mergers,
        demand=demand,
        lines={s: {"quality_threshold": 60, "network_quality_target": 65} for s in lines},
        settings={"single_sourcing": bool(rng.random() < 0.5)},
    )
