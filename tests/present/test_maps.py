"""Maps on the CCGs' real boundaries (issue 18): reading TopoJSON and GeoJSON, the borders
between networks, one shape per CCG in the SVG, colours and legend counts by network,
the tile view when there are no boundaries, compare and N-1 maps, and validation.

Known answers: a 3 x 2 grid of unit squares built here by hand (which borders separate two
networks is read off the grid), and tests/data/west-yorkshire.yaml, ten real CCGs whose
optimum is worked by hand in the file: L1 serves 02N 02W 02R 02T 03A 03J, L2 serves 02V 03G
03C 03R (cost 395).
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import click
import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.patches import Rectangle
from matplotlib.path import Path as MplPath

import csu_opt
from csu_opt.analysis.compare import compare_runs
from csu_opt.analysis.runner import run_solve
from csu_opt.cli.figures import compare, plot
from csu_opt.cli.main import main as cli_main
from csu_opt.errors import InstanceError
from csu_opt.instance.boundaries import Boundaries
from csu_opt.instance.export import write_workbook
from csu_opt.instance.geo import BoundaryFileError, read_shapes
from csu_opt.present.plots import map_figure
from csu_opt.present.plots_map import MapData, border_classes, ccg_map_figure
from csu_opt.present.plots_moves import compare_map_figure, resilience_map_figure
from csu_opt.present.style import series_style
from csu_opt.results.run import load_run

DATA = Path(__file__).parents[1] / "data"
WY = DATA / "west-yorkshire.yaml"
WEST = ["02N", "02W", "02R", "02T", "03A", "03J"]
EAST = ["02V", "03G", "03C", "03R"]
SVG = "{http://www.w3.org/2000/svg}"


def invoke(command: click.Command, *args: object) -> tuple[int, str]:
    result = CliRunner().invoke(command, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def solve(instance: Path, out: Path, overrides: tuple[str, ...] = ()) -> Path:
    run_solve(csu_opt.load_instance(instance, overrides), out, csu_opt.SolveOptions())
    return out


@pytest.fixture(scope="module")
def wy_run(tmp_path_factory) -> Path:
    return solve(WY, tmp_path_factory.mktemp("wy") / "run")


def gid_artists(fig, prefix: str) -> dict[str, object]:
    return {
        a.get_gid(): a
        for ax in fig.axes
        for a in ax.get_children()
        if isinstance(a.get_gid(), str) and a.get_gid().startswith(prefix)
    }


def segments(path: MplPath) -> set[frozenset[tuple[float, float]]]:
    """Undirected unit segments of a path of open polylines (rounded to 1e-9)."""
    out = set()
    for poly in path.to_polygons(closed_only=False):
        pts = [tuple(np.round(p, 9)) for p in poly]
        out |= {frozenset(pair) for pair in itertools.pairwise(pts)}
    return out


# --------------------------------------------------------------------------- squares

SX, SY, TX, TY = 0.5, 0.25, -2.0, 50.0  # the quantisation transform of the squares


def xy(c: float, r: float) -> tuple[float, float]:
    return (round(c * SX + TX, 9), round(r * SY + TY, 9))


def squares_topology(cols: int = 3, rows: int = 2) -> dict:
    """Unit squares Q<c><r> as a quantised TopoJSON topology, every unit edge one arc
    (delta-encoded: a start position and one step), each used forwards by the first square
    that has it and backwards (~i) by its neighbour."""
    arcs: list[tuple[tuple[int, int], tuple[int, int]]] = []
    index: dict[frozenset, int] = {}
    geoms = []
    for r in range(rows):
        for c in range(cols):
            corners = [(c, r), (c + 1, r), (c + 1, r + 1), (c, r + 1)]  # counter-clockwise
            ring = []
            for p, q in zip(corners, corners[1:] + corners[:1], strict=True):
                key = frozenset((p, q))
                if key not in index:
                    index[key] = len(arcs)
                    arcs.append((p, q))
                i = index[key]
                ring.append(i if arcs[i] == (p, q) else ~i)
            geoms.append({"type": "Polygon", "id": f"Q{c}{r}", "arcs": [ring]})
    return {
        "type": "Topology",
        "transform": {"scale": [SX, SY], "translate": [TX, TY]},
        "objects": {"squares": {"type": "GeometryCollection", "geometries": geoms}},
        "arcs": [[list(p), [q[0] - p[0], q[1] - p[1]]] for p, q in arcs],
    }


def squares_geojson(cols: int = 3, rows: int = 2) -> dict:
    features = []
    for r in range(rows):
        for c in range(cols):
            ring = [xy(c, r), xy(c + 1, r), xy(c + 1, r + 1), xy(c, r + 1), xy(c, r)]
            features.append(
                {
                    "type": "Feature",
                    "id": f"Q{c}{r}",
                    "properties": {"code": f"sq-{c}{r}"},
                    "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in ring]]},
                }
            )
    return {"type": "FeatureCollection", "features": features}


#: networks on the 3 x 2 grid:  row 1:  N1 N2 N2      row 0:  N1 N1 N2
NETWORK = {"Q00": "N1", "Q10": "N1", "Q01": "N1", "Q20": "N2", "Q11": "N2", "Q21": "N2"}
#: the unit edges between squares of different networks, read off the grid
BETWEEN = {
    frozenset((xy(2, 0), xy(2, 1))),  # Q10 | Q20
    frozenset((xy(1, 1), xy(1, 2))),  # Q01 | Q11
    frozenset((xy(1, 1), xy(2, 1))),  # Q10 / Q11
}
#: edges between squares of one network
WITHIN = {
    frozenset((xy(1, 0), xy(1, 1))),  # Q00 | Q10
    frozenset((xy(0, 1), xy(1, 1))),  # Q00 / Q01
    frozenset((xy(2, 1), xy(3, 1))),  # Q20 / Q21
    frozenset((xy(2, 1), xy(2, 2))),  # Q11 | Q21
}


@pytest.fixture(params=["topojson", "geojson"])
def squares(request, tmp_path) -> Path:
    doc = squares_topology() if request.param == "topojson" else squares_geojson()
    path = tmp_path / f"squares.{request.param}"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def squares_map(path: Path, network: dict[str, str] = NETWORK) -> MapData:
    ccgs = pd.DataFrame(
        {
            "ccg": list(network),
            "name": list(network),
            "region": "grid",
            "lead": list(network.values()),
            "split": False,
        }
    )
    bounds = Boundaries(str(path), {q: q for q in network}, attribution="test attribution")
    return MapData(ccgs, sorted(set(network.values())), {}, bounds)


def test_squares_read_as_drawn(squares):
    shapes = read_shapes(squares)
    assert set(shapes.keys) == set(NETWORK)
    q11 = shapes.rings[shapes.index["Q11"]]
    assert len(q11) == 1
    corners = {tuple(np.round(p, 9)) for p in q11[0]}
    assert corners == {xy(1, 1), xy(2, 1), xy(2, 2), xy(1, 2)}
    x, y = q11[0][:, 0], q11[0][:, 1]
    assert np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]) > 0  # exterior counter-clockwise
    sides = {frozenset(shapes.keys[i] for i in s if i >= 0) for s in shapes.sides}
    neighbours = {s for s in sides if len(s) == 2}
    assert len(neighbours) == 7  # 4 side by side, 3 above one another
    assert frozenset(("Q00", "Q11")) not in neighbours  # a corner is no border
    assert shapes.geographic


def test_borders_between_networks_are_exactly_the_grid_edges(squares):
    data = squares_map(squares)
    classes = border_classes(data)
    lines = {k: set().union(*(segments(MplPath(v)) for v in vs)) for k, vs in classes.items()}
    assert lines["network"] == BETWEEN
    assert lines["ccg"] == WITHIN
    assert len(lines["edge"]) == 10  # the grid's perimeter: 3 + 3 + 2 + 2 unit edges
    # drawn: one heavy path of exactly those edges, heavier than the borders inside a network
    fig = ccg_map_figure(data, "squares", [])
    borders = gid_artists(fig, "borders:")
    assert segments(borders["borders:network"].get_path()) == BETWEEN
    assert segments(borders["borders:ccg"].get_path()) == WITHIN
    assert borders["borders:network"].get_linewidth() > 2 * borders["borders:ccg"].get_linewidth()
    shapes = gid_artists(fig, "ccg:")
    assert sorted(shapes) == sorted(f"ccg:{q}" for q in NETWORK)
    # one network everywhere: no border between networks is left
    one = squares_map(squares, dict.fromkeys(NETWORK, "N1"))
    assert border_classes(one)["network"] == []


def test_geojson_matched_by_a_property(tmp_path):
    path = tmp_path / "sq.geojson"
    path.write_text(json.dumps(squares_geojson()))
    shapes = read_shapes(path, key="code")
    assert set(shapes.keys) == {f"sq-{q[1:]}" for q in NETWORK}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not a JSON file (line 1"),
        ("[1, 2]", "not TopoJSON or GeoJSON"),
        ('{"type": "Topology", "objects": {}, "arcs": []}', "at least one object"),
        (
            '{"type": "FeatureCollection", "features": [{"type": "Feature", "id": "A", '
            '"geometry": {"type": "Point", "coordinates": [0, 0]}}]}',
            "feature 0 (A) is a Point; a boundary must be a Polygon or a MultiPolygon",
        ),
        (
            '{"type": "Topology", "arcs": [[[0, 0], [1, 1]]], "objects": {"o": {"type": '
            '"GeometryCollection", "geometries": '
            '[{"type": "Polygon", "id": "A", "arcs": [[5]]}]}}}',
            "geometry 0 (A) refers to arcs that do not exist (there are 1)",
        ),
    ],
)
def test_unreadable_boundary_files(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(BoundaryFileError, match=re.escape(message)):
        read_shapes(path)


# --------------------------------------------------------------------------- West Yorkshire


def svg_shapes(path: Path) -> dict[str, list[ET.Element]]:
    """``ccg:<id>`` group -> the path elements inside it."""
    root = ET.parse(path).getroot()
    return {
        g.get("id")[4:]: list(g.iter(f"{SVG}path"))
        for g in root.iter(f"{SVG}g")
        if (g.get("id") or "").startswith("ccg:")
    }


def fill(element: ET.Element) -> str:
    return re.search(r"fill: (#[0-9a-f]{6})", element.get("style") or "").group(1)


def test_wy_solution_is_the_hand_worked_one(wy_run):
    sol = csu_opt.read_results(wy_run)
    assert sol.objective == pytest.approx(395.0)
    lead = dict(zip(sol.assignments["ccg"], sol.assignments["lead"], strict=True))
    assert lead == {**dict.fromkeys(WEST, "L1"), **dict.fromkeys(EAST, "L2")}


def test_map_svg_one_shape_per_ccg_coloured_by_network(wy_run, tmp_path):
    code, out = invoke(plot, wy_run, "--kind", "map", "--out", tmp_path / "map.svg")
    assert code == 0, out
    shapes = svg_shapes(tmp_path / "map.svg")
    assert sorted(shapes) == sorted(WEST + EAST)
    assert all(len(paths) == 1 for paths in shapes.values())  # one boundary shape each
    # colours: the i-th network (largest first: L1 delivers 120, L2 80) has the i-th colour
    colour = {"L1": series_style(0)[0].lower(), "L2": series_style(1)[0].lower()}
    sol = csu_opt.read_results(wy_run)
    for ccg, lead in zip(sol.assignments["ccg"], sol.assignments["lead"], strict=True):
        assert fill(shapes[ccg][0]) == colour[lead], ccg
    # 02R (Bradford Districts) surrounds 02W (Bradford City): its path is two rings
    assert len(re.findall(r"M", shapes["02R"][0].get("d"))) == 2


def test_map_figure_legend_lists_and_attribution(wy_run):
    fig = map_figure(load_run(wy_run))
    side = fig.axes[1]
    legend = [t.get_text() for t in side.get_legend().get_texts()]
    assert legend == [
        "Bradford and Calderdale CSU (L1): 6 CCGs",
        "Leeds Support Ltd (L2): 4 CCGs",
    ]
    handles = side.get_legend().legend_handles
    assert [to_hex(h.get_facecolor()) for h in handles] == [
        series_style(0)[0].lower(),
        series_style(1)[0].lower(),
    ]
    lists = next(t for t in side.texts if t.get_gid() == "lists").get_text()
    assert "Subcontractors (1), by network:\n  L2: S1 (Comms Charity)" in lists
    assert "Exits (1; 25 staff):\n  X1 (Weak firm): other, 25 staff" in lists
    footer = next(t for t in fig.texts if t.get_gid() == "attribution").get_text()
    assert "Open Government Licence v3.0" in footer and "OS data" in footer
    assert "optimal" in fig.get_suptitle()


def test_wy_borders_between_networks(wy_run):
    """The heavy borders are exactly the arcs between an L1 and an L2 CCG. Read off the map:
    Leeds North and Leeds West meet Airedale, Wharfedale and Craven; Leeds West meets
    Bradford Districts and North Kirklees; Wakefield meets North Kirklees and Greater
    Huddersfield."""
    inst = csu_opt.load_instance(WY)
    data = MapData(load_run(wy_run).ccg_networks(), ["L1", "L2"], {}, inst.boundaries)
    shapes = read_shapes(DATA / "west-yorkshire.topojson")
    ring_segments = {
        c: set().union(*(segments(MplPath(r)) for r in shapes.rings[shapes.index[k]]))
        for c, k in inst.boundaries.feature_of.items()
    }
    pairs = set()
    for line in border_classes(data)["network"]:
        first = next(iter(segments(MplPath(line[:2]))))
        pairs.add(frozenset(c for c, segs in ring_segments.items() if first in segs))
    assert pairs == {
        frozenset(p)
        for p in (
            ("02N", "02V"),
            ("02N", "03C"),
            ("02R", "03C"),
            ("03J", "03C"),
            ("03J", "03R"),
            ("03A", "03R"),
        )
    }


def test_holes_stay_open(wy_run):
    """Bradford City (02W) lies in a hole of Bradford Districts (02R): drawn alone, 02R
    leaves the city unpainted."""
    inst = csu_opt.load_instance(WY)
    ccgs = load_run(wy_run).ccg_networks()
    data = MapData(ccgs[ccgs["ccg"] == "02R"], ["L1"], {}, inst.boundaries)
    fig = ccg_map_figure(data, "02R alone", [])
    ax = fig.axes[0]
    shapes = read_shapes(DATA / "west-yorkshire.topojson")
    city = shapes.rings[shapes.index["E38000018"]][0]
    inside = city[:-1].mean(axis=0)
    assert MplPath(city).contains_point(inside)
    districts = shapes.rings[shapes.index["E38000019"]][0]
    near = districts[:-1].mean(axis=0)  # a point of 02R outside the hole, for contrast
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())
    height = pixels.shape[0]

    def colour(p):
        x, y = ax.transData.transform(p)
        return to_hex(pixels[int(height - y), int(x)][:3] / 255)

    assert MplPath(districts).contains_point(near) and not MplPath(city).contains_point(near)
    assert colour(near) == series_style(0)[0].lower()
    assert colour(inside) == "#ffffff"  # the hole: not painted


def test_tiles_when_the_instance_has_no_boundaries(tmp_path, wy_run):
    doc = yaml.safe_load(WY.read_text())
    del doc["boundaries"]
    for name in ("west-yorkshire-demand.csv", "west-yorkshire-assignment.csv"):
        shutil.copy(DATA / name, tmp_path / name)
    path = tmp_path / "wy-plain.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    run = load_run(solve(path, tmp_path / "run"))
    assert run.instance is not None and run.instance.boundaries is None
    fig = map_figure(run)
    ax = fig.axes[0]
    cells = {p.get_gid() for p in ax.patches if isinstance(p, Rectangle)}
    assert cells == {f"ccg:{c}" for c in WEST + EAST}
    assert "West Yorkshire (10)" in {t.get_text() for t in ax.texts}
    assert not gid_artists(fig, "borders:")
    assert "no geography" in ax.get_xlabel()
    assert not [t for t in fig.texts if t.get_gid() == "attribution"]
    # the same solution with boundaries draws shapes, not tiles
    fig = map_figure(load_run(wy_run))
    assert not [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]
    assert len(gid_artists(fig, "ccg:")) == 10


# --------------------------------------------------------------------------- compare, N-1


def full_colour(fig) -> set[str]:
    """CCGs drawn in their network's full colour (the others are faded)."""
    full = {to_hex(series_style(i)[0]) for i in range(8)}
    return {
        gid[4:]
        for gid, pc in gid_artists(fig, "ccg:").items()
        if to_hex(pc.get_facecolor()[0]) in full
    }


