"""Root reduction: an LP bound, an LP-guided incumbent and reduced-cost fixing (issue 7).

Before HiGHS's branch-and-bound sees the model, three cheap steps on a copy of it:

1. **LP relaxation.** Solve the model with every integrality dropped: its optimum LB is a
   lower bound on every network, and its reduced costs rc[j] price each binary. On national
   models the LP is solved by column generation whose every round gives a Lagrangian bound;
   should its time share end first, subgradient steps from the best round raise that bound
   towards the LP's (:func:`_ascend`).
2. **Restricted MIPs** (relaxation-induced neighbourhoods). Fix to 0 every structural
   binary (u, a, w) that is 0 in the LP optimum and solve what remains as a MIP, with a
   share of the time limit: on the facility-location benchmarks the LP's support holds the
   optimal network (capa at 8,000: the optimum in 4.5 s, where HiGHS's own sub-MIP found it
   after 140 s). Under single sourcing this is done first with each CCG also kept to the
   leads the LP places it with and its Z_ALTERNATIVES cheapest others (a MIP a few percent
   the size: on 200 x 2,000 x 5 it finds a network 0.6% above the LP bound in two minutes,
   where with every assignment free HiGHS finds none), then, on models with at most
   FREE_Z_MAX assignments, with every assignment free from that incumbent. On national
   models (SPLIT_FIRST_NNZ) the first is preceded by relax and fix: the same neighbourhood
   with split demand allowed, then its links fixed with whole assignments. The best
   solution, or the greedy start (:mod:`csu_opt.solver.start`) when better, is the incumbent UB.
3. **Reduced-cost fixing.** A binary at 0 in the LP with LB + rc[j] > UB can only be 1 in
   networks costing more than UB (LP duality: raising it to 1 raises the LP bound by at least
   rc[j]), so it is fixed to 0; a binary at 1 with LB - rc[j] > UB is fixed to 1. Every
   network the fixings exclude costs at least ``threshold`` = min over fixed j of
   LB + |rc[j]| > UB, so the solve of the reduced model loses nothing better than UB.

The caller hands UB to HiGHS as its start and solves the model with the fixings in place; the
bound it reports for the whole model is max(LB, min(HiGHS's bound, threshold)). When UB is
already within the requested gap of LB, no branch-and-bound is needed at all.

Everything here works on the arrays of :mod:`csu_opt.model.matrix` (layout order) and a private
HiGHS object (:func:`csu_opt.solver.highs.quiet_highs`); the result is plain data.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from csu_opt import stops
from csu_opt.model.blocks import MatrixModel, index_codes
from csu_opt.model.index import ModelIndex
from csu_opt.model.matrix import csr
from csu_opt.solver import alternate, background, exchange, first_order
from csu_opt.solver.background import Background
from csu_opt.solver.highs import (
    Highs,
    gap,
    is_interrupted,
    is_optimal,
    model_status,
    objective_of,
    pass_to_highs,
    quiet_highs,
    within_gap,
)
from csu_opt.solver.lagrange import DualBounds, ascend
from csu_opt.solver.lp import BOUND_CLOSE, LPResult, assignment_lp, network_lp
from csu_opt.solver.submip import SubPool
from csu_opt.solver.tolerances import FIX_TOL, HIGHS_INFINITE, IMPROVE_TOL, ZERO_TOL

#: What the reduction reports while it works: (stage, incumbent, bound), for progress lines.
StageReport = Callable[[str, "float | None", "float | None"], None]

#: HiGHS's LP method for the relaxation: the interior point method with crossover took 35 s
#: where dual simplex took 165 s on a generated 200 x 2,000 x 5 model (reduced costs need
#: crossover's basis; HiGHS runs it by default).
LP_SOLVER = "ipm"
#: With this many leads or more (and COLGEN_MIN_Z assignment columns), the LP is solved by
#: column generation over the assignments (:mod:`csu_opt.solver.lp`); otherwise in one HiGHS run
#: (interior point). Measured, one run each: capa at 8,000 (100 leads) 7.6 s against 20-25 s
#: direct; a generated 200 x 2,000 x 5 (44 leads) 48.6 s against 35 s direct, as CCGs there
#: spread over most leads in the relaxation and the first LP already holds a third of them.
COLGEN_MIN_LEADS = 50
COLGEN_MIN_Z = 5_000
#: From this many nonzeros the column generation also leaves out links and flows
#: (:func:`csu_opt.solver.lp.network_lp`) and reads a valid Lagrangian bound from every
#: round's duals (:mod:`csu_opt.solver.lagrange`), stopping once the restricted LP is within
#: BOUND_CLOSE of it. Measured on generated models (benchmarks/README.md, issue 19): at
#: 200 x 2,000 x 5 the bound was within 0.003% of the LP's optimum after 3 rounds (46 s);
#: at 500 x 7,000 x 5 the first LP over all links and flows did not finish in 900 s.
NETWORK_LP_NNZ = 500_000
#: Shares of the time limit the LP and the restricted MIP may use (the rest is HiGHS's).
LP_SHARE = 0.5
SUB_SHARE = 0.2
#: From this many nonzeros HiGHS's own run on the whole model rarely gets past its root
#: within minutes (200 x 2,000 x 5: 862k, no incumbent of its own in 440 s), so the
#: restricted MIPs get SUB_SHARE_LARGE of the time limit instead.
LARGE_NNZ = 500_000
SUB_SHARE_LARGE = 0.6
#: Without a time limit the restricted MIP stops after this many seconds (its job is an
#: incumbent, not a proof).
SUB_MAX_S = 120.0
#: Under single sourcing the first restricted MIP also restricts each CCG to the leads the
#: LP places it with, plus its Z_ALTERNATIVES cheapest others (by reduced cost) among the
#: leads the LP opens. Measured on a generated 200 x 2,000 x 5 (88,000 assignments): 4,009
#: assignments left, first incumbent at 32 s, 0.56% above the LP bound at 120 s, where the
#: same MIP with every assignment free found no solution in 120 s.
Z_ALTERNATIVES = 2
#: When the column generation stops before the LP's optimum (national models: at
#: 500 x 7,000 x 5 each round is an interior point solve of minutes), the Lagrangian bound is
#: raised by subgradient steps from the best round's duals for this share of the time limit
#: (ASCENT_MAX_S without one). Measured on a generated 500 x 7,000 x 5 (issue 19,
#: benchmarks/README.md): from round 3's duals (739,218 at 780 s) to 744,717 in 150 s (2,441
#: steps), where round 4 had not ended at 1,300 s; from round 2's (496,146 at 346 s) to
#: 741,482 in 150 s. A planner's 30-minute solve there: bound 744,739 against 739,218 before.
ASCENT_SHARE = 0.1
ASCENT_MAX_S = 120.0
ASCENT_STAGE = "Lagrangian bound"
LP_STAGE = "LP relaxation"
#: Under single sourcing on models of this many nonzeros, before the first restricted MIP:
#: the same neighbourhood with split demand allowed (z continuous; SPLIT_SHARE of the
#: restricted MIPs' time left after the alternation and the exchange's reserve), then its
#: network structure (u, a, w) fixed with whole assignments (at most FIX_SHARE). Measured
#: on a generated 200 x 2,000 x 5 (issue 19): whole links, not whole assignments, make the
#: LP gap (the neighbourhood with z continuous reaches a bound of 747,949 in 60 s, with w
#: continuous 744,362, LP 744,307); split-then-fix gave 750,015.92 in 61 s where the
#: neighbourhood MIP with whole assignments had 751,894.59 at 60 s and 751,313.95 at 240 s.
SPLIT_FIRST_NNZ = LARGE_NNZ
#: Under single sourcing on models of this many nonzeros, the restricted MIPs start with
#: alternating fixes (:mod:`csu_opt.solver.alternate`) for ALTERNATE_SHARE of their time.
#: Measured on a generated 200 x 2,000 x 5 (issue 19): 745,661.00 in two rounds (about
#: 100 s), where relax and fix and the neighbourhood MIP gave 750,350.70 in 360 s.
ALTERNATE_NNZ = LARGE_NNZ
ALTERNATE_SHARE = 0.5
SPLIT_STAGE = "restricted MIP, split demand"
SPLIT_SHARE = 1 / 3
FIX_SHARE = 1 / 6
#: Under single sourcing the second restricted MIP (every assignment free, from the first's
#: incumbent) runs only up to this many assignment columns; above, HiGHS spends its budget
#: in the root. (Split demand: always, its assignments are continuous.)
FREE_Z_MAX = 20_000
#: Network exchange (:mod:`csu_opt.solver.exchange`) on models with partner links: after
#: the alternating fixes it gets the rest of the restricted MIPs' time (it stops once no
#: kind of move gains), and the restricted MIPs run in what it leaves; elsewhere
#: it runs last, in at least EXCHANGE_SHARE of that time (and then, when the rounding gave
#: no network, the alternation from the restricted MIPs' network gets FALLBACK_SHARE before
#: it). Relax and fix takes its shares of what the steps before it leave. Measured on a
#: generated 200 x 2,000 x 5 (seed 0, one thread): from the alternation's 745,887.16,
#: 745,047.18 in 150 s (49 of 63 pairs improved it); on england-2013 from HiGHS's 60 s
#: network (663,452.93), 660,155.17 in 46 s. On seed 1 (the rounding gives no network), with
#: a quarter of the time the exchange improved on all 18 pairs it tried before its time ran
#: out (760,036.74 to 759,002.68 in 90 s): hence half.
EXCHANGE_SHARE = 0.5
FALLBACK_SHARE = 0.25
#: ... and at least this share of the time limit, should the restricted MIPs' time run out
#: first (it ends sooner once no pair, opening or triple gains, or within the gap of the
#: bound). Measured on england-2013 (one thread): from the restricted MIPs' 660,908.49 the
#: exchange reaches 660,161.18 in 350 s, while HiGHS's search after the reduction raised
#: its bound by 46 (658,725 to 658,771) and found no better network in 480 s of
#: `--concurrent 2`: hence half.
EXCHANGE_MIN_SHARE = 0.5


@dataclass(frozen=True)
class CombinedBound:
    """A bound on the whole model from a bound on the reduced one (the fixings in place):
    max(LB, min(bound, threshold)), as the module's docstring derives. Decided here only;
    the sequential solve and every concurrent search use it."""

    lower_bound: float | None = None  # LB: the reduction's own bound (None: none)
    threshold: float = float("inf")  # every network the fixings exclude costs at least this

    def whole(self, reduced_bound: float | None) -> float | None:
        """The whole model's bound from ``reduced_bound`` (None: nothing proved on the
        reduced model, e.g. stopped before its root)."""
        if reduced_bound is None:
            return self.lower_bound
        inner = min(reduced_bound, self.threshold)
        return inner if self.lower_bound is None else float(max(self.lower_bound, inner))


@dataclass
class Reduction:
    """What the root reduction found, in the layout order of :class:`MatrixModel`."""

    lp_status: str = "not run"
    lower_bound: float | None = None  # LB: the LP relaxation's optimum (else the aggregate's)
    lp_objective: float | None = None  # the LP relaxation's optimum, when it was solved
    incumbent: np.ndarray | None = None  # UB's columns (layout order)
    incumbent_objective: float | None = None
    incumbent_source: str | None = None  # "restricted MIP" or "greedy start"
    fixed_zero: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    fixed_one: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    threshold: float = float("inf")  # every excluded network costs at least this
    lp_s: float = 0.0
    lp_rounds: int = 0  # column-generation rounds (0: the LP was solved directly)
    lp_columns: int = 0  # assignment columns in the final column-generation LP
    lagrangian_bound: float | None = None  # the best of network_lp's rounds (None: not run)
    # ... and of the ascent after them (_ascend), from ascent_from
    ascent_from: float | None = None
    ascent_steps: int = 0
    ascent_s: float = 0.0
    sub_s: float = 0.0
    lp_binaries_positive: int = 0
    interrupted: bool = False
    aggregate_bound: float | None = None  # csu_opt.solver.bounds, before the LP
    # the binaries (layout) the last restricted MIP fixed to 0, when HiGHS proved that MIP
    # optimal within the gap: every network cheaper than its optimum uses one of them
    # (the piercing cut of csu_opt.solver.split); proven_bound: that MIP's bound
    proven_out: np.ndarray | None = field(default=None, repr=False)
    proven_bound: float | None = None
    proven_nodes: int = 0  # the nodes HiGHS's proof of that MIP took
    alternation: list[dict[str, Any]] = field(default_factory=list)  # alternate's runs
    exchange: list[dict[str, Any]] = field(default_factory=list)  # network exchange's runs

    def gap(self) -> float | None:
        """Relative gap between the incumbent and the LP bound."""
        return gap(self.incumbent_objective, self.lower_bound)

    def settled(self, mip_gap: float) -> bool:
        """True when the incumbent is within ``mip_gap`` of the bound (no search needed)."""
        return within_gap(self.incumbent_objective, self.lower_bound, mip_gap)

    def combined_bound(self, highs_bound: float | None) -> float | None:
        """A lower bound for the whole model from HiGHS's bound on the reduced one (None:
        HiGHS proved nothing, e.g. stopped before its root)."""
        return self.bounds().whole(highs_bound)

    def bounds(self) -> CombinedBound:
        """How a bound on the reduced model (the fixings in place) bounds the whole model."""
        return CombinedBound(self.lower_bound, self.threshold)

    def as_record(self) -> dict[str, Any]:
        """The reduction as written to summary.json (solver.reduction)."""
        return {
            "lp_status": self.lp_status,
            "lp_bound": self.lp_objective,
            "aggregate_bound": self.aggregate_bound,
            "lagrangian_bound": self.lagrangian_bound,
            "lagrangian_ascent": None
            if self.ascent_steps == 0
            else {
                "from": self.ascent_from,
                "steps": self.ascent_steps,
                "time_s": round(self.ascent_s, 3),
            },
            "lp_s": round(self.lp_s, 3),
            "lp_rounds": self.lp_rounds,
            "lp_assignment_columns": self.lp_columns,
            "lp_binaries_positive": self.lp_binaries_positive,
            "restricted_mip_s": round(self.sub_s, 3),
            "alternating_fixes": self.alternation,
            "network_exchange": self.exchange,
            "incumbent": self.incumbent_objective,
            "incumbent_source": self.incumbent_source,
            "fixed_to_zero": len(self.fixed_zero),
            "fixed_to_one": len(self.fixed_one),
            "gap_after_reduction": self.gap(),
        }


@dataclass(frozen=True)
class Implications:
    """Pairs (j, k) of binary columns (layout order) with x[j] = 1 => x[k] = 1."""

    j: np.ndarray
    k: np.ndarray


def implications(ix: ModelIndex, mm: MatrixModel) -> Implications:
    """The model's forcing rows as implications: a lead is active (u[l] <= a[l], C2), a
    subcontractor is active and its lead leads (w[p,l] <= a[p], C2; w[p,l] <= u[l], C3), a
    CCG placed whole in a network makes its lead lead (z[l,c] <= u[l], C4, under single
    sourcing, where z is binary)."""
    lay = mm.layout
    cd = index_codes(ix)
    nL, nW = lay.n_u, lay.n_w
    j = [lay.U + np.arange(nL), lay.W + np.arange(nW), lay.W + np.arange(nW)]
    k = [lay.A + cd.lead_prov, lay.A + cd.link_p, lay.U + cd.link_l]
    if ix.single_sourcing:
        j.append(lay.Z + np.arange(lay.n_z))
        k.append(lay.U + cd.z_l)
    return Implications(np.concatenate(j).astype(np.int64), np.concatenate(k).astype(np.int64))


@dataclass(frozen=True)
class LinkRows:
    """Rows alpha x[k] - beta x[j] <= 0 of the model (alpha, beta > 0, x[j] binary): when
    x[j] is forced to 1 they let x[k] rise (z[l,c] <= u[l], x[p,l,s] <= cap w[p,l], ...)."""

    row: np.ndarray
    k: np.ndarray
    j: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray


def link_rows(mm: MatrixModel) -> LinkRows:
    """The two-term forcing rows of ``mm`` (layout columns)."""
    count = np.diff(mm.start)
    rows = np.flatnonzero((count == 2) & (mm.row_upper == 0.0) & ~np.isfinite(mm.row_lower))
    first, second = mm.start[rows], mm.start[rows] + 1
    v1, v2 = mm.value[first], mm.value[second]
    pos_first = (v1 > 0) & (v2 < 0)
    pos_second = (v2 > 0) & (v1 < 0)
    ok = pos_first | pos_second
    kpos = np.where(pos_first, first, second)[ok]
    jpos = np.where(pos_first, second, first)[ok]
    j = mm.index[jpos].astype(np.int64)
    binary = mm.integrality[j] == 1
    return LinkRows(
        row=rows[ok][binary],
        k=mm.index[kpos][binary].astype(np.int64),
        j=j[binary],
        alpha=mm.value[kpos][binary],
        beta=-mm.value[jpos][binary],
    )


def fixing_gains(
    rc: np.ndarray,
    value: np.ndarray,
    binaries: np.ndarray,
    imp: Implications | None,
    links: LinkRows | None = None,
    row_dual: np.ndarray | None = None,
    upper: np.ndarray | None = None,
) -> np.ndarray:
    """A lower bound on the LP bound's rise when each binary at 0 is raised to 1.

    For any feasible x, c·x - LB = Σ_j rc[j] (x[j] - x*[j]) + Σ_r y[r] (A[r] x - A[r] x*),
    and every term is >= 0 (LP duality at an optimum: columns at their lower bound have
    rc >= 0, rows have duals of the sign that makes their term >= 0). Keeping only the terms
    that forcing x[j] = 1 moves, each column and row counted once:
    - rc[j] itself, and rc[k] of each column k that x[j] = 1 implies (k at 0 in the LP);
    - for each link row alpha x[k] - beta x[j] <= 0 (k not implied by j): its term
      |y| (beta - alpha x[k]) plus rc[k] x[k] is linear in x[k] on [0, min(U[k], beta/alpha)],
      so at least the smaller of its values at the two ends.
    """
    at0 = np.zeros(len(rc), bool)
    at0[binaries] = value[binaries] <= ZERO_TOL
    d = np.maximum(rc, 0.0)
    gain = np.where(at0, d, 0.0)
    n = len(rc)
    implied = np.zeros(0, np.int64)
    if imp is not None and len(imp.j):
        use = at0[imp.j] & at0[imp.k]
        np.add.at(gain, imp.j[use], d[imp.k[use]])
        implied = imp.j * n + imp.k
    if links is not None and row_dual is not None and upper is not None and len(links.row):
        use = at0[links.j] & (value[links.k] <= ZERO_TOL)
        use &= ~np.isin(links.j * n + links.k, implied)
        y = np.maximum(-row_dual[links.row], 0.0)  # HiGHS: a binding <= row has y <= 0
        top = np.minimum(upper[links.k], links.beta / links.alpha)
        at_top = y * (links.beta - links.alpha * top) + d[links.k] * top
        term = np.minimum(y * links.beta, at_top)
        np.add.at(gain, links.j[use], term[use])
    return gain


def _keep_better(red: Reduction, h: Highs, mm: MatrixModel, source: str) -> None:
    """Take HiGHS's solution as the incumbent when it beats the current one."""
    red.interrupted = is_interrupted(h)
    objective = objective_of(h)
    if objective is not None and (
        red.incumbent_objective is None or objective < red.incumbent_objective - IMPROVE_TOL
    ):
        red.incumbent = np.asarray(h.getSolution().col_value)[mm.highs_col]
        red.incumbent_objective = mm.cost(red.incumbent)
        red.incumbent_source = source


