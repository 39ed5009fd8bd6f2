"""The one atomic writer: a file appears whole or not at all, never half written.

Every file csu-opt writes for a person (result files, what-if tables, reports, figures,
sweep records, exported CSVs) is written to a hidden temporary name beside its place and
renamed into it (``os.replace``, atomic on one file system), so a crash, a full disk or a
Ctrl-C leaves the old file (or none), never a torn one. A whole result folder is published
the same way by csu_opt.analysis.runner.atomic_folder.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# the process's umask, read once (os.umask can only be read by setting it): mkstemp makes
# 0600 files, and a result file gets the permissions an ordinary open() would give it
_UMASK = os.umask(0)
os.umask(_UMASK)


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (same suffix, so a writer that goes by the
    suffix, e.g. matplotlib's savefig, still can) to write; when the block succeeds it
    replaces ``path``, when it fails it is removed and ``path`` is left as it was.
    Missing parent folders are created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8, line endings as given) to ``path`` atomically; ``path``."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    return path


def write_json(path: Path, data: Any) -> Path:
    """``data`` as indented JSON (``str`` for what JSON has no type for), atomically."""
    return write_text(path, json.dumps(data, indent=2, default=str) + "\n")
