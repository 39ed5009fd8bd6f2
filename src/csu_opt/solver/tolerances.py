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

#: A solution replaces the incumbent only when cheaper by more than this (absolute in the root
#: reduction's restricted MIPs; relative to max(1, |objective|) in the polish): equal networks
#: found again do not count as improvements.
IMPROVE_TOL = 1e-9

#: Root reduction (reduce.py): a binary counts as 0 (or 1) in the LP optimum within this.
ZERO_TOL = 1e-6
#: Reduced-cost fixing keeps a safety margin of this much, relative to |UB|, for the LP's
#: numerical error in the reduced costs and LB: no network within it of UB is excluded.
FIX_TOL = 1e-7
#: Column generation (lp.py): a left-out assignment enters when its reduced cost is below
#: -PRICE_TOL x (1 + |cost|), so round-off in the duals does not add columns for ever.
PRICE_TOL = 1e-9

#: Greedy start (start.py): largest row or bound violation accepted, relative to the largest
#: demand; a start beyond it is not handed to HiGHS.
FEAS_TOL = 1e-9
#: Greedy start: slack in its own comparisons of volumes, shares and savings (a lead's load
#: against its viability floor, a share against the demand left), so round-off does not make a
#: feasible choice look infeasible.
START_SLACK = 1e-9
#: Greedy start: demand or shares below this count as none.
START_EPS = 1e-12
