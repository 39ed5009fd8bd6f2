"""Pyomo's appsi read where it has no public way (csu_opt.solver.appsi_engine): this test fails
loudly should a Pyomo upgrade remove or change the private attributes csu-opt reads."""

from __future__ import annotations

import ast
from pathlib import Path

import pyomo
import pyomo.environ as pyo
from pyomo.contrib.appsi import solvers as appsi

from csu_opt.solver.appsi_engine import appsi_columns, appsi_highs
from csu_opt.solver.highs import Highs

SRC = Path(__file__).resolve().parents[2] / "src" / "csu_opt"
PRIVATE = ("_solver_model", "_pyomo_var_to_solver_var_map")


def test_appsi_private_attributes_still_hold() -> None:
    m = pyo.ConcreteModel()
    m.x = pyo.Var(bounds=(0, 4))
    m.y = pyo.Var(domain=pyo.Binary)
    m.c = pyo.Constraint(expr=m.x + 3 * m.y >= 2)
    m.o = pyo.Objective(expr=m.x + m.y)
    opt = appsi.Highs()
    assert appsi_highs(opt) is None, "appsi creates its HiGHS object at set_instance"
    opt.set_instance(m)
    h = appsi_highs(opt)
    assert isinstance(h, Highs), (
        f"Pyomo {pyomo.version.version}: appsi.Highs no longer keeps its highspy object in "
        "_solver_model; csu_opt.solver.appsi_engine.appsi_highs must change"
    )
    assert (h.getNumCol(), h.getNumRow()) == (2, 1)
    columns = appsi_columns(opt)
    assert sorted(columns[id(v)] for v in (m.x, m.y)) == [0, 1], (
        "appsi's _pyomo_var_to_solver_var_map no longer maps id(var) to HiGHS's column"
    )
    # the map agrees with HiGHS: y is the integer column
    integrality = h.getLp().integrality_
    assert int(integrality[columns[id(m.y)]]) == 1 and int(integrality[columns[id(m.x)]]) == 0


def test_only_engines_reads_appsi_privates() -> None:
    readers = {
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if (isinstance(node, ast.Attribute) and node.attr in PRIVATE)
        or (isinstance(node, ast.Constant) and node.value in PRIVATE)
    }
    assert readers == {"solver/appsi_engine.py"}
