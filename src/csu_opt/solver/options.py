"""What a solve is asked to do (``SolveOptions``) and what it reports as it runs (``Progress``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import InitVar, asdict, dataclass, field
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


class Callbacks:
    """What a solve calls while it runs, held apart from the options (which are plain data):
    ``on_progress`` receives HiGHS's progress, ``should_stop`` returning True stops the solve.

    Not a dataclass on purpose: :func:`dataclasses.asdict` of a :class:`SolveOptions` keeps
    this object as it is (``__deepcopy__`` returns it) instead of copying a progress line.
    """

    __slots__ = ("on_progress", "should_stop")

    def __init__(
        self,
        on_progress: Callable[[Progress], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        self.on_progress = on_progress
        self.should_stop = should_stop

    def __deepcopy__(self, memo: dict[int, Any]) -> Callbacks:
        return self

    def __repr__(self) -> str:
        return f"Callbacks(on_progress={self.on_progress!r}, should_stop={self.should_stop!r})"


NO_CALLBACKS = Callbacks()


@dataclass(frozen=True)
class SolveOptions:
    """Typed solver options, frozen; ``seed`` fixes HiGHS's random choices so runs repeat.

    ``backend`` chooses how the model is built and handed to HiGHS (``auto``: as arrays, the
    matrix path; ``pyomo``: through Pyomo); ``start_heuristic`` hands HiGHS a greedy feasible
    network (:mod:`csu_opt.solver.start`) as its first incumbent, and ``root_reduction`` runs
    the root reduction (:mod:`csu_opt.solver.reduce`) first; None (the default) leaves each to
    :func:`csu_opt.solver.policy.plan_stages`, which decides by the model's size. ``polish`` (0
    <= F < 1, needs a time limit) keeps the last share F of the time limit for a search of the
    incumbent's lead set (:mod:`csu_opt.solver.polish`) when the main search has not proven
    optimality by then (the main search stops at its share once it has a network; with
    ``concurrent`` > 1 the race gets its share as its time limit).

    The options are plain data (:meth:`as_dict`, ``SolveOptions(**as_dict())`` gives them back);
    the callbacks are held apart in ``callbacks`` (:class:`Callbacks`), which neither compares
    nor serialises. ``on_progress=`` and ``should_stop=`` are accepted when constructing (and in
    :func:`dataclasses.replace`, which keeps the others) and go into ``callbacks``; the solver
    reads ``options.callbacks``.
    """

    time_limit: float | None = None
    mip_gap: float = 1e-4
    threads: int | None = None
    seed: int = 0
    valid_inequalities: bool = True
    log_file: Path | None = None
    highs_options: dict[str, Any] = field(default_factory=dict)
    backend: Backend = "auto"
    start_heuristic: bool | None = None
    root_reduction: bool | None = None
    concurrent: int = 1
    polish: float = 0.0
    callbacks: Callbacks = field(default=NO_CALLBACKS, compare=False, repr=False)
    on_progress: InitVar[Callable[[Progress], None] | None] = None
    should_stop: InitVar[Callable[[], bool] | None] = None

    def __post_init__(
        self,
        on_progress: Callable[[Progress], None] | None,
        should_stop: Callable[[], bool] | None,
    ) -> None:
        if on_progress is not None or should_stop is not None:
            held = Callbacks(
                on_progress if on_progress is not None else self.callbacks.on_progress,
                should_stop if should_stop is not None else self.callbacks.should_stop,
            )
            object.__setattr__(self, "callbacks", held)

    def as_dict(self) -> dict[str, Any]:
        """The options as plain data (:func:`dataclasses.asdict`, the callbacks left out)."""
        return asdict(self, dict_factory=lambda kv: {k: v for k, v in kv if k != "callbacks"})

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


# read-only views of the callbacks held apart (dataclasses.replace reads them, so a replaced
# copy keeps its callbacks); the InitVars' defaults would otherwise answer None
def _held(name: str) -> property:
    return property(lambda self: getattr(self.callbacks, name))


setattr(SolveOptions, "on_progress", _held("on_progress"))  # noqa: B010
setattr(SolveOptions, "should_stop", _held("should_stop"))  # noqa: B010
