"""Writes tests/data/west-yorkshire.topojson: the ten CCGs of the West Yorkshire area team
(April 2013) cut out of instances/data/nhs-england-2013/ccg2013_boundaries.topojson.

The arcs those CCGs use are kept as they are (quantised, in the source's transform) and
renumbered; nothing else changes, so the shapes are the real ones. NHS Bradford Districts
(02R) surrounds NHS Bradford City (02W): a polygon with a hole. Run from the repository root:
``.venv/bin/python tests/data/make_map_fixture.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "instances/data/nhs-england-2013/ccg2013_boundaries.topojson"
OUT = Path(__file__).with_name("west-yorkshire.topojson")
#: ONS codes of the West Yorkshire area team's CCGs (E39000009).
WEST_YORKSHIRE = (
    "E38000001",  # 02N Airedale, Wharfedale and Craven
    "E38000018",  # 02W Bradford City
    "E38000019",  # 02R Bradford Districts
    "E38000025",  # 02T Calderdale
    "E38000064",  # 03A Greater Huddersfield
    "E38000094",  # 02V Leeds North
    "E38000095",  # 03G Leeds South and East
    "E38000096",  # 03C Leeds West
    "E38000121",  # 03J North Kirklees
    "E38000190",  # 03R Wakefield
)


def main() -> None:
    topo = json.loads(SOURCE.read_text(encoding="utf-8"))
    (name, obj), *_ = topo["objects"].items()
    geoms = [g for g in obj["geometries"] if g["id"] in WEST_YORKSHIRE]
    assert len(geoms) == len(WEST_YORKSHIRE)

    def polygons(g: dict) -> list:
        return g["arcs"] if g["type"] == "MultiPolygon" else [g["arcs"]]

    used = sorted({a if a >= 0 else ~a for g in geoms for p in polygons(g) for r in p for a in r})
    new = {old: i for i, old in enumerate(used)}

    def renumber(a: int) -> int:
        return new[a] if a >= 0 else ~new[~a]

    for g in geoms:
        arcs = [[[renumber(a) for a in r] for r in p] for p in polygons(g)]
        g["arcs"] = arcs if g["type"] == "MultiPolygon" else arcs[0]
    out = {
        "type": "Topology",
        "transform": topo["transform"],
        "objects": {name: {"type": "GeometryCollection", "geometries": geoms}},
        "arcs": [topo["arcs"][a] for a in used],
    }
    OUT.write_text(json.dumps(out, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(geoms)} CCGs, {len(used)} arcs")


if __name__ == "__main__":
    main()
