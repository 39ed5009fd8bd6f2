"""The package's shape (issue 17): what `lint-imports` and ruff do not check."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "csu_opt"
ROOMS = ["instance", "model", "solver", "results", "analysis", "present", "cli"]


def private_imports(source: str) -> list[str]:
    """``from csu_opt.x import _y`` in ``source``: private names taken from another module."""
    return [
        f"{node.module}.{a.name}"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("csu_opt")
        for a in node.names
        if a.name.startswith("_") and not a.name.startswith("__")
    ]


def test_no_private_name_crosses_a_module():
    found = [
        f"{path.relative_to(SRC)}: {hit}"
        for path in sorted(SRC.rglob("*.py"))
        for hit in private_imports(path.read_text(encoding="utf-8"))
    ]
    assert not found, "make the name public, or move the code that needs it:\n" + "\n".join(found)


def test_the_check_sees_a_private_import():
    source = "from csu_opt.model.pyomo_model import _hidden, linear\nfrom os import _exit\n"
    assert private_imports(source) == ["csu_opt.model.pyomo_model._hidden"]


def test_every_room_is_a_package_that_says_what_it_holds():
    for room in ROOMS:
        init = SRC / room / "__init__.py"
        assert ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))), room


#: The one adapter to HiGHS (issue 17): no other module of the package imports highspy.
#: (model/matrix.py builds arrays only; present/report.py reads highspy's installed version
#: through importlib.metadata, without importing it.)
HIGHSPY_OWNERS = {"solver/highs.py"}


def imported_modules(source: str) -> set[str]:
    """Top-level names of every module ``source`` imports (at the top or inside functions)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_adapter_imports_highspy():
    importers = {
        str(path.relative_to(SRC))
        for path in sorted(SRC.rglob("*.py"))
        if "highspy" in imported_modules(path.read_text(encoding="utf-8"))
    }
    assert importers == HIGHSPY_OWNERS, "go through csu_opt.solver.highs instead"


def test_the_check_sees_a_highspy_import():
    source = "def f():\n    from highspy import Highs\nimport os.path\n"
    assert imported_modules(source) == {"highspy", "os"}
