"""What a what-if's numbers are worth: the interval each optimum and each difference of
optima surely lies in (issue 16).

A solve stopped at a limit knows its model's optimum z* only up to an interval: the best
bound below, the objective of the network it found above, z* ∈ [bound, objective]. A
what-if compares solves, so what it reports is a difference D = z*_A - z*_B, and

    D ∈ [bound_A - objective_B, objective_A - bound_B].

When A's model is B's with something added (a rule kept where B relaxes it, a provider
failed, fewer moves allowed), z*_A >= z*_B, which tightens both ends: z*_A >= bound_B,
z*_B <= objective_A, and D >= 0. A difference is *proven* when every solve it compares is
proven (optimal within the requested gap, or proven infeasible). It is shown as a price only
when its interval lies above zero; an interval holding zero is "within the gap".

:func:`difference` is the one place that formula is written; every what-if (rule-costs,
resilience, alternatives, tradeoff) and the sweeps use it and the formatting here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from csu_opt.numbers import as_float, pct

if TYPE_CHECKING:
    from csu_opt.results.solution import Solution

INF = math.inf
#: ``binding`` of a rule whose price is neither surely positive nor surely zero.
UNKNOWN: Literal["unknown"] = "unknown"
Binding = bool | Literal["unknown"]


@dataclass(frozen=True)
class Optimum:
    """What one solve knows of its model's optimum: z* ∈ [low, high].

    ``objective`` is the cost of the network found (None: none found), ``bound`` the best
    bound (None: none known), ``gap`` their relative gap. ``status`` is a solve status
    (optimal, feasible, infeasible, no_solution) or ``known`` for a value known exactly (the
    cost of a given network).
    """

    status: str
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    target_gap: float = 0.0  # the gap the solve was asked for

    @classmethod
    def of(cls, sol: Solution) -> Optimum:
        """A solution's optimum interval."""
        target = as_float((sol.solver.get("options") or {}).get("mip_gap")) or 0.0
        return cls(
            str(sol.status),
            as_float(sol.objective),
            as_float(sol.best_bound),
            as_float(sol.mip_gap),
            target,
        )

    @classmethod
    def known(cls, value: float) -> Optimum:
        """A value known exactly (the cost of a given network)."""
        return cls("known", value, value, 0.0)

    @property
    def infeasible(self) -> bool:
        return self.status == "infeasible"

    @property
    def proven(self) -> bool:
        """Proven optimal within the gap (with a bound to show for it) or proven infeasible.

        A solve that stopped at a limit just as its bound met its objective (within the gap
        it was asked for) is proven too.
        """
        if self.status in ("optimal", "known"):
            return self.objective is not None and self.bound is not None
        if self.status == "feasible" and self.gap is not None:
            return self.bound is not None and self.gap <= self.target_gap
        return self.infeasible

    @property
    def low(self) -> float:
        return self.bound if self.bound is not None else -INF

    @property
    def high(self) -> float:
        return self.objective if self.objective is not None else INF


@dataclass(frozen=True)
class Interval:
    """A difference of optima: it surely lies in [low, high] (ends may be ±inf).

    ``proven``: every solve compared is proven. ``tol``: differences up to ``tol`` are zero
    (what the proven solves' gaps leave; see :func:`zero_tol`).
    """

    low: float
    high: float
    proven: bool
    tol: float = 1e-6

    @property
    def binding(self) -> Binding:
        """True when surely positive, False when surely zero, ``unknown`` otherwise."""
        if self.low > self.tol:
            return True
        if self.high <= self.tol:
            return False
        return UNKNOWN

    def scaled(self, factor: float) -> Interval:
        """The interval times a positive factor (e.g. 100 / base for percent)."""
        return Interval(self.low * factor, self.high * factor, self.proven, self.tol * factor)


def difference(a: Optimum, b: Optimum, *, a_at_least_b: bool = False) -> Interval | None:
    """The interval of D = z*_A - z*_B: [low_A - high_B, high_A - low_B].

    ``a_at_least_b``: A's model is B's restricted (so z*_A >= z*_B): A's low end is raised
    to B's, B's high end lowered to A's, and D >= 0. None when either model is proven
    infeasible (there is no difference to report). Its ``tol`` is :func:`zero_tol`.
    """
    if a.infeasible or b.infeasible:
        return None
    a_low, b_high = a.low, b.high
    if a_at_least_b:
        a_low, b_high = max(a_low, b.low), min(b_high, a.high)
    low, high = a_low - b_high, a.high - b.low  # ±inf where an end is unknown
    if a_at_least_b:
        low, high = max(low, 0.0), max(high, 0.0)
    return Interval(low, high, a.proven and b.proven, zero_tol(a, b))


