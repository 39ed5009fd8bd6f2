"""Draw the README's figures from the shipped England instances (a developer tool, not a command
of csu-opt).

    .venv/bin/python tools/readme_figures.py --time-limit 120     # about four minutes

Solves england-2013 and england-2014 into temporary result folders and writes small PNGs to
``results/figures/`` (``--out``): the 2014 networks, the 2014 map on the CCG boundaries, and the
2013-2014 comparison (chart and map of the CCGs that change network).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from csu_opt.analysis.compare import compare_runs
from csu_opt.analysis.runner import run_solve
from csu_opt.errors import CsuOptError
from csu_opt.instance.load import load_instance
from csu_opt.present.compare import comparison_figure
from csu_opt.present.plots import map_figure, network_figure
from csu_opt.present.plots_moves import compare_map_figure
from csu_opt.results.run import load_run
from csu_opt.solver.options import SolveOptions

ROOT = Path(__file__).resolve().parents[1]
README_INSTANCES = ("instances/england-2013.yaml", "instances/england-2014.yaml")


@click.command()
@click.option(
    "--out", type=click.Path(path_type=Path), default=Path("results/figures"), show_default=True
)
@click.option(
    "--time-limit", type=float, default=60.0, show_default=True, help="Seconds per solve."
)
def readme_figures(out: Path, time_limit: float) -> None:
    """Solve the shipped England instances and draw the README's figures (small PNGs)."""
    out.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            runs = []
            for path in README_INSTANCES:
                inst = load_instance(ROOT / path)
                folder = Path(tmp) / inst.name
                run_solve(inst, folder, SolveOptions(time_limit=time_limit))
                runs.append(load_run(folder))
            latest = runs[-1]
            cmp = compare_runs(runs)
            written = {  # map.png: the CCGs' boundaries once the instance names them
                "network.png": network_figure(latest),
                "map.png": map_figure(latest),
                "compare-2013-2014.png": comparison_figure(cmp),
                "compare-map-2013-2014.png": compare_map_figure(cmp),
            }
            for name, fig in written.items():
                fig.savefig(out / name, dpi=75)
                click.echo(f"{out / name} ({(out / name).stat().st_size // 1024} kB)")
    except CsuOptError as exc:
        raise click.ClickException(str(exc)) from None


if __name__ == "__main__":  # pragma: no cover
    readme_figures()
