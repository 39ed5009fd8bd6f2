"""csu-opt: how a market of service providers should organise itself into networks.

A small public API for notebooks and scripts::

    import csu_opt
    inst = csu_opt.load_instance("instances/demo.yaml")
    sol = csu_opt.solve(inst, time_limit=60)
    sol.roles, sol.assignments, sol.flows   # pandas DataFrames
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from csu_opt.errors import CsuOptError, InstanceError, Problem, UsageError
from csu_opt.version import __version__

if TYPE_CHECKING:
    from csu_opt.instance.load import Instance, load_instance
    from csu_opt.results.solution import CostBreakdown, Role, Solution, Status, read_results
    from csu_opt.solver.options import SolveOptions

# The public names, each loaded on first use: ``import csu_opt`` (and so every command of the
# CLI) does not load Pyomo and HiGHS until something is solved.
_LAZY = {
    "Instance": "csu_opt.instance.load",
    "load_instance": "csu_opt.instance.load",
    "CostBreakdown": "csu_opt.results.solution",
    "Role": "csu_opt.results.solution",
    "Solution": "csu_opt.results.solution",
    "Status": "csu_opt.results.solution",
    "read_results": "csu_opt.results.solution",
    "SolveOptions": "csu_opt.solver.solve",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'csu_opt' has no attribute {name!r}")


def solve(instance: Instance, **options: Any) -> Solution:
    """Solve ``instance``; keyword options are the fields of :class:`SolveOptions`."""
    # the package root loads no solver (Pyomo, HiGHS) until something is solved
    from csu_opt.solver.solve import SolveOptions  # noqa: PLC0415
    from csu_opt.solver.solve import solve as _solve  # noqa: PLC0415

    return _solve(instance, SolveOptions(**options))


__all__ = [
    "CostBreakdown",
    "CsuOptError",
    "Instance",
    "InstanceError",
    "Problem",
    "Role",
    "Solution",
    "SolveOptions",
    "Status",
    "UsageError",
    "__version__",
    "load_instance",
    "read_results",
    "solve",
]
