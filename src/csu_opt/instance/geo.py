"""CCG boundaries: TopoJSON or GeoJSON files, read with the standard library and numpy.

:func:`read_shapes` turns a file into :class:`Shapes`, plain data: every feature's rings
(exterior counter-clockwise, holes clockwise, so a path's non-zero fill leaves holes open)
and its *borders*, every piece of boundary line with the feature on either side of it.

In TopoJSON a border shared by two features is one arc that both use, so the borders are the
arcs and their sides are read off the topology: exact, and free. GeoJSON repeats a shared
border in both features; its borders are found by matching segments whose end points agree
to :data:`SNAP` (a segment of one feature only is the edge of the map).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: GeoJSON borders: end points that agree to this (degrees, or the file's unit) are one point.
SNAP = 1e-7


class BoundaryFileError(ValueError):
    """A boundaries file that cannot be read as TopoJSON or GeoJSON; the message says why."""


@dataclass(frozen=True)
class Shapes:
    """Features of a boundaries file as plain arrays.

    ``rings[i]``: the (n, 2) closed rings of feature ``keys[i]`` (x, y = longitude, latitude
    for geographic files). ``lines[j]``: the (n, 2) points of border piece j; ``sides[j]``:
    the features on its two sides (-1: none, the edge of the map; both the same: a line
    inside one feature).
    """

    file: str
    keys: tuple[str, ...]
    rings: tuple[tuple[np.ndarray, ...], ...]
    lines: tuple[np.ndarray, ...]
    sides: np.ndarray
    index: dict[str, int] = field(default_factory=dict)

    @property
    def geographic(self) -> bool:
        """Coordinates look like longitude/latitude in degrees."""
        lo, hi = self.bbox()
        return bool(lo[0] >= -180 and hi[0] <= 180 and lo[1] >= -90 and hi[1] <= 90)

    def bbox(self, keys: Iterable[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Lower-left and upper-right corners of the given features (all by default)."""
        which = range(len(self.keys)) if keys is None else [self.index[k] for k in keys]
        pts = [r for i in which for r in self.rings[i]]
        if not pts:
            return np.zeros(2), np.ones(2)
        allp = np.concatenate(pts)
        return allp.min(axis=0), allp.max(axis=0)


# --------------------------------------------------------------------------- reading


