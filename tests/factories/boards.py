"""The 'board' instance of the figure tests, whose optimum is known (see test_plots), and
helpers to write, solve and drive the CLI on it (test_plots, test_compare, test_report)."""

from __future__ import annotations

from pathlib import Path

import click
import yaml
from click.testing import CliRunner

import csu_opt
from csu_opt.analysis.runner import run_solve

UNIT = "£k per year"


EVIL = "<script>alert(1)</script>"


LINES = ("A", "B", "C")


def board_document() -> dict:
    caps = [("L1", s, 70, 1) for s in LINES] + [
        ("L2", "A", 70, 1),
        ("L2", "B", 70, 1),
        ("L2", "C", 40, 1),
        ("S1", "C", 80, 0.5),
        ("S2", "B", 90, 0.5),
        ("X1", "A", 30, 0.1),
    ]
    north, south = ["N1", "N2", "N3"], ["S1c", "S2c", "S3c"]
    return {
        "schema": "csu-opt/1",
        "name": "board",
        "description": "two regions; <b>bold</b> & <script>alert(2)</script>",
        "units": {"volume": UNIT, "cost": UNIT},
        "service_lines": [
            {"id": s, "name": f"line {s}", "quality_threshold": 50, "network_quality_target": 55}
            for s in LINES
        ],
        "settings": {"lead_providers": {"min": 2, "max": 2}},
        "providers": [
            {
                "id": "L1",
                "name": EVIL,
                "kind": "csu",
                "region": "N",
                "lead_fixed_cost": 100,
                "exit_cost": 40,
                "staff": 50,
            },
            {
                "id": "L2",
                "name": "South Ltd",
                "kind": "private",
                "region": "S",
                "lead_fixed_cost": 100,
                "exit_cost": 40,
                "staff": 30,
            },
            {
                "id": "S1",
                "name": "Comms Charity",
                "kind": "charity",
                "can_lead": False,
                "subcontractor_fixed_cost": 5,
            },
            {
                "id": "S2",
                "name": "County Council",
                "kind": "council",
                "can_lead": False,
                "subcontractor_fixed_cost": 5,
            },
            {
                "id": "X1",
                "name": "Weak $firm$",
                "kind": "other",
                "can_lead": False,
                "subcontractor_fixed_cost": 50,
                "exit_cost": 10,
                "staff": 25,
            },
        ],
        "capabilities": [
            {"provider": p, "service_line": s, "capacity": 100, "quality": q, "unit_cost": c}
            for p, s, q, c in caps
        ],
        "ccgs": [{"id": c, "region": "North"} for c in north]
        + [{"id": c, "region": "South"} for c in south],
        "demand": [
            {"ccg": c, "service_line": s, "volume": 10} for c in north + south for s in LINES
        ],
        "assignment_costs": [{"lead": "L1", "ccg": c, "cost": 30} for c in south]
        + [{"lead": "L2", "ccg": c, "cost": 30} for c in north],
    }


def write_board(folder: Path, doc: dict | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "board.yaml"
    path.write_text(yaml.safe_dump(doc or board_document(), sort_keys=False), encoding="utf-8")
    return path


def solve_board(instance: Path, out: Path, overrides: tuple[str, ...] = ()) -> Path:
    run_solve(csu_opt.load_instance(instance, overrides), out, csu_opt.SolveOptions())
    return out


def invoke(command: click.Command, *args: object) -> tuple[int, str]:
    result = CliRunner().invoke(command, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output
