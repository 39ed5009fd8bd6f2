"""csu-opt report: one self-contained HTML file; instance text escaped; opens in a browser."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from csu_opt.cli.figures import report
from csu_opt.cli.main import main as cli_main
from factories.boards import EVIL, board_document, invoke, solve_board, write_board

PNG = b"\x89PNG\r\n\x1a\n"


class Page(HTMLParser):
    """The elements and text of a page, as a browser's parser sees them."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        (self.scripts if self._in_script else self.text).append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag]


@pytest.fixture(scope="module")
def board(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("rep")
    return solve_board(write_board(base), base / "run")


@pytest.fixture(scope="module")
def run_report(board, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("html") / "report.html"
    code, text = invoke(report, board, "--out", out)
    assert code == 0, text
    return out


def test_report_embeds_every_figure(run_report):
    page = Page(run_report.read_text(encoding="utf-8"))
    imgs = page.all("img")
    assert len(imgs) == 4  # network, lines, costs, map
    for img in imgs:
        src = img["src"] or ""
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == PNG
        assert img["alt"]
    assert len(page.all("figure")) == 4 == len(page.all("figcaption"))
    # self-contained: nothing to fetch (no external sheet, script, font or link target)
    assert not page.all("link") and all("src" not in a for a in page.all("script"))
    assert "http://" not in run_report.read_text() and "https://" not in run_report.read_text()


def test_report_escapes_instance_text(run_report):
    text = run_report.read_text(encoding="utf-8")
    page = Page(text)
    assert (
        EVIL not in text and "<b>bold</b>" not in text and "alert(2)" not in "".join(page.scripts)
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert EVIL in page.text  # shown to the reader as the text it is
    assert len(page.all("script")) == 1 and "alert" not in "".join(page.scripts)
    assert not page.all("b")  # the description's <b> stayed text


def test_report_summary_tables_and_record(run_report, board):
    text = run_report.read_text(encoding="utf-8")
    words = " ".join(Page(text).text)
    for expected in (
        "Proven optimal",
        "370.00",  # objective
        "£k per year",
        "Networks",
        "County Council",
        "Reproducibility",
        "found, unchanged (same sha256)",
        '"mip_gap": 0.0001',
        "highs",
        "matplotlib version (report)",
    ):
        assert expected in words, expected
    sha = json.loads((board / "summary.json").read_text())["instance"]["sha256"]
    assert sha in words
    # the quality table: one row per network plus the target row
    assert re.search(r"target\s+55\.0\s+55\.0\s+55\.0\s", words)
    # headcounts are whole numbers, gaps percentages with sensible digits
    assert re.search(r"staff of exiting providers\s+25\s", words)
    assert re.search(r"MIP gap\s+(0|[\d.]*[1-9])%\s", words)


def test_report_of_a_limit_says_not_optimal(board, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(board, run)
    s = json.loads((run / "summary.json").read_text())
    s.update(status="feasible", best_bound=300.0, mip_gap=70 / 370)
    s["solver"]["options"].update(time_limit=5, polish=0.25, concurrent=2)
    (run / "summary.json").write_text(json.dumps(s))
    code, out = invoke(report, run)
    assert code == 0, out
    words = " ".join(Page((run / "report.html").read_text()).text)
    assert "Not proven optimal" in words and "gap 19%" in words
    # the command to solve again keeps the limit, the polish share and the searches
    assert "--time-limit 5" in words and "--polish 0.25" in words and "--concurrent 2" in words


DATA = Path(__file__).parents[1] / "data"


def test_report_of_an_infeasible_run_leads_with_the_explanation(tmp_path):
    """An infeasible what-if (tests/analysis/test_explain_whatif.py works it by hand): the report
    says why and what to change, and shows no network, no empty table and no gap talk."""
    from csu_opt.cli.main import main

    run = tmp_path / "run"
    result = CliRunner().invoke(
        main,
        [
            "solve",
            str(DATA / "whatif_disruption.yaml"),
            "--incumbent",
            str(DATA / "whatif_incumbent.csv"),
            "--max-moves",
            "0",
            "--set",
            "providers.L1.min_volume=15",
            "--out",
            str(run),
        ],
    )
    assert result.exit_code == 3, result.output
    code, out = invoke(report, run)
    assert code == 0, out
    html = (run / "report.html").read_text()
    page = Page(html)
    words = " ".join(page.text)
    headings = re.findall(r"<h2>([^<]*)</h2>", html)
    assert headings[:2] == ["Why", "Suggested relaxation"]
    assert words.index("Infeasible") < words.index("Why") < words.index("Suggested relaxation")
    assert "keeping every CCG where it is today is impossible" in words
    assert "L1 needs at least 15 to stay active" in words
    # the relaxation, verified, with the command that applies it
    assert "the fewest moves that work is 1" in words and "optimum 19.00" in words
    assert "--incumbent" in words and "--max-moves 1" in words
    assert "--set providers.L1.min_volume=10" in words
    for absent in ("Not proven optimal", "best bound and the objective", "No solution"):
        assert absent not in words, absent
    assert "<td>CCGs</td>" not in html and "<td>lead providers</td>" not in html
    assert not {"Summary", "Networks", "Providers", "Figures"} & set(headings)
    assert page.all("img") == []
    # the command to solve again keeps the what-if
    assert "--max-moves 0" in words


def test_report_of_a_run_without_a_solution(board, tmp_path):
    """Stopped at a limit before any network was found: nothing is proven, nothing shown."""
    run = tmp_path / "run"
    shutil.copytree(board, run)
    s = json.loads((run / "summary.json").read_text())
    s.update(status="no_solution", objective=None, best_bound=120.0, mip_gap=None)
    s["message"] = "no feasible solution found within the time limit"
    s["cost_breakdown"] = None
    (run / "summary.json").write_text(json.dumps(s))
    for name in ("roles.csv", "assignments.csv", "flows.csv"):
        header = (run / name).read_text().splitlines()[0]
        (run / name).write_text(header + "\n")
    code, out = invoke(report, run)
    assert code == 0, out
    html = (run / "report.html").read_text()
    words = " ".join(Page(html).text)
    assert "No network found" in words and "within the limits" in words
    assert "Nothing is proven about feasibility" in words
    assert "Not proven optimal" not in words and "<td>CCGs</td>" not in html
    assert Page(html).all("img") == []


def test_report_errors(tmp_path, board):
    code, out = invoke(report, tmp_path)
    assert code == 1 and "summary.json" in out and "Traceback" not in out
    assert invoke(report, board, "--out", tmp_path / "r.pdf")[0] == 2


@pytest.fixture(scope="module")
def sweep_report(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("swrep")
    inst = write_board(base, board_document())
    out = base / "sw"
    result = CliRunner().invoke(
        cli_main,
        [
            "sweep",
            str(inst),
            "--vary",
            "settings.lead_providers.min=1,2",
            "--scale",
            "demand.volume=1,1.5",
            "--workers",
            "1",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    code, text = invoke(report, out)
    assert code == 0, text
    return out / "report.html"


def test_sweep_report(sweep_report):
    page = Page(sweep_report.read_text(encoding="utf-8"))
    assert len(page.all("img")) == 4  # objective, lead count, heatmap, who leads
    rows = page.all("tr")
    assert len(rows) >= 4 + 1  # the cases table: a row per case
    words = " ".join(page.text)
    assert "csu-opt sweep" in words and "--vary settings.lead_providers.min=1,2" in words
    assert "--scale demand.volume=1,1.5" in words
    assert "4 optimal" in words
    # the requested gap (1e-4) as a percentage, never "0.00"
    assert re.search(r"MIP gap\s+0\.01%", words)


# --------------------------------------------------------------------------- browser


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return os.environ.get("CHROMIUM") if os.environ.get("CHROMIUM") else None


def browser_body(html_file: Path, profile: Path) -> str:
    """The <body> tag after the page loaded in headless Chromium (file://, no network)."""
    exe = find_chromium()
    assert exe is not None
    cmd = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=10000",
        "--dump-dom",
        html_file.resolve().as_uri(),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    match = re.search(r"<body[^>]*>", done.stdout)
    assert match, f"no DOM from chromium (exit {done.returncode}): {done.stderr[-2000:]}"
    return match.group(0)


@pytest.mark.skipif(
    find_chromium() is None,
    reason="no headless browser: chromium not found on PATH (Debian: apt-get install -y "
    "chromium), so the report is not opened in a real browser",
)
def test_report_opens_in_a_real_browser(run_report, sweep_report, tmp_path):
    for page in (run_report, sweep_report):
        body = browser_body(page, tmp_path / "profile")
        assert 'data-script-errors="0"' in body, body
        assert 'data-figures="4/4"' in body and 'data-figures-ok="yes"' in body, body
    # the check can fail: a damaged figure is reported as not loaded
    broken = tmp_path / "broken.html"
    text = run_report.read_text(encoding="utf-8")
    broken.write_text(text.replace("data:image/png;base64,iVBOR", "data:image/png;base64,AAAA", 1))
    body = browser_body(broken, tmp_path / "profile")
    assert 'data-figures="3/4"' in body and 'data-figures-ok="no"' in body, body