def test_compare_map_highlights_exactly_the_moved_ccgs(wy_run, tmp_path):
    """With L2 free to serve 02T and 03J (assignment cost 0), each is 5 cheaper with L2
    (line B by S1 at 0.5): exactly these two move, and the cost falls to 385."""
    moved = solve(
        WY,
        tmp_path / "moved",
        ("assignment_costs.L2.02T.cost=0", "assignment_costs.L2.03J.cost=0"),
    )
    assert csu_opt.read_results(moved).objective == pytest.approx(385.0)
    cmp = compare_runs([load_run(wy_run), load_run(moved)])
    fig = compare_map_figure(cmp)
    assert full_colour(fig) == {"02T", "03J"}
    l2 = to_hex(series_style(list(cmp.runs[1].networks()["lead"]).index("L2"))[0])
    pcs = gid_artists(fig, "ccg:")
    assert {to_hex(pcs[f"ccg:{c}"].get_facecolor()[0]) for c in ("02T", "03J")} == {l2}
    highlight = gid_artists(fig, "highlight")["highlight"]
    assert len(highlight.get_path().to_polygons()) == 2  # the outlines of the two moved CCGs
    lists = next(t for t in fig.axes[1].texts if t.get_gid() == "lists").get_text()
    assert "CCGs that change network (2):" in lists
    assert "02T (NHS Calderdale): L1 → L2" in lists
    code, out = invoke(compare, wy_run, moved, "--map", tmp_path / "moved.svg")
    assert code == 0, out
    assert sorted(svg_shapes(tmp_path / "moved.svg")) == sorted(WEST + EAST)


