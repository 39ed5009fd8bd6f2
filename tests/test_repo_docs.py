"""The repository documents itself: no file cites a document outside it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Citations of documents kept outside the repository (spelled in pieces so that this file
#: does not match itself).
OUTSIDE = re.compile(
    r"\b"
    + "SP"
    + r"EC\b|\.\./"
    + "shared|/work/"
    + "shared|\b("
    + "FACTS|PITFALLS|STYLE"
    + r")\.md\b"
)


def tracked_files() -> list[Path]:
    try:
        out = subprocess.run(
            ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
        return [ROOT / f for f in out.splitlines()]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout
        skip = {".git", ".venv", ".mypy_cache", ".ruff_cache", ".pytest_cache", "results"}
        return [p for p in ROOT.rglob("*") if p.is_file() and not skip & set(p.parts)]


def test_no_file_cites_a_document_outside_the_repository():
    hits = []
    for path in tracked_files():
        if not path.is_file() or path.suffix in {".png", ".xlsx", ".svg", ".pdf"}:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for n, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not hits, "cite model/formulation.md, docs/schema.md or the README instead:\n" + (
        "\n".join(hits)
    )
