"""What-if results (issue 8) appear in the run's HTML report when their files exist."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from click.testing import CliRunner

from csu_opt.cli.main import main

DATA = Path(__file__).parents[1] / "data"
INSTANCE = DATA / "whatif_resilience.yaml"


def cli(*args) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def headings(html: str) -> list[str]:
    return re.findall(r"<h2>([^<]*)</h2>", html)


def test_report_shows_each_whatif_result_present(tmp_path):
    run = tmp_path / "run"
    cli("solve", INSTANCE, "--out", run, "-q")
    html = tmp_path / "a.html"
    cli("report", run, "--out", html)
    plain = html.read_text()
    assert "Resilience (N-1)" not in headings(plain)  # nothing to show yet

    cli("resilience", run)
    cli("rule-costs", INSTANCE, "--out", run)
    cli("alternatives", INSTANCE, "--k", "3", "--within", "50%", "--out", run)
    cli("report", run, "--out", html)
    text = html.read_text()
    HTMLParser().feed(text)  # parses
    hs = headings(text)
    for title in ("Resilience (N-1)", "The price of each rule", "Near-optimal alternatives"):
        assert title in hs
    # four more figures than the plain report: one per analysis, and the N-1 map
    assert text.count("<img") == plain.count("<img") + 4
    # the provider whose exit leaves line D uncovered is listed first (see the instance)
    section = text.split("<h2>Resilience (N-1)</h2>")[1].split("<h2>")[0]
    assert 'id="fig-resilience"' in section and 'id="fig-resilience-map"' in section
    first_row = re.findall(r"<tr><td[^>]*>1</td><td>([^<]*)</td>", section)
    assert first_row == ["V"]