def test_resilience_map_highlights_the_ccgs_that_move(tmp_path):
    """With one lead allowed (min 1) the optimum is still 395. L1 failing costs most (L2
    then serves all: +210), and exactly L1's six CCGs move."""
    run = solve(WY, tmp_path / "run", ("settings.lead_providers.min=1",))
    code, out = invoke(plot, run, "--kind", "resilience-map", "--out", tmp_path / "r.png")
    assert code == 1 and "no resilience.csv" in out and "csu-opt resilience" in out
    result = CliRunner().invoke(cli_main, ["resilience", str(run)])
    assert result.exit_code == 0, result.output
    fig = resilience_map_figure(load_run(run))
    assert full_colour(fig) == set(WEST)
    assert "if L1 (lead), the most critical provider, fails: 6 CCGs move" in fig.get_suptitle()
    assert "+210" in fig.get_suptitle()
    code, out = invoke(plot, run, "--kind", "resilience-map", "--out", tmp_path / "r.svg")
    assert code == 0, out
    assert len(svg_shapes(tmp_path / "r.svg")) == 10


def test_resilience_map_without_a_repair(wy_run, tmp_path):
    """With two leads required, losing L1 leaves no repair: its six CCGs are highlighted."""
    run = tmp_path / "run"
    shutil.copytree(wy_run, run)
    assert CliRunner().invoke(cli_main, ["resilience", str(run)]).exit_code == 0
    fig = resilience_map_figure(load_run(run))
    assert "no repair exists (infeasible)" in fig.get_suptitle()
    assert full_colour(fig) == set(WEST)