def _keep_proof(red: Reduction, h: Highs, out: np.ndarray) -> None:
    """Record ``out`` (the binaries fixed to 0) when HiGHS proved the restricted MIP it just
    ran optimal and its network is the incumbent's cost or better."""
    if not is_optimal(h) or len(out) == 0 or red.incumbent_objective is None:
        return
    found = objective_of(h)
    if found is None or found > red.incumbent_objective + IMPROVE_TOL * max(abs(found), 1.0):
        return
    red.proven_out = np.asarray(out, dtype=np.int64)
    red.proven_bound = float(h.getInfo().mip_dual_bound)
    red.proven_nodes = int(h.getInfo().mip_node_count)


def _set_start(h: Highs, mm: MatrixModel, red: Reduction) -> None:
    """Hand HiGHS the current incumbent (after bound changes, which clear a set one)."""
    if red.incumbent is not None:
        h.setSolution(mm.n_cols, mm.highs_col.astype(np.int32), red.incumbent.astype(float))


def _outside_incumbent(cols: np.ndarray, red: Reduction) -> np.ndarray:
    """``cols`` less those the incumbent uses: the restricted MIPs' neighbourhood always holds
    the incumbent, so HiGHS starts from it. Measured on a generated 500 x 7,000 x 5 (issue 19):
    with the greedy start outside it ("setSolution: ... infeasible"), the restricted MIP,
    presolved to 26,105 rows x 16,111 columns, was still in its root cuts with no solution
    after 250 s, and in a 30-minute solve found none in 900 s."""
    if red.incumbent is None:
        return cols
    return cols[red.incumbent[cols] <= ZERO_TOL]


