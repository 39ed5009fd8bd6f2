"""Random tiny instances on which the valid inequalities V2-V4 have rows, their oracle
answers, and the LP bound with or without the cuts (test_cuts, test_polish, test_dw,
test_explain_whatif, test_matrix)."""

from __future__ import annotations

import highspy
import numpy as np

from csu_opt.instance.load import Instance
from csu_opt.model.index import build_index
from csu_opt.model.matrix import build_matrix
from csu_opt.solver.highs import pass_to_highs
from factories.rules import build


def lp_bound(inst: Instance, cuts: bool) -> float:
    """The LP relaxation's optimum (no presolve, no HiGHS cuts) with or without V1-V5."""
    mm = build_matrix(build_index(inst), valid_inequalities=cuts)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    pass_to_highs(h, mm)
    h.setOptionValue("solve_relaxation", True)
    h.setOptionValue("presolve", "off")
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return float(h.getInfo().objective_function_value)


def cut_instance(seed: int) -> Instance:
    """A random tiny instance on which V2-V4 have rows: every CCG has demand in every line,
    targets above some providers' quality, minimum volumes, providers with both roles."""
    rng = np.random.default_rng(1000 + seed)
    n_prov = int(rng.integers(3, 5))
    lines = [f"S{i}" for i in range(int(rng.integers(1, 3)))]
    ccgs = [f"C{i}" for i in range(int(rng.integers(2, 4)))]
    ps = [f"P{i}" for i in range(n_prov)]
    providers = [
        {
            "id": p,
            "can_lead": bool(i < 2 or rng.random() < 0.5),
            "can_subcontract": bool(i >= 1 or rng.random() < 0.5),
            "lead_fixed_cost": int(rng.integers(20, 80)),
            "subcontractor_fixed_cost": int(rng.integers(10, 40)),
            "exit_cost": int(rng.integers(0, 30)),
            "min_volume": int(rng.integers(5, 25)) if rng.random() < 0.8 else 0,
        }
        for i, p in enumerate(ps)
    ]
    quality = [45, 55, 85, 100]
    caps = [
        (p, s, int(rng.integers(2, 9)) * 10, int(rng.choice(quality)), rng.integers(0, 9) / 4)
        for p in ps
        for s in lines
        if rng.random() < 0.9
    ]
    demand = [(c, s, int(rng.integers(5, 21))) for c in ccgs for s in lines]
    return build(
        lines={s: {"network_quality_target": int(rng.choice([55, 65, 75]))} for s in lines},
        providers=providers,
        caps=caps,
        demand=demand,
        ccgs=ccgs,
        t={(p, c): int(rng.integers(0, 15)) for p in ps for c in ccgs if rng.random() < 0.5},
        settings={
            "single_sourcing": bool(rng.random() < 0.5),
            "max_leads_per_subcontractor": int(rng.integers(1, 3)),
            "lead_self_delivery_min_share": float(rng.choice([0.0, 0.25])),
        },
        name=f"cuts-{seed}",
    )


CUT_SEEDS = range(48)