# --------------------------------------------------------------------------- validation


def wy_doc() -> dict:
    return yaml.safe_load(WY.read_text())


def load_doc(doc: dict, folder: Path) -> csu_opt.Instance:
    """The instance ``doc`` written to ``folder`` beside the fixture's tables and shapes."""
    for name in ("-demand.csv", "-assignment.csv", ".topojson"):
        shutil.copy(DATA / f"west-yorkshire{name}", folder / f"west-yorkshire{name}")
    path = folder / "wy.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return csu_opt.load_instance(path)


def problems(doc: dict, folder: Path) -> list[str]:
    with pytest.raises(InstanceError) as err:
        load_doc(doc, folder)
    return [str(p) for p in err.value.problems]


def test_boundaries_loaded_with_the_instance():
    inst = csu_opt.load_instance(WY)
    b = inst.boundaries
    assert b is not None and Path(b.path) == (DATA / "west-yorkshire.topojson").resolve()
    assert b.feature_of["02N"] == "E38000001" and b.feature_of["03R"] == "E38000190"
    assert "Open Government Licence" in b.attribution
    again = inst.with_changes(["settings.lead_providers.min=1"])  # kept through overrides
    assert again.boundaries == b


def test_missing_boundaries_file(tmp_path):
    doc = wy_doc()
    doc["boundaries"]["file"] = "nowhere/ccgs.topojson"
    (msg,) = problems(doc, tmp_path)
    assert msg.startswith(f"{tmp_path / 'wy.yaml'}, field 'boundaries': ")
    assert "boundaries file nowhere/ccgs.topojson not found" in msg
    result = CliRunner().invoke(cli_main, ["validate", str(tmp_path / "wy.yaml")])
    assert result.exit_code == 1 and "not found" in result.output
    assert "Traceback" not in result.output


