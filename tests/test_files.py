"""The one atomic writer (csu_opt.files): a file appears whole or not at all.

A failure in the middle of a write (an unencodable character, a figure format matplotlib does
not know, a rename refused by the file system, Ctrl-C) leaves the old file as it was, or no
file, and no temporary file beside it. The write sites of csu-opt go through it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from pathlib import Path

import pandas as pd
import pytest
import yaml
from matplotlib.figure import Figure

import csu_opt
from csu_opt.analysis.whatif import write_csv
from csu_opt.files import atomic_path, write_json, write_text
from csu_opt.instance.export import write_workbook
from csu_opt.instance.writer import write_document
from csu_opt.present.report import write_html
from csu_opt.results.solution import RESULT_FILES, write_files

TINY = Path(__file__).parent / "data" / "tiny.yaml"
BAD = "caf\udce9"  # a lone surrogate: UTF-8 cannot encode it, so the write fails midway


def names(folder: Path) -> list[str]:
    """Every entry of ``folder`` (hidden ones too), sorted."""
    return sorted(p.name for p in folder.iterdir())


def umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --------------------------------------------------------------------------- write_text


def test_write_text_writes_exactly_the_text_and_creates_parents(tmp_path):
    path = tmp_path / "a" / "b" / "notes.txt"
    text = "first line\r\nsecond, café\nno newline at the end"
    assert write_text(path, text) == path
    assert path.read_bytes() == text.encode("utf-8")  # line endings as given, UTF-8
    assert names(path.parent) == ["notes.txt"]


def test_write_text_replaces_an_existing_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("old\n", encoding="utf-8")
    write_text(path, "new\n")
    assert path.read_text(encoding="utf-8") == "new\n"
    assert names(tmp_path) == ["notes.txt"]


def test_a_failure_mid_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("old\n", encoding="utf-8")
    with pytest.raises(UnicodeEncodeError):
        write_text(path, "x" * 100_000 + BAD)  # fails after much was written
    assert path.read_text(encoding="utf-8") == "old\n"
    assert names(tmp_path) == ["notes.txt"]


def test_a_failure_mid_write_of_a_new_file_leaves_no_file(tmp_path):
    with pytest.raises(UnicodeEncodeError):
        write_text(tmp_path / "notes.txt", BAD)
    assert names(tmp_path) == []


def test_a_refused_rename_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "notes.txt"
    path.write_text("old\n", encoding="utf-8")

    def refuse(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="No space"):
        write_text(path, "new\n")
    assert path.read_text(encoding="utf-8") == "old\n"
    assert names(tmp_path) == ["notes.txt"]


def test_the_file_gets_the_permissions_an_ordinary_open_gives(tmp_path):
    # mkstemp makes 0600 files; a result file must be readable as any file the user writes
    write_text(tmp_path / "a.txt", "a")
    (tmp_path / "b.txt").write_text("b")
    mode = (tmp_path / "a.txt").stat().st_mode & 0o777
    assert mode == 0o666 & ~umask()
    assert mode == (tmp_path / "b.txt").stat().st_mode & 0o777


# --------------------------------------------------------------------------- write_json


def test_write_json_is_indented_with_a_final_newline_and_reads_back(tmp_path):
    data = {"objective": 12841.7, "leads": ["A", "B"], "when": dt.date(2026, 12, 5)}
    path = write_json(tmp_path / "x" / "summary.json", data)
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n") and '\n  "objective": 12841.7,' in text
    assert json.loads(text) == {**data, "when": "2026-12-05"}  # str for what JSON lacks


def test_write_json_that_fails_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "summary.json"
    write_json(path, {"run": 1})
    loop: dict[str, object] = {}
    loop["self"] = loop
    with pytest.raises(ValueError, match="ircular"):
        write_json(path, loop)
    assert json.loads(path.read_text(encoding="utf-8")) == {"run": 1}
    assert names(tmp_path) == ["summary.json"]


# --------------------------------------------------------------------------- atomic_path


def test_atomic_path_writes_beside_under_a_hidden_name_with_the_same_suffix(tmp_path):
    path = tmp_path / "figure.png"
    path.write_bytes(b"old")
    with atomic_path(path) as tmp:
        assert tmp.parent == path.parent and tmp.suffix == ".png"
        assert tmp.name.startswith(".figure.png.")
        tmp.write_bytes(b"new")
        assert path.read_bytes() == b"old"  # a reader sees the old file until the end
    assert path.read_bytes() == b"new"
    assert names(tmp_path) == ["figure.png"]


def test_atomic_path_on_ctrl_c_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("old\n", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt), atomic_path(path) as tmp:
        tmp.write_text("half a ta", encoding="utf-8")
        raise KeyboardInterrupt
    assert path.read_text(encoding="utf-8") == "old\n"
    assert names(tmp_path) == ["table.csv"]


def test_a_figure_is_saved_by_its_suffix_and_a_failed_save_leaves_nothing(tmp_path):
    # the pattern of csu-opt's figure commands: savefig into atomic_path's temporary
    fig = Figure(figsize=(2, 2))
    fig.add_subplot().plot([0, 1], [1, 0])
    with atomic_path(tmp_path / "f.png") as tmp:
        fig.savefig(tmp, dpi=50)
    with atomic_path(tmp_path / "f.svg") as tmp:
        fig.savefig(tmp)
    with pytest.raises(ValueError, match="not supported"), atomic_path(tmp_path / "f.xyz") as tmp:
        fig.savefig(tmp)
    assert (tmp_path / "f.png").read_bytes().startswith(b"\x89PNG")
    assert "<svg" in (tmp_path / "f.svg").read_text(encoding="utf-8")
    assert names(tmp_path) == ["f.png", "f.svg"]


# --------------------------------------------------------------------------- the write sites


def test_result_files_half_written_leave_the_old_ones(tmp_path):
    sol = csu_opt.solve(csu_opt.load_instance(TINY))
    write_files(sol, tmp_path)
    before = {name: (tmp_path / name).read_bytes() for name in RESULT_FILES}
    roles = sol.roles.copy()
    roles["name"] = BAD  # roles.csv cannot be written
    with pytest.raises(UnicodeEncodeError):
        write_files(dataclasses.replace(sol, roles=roles), tmp_path)
    assert names(tmp_path) == sorted(RESULT_FILES)
    assert (tmp_path / "roles.csv").read_bytes() == before["roles.csv"]


@pytest.mark.parametrize("site", ["report", "what-if table", "instance file", "workbook"])
def test_every_write_site_goes_through_the_atomic_writer(tmp_path, monkeypatch, site):
    # each site writes once (the file is made), then again with os.replace refused: a site
    # that writes straight to its file would change it, one through csu_opt.files cannot
    doc = csu_opt.load_instance(TINY).to_document()
    writes = {
        "report": lambda: write_html("<p>report</p>\n", tmp_path / "report.html"),
        "what-if table": lambda: write_csv(pd.DataFrame({"a": [1, 2]}), tmp_path / "t.csv"),
        "instance file": lambda: write_document(doc, tmp_path / "inst", inline_max=1),
        "workbook": lambda: write_workbook(TINY, tmp_path / "w.xlsx", tmp_path / "w.yaml"),
    }
    writes[site]()
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert before
    monkeypatch.setattr(os, "replace", lambda src, dst: (_ for _ in ()).throw(OSError("full")))
    with pytest.raises(OSError, match="full"):
        writes[site]()
    monkeypatch.undo()
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before  # nothing changed, nothing left over


def test_an_instance_written_through_the_writer_loads_back(tmp_path):
    inst = csu_opt.load_instance(TINY)
    path = write_document(inst.to_document(), tmp_path, inline_max=1)
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["name"] == inst.name
    back = csu_opt.load_instance(path)
    assert back.to_document()["settings"] == inst.to_document()["settings"]
    xlsx = write_workbook(TINY, tmp_path / "w.xlsx", tmp_path / "w.yaml")
    assert xlsx.stat().st_size > 0
    again = csu_opt.load_instance(tmp_path / "w.yaml")
    assert len(again.demand) == len(inst.demand)
