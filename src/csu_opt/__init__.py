"""csu-opt: how a market of service providers should organise itself into networks.

A small public API for notebooks and scripts::

    import csu_opt
    inst = csu_opt.load_instance("instances/demo.yaml")
    sol = csu_opt.solve(inst, time_limit=60)
    sol.roles, sol.assignments, sol.flows   # pandas DataFrames
"""

from __future__ import annotations

__version__ = "0.1.0"

from typing import Any

from csu_opt.errors import CsuOptError, InstanceError, Problem, UsageError
from csu_opt.instance import Instance, load_instance
from csu_opt.solution import CostBreakdown, Role, Solution, Status, read_results
from csu_opt.solve import SolveOptions


def solve(instance: Instance, **options: Any) -> Solution:
    """Solve ``instance``; keyword options are the fields of :class:`SolveOptions`."""
    from csu_opt.solve import solve as _solve

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