def test_unreadable_boundaries_file(tmp_path):
    (tmp_path / "bad.topojson").write_text('{"type": "Topology"')
    doc = wy_doc()
    doc["boundaries"] = "bad.topojson"  # the short form: a path
    (msg,) = problems(doc, tmp_path)
    assert msg.startswith(f"{tmp_path / 'bad.topojson'}, field 'boundaries': not a JSON file")


def test_ccgs_without_a_shape_are_named_by_row_and_field(tmp_path):
    doc = wy_doc()
    doc["ccgs"][2]["ons_code"] = "E38999999"  # 02R, row 3
    del doc["ccgs"][4]["ons_code"]  # 03A, row 5: matched by its id, which no feature has
    found = problems(doc, tmp_path)
    assert len(found) == 2
    assert found[0].startswith(f"{tmp_path / 'wy.yaml'}, ccgs row 3, field 'ons_code': ")
    assert "no shape for ons_code 'E38999999' in west-yorkshire.topojson" in found[0]
    assert found[1].startswith(f"{tmp_path / 'wy.yaml'}, ccgs row 5, field 'id': ")
    assert "no shape for id '03A'" in found[1]


def test_two_ccgs_with_one_shape(tmp_path):
    doc = wy_doc()
    doc["ccgs"][1]["ons_code"] = "E38000001"  # 02W given 02N's code
    (msg,) = problems(doc, tmp_path)
    assert "ccgs row 2, field 'ons_code'" in msg and "also the shape of CCG 02N" in msg


