"""What a solve is asked to do (``SolveOptions``) and what it reports as it runs (``Progress``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Backend = Literal["auto", "pyomo", "matrix"]


@dataclass(frozen=True)
class Progress:
    """What HiGHS reports while it searches: time, best solution, best bound, gap."""

    elapsed_s: float
    incumbent: float | None
    bound: float | None
    gap: float | None
    stage: str = "branch-and-bound"


@dataclass
class SolveOptions:
    """Typed solver options; ``seed`` fixes HiGHS's random choices so runs repeat.

    ``backend`` chooses how the model is built and handed to HiGHS (``auto``: Pyomo for small
    models, arrays for large ones); ``start_heuristic`` hands HiGHS a greedy feasible network
    (:mod:`csu_opt.solver.start`) as its first incumbent. ``polish`` (0 <= F < 1, needs a time
    limit) keeps the last share F of the time limit for a search of the incumbent's lead set
    (:mod:`csu_opt.solver.polish`) when the main search has not proven optimality by then (the main
    search stops at its share once it has a network; with ``concurrent`` > 1 the race gets
    its share as its time limit).
    """

    time_limit: float | None = None
    mip_gap: float = 1e-4
    threads: int | None = None
    seed: int = 0
    valid_inequalities: bool = True
    log_file: Path | None = None
    on_progress: Callable[[Progress], None] | None = None
    should_stop: Callable[[], bool] | None = None
    highs_options: dict[str, Any] = field(default_factory=dict)
    backend: Backend = "auto"
    start_heuristic: bool = True
    root_reduction: bool | None = None
    concurrent: int = 1
    polish: float = 0.0

    def main_time_limit(self) -> float | None:
        """The main search's share of the time limit (all of it unless polishing)."""
        if self.time_limit is None:
            return None
        return self.time_limit * (1.0 - self.polish)

    def check(self) -> None:
        """Refuse option values that cannot work together (ValueError, in plain words)."""
        if not 0.0 <= self.polish < 1.0:
            raise ValueError(f"polish must be a fraction in [0, 1), not {self.polish}")
        if self.polish > 0 and self.time_limit is None:
            raise ValueError("polish keeps a share of the time limit: it needs a time limit")

    def reduction_on(self, backend: str) -> bool:
        """Whether the root reduction (:mod:`csu_opt.solver.reduce`) runs; by default on the
        matrix path (large models), where it pays for its LP."""
        return backend == "matrix" if self.root_reduction is None else self.root_reduction

    def as_record(self) -> dict[str, Any]:
        """The options as written to summary.json."""
        return {
            "time_limit": self.time_limit,
            "mip_gap": self.mip_gap,
            "threads": self.threads,
            "random_seed": self.seed,
            "valid_inequalities": self.valid_inequalities,
            "backend": self.backend,
            "start_heuristic": self.start_heuristic,
            "root_reduction": self.root_reduction,
            "concurrent": self.concurrent,
            "polish": self.polish,
            **self.highs_options,
        }