def _z_outside_neighbourhood(
    mm: MatrixModel, value: np.ndarray, rc: np.ndarray, ccg_of_z: np.ndarray, lead_of_z: np.ndarray
) -> np.ndarray:
    """Assignment columns (layout) outside each CCG's neighbourhood: the leads the LP
    places it with, and its Z_ALTERNATIVES cheapest others by reduced cost among the leads
    the LP opens (u > 0)."""
    lay = mm.layout
    z = lay.Z + np.arange(lay.n_z)
    open_lead = value[lay.U + lead_of_z] > ZERO_TOL
    rank = alternate.candidates(rc[z], open_lead, ccg_of_z)  # ranks only among open leads
    keep = (value[z] > ZERO_TOL) | (rank < Z_ALTERNATIVES)
    return z[~keep]


def _run_for(h: Highs, seconds: float) -> None:
    h.setOptionValue("time_limit", float(max(seconds, 0.01)))
    with stops.deferred():
        h.run()


def _split_then_fix(
    h: Highs,
    mm: MatrixModel,
    red: Reduction,
    structural_zero: np.ndarray,
    budget: float,
    stage: list[str],
) -> None:
    """Relax and fix, in the restricted MIP's neighbourhood (bounds already in ``h``): solve
    it with split demand allowed (the assignments z continuous) for SPLIT_SHARE of
    ``budget``, then fix its network structure (every u, a, w at its value) and solve for
    whole assignments (at most FIX_SHARE); keep that network when it beats the incumbent.
    ``h`` is left as it came (the neighbourhood's bounds, whole assignments); ``stage[0]``
    names the step for the progress lines (a split-demand solution is no network)."""
    lay = mm.layout
    hc = mm.highs_col
    z = hc[lay.Z : lay.X].astype(np.int32)
    h.changeColsIntegrality(len(z), z, np.zeros(len(z), np.int32))
    stage[0] = SPLIT_STAGE
    _run_for(h, SPLIT_SHARE * budget)
    stage[0] = "restricted MIP"
    split = None if objective_of(h) is None else np.asarray(h.getSolution().col_value)[hc]
    h.changeColsIntegrality(len(z), z, mm.integrality[lay.Z : lay.X].astype(np.int32))
    red.interrupted = is_interrupted(h)
    if split is None or red.interrupted:
        return
    structure = np.flatnonzero(mm.integrality[: lay.Z] == 1)  # u, a, w (layout order)
    cols = hc[structure].astype(np.int32)
    whole = np.round(split[structure])
    h.changeColsBounds(len(cols), cols, whole, whole)
    _run_for(h, FIX_SHARE * budget)
    _keep_better(red, h, mm, "restricted MIP (split demand, then its network fixed)")
    h.changeColsBounds(len(cols), cols, mm.col_lower[structure], mm.col_upper[structure])
    closed = hc[structural_zero].astype(np.int32)
    h.changeColsBounds(len(closed), closed, mm.col_lower[structural_zero], np.zeros(len(closed)))


