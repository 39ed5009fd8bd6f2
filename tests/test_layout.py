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
