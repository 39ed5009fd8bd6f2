"""Questions answered with solves: infeasibility explained, the what-ifs, rule costs, resilience,
alternatives, disruption, sweeps, comparisons of runs.
"""