def _alternate(
    red: Reduction,
    stage: list[str],
    step: Callable[[float], alternate.Alternation],
    seconds: float,
) -> bool:
    """Run alternating fixes (``step(seconds)``), record it, keep its network when better;
    True when it found a network at all."""
    if seconds <= 0:
        return False
    t = time.perf_counter()
    stage[0] = alternate.STAGE
    alt = step(seconds)
    stage[0] = "restricted MIP"
    red.alternation.append(alt.record(time.perf_counter() - t))
    red.interrupted = alt.interrupted
    if alt.objective is not None and (
        red.incumbent_objective is None or alt.objective < red.incumbent_objective - IMPROVE_TOL
    ):
        red.incumbent, red.incumbent_objective = alt.network, alt.objective
        red.incumbent_source = f"restricted MIPs (alternating fixes from the {alt.source})"
    return alt.network is not None


def _exchange(
    red: Reduction,
    stage: list[str],
    mm: MatrixModel,
    shape: alternate.Shape,
    seconds: float,
    mip_gap: float,
    should_stop: Callable[[], bool] | None,
    on_progress: StageReport | None,
    workers: int = 1,
) -> None:
    """Network exchange (:mod:`csu_opt.solver.exchange`) from the incumbent for at most
    ``seconds`` (less once within ``mip_gap`` of the bound), ``workers`` sub-MIPs at once
    (worker processes when more than one), its best network reported while its sub-MIPs
    run (the heartbeat's news); record it and keep its network when better."""
    if seconds <= 0 or red.incumbent is None:
        return
    t = time.perf_counter()
    stage[0] = exchange.STAGE
    best = [red.incumbent_objective]

    def ticking() -> bool:
        if on_progress is not None:
            on_progress(exchange.STAGE, best[0], red.lower_bound)
        return should_stop is not None and should_stop()

    def better(cost: float) -> None:
        best[0] = cost
        ticking()  # (a stop asked for is seen at the next sub-MIP)

    def enough(cost: float) -> bool:
        return within_gap(cost, red.lower_bound, mip_gap)

    with SubPool(workers) if workers > 1 else contextlib.nullcontext() as pool:
        got = exchange.exchange(mm, shape, red.incumbent, seconds, ticking, better, enough, pool)
    stage[0] = "restricted MIP"
    red.exchange.append(got.record(time.perf_counter() - t))
    red.interrupted = red.interrupted or got.interrupted
    _offer(red, got.network, got.objective, f"{red.incumbent_source}, then network exchange")


