"""One self-contained HTML report of a run or a sweep: summary, figures, tables and the
reproducibility record, readable in any browser with no server and no network.

Figures are embedded as base64 PNG; styles and the one script are inline. Every piece of text
from an instance or a result file goes through :func:`html.escape`: an instance is data, never
markup. A Content-Security-Policy allows images from ``data:`` only and only the report's own
script (by its hash), so even a slip in escaping could not run injected code.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import shlex
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from csu_opt.analysis.compare import Comparison
from csu_opt.errors import CsuOptError
from csu_opt.files import write_text
from csu_opt.numbers import (
    as_float,
    clean_record,
    missing,
    money,
    number,
    pct,
    points,
    seconds,
    staff,
)
from csu_opt.present.compare import comparison_figure, market_lines
from csu_opt.present.html import Shown, esc, figure_html, page, table_html
from csu_opt.present.plots import RUN_FIGURES
from csu_opt.present.plots_moves import resilience_map_figure
from csu_opt.present.plots_sweep import (
    Sweep,
    sweep_heatmap_figure,
    sweep_leads_figure,
    sweep_lines_figure,
)
from csu_opt.present.report_whatif import whatif_sections
from csu_opt.present.style import status_note
from csu_opt.results.run import Run
from csu_opt.version import __version__


#: Sets data-figures-ok="yes" on <body> once every <img> has loaded (read by the browser test).
def _versions() -> list[tuple[str, str]]:
    out = [("csu-opt (report)", __version__), ("python", platform.python_version())]
    for pkg in ("pandas", "numpy", "matplotlib", "pyomo", "highspy"):
        try:
            out.append((pkg, metadata.version(pkg)))
        except metadata.PackageNotFoundError:
            out.append((pkg, "not installed"))
    return out


# --------------------------------------------------------------------------- run


def run_report(run: Run) -> str:
    sol = run.solution
    inst = run.instance
    rec = sol.instance
    title = f"csu-opt report: {run.label}"
    parts = [f"<h1>{esc(title)}</h1>"]
    if inst is not None and inst.description:
        parts.append(f"<p>{esc(inst.description)}</p>")
    parts.append(f"<p><strong>Market solved:</strong> {esc(MARKETS[run.market])}.</p>")
    if sol.status.value == "infeasible":
        parts.extend(_infeasible_sections(run))
    elif sol.status.value == "no_solution":
        parts.append(
            f'<p class="warn"><strong>No network found</strong> within the limits: '
            f"{esc(sol.message)}. Nothing is proven about feasibility; a longer time limit "
            "may find one.</p>"
        )
        parts.append(table_html(["", "value"], _run_facts(run)))
    else:
        parts.extend(_solution_sections(run))

    parts.extend(whatif_sections(run.folder, run.cost_unit, _resilience_map(run)))
    s = sol.summary()
    parts.append("<h2>Reproducibility</h2>")
    options = sol.solver.get("options", {})
    parts.append(
        table_html(
            ["", "value"],
            [
                ("instance", rec.get("name", "")),
                ("instance file", rec.get("path", "")),
                ("instance sha256 (at the solve)", rec.get("sha256", "")),
                ("instance file now", _hash_check(run)),
                ("overrides", "; ".join(rec.get("overrides") or []) or "none"),
                ("csu-opt version (solve)", s.get("csu_opt_version", "")),
                ("solver", f"{sol.solver.get('name', '')} {sol.solver.get('version', '')}"),
                ("solver options", json.dumps(options, sort_keys=True)),
                ("timings (s)", json.dumps(clean_record(vars(sol.timings)))),
                ("result folder", str(run.folder.resolve())),
                ("report written", dt.datetime.now().isoformat(timespec="seconds")),
                *((f"{k} version (report)", v) for k, v in _versions()),
            ],
        )
    )
    parts.append(f"<p>To solve again:</p><pre>{esc(shlex.join(_solve_command(run)))}</pre>")
    return page(title, parts)


#: The two markets in a planner's words (settings.ccg_choice).
MARKETS = {
    "managed": "managed market (the planner places every CCG)",
    "free": "free choice (each CCG buys from the formed network it prefers, C12)",
}


def comparison_report(cmp: Comparison) -> str:
    """One HTML page of ``csu-opt compare``: the runs side by side, the planner's answer
    when they solved the two markets, the CCGs that move, the comparison figure."""
    title = "csu-opt comparison: " + " | ".join(cmp.labels)
    parts = [f"<h1>{esc(title)}</h1>"]
    rows = []
    for key, row in cmp.overview.iterrows():
        cells: list[Any] = [str(key)]
        for lab in cmp.labels:
            v = row[lab]
            if key == "market":
                cells.append(MARKETS.get(str(v), str(v)))
            elif key == "MIP gap":
                cells.append(Shown(pct(v)))
            else:
                cells.append(None if missing(v) else v)
        rows.append(cells)
    parts.append(table_html(["", *cmp.labels], rows))
    if cmp.market is not None:
        ans = cmp.market
        unit = next((r.cost_unit for r in cmp.runs if r.label == ans.free), "")
        parts.append("<h2>Managed market or free choice</h2>")
        parts.append("<ul>" + "".join(f"<li>{esc(x)}</li>" for x in market_lines(ans, unit)))
        parts.append("</ul>")
        if len(ans.moves):
            parts.append(f"<h3>CCGs that move under free choice ({len(ans.moves)})</h3>")
            parts.append(table_html(list(ans.moves.columns), ans.moves.itertuples(index=False)))
        if len(ans.exits):
            parts.append("<h3>Providers that exit under one market only</h3>")
            parts.append(table_html(list(ans.exits.columns), ans.exits.itertuples(index=False)))
    for heading, df in (
        ("Providers whose role changed", cmp.roles),
        ("CCGs that moved", cmp.moves),
    ):
        parts.append(f"<h2>{esc(heading)} ({len(df)})</h2>")
        if len(df):
            shown = df.reset_index()
            parts.append(table_html(list(shown.columns), shown.itertuples(index=False)))
    parts.append(figure_html(comparison_figure(cmp), "the runs side by side", "compare"))
    return page(title, parts)


def _solve_command(run: Run, overrides: Sequence[str] = (), flags: Sequence[str] = ()) -> list[str]:
    """The command that solves the run again, with ``overrides`` added and ``flags``
    (e.g. ``--max-moves 1``) replacing the options they name."""
    sol, rec = run.solution, run.solution.instance
    options = sol.solver.get("options", {})
    cmd = ["csu-opt", "solve", str(rec.get("path", "INSTANCE"))]
    for o in [*(rec.get("overrides") or []), *overrides]:
        cmd += ["--set", str(o)]
    for key, flag in (
        ("time_limit", "--time-limit"),
        ("mip_gap", "--mip-gap"),
        ("threads", "--threads"),
        ("random_seed", "--seed"),
    ):
        if options.get(key) is not None:
            cmd += [flag, str(options[key])]
    if (options.get("concurrent") or 1) > 1:  # only when on (older results lack the keys)
        cmd += ["--concurrent", str(options["concurrent"])]
    if options.get("polish"):
        cmd += ["--polish", str(options["polish"])]
    given = {f.split()[0]: f.split()[1:] for f in flags}
    incumbent = sol.extra.get("incumbent") or {}
    if incumbent.get("source"):  # a solve held close to today's arrangement
        cmd += ["--incumbent", str(incumbent["source"])]
        if incumbent.get("max_moves") is not None and "--max-moves" not in given:
            cmd += ["--max-moves", str(incumbent["max_moves"])]
        if incumbent.get("churn_cost") and "--churn-cost" not in given:
            cmd += ["--churn-cost", str(incumbent["churn_cost"])]
    for flag, values in given.items():
        cmd += [flag, *values]
    return cmd


def _run_facts(run: Run, bound: bool = True) -> list[tuple[str, Any]]:
    sol = run.solution
    facts: list[tuple[str, Any]] = [("status", sol.status.value), ("message", sol.message)]
    if bound:
        facts.append((f"best bound ({run.cost_unit})", sol.best_bound))
    return [*facts, ("solve time", Shown(seconds(sol.timings.total_s)))]


def _infeasible_sections(run: Run) -> list[str]:
    """An infeasible run: why (the explanation saved with it) and the suggested relaxation
    first; no figures or tables of a network that does not exist."""
    sol = run.solution
    record: dict[str, Any] = sol.extra.get("explanation") or {}
    saved = run.folder / "explanation.txt"
    lines = saved.read_text(encoding="utf-8").splitlines() if saved.is_file() else []
    cut = next(  # the suggestions follow, with their commands
        (i for i, line in enumerate(lines) if line.startswith("Suggested relaxation")), None
    )
    text = "\n".join(lines[:cut] if cut is not None and record else lines).strip()
    parts = [
        f'<p class="warn"><strong>Infeasible</strong>: {esc(sol.message)}. There is no '
        "network to show; below is why, and the smallest change that restores one.</p>"
    ]
    parts.append("<h2>Why</h2>")
    if text:
        parts.append(f"<pre>{esc(text)}</pre>")
    else:
        path = sol.instance.get("path", "INSTANCE")
        parts.append(
            "<p>No explanation was saved with this run. "
            f"<code>{esc(shlex.join(['csu-opt', 'explain', str(path)]))}</code> gives one.</p>"
        )
    found = [s for s in [record.get("suggestion"), *record.get("alternatives", [])] if s]
    if found:
        parts.append("<h2>Suggested relaxation</h2>")
        items = []
        for s in found:
            state = "verified by a solve" if s.get("verified") else "NOT verified"
            if s.get("verified") and s.get("objective") is not None:
                state += f", optimum {money(s['objective'])} ({run.cost_unit})"
            cmd = shlex.join(_solve_command(run, s.get("overrides", ()), s.get("flags", ())))
            items.append(
                f"<li><p>{esc(s.get('text', ''))} ({esc(state)})</p><pre>{esc(cmd)}</pre></li>"
            )
        parts.append(f"<ol>{''.join(items)}</ol>")
    elif record:
        parts.append(
            "<p>No relaxation of a single rule group restores feasibility: the data "
            "(capacities, qualities, demand, roles) must change.</p>"
        )
    parts.append("<h2>Run</h2>")
    parts.append(table_html(["", "value"], _run_facts(run, bound=False)))
    return parts


def _solution_sections(run: Run) -> list[str]:
    """A run with a network: its status, summary, costs, figures and tables."""
    sol, inst = run.solution, run.instance
    parts = []
    if sol.status.value == "optimal":
        parts.append(
            f'<p class="ok">Proven optimal within the requested gap ({esc(pct(sol.mip_gap))}).</p>'
        )
    else:
        parts.append(
            f'<p class="warn"><strong>Not proven optimal</strong>: {esc(status_note(run))}. '
            "The best possible cost lies between the best bound and the objective below; "
            f"{esc(sol.message)}</p>"
        )
    if run.note:
        parts.append(f'<p class="warn">{esc(run.note)}</p>')
    s = sol.summary()
    counts = s.get("counts", {})
    unit = run.cost_unit
    parts.append("<h2>Summary</h2>")
    parts.append(
        table_html(
            ["", "value"],
            [
                ("status", sol.status.value),
                (f"objective ({unit})", sol.objective),
                (f"best bound ({unit})", sol.best_bound),
                ("MIP gap", Shown(pct(sol.mip_gap))),
                ("lead providers", len(sol.leads)),
                ("subcontractors", int(counts.get("subcontractors", 0))),
                ("exits", len(sol.exits)),
                ("staff of exiting providers", Shown(staff(counts.get("staff_exiting", 0.0)))),
                ("CCGs", int(counts.get("ccgs", 0))),
                ("solve time", Shown(seconds(sol.timings.total_s))),
            ],
        )
    )
    if sol.cost_breakdown is not None:
        cb = dict(vars(sol.cost_breakdown))
        parts.append(
            table_html(
                ["cost part", unit], [(k.replace("_", " "), float(v)) for k, v in cb.items()]
            )
        )
    parts.append("<h2>Figures</h2>")
    captions = {
        "network": "Each lead's network: the volume each member delivers, coloured by "
        "provider kind (lead outlined); exits below with the staff affected.",
        "lines": "Per network and service line: volume by who delivers it, demand (black "
        "tick) and volume-weighted quality q against the target Q.",
        "costs": "The objective in its six parts; a black band marks any MIP gap.",
        "map": "Which network serves each CCG, region by region (schematic, no geography).",
    }
    if inst is not None and inst.boundaries is not None:
        captions["map"] = (
            "Which network serves each CCG, on the CCGs' boundaries; heavy lines are the "
            "borders between networks. " + inst.boundaries.attribution
        ).strip()
    for name, make in RUN_FIGURES.items():
        parts.append(figure_html(make(run), captions[name], name))
    parts.extend(_run_tables(run))
    return parts


def _resilience_map(run: Run) -> dict[str, str]:
    """The N-1 map, for the resilience section, when the run folder has resilience.csv."""
    if not run.solution.status.has_solution or not (run.folder / "resilience.csv").is_file():
        return {}

    try:
        fig = resilience_map_figure(run)
    except (CsuOptError, KeyError, ValueError):  # an unreadable file: the table says enough
        return {}
    caption = (
        "The CCGs that move when the most critical provider fails (highlighted), on the "
        "network analysed."
    )
    return {"resilience.csv": figure_html(fig, caption, "resilience-map")}


def _hash_check(run: Run) -> str:
    if run.instance is None:
        return run.note or "not found"
    if run.instance.sha256 == run.solution.instance.get("sha256"):
        return "found, unchanged (same sha256)"
    return run.note or "found, changed since the solve"


def _run_tables(run: Run) -> list[str]:
    sol = run.solution
    names = run.provider_names()
    nets = run.networks()
    out = [
        "<h2>Networks</h2>",
        table_html(
            ["lead", "name", "kind", "subcontractors", "CCGs", f"volume ({run.volume_unit})"],
            [
                (
                    r.lead,
                    r.name,
                    r.kind,
                    ", ".join(r.members[1:]) or "-",
                    int(r.ccgs),
                    Shown(number(r.volume)),
                )
                for r in nets.itertuples()
            ],
        ),
    ]
    quality = run.quality_by_network()
    lines = run.line_ids()
    targets = run.quality_targets()
    out.append("<h2>Volume-weighted quality per network and line</h2>")
    rows = [
        [r.lead, *(_quality(quality.get((r.lead, s))) for s in lines)] for r in nets.itertuples()
    ]
    if targets:
        rows.append(["target", *(_quality(targets.get(s)) for s in lines)])
    out.append(table_html(["network", *lines], rows))
    out.append("<h2>Providers</h2>")
    out.append(
        table_html(
            ["provider", "name", "kind", "role", "serves", "staff"],
            [
                (p, names.get(p, p), k, role, (leads or "-").replace(";", ", "), Shown(staff(n)))
                for p, k, role, leads, n in zip(
                    sol.roles["provider"],
                    sol.roles["kind"],
                    sol.roles["role"],
                    sol.roles["leads"],
                    sol.roles.get("staff", [0.0] * len(sol.roles)),
                    strict=True,
                )
            ],
        )
    )
    return out


# --------------------------------------------------------------------------- sweep


def sweep_report(sw: Sweep) -> str:
    spec = sw.spec
    title = f"csu-opt sweep report: {sw.name or sw.folder.name}"
    df = sw.cases
    status = df["status"].fillna("not finished").value_counts()
    parts = [
        f"<h1>{esc(title)}</h1>",
        f"<p>{len(df)} cases over {esc(', '.join(sw.axes) or 'no axes')}: "
        + esc(", ".join(f"{n} {k}" for k, n in status.items()))
        + ".</p>",
    ]
    open_cases = df[~df["proven"].astype(bool)]
    if len(open_cases):
        listed = "; ".join(
            f"{sw.case_label(r)} ({r['status'] if isinstance(r['status'], str) else 'unfinished'}"
            + (f", gap {pct(as_float(r['mip_gap']))}" if as_float(r["mip_gap"]) is not None else "")
            + ")"
            for _, r in open_cases.iterrows()
        )
        parts.append(
            f'<p class="warn"><strong>{len(open_cases)} case(s) not proven</strong> '
            f"(stopped at a limit or unfinished): {esc(listed)}. Their optimum lies between "
            "the best bound and the objective, and their lead sets need not be an optimum's: "
            "open markers and gap bands in the figures, 'gap' in the heatmap, hatched and "
            "starred (*) in the who-leads matrix.</p>"
        )
    if spec.get("threshold"):
        parts.extend(_tipping_html(sw))
    parts.append("<h2>Figures</h2>")
    if sw.axes:
        x = sw.axes[0]
        parts.append(
            figure_html(
                sweep_lines_figure(sw, x, "objective"),
                f"Total cost over {x}; the band is the MIP gap.",
                "objective",
            )
        )
        parts.append(
            figure_html(
                sweep_lines_figure(sw, x, "leads"),
                f"Number of lead providers over {x}.",
                "leads-count",
            )
        )
    if len(sw.axes) == 2:
        parts.append(
            figure_html(
                sweep_heatmap_figure(sw, sw.axes[0], sw.axes[1]),
                "Total cost over both varied keys.",
                "heatmap",
            )
        )
    parts.append(
        figure_html(sweep_leads_figure(sw), "Role of every provider in every case.", "leads")
    )
    parts.append("<h2>Cases</h2>")
    cols = [
        "status",
        "proven",
        "objective",
        "best_bound",
        "mip_gap",
        "n_leads",
        "n_exits",
        "leads",
    ]
    rows = []
    for _, r in df.iterrows():
        leads = ", ".join(json.loads(r["leads"])) if isinstance(r["leads"], str) else "-"
        rows.append(
            [
                sw.case_label(r),
                r["status"],
                "yes" if r["proven"] else "no",
                as_float(r["objective"]),
                as_float(r["best_bound"]),
                Shown(pct(as_float(r["mip_gap"]))),
                _int(r["n_leads"]),
                _int(r["n_exits"]),
                leads,
                r["case_key"],
            ]
        )
    parts.append(table_html(["case", *cols, "folder"], rows))
    parts.append("<h2>Reproducibility</h2>")
    first = _first_summary(sw)
    cmd = ["csu-opt", "sweep", str(spec.get("instance", "INSTANCE"))]
    for a in spec.get("axes", []):
        cmd += [
            "--scale" if a.get("scale") else "--vary",
            f"{a['key']}={','.join(str(v) for v in a['values'])}",
        ]
    threshold = spec.get("threshold") or {}
    if threshold:
        cmd += ["--find-threshold", str(threshold.get("as_given") or threshold["key"])]
        cmd += ["--range", str(threshold.get("range"))]
        if threshold.get("tol") is not None:
            cmd += ["--tol", str(threshold["tol"])]
    for o in spec.get("set", []):
        cmd += ["--set", str(o)]
    if spec.get("time_limit") is not None:
        cmd += ["--time-limit", str(spec["time_limit"])]
    if spec.get("mip_gap") is not None:
        cmd += ["--mip-gap", str(spec["mip_gap"])]
    cmd += ["--out", str(sw.folder)]
    inst = first.get("instance", {})
    parts.append(
        table_html(
            ["", "value"],
            [
                ("instance file", spec.get("instance", "")),
                ("instance sha256", inst.get("sha256", "-")),
                ("fixed overrides", "; ".join(spec.get("set", [])) or "none"),
                (
                    "time limit per case",
                    seconds(spec["time_limit"]) if spec.get("time_limit") else "none",
                ),
                ("MIP gap", pct(spec.get("mip_gap"))),
                ("csu-opt version (solve)", first.get("csu_opt_version", "-")),
                (
                    "solver",
                    f"{first.get('solver', {}).get('name', '-')} "
                    f"{first.get('solver', {}).get('version', '')}",
                ),
                ("sweep folder", str(sw.folder.resolve())),
                ("report written", dt.datetime.now().isoformat(timespec="seconds")),
                *((f"{k} version (report)", v) for k, v in _versions()),
            ],
        )
    )
    parts.append(f"<p>To run (or resume) the sweep:</p><pre>{esc(shlex.join(cmd))}</pre>")
    return page(title, parts)


def _tipping_html(sw: Sweep) -> list[str]:
    """The tipping points of a threshold search: where, and which leads on either side."""
    key = sw.axes[0]
    out = [f"<h2>Tipping points of {esc(key)}</h2>"]
    if not sw.tipping:
        return [*out, f"<p>The set of leads does not change over the range of {esc(key)}.</p>"]
    df = sw.cases
    by_value = {as_float(v): leads for v, leads in zip(df[key], df["leads"], strict=True)}

    def leads(v: float) -> str:
        text = by_value.get(v)
        return ", ".join(json.loads(text)) if isinstance(text, str) and text else "no solution"

    rows = [(Shown(f"{a:g}"), Shown(f"{b:g}"), leads(a), leads(b)) for a, b in sw.tipping]
    out.append(
        "<p>Between the two values of each row the set of lead providers changes; the search "
        "narrowed each change to that interval.</p>"
    )
    out.append(table_html(["between", "and", "leads below", "leads above"], rows))
    return out


def _quality(v: float | None) -> Shown:
    """Quality points (0-100) to one decimal."""
    return Shown(points(v))


def _int(v: Any) -> int | None:
    f = as_float(v)
    return None if f is None else int(f)


def _first_summary(sw: Sweep) -> dict[str, Any]:
    for key in sw.cases["case_key"]:
        path = sw.folder / "cases" / str(key) / "summary.json"
        if path.is_file():
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return data
    return {}


def write_html(text: str, out: Path) -> Path:
    """The report, written atomically (csu_opt.files)."""
    return write_text(out, text)
