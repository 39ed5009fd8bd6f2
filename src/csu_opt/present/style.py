"""The figures' shared look: the colour-blind-safe palette (Okabe-Ito), role and cost-part colours
and labels, series styles, and the status line every run figure carries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from csu_opt.numbers import pct

if TYPE_CHECKING:
    from csu_opt.results.run import Run


OKABE_ITO = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "sky": "#56B4E9",
    "yellow": "#F0E442",
    "black": "#000000",
}
GREY = "#999999"
KIND_COLOURS = {
    "csu": OKABE_ITO["blue"],
    "private": OKABE_ITO["orange"],
    "charity": OKABE_ITO["green"],
    "council": OKABE_ITO["purple"],
    "other": OKABE_ITO["sky"],
}
ROLE_COLOURS = {
    "lead": OKABE_ITO["blue"],
    "subcontractor": OKABE_ITO["sky"],
    "exit": OKABE_ITO["vermillion"],
    "merged": OKABE_ITO["yellow"],
}
PARTS = ("lead_fixed", "subcontractor_fixed", "partnership", "delivery", "assignment", "exit")
#: The seventh part, drawn only for runs of an instance with mergers.
MERGER_PART = "merger"
PART_LABELS = {
    "lead_fixed": "lead fixed",
    "subcontractor_fixed": "subcontractor fixed",
    "partnership": "partnership",
    "delivery": "delivery",
    "assignment": "assignment",
    "exit": "exit",
    "merger": "merger",
}
PART_COLOURS = dict(
    zip(
        (*PARTS, MERGER_PART),
        ("blue", "sky", "purple", "orange", "green", "vermillion", "yellow"),
        strict=True,
    )
)
#: Colours for series (networks, members); ``series_style(i)`` adds hatches past eight.
SERIES = [OKABE_ITO[k] for k in ("blue", "orange", "green", "vermillion", "purple", "sky")] + [
    OKABE_ITO["yellow"],
    GREY,
]
HATCHES = ("", "///", "...", "xxx", "\\\\\\")


def mtext(text: object) -> str:
    """Instance text made safe for matplotlib: a '$' would start mathtext."""
    return str(text).replace("$", r"\$")


def series_style(i: int) -> tuple[str, str]:
    """Colour and hatch of the i-th series: eight colours, then again with a hatch."""
    return SERIES[i % len(SERIES)], HATCHES[(i // len(SERIES)) % len(HATCHES)]


def kind_colour(kind: str) -> str:
    return KIND_COLOURS.get(str(kind), GREY)


def status_note(run: Run) -> str:
    """'optimal' or 'feasible at a limit, gap 0.63%': never hide a gap."""
    sol = run.solution
    if sol.status.value == "optimal":
        return "optimal"
    if sol.status.value == "feasible":
        gap = f", gap {pct(sol.mip_gap)}" if sol.mip_gap is not None else ""
        return f"feasible, stopped at a limit{gap}"
    return sol.status.value.replace("_", " ")
