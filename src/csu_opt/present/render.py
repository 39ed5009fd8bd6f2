"""Terminal rendering (rich) of instances and solutions. Reads plain data only."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from csu_opt.errors import InstanceError
from csu_opt.instance.load import Instance
from csu_opt.numbers import money, number, pct, seconds, staff
from csu_opt.results.solution import Role, Solution

err_console = Console(stderr=True)


def print_lines(console: Console, lines: Iterable[str], prefix: str = "") -> None:
    """Plain text lines (no markup, no highlighting, long lines kept whole)."""
    for line in lines:
        console.print(f"{prefix}{line}", highlight=False, markup=False, soft_wrap=True)


def print_problems(console: Console, err: InstanceError) -> None:
    n = len(err.problems)
    console.print(
        f"[bold red]error:[/] {n} problem{'s' if n != 1 else ''} in the instance:",
        highlight=False,
        soft_wrap=True,
    )
    print_lines(console, (str(p) for p in err.problems), prefix="  - ")


def instance_summary(console: Console, inst: Instance) -> None:
    """Counts of providers by kind, lines, CCGs, total demand and eligible capacity per line."""
    prov = inst.providers
    console.print(f"[bold]{inst.name}[/]: valid ({inst.source})", highlight=False)
    if inst.description:
        console.print(f"  {inst.description}", highlight=False, markup=False)
    kinds = prov.groupby("kind").agg(
        n=("kind", "size"), lead=("can_lead", "sum"), staff=("staff", "sum")
    )
    t = Table(title="Providers by kind", title_justify="left")
    for col in ("kind", "providers", "lead-capable", "staff"):
        t.add_column(col, justify="left" if col == "kind" else "right")
    for kind, row in kinds.iterrows():
        t.add_row(str(kind), str(int(row["n"])), str(int(row["lead"])), staff(row["staff"]))
    t.add_row(
        "total",
        str(len(prov)),
        str(int(prov["can_lead"].sum())),
        staff(prov["staff"].sum()),
        style="bold",
    )
    console.print(t)
    dem = inst.total_demand()
    elig = inst.eligible.groupby("service_line")["capacity"].sum()
    n_elig = inst.eligible.groupby("service_line")["provider"].nunique()
    lines = Table(
        title=f"Service lines ({len(inst.service_lines)}), {len(inst.ccgs)} CCGs",
        title_justify="left",
    )
    for col in (
        "line",
        "quality bar",
        "demand",
        "eligible capacity",
        "eligible providers",
        "capacity/demand",
    ):
        lines.add_column(col, justify="left" if col == "line" else "right")
    for s, row in inst.service_lines.iterrows():
        cap = float(elig.get(s, 0.0))
        d = float(dem[s])
        ratio = f"{cap / d:.2f}" if d > 0 else "-"
        lines.add_row(
            f"{s} ({row['name']})" if row["name"] != s else str(s),
            f"{row['quality_threshold']:g}",
            number(d),
            number(cap),
            str(int(n_elig.get(s, 0))),
            ratio,
        )
    console.print(lines)
    st = inst.settings
    band = f"{st.lead_min if st.lead_min is not None else 0}-" + (
        str(st.lead_max) if st.lead_max is not None else "any"
    )
    console.print(
        f"  leads {band}; single sourcing {'on' if st.single_sourcing else 'off'}; "
        f"up to {st.max_leads_per_subcontractor} lead(s) per subcontractor; "
        f"self-delivery share >= {st.lead_self_delivery_min_share:g}",
        highlight=False,
    )
    if st.free_choice:
        n_ranked = len(inst.ccg_preferences)
        console.print(
            "  market: free choice (each CCG buys from the formed network it prefers; "
            + (
                f"{n_ranked:,} ranks in ccg_preferences, the rest by assignment cost)"
                if n_ranked
                else "no ccg_preferences: each CCG prefers its cheapest lead)"
            ),
            highlight=False,
        )
    if inst.boundaries is not None:
        console.print(
            f"  map: every CCG has its shape in {inst.boundaries.path}",
            highlight=False,
            markup=False,
        )
    for w in inst.warnings:
        console.print(f"  [yellow]warning:[/] {w}", highlight=False)


def solution_summary(console: Console, sol: Solution, folder: Path | None = None) -> None:
    """Status, leads and their networks, the cost breakdown, gap and times."""
    colour = {"optimal": "green", "feasible": "yellow"}.get(sol.status.value, "red")
    console.print(
        f"[bold]{sol.instance.get('name', '')}[/]: [{colour}]{sol.status.value}[/] - {sol.message}",
        highlight=False,
    )
    if not sol.status.has_solution:
        if folder is not None:
            console.print(f"  results: {folder}", highlight=False)
        return
    roles = sol.roles
    market = sol.instance.get("ccg_choice") or "managed"
    if market == "free":
        console.print("  market: free choice (each CCG with the formed network it prefers)")
    console.print(_networks_table(sol))
    exits = roles[roles["role"] == Role.EXIT]
    if len(exits):
        console.print(
            f"  exit: {', '.join(exits['provider'])} (staff affected {staff(exits['staff'].sum())})"
            if "staff" in exits
            else "",
            highlight=False,
        )
    merged = roles[roles["role"] == Role.MERGED]
    for body, group in merged.groupby("leads", sort=True):
        console.print(f"  merged: {', '.join(group['provider'])} into {body}", highlight=False)
    cb = sol.cost_breakdown
    if cb is not None:
        c = Table(title="Cost breakdown (per year)", title_justify="left")
        c.add_column("part")
        c.add_column("cost", justify="right")
        for name, value in vars(cb).items():
            c.add_row(name.replace("_", " "), money(value))
        c.add_row("total", money(cb.total), style="bold")
        console.print(c)
    polished = _polish_line(sol)
    if polished is not None:
        console.print(polished, highlight=False)
    tm = sol.timings
    console.print(
        f"  objective {money(sol.objective)}  bound {money(sol.best_bound)}  "
        f"gap {pct(sol.mip_gap)}  |  build {seconds(tm.build_s)}  "
        f"hand-over {seconds(tm.handover_s)}  HiGHS {seconds(tm.solve_s)}  "
        f"total {seconds(tm.total_s)}",
        highlight=False,
    )
    if folder is not None:
        console.print(f"  results: {folder}", highlight=False)


def _networks_table(sol: Solution) -> Table:
    """One row per lead: its kind, subcontractors, CCGs served and volume."""
    roles = sol.roles
    subs = roles[roles["role"] == Role.SUBCONTRACTOR]
    t = Table(title=f"Networks ({len(sol.leads)} leads)", title_justify="left")
    for col in ("lead", "kind", "subcontractors", "CCGs", "volume"):
        t.add_column(col, justify="right" if col in ("CCGs", "volume") else "left")
    ccgs = sol.assignments.groupby("lead")["share"].sum()
    vol = sol.flows.groupby("lead")["volume"].sum()
    kind = roles.set_index("provider")["kind"]
    members: dict[str, list[str]] = {}
    for provider, served in zip(subs["provider"], subs["leads"], strict=True):
        for lead in str(served).split(";"):
            members.setdefault(lead, []).append(str(provider))
    for lead in sol.leads:
        t.add_row(
            lead,
            str(kind[lead]),
            ", ".join(members.get(lead, [])) or "-",
            f"{ccgs.get(lead, 0):g}",
            number(vol.get(lead, 0)),
        )
    return t


def _polish_line(sol: Solution) -> str | None:
    """What polishing within the lead set did, when it ran."""
    polish = sol.solver.get("polish") or {}
    if not polish.get("ran"):
        return None
    n = polish["leads_fixed"]
    return (
        f"  polished within the lead set ({n} lead{'s' if n != 1 else ''} kept) for "
        f"{seconds(polish['time_s'])}: {money(polish['objective_before'])} -> "
        f"{money(polish['objective_after'])} (best within that lead set >= "
        f"{money(polish['lead_set_bound'])})"
    )


def comparison_table(console: Console, rows: list[dict[str, object]]) -> None:
    """One row per solved instance: objective, gap, leads, exits, folder."""
    t = Table(title="Solved instances", title_justify="left")
    for col in ("instance", "status", "objective", "gap", "leads", "exits", "results"):
        t.add_column(
            col, justify="right" if col in ("objective", "gap", "leads", "exits") else "left"
        )
    for r in rows:
        t.add_row(
            *(
                str(r.get(k, ""))
                for k in ("instance", "status", "objective", "gap", "leads", "exits", "results")
            )
        )
    console.print(t)