def zero_tol(*optima: Optimum) -> float:
    """Differences up to this are zero: what the gaps of the proven solves among ``optima``
    leave (twice the largest relative gap of the largest objective), plus rounding.

    Only proven gaps count: two solves proven within their gaps that find the same optimum
    differ by at most this, while an unproven solve's gap is what is not known.
    """
    scale = max((abs(o.objective) for o in optima if o.objective is not None), default=0.0)
    gap = max((o.gap or 0.0 for o in optima if o.proven), default=0.0)
    return 1e-6 + 1e-9 * scale + 2.0 * gap * scale


# --------------------------------------------------------------------------- words


def not_proven(*optima: Optimum) -> str:
    """``not proven (gap x%)`` for the unproven solves among ``optima`` (largest gap)."""
    return unproven_note((o.status, o.gap, o.proven) for o in optima)


def unproven_note(solves: Iterable[tuple[str, float | None, bool]]) -> str:
    """``not proven (gap x%)`` from (status, gap, proven) of each solve compared; ``""``
    when all are proven."""
    open_ = [(status, gap) for status, gap, proven in solves if not proven]
    if not open_:
        return ""
    if any(status == "no_solution" for status, _ in open_):
        return "not proven (a solve stopped without a network)"
    gaps = [gap for _, gap in open_]
    if any(g is None or not math.isfinite(g) for g in gaps):
        return "not proven (no bound)"
    return f"not proven (gap {pct(max(g for g in gaps if g is not None))})"


def _step(width: float) -> float:
    """A rounding step that shows ``width`` with two significant digits (at least 0.01)."""
    if not math.isfinite(width) or width <= 0:
        return 0.01
    return max(10.0 ** (math.floor(math.log10(width)) - 1), 0.01)


def _plain(x: float, step: float) -> str:
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    text = f"{x:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def fmt_range(low: float, high: float, suffix: str = "") -> str:
    """An interval rounded outwards: ``1,234–1,261``, ``300–180,000``. Each end keeps two
    significant digits of the width, or of itself when that is finer (so a small low end of
    a wide interval is not rounded away to 0). ``at least 5``/``at most 17`` with an open
    end; one number when the ends round together; `` to `` between ends when one is
    negative."""
    if not math.isfinite(low) and not math.isfinite(high):
        return "unknown"
    if not math.isfinite(high):
        return f"at least {_end(low, _own_step(low), down=True)}{suffix}"
    if not math.isfinite(low):
        return f"at most {_end(high, _own_step(high), down=False)}{suffix}"
    width = _step(high - low)
    a = _end(low, min(width, _own_step(low)), down=True)
    b = _end(high, min(width, _own_step(high)), down=False)
    if a == b:
        return a + suffix
    sep = " to " if low < 0 else "–"
    return f"{a}{sep}{b}{suffix}"


def _own_step(x: float) -> float:
    """Two significant digits of ``x`` itself, however small (inf for 0: no digits to
    keep), so that a small positive end is never shown as 0."""
    if x == 0 or not math.isfinite(x):
        return INF
    return 10.0 ** (math.floor(math.log10(abs(x))) - 1)


def _end(x: float, step: float, down: bool) -> str:
    """``x`` rounded down (or up) to a multiple of ``step`` (ignoring overshoots below a
    thousandth of a step, which are rounding noise)."""
    if not math.isfinite(step):
        return "0"
    k = math.floor(x / step + 1e-3) if down else math.ceil(x / step - 1e-3)
    return _plain(k * step, step)


def fmt_upper(high: float, suffix: str = "") -> str:
    """An upper end rounded up to two significant digits: ``at most 1,300``."""
    if not math.isfinite(high):
        return "unknown"
    step = _step(abs(high))
    return _plain(math.ceil(high / step - 1e-3) * step, step) + suffix


def fmt_near(value: float, low: float, high: float, suffix: str = "") -> str:
    """A proven value rounded to what its interval supports (one significant digit of the
    width; at least to 0.01)."""
    value = min(max(value, low), high)
    width = high - low
    step = 0.01 if width <= 0 else max(10.0 ** math.floor(math.log10(width)), 0.01)
    return _plain(round(value / step) * step, step) + suffix


def describe(iv: Interval, value: float | None = None, suffix: str = "") -> str:
    """A difference for people: ``0`` when surely zero, ``within the gap (at most X)`` when
    it is neither surely zero nor surely positive, else the value (proven; ``value`` is the
    difference of the networks found) or its interval (not proven)."""
    if iv.binding is False:
        return "0" + suffix
    if iv.binding == UNKNOWN:
        return f"within the gap (at most {fmt_upper(iv.high, suffix)})"
    if iv.proven and value is not None and math.isfinite(iv.high):
        return fmt_near(value, iv.low, iv.high, suffix)
    return fmt_range(iv.low, iv.high, suffix)