def _colgen(mm: MatrixModel, ccg_of_z: np.ndarray | None) -> bool:
    """Whether the LP relaxation is solved by column generation (:mod:`csu_opt.solver.lp`)."""
    return (
        ccg_of_z is not None and mm.layout.n_z >= COLGEN_MIN_Z and "assign_to_lead" in mm.components
    )


def national_path(
    mm: MatrixModel, ccg_of_z: np.ndarray | None, bound_of: DualBounds | None
) -> bool:
    """Whether :func:`root_reduction` takes the national path: column generation over links
    and flows as well as assignments, with a Lagrangian bound from every round."""
    return _colgen(mm, ccg_of_z) and bound_of is not None and mm.nnz >= NETWORK_LP_NNZ


BACKGROUND_SOURCE = f"greedy start, then network exchange ({background.DURING})"


def _offer(red: Reduction, network: np.ndarray, cost: float, source: str) -> None:
    """Make ``network`` (whole, layout order) the incumbent when it is cheaper."""
    if red.incumbent_objective is None or cost < red.incumbent_objective - IMPROVE_TOL:
        red.incumbent, red.incumbent_objective = network, cost
        red.incumbent_source = source


def _peek_background(red: Reduction, behind: Background | None) -> None:
    """Keep the background exchange's best network so far when better (it goes on)."""
    if behind is not None:
        _offer(red, *behind.peek(), BACKGROUND_SOURCE)


def _take_background(red: Reduction, behind: Background | None) -> None:
    """Stop the network exchange running since the LP stage (:mod:`csu_opt.solver.background`;
    once: nothing when there is none or it was taken), record it, and keep its network
    when better than the incumbent."""
    if behind is None or behind.closed:
        return
    got = behind.finish()
    red.exchange.append(got.record(behind.seconds, background.DURING))
    red.interrupted = red.interrupted or got.interrupted
    _offer(red, got.network, got.objective, BACKGROUND_SOURCE)


