"""The one exception boundary (csu_opt.cli.errors): each error class -> its exit code and
one line, never a traceback; anything else exit 70 "please report", traceback under --debug."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from rich.console import Console

import csu_opt.cli.main as cli_main
import csu_opt.cli.whatif as whatif
from csu_opt.analysis.resilience import NoNetwork
from csu_opt.cli import errors
from csu_opt.cli.main import main
from csu_opt.errors import CsuOptError, InstanceError, Problem, ResultFolderError, UsageError
from csu_opt.results.solution import Status

DATA = Path(__file__).parents[1] / "data"
TINY = DATA / "tiny.yaml"


def invoke(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def clean(res: Result, code: int) -> str:
    """The command ended with ``code`` through sys.exit, no traceback; its stderr."""
    assert res.exit_code == code, res.output
    assert isinstance(res.exception, SystemExit), repr(res.exception)
    assert "Traceback" not in res.output
    return res.stderr


@pytest.mark.parametrize(
    ("exc", "code", "line"),
    [
        (UsageError("--x 3: too big"), 2, "usage error: --x 3: too big"),
        (ResultFolderError("r is not a result folder"), 1, "error: r is not a result folder"),
        (CsuOptError("a file [with brackets]"), 1, "error: a file [with brackets]"),
        (NoNetwork("no robust network", Status.INFEASIBLE), 3, "error: no robust network"),
        (NoNetwork("nothing in time", Status.NO_SOLUTION), 4, "error: nothing in time"),
        (ZeroDivisionError("division by zero"), 70, "internal error, please report it"),
    ],
)
def test_each_error_class_has_its_exit_code_and_one_line(exc, code, line):
    buf = io.StringIO()
    assert errors.print_error(exc, Console(file=buf, width=200)) == code
    text = buf.getvalue()
    assert text.count("\n") == 1 and text.startswith(line), text
    assert "Traceback" not in text


def test_instance_error_lists_its_located_problems():
    buf = io.StringIO()
    exc = InstanceError([Problem("a.yaml", "negative", "capabilities", "row 3", "capacity")])
    assert errors.print_error(exc, Console(file=buf, width=200)) == 1
    assert buf.getvalue().splitlines() == [
        "error: 1 problem in the instance:",
        "  - a.yaml, capabilities row 3, field 'capacity': negative",
    ]


def test_status_exit_codes_are_the_readmes():
    assert errors.STATUS_EXIT == {
        Status.OPTIMAL: 0,
        Status.FEASIBLE: 0,
        Status.INFEASIBLE: 3,
        Status.NO_SOLUTION: 4,
    }


def test_readme_documents_every_exit_code():
    text = (Path(__file__).parents[2] / "README.md").read_text()
    codes = text[text.index("Exit codes:") :].split("\n\n")[0]
    for code in (errors.INTERNAL, errors.UNVERIFIED, errors.NO_SOLUTION, errors.INFEASIBLE):
        assert f"{code} " in codes
    assert "--debug" in codes


def test_errors_through_the_commands(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY.read_text().replace("capacity: 50,", "capacity: -50,"))
    err = clean(invoke("solve", bad, "--out", tmp_path / "o"), 1)
    assert "problems in the instance" in err and "is negative" in err
    err = clean(invoke("solve", TINY, "--polish", "0.3"), 2)
    assert err.startswith("usage error: --polish")
    err = clean(invoke("solve", TINY, "--set", "settings.nonsense=1", "-q"), 2)
    assert err.startswith("usage error:") and err.count("\n") == 1


@pytest.mark.parametrize(
    "args",
    [
        ("plot", "{run}"),
        ("report", "{run}"),
        ("verify", "{run}"),
        ("verify", str(TINY), "{run}"),
        ("resilience", "{run}"),
        ("compare", "{run}", "{run}"),
        ("solve", str(TINY), "--incumbent", "{run}", "--out", "{tmp}/o"),
        ("explain", str(TINY), "--incumbent", "{run}", "--max-moves", "1"),
        ("tradeoff", str(TINY), "--incumbent", "{run}"),
    ],
)
@pytest.mark.parametrize("kind", ["missing", "empty"])
def test_a_missing_result_folder_is_a_clean_error(tmp_path, args, kind):
    run = tmp_path / "run"
    if kind == "empty":
        run.mkdir()
    res = invoke(*(a.format(run=run, tmp=tmp_path) for a in args))
    if kind == "missing" and args[0] in ("solve", "explain"):  # click checks it exists
        assert res.exit_code == 2 and "does not exist" in res.output
        return
    err = clean(res, 1)
    assert str(run) in res.output and "internal error" not in err  # verify INSTANCE RUN: a report


def test_generate_bad_parameter_is_a_usage_error(tmp_path):
    res = invoke("generate", "--providers", 4, "--ccgs", 3, "--tightness", 1.5, "--out", tmp_path)
    err = clean(res, 2)
    assert err.startswith("usage error: tightness must lie strictly between 0 and 1")


def _bug(*_args: object, **_kwargs: object) -> None:
    raise ValueError("an injected bug")


def test_generate_bug_is_an_internal_error(tmp_path, monkeypatch):
    monkeypatch.setattr(cli_main, "generate_to_folder", _bug)
    args = ["generate", "--providers", 4, "--ccgs", 3, "--out", tmp_path]
    err = clean(invoke(*args), 70)
    assert "internal error, please report it: ValueError: an injected bug" in err
    assert "usage error" not in err and "--debug" in err
    # under --debug, the traceback too (to stderr), then the same line
    res = invoke("--debug", *args)
    assert res.exit_code == 70 and isinstance(res.exception, SystemExit)
    err = res.stderr
    assert "Traceback (most recent call last)" in err and "_bug" in err
    assert err.rstrip().splitlines()[-1].startswith("internal error, please report it: ValueError")


def test_internal_error_of_a_command_invoked_alone(monkeypatch):
    """A command outside the group (as tests invoke them) has the boundary too."""
    monkeypatch.setattr(whatif, "load_instance", _bug)
    res = CliRunner().invoke(whatif.rule_costs, [str(TINY)])
    assert "internal error, please report it" in clean(res, 70)
