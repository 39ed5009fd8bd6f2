"""An instance's ``boundaries:``: the file of its CCGs' shapes, checked when it is loaded.

``boundaries`` is a path (relative to the instance file) or ``{file, key, object,
attribution}``. Each CCG is matched to a feature of the file (:mod:`csu_opt.instance.geo`) by its
``ons_code`` when it has one, otherwise by its id; the file must read, and every CCG must
have a shape (shapes that match no CCG are allowed). The result, :class:`Boundaries`, is
plain data on the :class:`~csu_opt.instance.load.Instance`; only maps read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from csu_opt.errors import Problem
from csu_opt.instance.geo import BoundaryFileError, Shapes, read_shapes
from csu_opt.instance.schema import MAX_ROWS_LISTED
from csu_opt.instance.tables import RawTable

#: Sub-keys of the mapping form of ``boundaries:``.
FIELDS = ("file", "key", "object", "attribution")


@dataclass(frozen=True)
class Boundaries:
    """An instance's boundaries: the file (absolute path) and each CCG's feature key.

    ``key`` is the feature property matched (None: the feature's ``id``); ``object`` the
    TopoJSON object (None: its only one); ``attribution`` is printed under every map.
    """

    path: str
    feature_of: Mapping[str, str]  # ccg id -> feature key
    key: str | None = None
    object: str | None = None
    attribution: str = ""

    def to_document(self) -> dict[str, str]:
        doc = {"file": self.path}
        for name in ("key", "object", "attribution"):
            if getattr(self, name):
                doc[name] = getattr(self, name)
        return doc

    def shapes(self) -> Shapes:
        return read_shapes(self.path, self.key, self.object)


def boundaries_from_document(
    value: Any,
    yaml_path: Path,
    raw_ccgs: RawTable | None,
    ccgs: pd.DataFrame | None,
    problems: list[Problem],
) -> Boundaries | None:
    """The instance's ``boundaries:`` checked: the file reads, and every CCG has a shape.

    ``value`` is a path (relative to the instance file) or ``{file, key, object,
    attribution}``. A CCG is matched by its ``ons_code`` if it has one, else by its id;
    shapes that match no CCG are allowed. Every problem is added to ``problems``."""
    file = str(yaml_path)
    spec = _spec(value, file, problems)
    if spec is None:
        return None
    given = Path(spec["file"])
    path = given if given.is_absolute() else yaml_path.parent / given
    try:
        found = path.is_file()
    except (OSError, ValueError):  # a name too long, or unrepresentable, for the system
        found = False
    if not found:
        problems.append(
            Problem(
                file,
                f"boundaries file {spec['file']} not found (looked for {path})",
                field="boundaries",
            )
        )
        return None
    try:
        shapes = read_shapes(path, spec.get("key"), spec.get("object"))
    except BoundaryFileError as exc:
        problems.append(Problem(str(path), str(exc), field="boundaries"))
        return None
    if ccgs is None or raw_ccgs is None:
        return None  # the ccgs table could not be read: already reported
    ids = ccgs["id"].astype(object)
    ons = ccgs["ons_code"] if "ons_code" in ccgs else pd.Series(None, index=ccgs.index)
    by_ons = ons.notna().to_numpy() & (ons.astype(str).str.strip() != "").to_numpy()
    wanted = pd.Series(np.where(by_ons, ons.astype(str).str.strip(), ids.astype(str)), ccgs.index)
    fields = np.where(by_ons, "ons_code", "id")
    what = "the feature id" if spec.get("key") is None else f"property {spec['key']!r}"
    missing = ids.notna().to_numpy() & ~wanted.isin(shapes.index.keys()).to_numpy()
    for n, i in enumerate(np.flatnonzero(missing)):
        if n == MAX_ROWS_LISTED:
            problems.append(
                Problem(
                    raw_ccgs.file,
                    f"... and {int(missing.sum()) - MAX_ROWS_LISTED} more CCGs without a shape",
                    "ccgs",
                )
            )
            break
        problems.append(
            Problem(
                raw_ccgs.file,
                f"no shape for {fields[i]} '{wanted.iloc[i]}' in {path.name} "
                f"(matched against {what} of its {len(shapes.keys)} features)",
                "ccgs",
                raw_ccgs.where(int(i)),
                str(fields[i]),
            )
        )
    dup = wanted.duplicated(keep="first").to_numpy() & ids.notna().to_numpy()
    for i in np.flatnonzero(dup)[:MAX_ROWS_LISTED]:
        first = int(np.flatnonzero(wanted.to_numpy() == wanted.iloc[i])[0])
        problems.append(
            Problem(
                raw_ccgs.file,
                f"{fields[i]} '{wanted.iloc[i]}' is also the shape of CCG {ids.iloc[first]} "
                f"({raw_ccgs.where(first)}); each CCG needs its own shape",
                "ccgs",
                raw_ccgs.where(int(i)),
                str(fields[i]),
            )
        )
    return Boundaries(
        path=str(path.resolve()),
        feature_of=dict(zip(ids.astype(str), wanted, strict=True)),
        key=spec.get("key"),
        object=spec.get("object"),
        attribution=spec.get("attribution", ""),
    )


def _spec(value: Any, file: str, problems: list[Problem]) -> dict[str, str] | None:
    """``boundaries:`` as a mapping of its fields (a bare path is ``{file: path}``)."""
    form = "a file path or {file: PATH, key: PROPERTY, object: NAME, attribution: TEXT}"
    if isinstance(value, str) and value.strip():
        return {"file": value.strip()}
    if not isinstance(value, dict):
        problems.append(Problem(file, f"expected {form}, got {value!r}", field="boundaries"))
        return None
    ok = True
    for k, v in value.items():
        if k not in FIELDS:
            problems.append(
                Problem(
                    file,
                    f"unknown field '{k}' (fields: {', '.join(FIELDS)})",
                    field=f"boundaries.{k}",
                )
            )
            ok = False
        elif not isinstance(v, str) or not v.strip():
            problems.append(
                Problem(file, f"expected non-empty text, got {v!r}", field=f"boundaries.{k}")
            )
            ok = False
    if "file" not in value:
        problems.append(Problem(file, "the boundaries file is required", field="boundaries.file"))
        ok = False
    return {str(k): str(v).strip() for k, v in value.items()} if ok else None