def _exchange_time(left: float, time_limit: float | None, t0: float) -> float:
    """Network exchange's seconds: what is ``left`` of the restricted MIPs' time, or
    EXCHANGE_MIN_SHARE of the time limit if more (it stops by itself once no kind of move
    gains), within the time limit's own rest (from ``t0``)."""
    if not time_limit:
        return left
    rest = time_limit - (time.perf_counter() - t0)
    return min(max(left, EXCHANGE_MIN_SHARE * time_limit), rest)


def _full_highs(
    mm: MatrixModel, highs_options: dict[str, Any], should_stop: Callable[[], bool] | None
) -> Highs:
    h = quiet_highs(highs_options, should_stop)
    pass_to_highs(h, mm)
    return h


def _direct_lp(h: Highs, mm: MatrixModel, time_limit: float | None, lp_solver: str) -> LPResult:
    """The LP relaxation of the whole model in one HiGHS run (integrality dropped)."""
    n = mm.n_cols
    h.setOptionValue("time_limit", float(time_limit) if time_limit else np.inf)
    h.setOptionValue("solver", lp_solver)
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.zeros(n, np.int32))
    with stops.deferred():
        h.run()
    h.setOptionValue("solver", "choose")
    res = LPResult(status=model_status(h))
    res.interrupted = is_interrupted(h)
    if is_optimal(h):
        sol = h.getSolution()
        hc = mm.highs_col
        res.objective = float(h.getInfo().objective_function_value)
        res.value = np.asarray(sol.col_value)[hc]
        res.reduced_cost = np.asarray(sol.col_dual)[hc]
        res.row_dual = np.asarray(sol.row_dual)
    return res


def _first_order(
    mm: MatrixModel,
    lp_limit: float | None,
    should_stop: Callable[[], bool],
    bound_of: Callable[[np.ndarray], float],
) -> LPResult | None:
    """The national LP by the first-order method (:mod:`csu_opt.solver.first_order`) from
    FIRST_ORDER_NNZ nonzeros: a partial LP whose guide is its primal values and whose bound
    is the Lagrangian's at its duals. None when it does not apply or gave no duals (the
    column generation then has the LP stage's time left)."""
    if mm.nnz < first_order.FIRST_ORDER_NNZ:
        return None
    got = first_order.first_order_lp(mm, time_limit=lp_limit, should_stop=should_stop)
    if got.interrupted:
        return LPResult(status="Interrupted", interrupted=True)
    if got.row_dual is None or got.value is None:
        return None
    y = got.row_dual
    return LPResult(
        status=f"first-order LP within {first_order.FIRST_ORDER_TOL:g} "
        f"({got.iterations} iterations, {got.seconds:.1f} s)",
        partial_value=got.value,
        partial_reduced_cost=mm.col_cost - csr(mm).T @ y,
        partial_objective=got.objective,
        bound=bound_of(y),
    )


def _ascend(
    red: Reduction,
    bound_of: DualBounds,
    y: np.ndarray,
    lp: LPResult,
    time_limit: float | None,
    t0: float,
    should_stop: Callable[[], bool] | None,
    on_progress: StageReport | None,
) -> None:
    """The Lagrangian ascent after a column generation that stopped before the LP's optimum,
    or after the first-order LP (:func:`csu_opt.solver.lagrange.ascend`): from the best
    duals (their better multipliers, :meth:`~csu_opt.solver.lagrange.DualBounds.best_of`)
    for ASCENT_SHARE of the time limit (ASCENT_MAX_S without one), towards the lower of the
    partial LP's objective and the incumbent's cost that lies above the bound; its bound
    counts as the LP stage's."""
    # an upper estimate of L's maximum: the partial LP's objective (above the LP's optimum
    # for a restricted LP; a first-order LP's may be below it) or the incumbent's cost
    above = [
        t
        for t in (lp.partial_objective, red.incumbent_objective)
        if t is not None and (red.lagrangian_bound is None or t > red.lagrangian_bound)
    ]
    target = min(above) if above else None
    if target is None or (
        red.lagrangian_bound is not None
        and target - red.lagrangian_bound <= BOUND_CLOSE * max(1.0, abs(target))
    ):
        return  # no target, or the rounds' bound is already at it (the LP stopped there)
    seconds = ASCENT_SHARE * time_limit if time_limit else ASCENT_MAX_S
    if time_limit:
        seconds = min(seconds, time_limit - (time.perf_counter() - t0))
    if seconds <= 0:
        return

    def ticking() -> bool:
        if on_progress is not None:
            on_progress(ASCENT_STAGE, red.incumbent_objective, red.lower_bound)
        return should_stop is not None and should_stop()

    def better(found: float) -> None:
        if red.lower_bound is None or found > red.lower_bound:
            red.lower_bound = found

    t = time.perf_counter()
    start = bound_of.best_of(y)[1]
    got = ascend(
        bound_of.data, start, target, seconds=seconds, should_stop=ticking, on_better=better
    )
    red.ascent_s, red.ascent_steps = time.perf_counter() - t, got.steps
    red.ascent_from = red.lagrangian_bound
    if red.lagrangian_bound is None or got.bound > red.lagrangian_bound:
        red.lagrangian_bound = got.bound
    red.interrupted = red.interrupted or bool(should_stop is not None and should_stop())


