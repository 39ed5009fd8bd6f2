"""The solver's numerical tolerances, in one place, each with what it guards.

(The independent checker's tolerances, which decide whether a written network keeps every
rule, are :class:`csu_opt.results.checks.Tolerances`; they know nothing of these.)
"""

from __future__ import annotations

#: HiGHS reports "no incumbent" or "no bound" as an infinite or huge value (its infinity is
#: inf, but some callbacks report 1e30-ish values); anything at least this large means none.
HIGHS_INFINITE = 1e29

#: The denominator of a relative gap is at least this, so an objective of 0 gives a finite gap.
GAP_FLOOR = 1e-10

#: HiGHS's objective and the cost of the solution it returns must agree to this (relative, at
#: least 1 absolute): HiGHS 1.16.0 reported objectives its own solutions did not have.
OBJECTIVE_TOL = 1e-6