def read_shapes(path: str | Path, key: str | None = None, object: str | None = None) -> Shapes:
    """The features of a TopoJSON or GeoJSON file (cached while the file is unchanged).

    Raises :class:`BoundaryFileError` when the file is not valid JSON of either kind."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError as exc:
        raise BoundaryFileError(f"cannot read the file ({exc.strerror})") from None
    return _read_cached(str(p.resolve()), st.st_mtime_ns, st.st_size, key, object)


def clear_cache() -> None:
    """Forget the files read (for measurements: the next read is from the disk)."""
    _read_cached.cache_clear()


@functools.lru_cache(maxsize=8)
def _read_cached(path: str, mtime_ns: int, size: int, key: str | None, obj: str | None) -> Shapes:
    try:
        with open(path, encoding="utf-8-sig") as fh:
            doc = json.load(fh)
    except OSError as exc:
        raise BoundaryFileError(f"cannot read the file ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise BoundaryFileError(f"not a UTF-8 text file ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise BoundaryFileError(
            f"not a JSON file (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(doc, dict):
        raise BoundaryFileError("not TopoJSON or GeoJSON: the top level is not an object")
    if doc.get("type") == "Topology":
        keys, rings, lines, sides = _topology(doc, key, obj)
    elif doc.get("type") in ("FeatureCollection", "Feature"):
        if obj is not None:
            raise BoundaryFileError("boundaries.object applies to TopoJSON only; this is GeoJSON")
        keys, rings = _geojson(doc, key)
        lines, sides = _segment_borders(rings)
    else:
        raise BoundaryFileError(
            f"not TopoJSON or GeoJSON: type {doc.get('type')!r} "
            "(expected Topology, FeatureCollection or Feature)"
        )
    merged = _merge_duplicates(keys, rings, sides)
    return Shapes(path, merged[0], merged[1], tuple(lines), merged[2], merged[3])


def _merge_duplicates(
    keys: list[str], rings: list[list[np.ndarray]], sides: np.ndarray
) -> tuple[tuple[str, ...], tuple[tuple[np.ndarray, ...], ...], np.ndarray, dict[str, int]]:
    """Features sharing a key are one shape (e.g. a CCG given as several features)."""
    index: dict[str, int] = {}
    out: list[list[np.ndarray]] = []
    remap = np.empty(len(keys) + 1, np.int64)
    remap[-1] = -1  # sides of -1 stay -1
    for i, (k, r) in enumerate(zip(keys, rings, strict=True)):
        if k not in index:
            index[k] = len(out)
            out.append([])
        out[index[k]].extend(r)
        remap[i] = index[k]
    return tuple(index), tuple(tuple(r) for r in out), remap[sides], index


def _feature_key(feature: Mapping[str, Any], key: str | None) -> str | None:
    value = feature.get("id") if key is None else (feature.get("properties") or {}).get(key)
    return None if value is None or str(value).strip() == "" else str(value).strip()


def _oriented(ring: np.ndarray, exterior: bool) -> np.ndarray:
    """The ring counter-clockwise if it is an exterior, clockwise if a hole."""
    x, y = ring[:, 0], ring[:, 1]
    area2 = float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))
    return ring if (area2 >= 0) == exterior else ring[::-1]


def _polygons(geometry: Mapping[str, Any], where: str) -> list[Any] | None:
    """The polygons of a Polygon or MultiPolygon (None for a null geometry)."""
    kind = geometry.get("type")
    if kind is None:
        return None
    coords = geometry.get("arcs" if "arcs" in geometry else "coordinates")
    if kind == "Polygon":
        return [coords]
    if kind == "MultiPolygon":
        if not isinstance(coords, list):
            raise BoundaryFileError(f"{where}: a MultiPolygon without polygons")
        return list(coords)
    raise BoundaryFileError(f"{where} is a {kind}; a boundary must be a Polygon or a MultiPolygon")


# --------------------------------------------------------------------------- TopoJSON


def _decode_arcs(doc: Mapping[str, Any]) -> list[np.ndarray]:
    """Every arc as absolute coordinates (delta-decoded and scaled when quantised)."""
    arcs = doc.get("arcs")
    if not isinstance(arcs, list):
        raise BoundaryFileError("a TopoJSON topology needs a list of arcs")
    try:
        lengths = np.fromiter((len(a) for a in arcs), np.int64, len(arcs))
        flat = np.array([p[:2] for a in arcs for p in a], dtype=float).reshape(-1, 2)
    except (TypeError, ValueError):
        raise BoundaryFileError("the arcs are not lists of [x, y] positions") from None
    if (lengths < 2).any():
        raise BoundaryFileError(f"arc {int(np.argmax(lengths < 2))} has fewer than two points")
    transform = doc.get("transform")
    if transform is not None:
        try:
            scale = np.asarray(transform["scale"], float)[:2]
            translate = np.asarray(transform["translate"], float)[:2]
        except (KeyError, TypeError, ValueError):
            raise BoundaryFileError("the transform needs scale and translate pairs") from None
        # quantised arcs hold each point as the step from the previous one, restarting at
        # every arc: a running sum minus its value just before the arc starts
        total = np.cumsum(flat, axis=0)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        before = np.vstack([np.zeros((1, 2)), total])[starts]
        flat = (total - np.repeat(before, lengths, axis=0)) * scale + translate
    return np.split(flat, np.cumsum(lengths)[:-1])


def _topology(
    doc: Mapping[str, Any], key: str | None, obj: str | None
) -> tuple[list[str], list[list[np.ndarray]], list[np.ndarray], np.ndarray]:
    objects = doc.get("objects")
    if not isinstance(objects, dict) or not objects:
        raise BoundaryFileError("a TopoJSON topology needs at least one object")
    if obj is None:
        if len(objects) > 1:
            raise BoundaryFileError(
                f"the topology has {len(objects)} objects ({', '.join(objects)}); "
                "name one as boundaries.object"
            )
        obj = next(iter(objects))
    elif obj not in objects:
        raise BoundaryFileError(
            f"no object {obj!r} in the topology (objects: {', '.join(objects)})"
        )
    top = objects[obj]
    geoms = top.get("geometries", []) if top.get("type") == "GeometryCollection" else [top]
    arcs = _decode_arcs(doc)
    n_arcs = len(arcs)
    keys: list[str] = []
    rings: list[list[np.ndarray]] = []
    uses: list[tuple[int, int]] = []  # (arc, feature) for every use of an arc
    for i, g in enumerate(geoms):
        k = _feature_key(g, key) if isinstance(g, dict) else None
        if k is None:
            continue
        polys = _polygons(g, f"geometry {i} ({k})")
        if polys is None:
            continue
        mine: list[np.ndarray] = []
        for poly in polys:
            for j, ring in enumerate(poly):
                idx = np.asarray(ring, dtype=np.int64)
                bad = (idx >= n_arcs) | (idx < -n_arcs)
                if idx.ndim != 1 or len(idx) == 0 or bad.any():
                    raise BoundaryFileError(
                        f"geometry {i} ({k}) refers to arcs that do not exist (there are {n_arcs})"
                    )
                parts = [arcs[a] if a >= 0 else arcs[~a][::-1] for a in idx]
                pts = np.concatenate([parts[0], *(p[1:] for p in parts[1:])])
                mine.append(_oriented(pts, exterior=j == 0))
                uses.extend((int(a if a >= 0 else ~a), len(keys)) for a in idx)
        keys.append(k)
        rings.append(mine)
    return keys, rings, *_arc_sides(arcs, uses)


def _arc_sides(
    arcs: list[np.ndarray], uses: list[tuple[int, int]]
) -> tuple[list[np.ndarray], np.ndarray]:
    """Each used arc with the features on its two sides (-1: none)."""
    if not uses:
        return [], np.empty((0, 2), np.int64)
    u = np.asarray(uses, np.int64)
    pick, sides = _two_sides(u[:, 0], u[:, 1])
    return [arcs[a] for a in u[pick, 0]], sides


def _two_sides(piece: np.ndarray, owner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every distinct border piece: one of its uses (positions into the inputs) and the
    features on its two sides: its first owner and the next use's owner (-1: used once)."""
    order = np.lexsort((owner, piece))
    _, first, count = np.unique(piece[order], return_index=True, return_counts=True)
    sides = np.column_stack([owner[order[first]], np.full(len(first), -1, np.int64)])
    twice = count >= 2  # a neighbour, or the same feature on both sides
    sides[twice, 1] = owner[order[first[twice] + 1]]
    return order[first], sides