def root_reduction(  # noqa: C901 (frozen, issue 17: to be split)
    mm: MatrixModel,
    *,
    time_limit: float | None,
    mip_gap: float,
    highs_options: dict[str, Any],
    start: np.ndarray | None = None,
    should_stop: Callable[[], bool] | None = None,
    lp_solver: str = LP_SOLVER,
    imp: Implications | None = None,
    ccg_of_z: np.ndarray | None = None,
    lead_of_z: np.ndarray | None = None,
    shape: alternate.Shape | None = None,
    single_sourcing: bool = False,
    on_progress: StageReport | None = None,
    floor_bound: float | None = None,
    bound_of: DualBounds | None = None,
    exchange_workers: int = 1,
    behind: Background | None = None,
) -> Reduction:
    """Run steps 1-3 on ``mm``; ``start`` is a feasible column vector (layout order) or None;
    ``imp`` (:func:`implications`) strengthens the fixing; with ``shape``
    (:func:`csu_opt.solver.alternate.shape_of`), single-sourced models of ALTERNATE_NNZ
    nonzeros start the restricted MIPs with alternating fixes; with ``ccg_of_z`` (the CCG
    number of each assignment column), COLGEN_MIN_Z assignments and COLGEN_MIN_LEADS leads, the LP
    is solved by column generation (:mod:`csu_opt.solver.lp`); with ``lead_of_z`` too and
    ``single_sourcing``, the first restricted MIP keeps each CCG to a few leads.
    ``on_progress(stage, incumbent, bound)`` is called while it works (HiGHS's callbacks).
    ``floor_bound`` (:func:`csu_opt.solver.bounds.aggregate_bound`) is the bound until the LP's,
    and stays the bound should the LP not finish in its share of the time. ``bound_of``
    (:func:`csu_opt.solver.lagrange.bound_from_duals`) reads a valid bound from any row
    duals: on models of NETWORK_LP_NNZ nonzeros or more the column generation also leaves
    out links and flows, every round's bound counts, and should the LP stop before its
    end (its share of the time, or its bound close enough) the last restricted LP's
    support guides the restricted MIPs; reduced-cost fixing needs the LP's optimum.
    ``exchange_workers`` sub-MIPs of network exchange run at once (worker processes).
    ``behind`` (:func:`csu_opt.solver.background.during_reduction`) is network exchange
    already running from the start: its network is read when the LP stage ends and taken
    (it is stopped) before the steps that start from the incumbent's leads."""
    red = Reduction(lower_bound=floor_bound, aggregate_bound=floor_bound)
    if start is not None:
        red.incumbent, red.incumbent_objective = start, mm.cost(start)
        red.incumbent_source = "greedy start"
    t0 = time.perf_counter()
    stage = [LP_STAGE]

    def best_known(ub: float | None) -> float | None:
        """``ub`` or the background exchange's best network, the cheaper (the heartbeat's)."""
        if behind is not None and not behind.closed and (ub is None or behind.best < ub):
            return behind.best
        return ub

    def ticking_stop() -> bool:
        if on_progress is not None and stage[0] in (LP_STAGE, ASCENT_STAGE):  # MIPs: below
            on_progress(stage[0], best_known(red.incumbent_objective), red.lower_bound)
        return should_stop is not None and should_stop()

    n = mm.n_cols
    hc = mm.highs_col  # HiGHS column of each layout column
    all_cols = np.arange(n, dtype=np.int32)
    integrality = mm.integrality[np.argsort(hc)]  # HiGHS order
    binaries = np.flatnonzero(mm.integrality == 1)  # layout order

    # 1. the LP relaxation
    lp_limit = LP_SHARE * time_limit if time_limit else None
    colgen = _colgen(mm, ccg_of_z)
    by_network = national_path(mm, ccg_of_z, bound_of)
    if by_network:
        assert bound_of is not None
        rounds_bound = bound_of
        best_round: list[tuple[float, np.ndarray]] = []  # the best bound and its round's duals

        def counted(y: np.ndarray) -> float:
            found = rounds_bound(y)
            if red.lower_bound is None or found > red.lower_bound:
                red.lower_bound = found
            if not best_round or found > best_round[0][0]:
                best_round[:] = [(found, y)]
            return found

        fast = _first_order(mm, lp_limit, ticking_stop, counted)
        if fast is not None:
            lp = fast
        else:
            left = None if lp_limit is None else lp_limit - (time.perf_counter() - t0)
            lp = network_lp(
                mm,
                time_limit=left,
                highs_options=highs_options,
                start=start,
                should_stop=ticking_stop,
                bound_of=counted,
            )
        red.lp_rounds, red.lp_columns = lp.rounds, lp.columns
        red.lagrangian_bound = lp.bound
        if lp.objective is None and best_round and not lp.interrupted:
            stage[0] = ASCENT_STAGE
            _ascend(red, bound_of, best_round[0][1], lp, time_limit, t0, ticking_stop, None)
        _peek_background(red, behind)
    elif colgen:
        assert ccg_of_z is not None
        lp = assignment_lp(
            mm,
            ccg_of_z,
            time_limit=lp_limit,
            highs_options=highs_options,
            start=start,
            should_stop=ticking_stop,
        )
        red.lp_rounds, red.lp_columns = lp.rounds, lp.columns
    h = _full_highs(mm, highs_options, ticking_stop)
    if not colgen:
        lp = _direct_lp(h, mm, lp_limit, lp_solver)
    red.lp_s = time.perf_counter() - t0
    red.lp_status = lp.status
    red.interrupted = lp.interrupted
    if lp.objective is not None:
        assert lp.value is not None and lp.reduced_cost is not None
        value, rc = lp.value, lp.reduced_cost
        red.lp_objective = lp.objective
    elif lp.partial_value is not None and lp.partial_reduced_cost is not None:
        value, rc = lp.partial_value, lp.partial_reduced_cost  # a guide, not a bound
    else:
        _take_background(red, behind)
        return red
    lb = max(b for b in (floor_bound, lp.objective, red.lagrangian_bound) if b is not None)
    red.lower_bound = lb
    zero = binaries[value[binaries] <= ZERO_TOL]
    # the network's structure (u, a, w) from the LP's support; assignments stay free
    structural_zero = zero[zero < mm.layout.Z]
    one = binaries[value[binaries] >= 1.0 - ZERO_TOL]
    red.lp_binaries_positive = int(len(binaries) - len(zero))

    # 2. restricted MIPs over the LP's support
    if not red.settled(mip_gap):
        t1 = time.perf_counter()
        h.changeColsIntegrality(n, all_cols, integrality)
        share = SUB_SHARE_LARGE if mm.nnz >= LARGE_NNZ else SUB_SHARE
        budget = share * time_limit if time_limit else SUB_MAX_S
        if time_limit:
            budget = min(budget, max(0.0, time_limit - (time.perf_counter() - t0)))
        h.setOptionValue("mip_rel_gap", float(mip_gap))
        stage[0] = "restricted MIP"
        if on_progress is not None:
            report = on_progress

            def on_mip(event: Any) -> None:
                found = event.data_out.mip_primal_bound
                if stage[0] == SPLIT_STAGE:  # a split-demand network is no network
                    found = HIGHS_INFINITE
                ub = red.incumbent_objective
                best = found if ub is None or (abs(found) < HIGHS_INFINITE and found < ub) else ub
                shown = best if best is not None and abs(best) < HIGHS_INFINITE else None
                report(stage[0], best_known(shown), lb)

            h.cbMipInterrupt.subscribe(on_mip)
        reserve = 0.0  # for the steps after the restricted MIPs, at their end
        alternated = False
        tried = single_sourcing and mm.nnz >= ALTERNATE_NNZ and shape is not None
        if tried:
            assert shape is not None
            fit = shape
            alternated = _alternate(
                red,
                stage,
                lambda s: alternate.alternate(h, mm, value, rc, fit, s, _run_for),
                ALTERNATE_SHARE * budget,
            )
            if not alternated:
                reserve = FALLBACK_SHARE * budget
        exchanging = shape is not None and mm.layout.n_w > 0
        if exchanging and alternated and not red.interrupted:
            assert shape is not None
            _take_background(red, behind)
            left = _exchange_time(budget - (time.perf_counter() - t1), time_limit, t0)
            _exchange(
                red, stage, mm, shape, left, mip_gap, ticking_stop, on_progress, exchange_workers
            )
        elif exchanging:
            reserve += EXCHANGE_SHARE * budget
        sz = _outside_incumbent(structural_zero, red)
        h.changeColsBounds(len(sz), hc[sz].astype(np.int32), mm.col_lower[sz], np.zeros(len(sz)))
        z_out = None
        if single_sourcing and ccg_of_z is not None and lead_of_z is not None:
            z_out = _outside_incumbent(
                _z_outside_neighbourhood(mm, value, rc, ccg_of_z, lead_of_z), red
            )
        # binary assignments all free only on models small enough (continuous ones always)
        free_z = z_out is None or len(z_out) == 0 or mm.layout.n_z <= FREE_Z_MAX
        if z_out is not None and len(z_out):
            # (a) each CCG kept to the LP's leads and a few cheap alternatives
            cols = hc[z_out].astype(np.int32)
            h.changeColsBounds(len(cols), cols, mm.col_lower[z_out], np.zeros(len(cols)))
            room = budget - reserve - (time.perf_counter() - t1)
            if mm.nnz >= SPLIT_FIRST_NNZ and not red.interrupted and room > 0:
                _split_then_fix(h, mm, red, sz, room, stage)
            spent = time.perf_counter() - t1
            room = ((budget - reserve) / 2 if free_z else budget - reserve) - spent
            if not red.interrupted and room > 0:
                _set_start(h, mm, red)
                _run_for(h, room)
                _keep_better(red, h, mm, "restricted MIP (LP's assignments and alternatives)")
                if not free_z:
                    _keep_proof(red, h, np.concatenate([sz, z_out]))
            h.changeColsBounds(len(cols), cols, mm.col_lower[z_out], mm.col_upper[z_out])
        left = budget - reserve - (time.perf_counter() - t1)
        if free_z and not red.interrupted and left > 0 and not red.settled(mip_gap):
            # (b) every assignment free, from the best network so far
            _set_start(h, mm, red)
            h.setOptionValue("time_limit", float(max(left, 0.01)))
            with stops.deferred():
                h.run()
            _keep_better(red, h, mm, "restricted MIP")
            _keep_proof(red, h, sz)
        base = red.incumbent
        ready = base is not None and not red.interrupted and not red.settled(mip_gap)
        if ready and tried and not alternated:
            # alternating from the restricted MIPs' network, as the rounding gave none
            _take_background(red, behind)
            base = red.incumbent
            assert shape is not None and base is not None
            fit, net = shape, base
            kept = EXCHANGE_SHARE * budget if exchanging else 0.0
            _alternate(
                red,
                stage,
                lambda s: alternate.alternate_from(h, mm, value, rc, fit, net, s, _run_for),
                budget - kept - (time.perf_counter() - t1),
            )
        late = not red.interrupted and not red.settled(mip_gap) and red.proven_out is None
        if exchanging and not alternated and late:  # (not after a proof of the neighbourhood)
            assert shape is not None
            _take_background(red, behind)
            left = _exchange_time(budget - (time.perf_counter() - t1), time_limit, t0)
            _exchange(
                red, stage, mm, shape, left, mip_gap, ticking_stop, on_progress, exchange_workers
            )
        red.sub_s = time.perf_counter() - t1

    # 3. reduced-cost fixing against the incumbent (from the LP's optimum only)
    if red.incumbent_objective is not None and lp.objective is not None:
        assert lp.row_dual is not None
        row_dual = lp.row_dual
        lp_lb = lp.objective  # the identity behind fixing_gains holds at the LP's optimum
        ub = red.incumbent_objective
        margin = ub + FIX_TOL * max(abs(ub), 1.0)
        gain = fixing_gains(rc, value, binaries, imp, link_rows(mm), row_dual, mm.col_upper)
        red.fixed_zero = zero[lp_lb + gain[zero] > margin]
        red.fixed_one = one[lp_lb - rc[one] > margin]
        excluded = np.concatenate([lp_lb + gain[red.fixed_zero], lp_lb - rc[red.fixed_one]])
        if len(excluded):
            red.threshold = float(excluded.min())
    _take_background(red, behind)  # (when no step above took it)
    return red