def test_boundaries_field_errors(tmp_path):
    doc = wy_doc()
    doc["boundaries"] = {"file": "west-yorkshire.topojson", "colour": "red", "key": ""}
    found = problems(doc, tmp_path)
    assert any("field 'boundaries.colour': unknown field" in m for m in found)
    assert any("field 'boundaries.key': expected non-empty text" in m for m in found)
    doc["boundaries"] = 3
    (msg,) = problems(doc, tmp_path)
    assert "field 'boundaries': expected a file path or {file: PATH" in msg


def test_shapes_without_a_ccg_are_fine(tmp_path):
    """Nine of the ten CCGs: 02N's shape in the file serves no CCG, and is not drawn."""
    doc = wy_doc()
    doc["ccgs"] = [c for c in doc["ccgs"] if c["id"] != "02N"]
    for name in ("demand", "assignment"):
        table = pd.read_csv(DATA / f"west-yorkshire-{name}.csv", dtype=str)
        doc[{"demand": "demand", "assignment": "assignment_costs"}[name]] = table[
            table["ccg"] != "02N"
        ].to_dict("records")
    inst = load_doc(doc, tmp_path)
    assert len(inst.boundaries.feature_of) == 9
    run = load_run(solve(tmp_path / "wy.yaml", tmp_path / "run"))
    fig = map_figure(run)
    assert sorted(gid_artists(fig, "ccg:")) == sorted(f"ccg:{c}" for c in WEST + EAST if c != "02N")
    # 02N's borders are not drawn: its neighbours' sides towards it are the map's edge
    edge = gid_artists(fig, "borders:")["borders:edge"].get_path()
    shapes = read_shapes(DATA / "west-yorkshire.topojson")
    ring = shapes.rings[shapes.index["E38000001"]][0]
    assert len(segments(edge) & segments(MplPath(ring))) > 0


def test_match_by_id_with_geojson(tmp_path):
    """No ons_code column: each CCG's id is its feature's id (here the squares')."""
    (tmp_path / "sq.geojson").write_text(json.dumps(squares_geojson()))
    doc = yaml.safe_load((DATA / "tiny.yaml").read_text())
    doc["ccgs"] = [{"id": q} for q in ("Q00", "Q10", "Q20")]
    doc["demand"] = [
        {"ccg": q, "service_line": s, "volume": 10} for q in ("Q00", "Q10", "Q20") for s in "AB"
    ]
    doc["boundaries"] = "sq.geojson"
    path = tmp_path / "sq.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    inst = csu_opt.load_instance(path)
    assert dict(inst.boundaries.feature_of) == {q: q for q in ("Q00", "Q10", "Q20")}
    fig = map_figure(load_run(solve(path, tmp_path / "run")))
    assert "the instance gives no attribution" in next(
        t.get_text() for t in fig.texts if t.get_gid() == "attribution"
    )


def test_workbook_export_keeps_the_boundaries(tmp_path):
    book = write_workbook(WY, tmp_path / "book" / "wy.xlsx", tmp_path / "other" / "wy.yaml")
    assert book.is_file()
    written = yaml.safe_load((tmp_path / "other" / "wy.yaml").read_text())
    assert written["boundaries"]["file"].startswith("../")
    again = csu_opt.load_instance(tmp_path / "other" / "wy.yaml")
    assert again.boundaries == csu_opt.load_instance(WY).boundaries
