"""SolveOptions: frozen plain data (asdict), with the callbacks held apart."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from csu_opt.solver.options import Callbacks, Progress, SolveOptions


def test_options_are_frozen_plain_data() -> None:
    seen: list[Progress] = []
    options = SolveOptions(
        time_limit=5.0,
        log_file=Path("out/highs.log"),
        highs_options={"presolve": "off"},
        on_progress=seen.append,
        should_stop=lambda: False,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.mip_gap = 0.1  # type: ignore[misc]
    data = options.as_dict()
    assert "callbacks" not in data and "on_progress" not in data
    json.dumps(data, default=str)  # plain data (the log file a Path)
    again = SolveOptions(**data)
    assert again == options  # the callbacks do not compare
    assert again.callbacks.on_progress is None
    # asdict itself keeps the callbacks object as it is, never a copy of a progress line
    assert dataclasses.asdict(options)["callbacks"] is options.callbacks


def test_callbacks_are_held_apart_and_kept_by_replace() -> None:
    seen: list[Progress] = []

    def stop() -> bool:
        return True

    options = SolveOptions(on_progress=seen.append, should_stop=stop)
    assert isinstance(options.callbacks, Callbacks)
    assert options.callbacks.on_progress == seen.append
    assert options.callbacks.should_stop is stop
    later = dataclasses.replace(options, time_limit=3.0)
    assert later.callbacks.on_progress == seen.append and later.callbacks.should_stop is stop
    quiet = dataclasses.replace(options, on_progress=print)
    assert quiet.callbacks.on_progress is print and quiet.callbacks.should_stop is stop
    assert "should_stop" not in repr(options)


def test_summary_record_unchanged() -> None:
    options = SolveOptions(seed=3, highs_options={"presolve": "off"}, on_progress=print)
    assert options.as_record() == {
        "time_limit": None,
        "mip_gap": 1e-4,
        "threads": None,
        "random_seed": 3,
        "valid_inequalities": True,
        "backend": "auto",
        "start_heuristic": None,
        "root_reduction": None,
        "concurrent": 1,
        "polish": 0.0,
        "presolve": "off",
    }