# --------------------------------------------------------------------------- GeoJSON


def _geojson(doc: Mapping[str, Any], key: str | None) -> tuple[list[str], list[list[np.ndarray]]]:
    features = doc.get("features") if doc.get("type") == "FeatureCollection" else [doc]
    if not isinstance(features, list):
        raise BoundaryFileError("a FeatureCollection needs a list of features")
    keys: list[str] = []
    rings: list[list[np.ndarray]] = []
    for i, f in enumerate(features):
        k = _feature_key(f, key) if isinstance(f, dict) else None
        geometry = f.get("geometry") if isinstance(f, dict) else None
        if k is None or not isinstance(geometry, dict):
            continue
        polys = _polygons(geometry, f"feature {i} ({k})")
        if polys is None:
            continue
        mine = []
        for poly in polys:
            for j, ring in enumerate(poly):
                try:
                    pts = np.array([p[:2] for p in ring], dtype=float).reshape(-1, 2)
                except (TypeError, ValueError):
                    raise BoundaryFileError(
                        f"feature {i} ({k}): a ring is not a list of [x, y] positions"
                    ) from None
                if len(pts) < 3:
                    raise BoundaryFileError(f"feature {i} ({k}): a ring has fewer than 3 points")
                if not np.array_equal(pts[0], pts[-1]):
                    pts = np.vstack([pts, pts[:1]])
                mine.append(_oriented(pts, exterior=j == 0))
        keys.append(k)
        rings.append(mine)
    return keys, rings


def _segment_borders(rings: list[list[np.ndarray]]) -> tuple[list[np.ndarray], np.ndarray]:
    """Borders of features given separately: every segment once, with the features that
    have it (end points snapped to SNAP; a segment of one feature is the map's edge)."""
    segs = [np.stack([r[:-1], r[1:]], axis=1) for rs in rings for r in rs]
    if not segs:
        return [], np.empty((0, 2), np.int64)
    owner = np.repeat(np.arange(len(rings)), [sum(len(r) - 1 for r in rs) for rs in rings]).astype(
        np.int64
    )
    seg = np.concatenate(segs)  # (m, 2 ends, 2 coords)
    q = np.round(seg / SNAP).astype(np.int64)
    a, b = q[:, 0], q[:, 1]
    keep = (a != b).any(axis=1)  # repeated points make no segment
    swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
    canon = np.where(swap[:, None], np.hstack([b, a]), np.hstack([a, b]))[keep]
    seg, owner = seg[keep], owner[keep]
    _, inv = np.unique(canon, axis=0, return_inverse=True)
    pick, sides = _two_sides(inv.ravel(), owner)
    return list(seg[pick]), sides


def lat_aspect(shapes: Shapes, keys: Iterable[str]) -> float:
    """Axes aspect (y per x) that draws longitude/latitude without stretching: 1/cos(lat)
    at the middle latitude of the features (1 for projected coordinates)."""
    if not shapes.geographic:
        return 1.0
    lo, hi = shapes.bbox(keys)
    return 1.0 / math.cos(math.radians(float(lo[1] + hi[1]) / 2))
