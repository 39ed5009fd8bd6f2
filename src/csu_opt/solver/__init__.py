"""Solving a model with HiGHS: options, the session and its engines, the greedy start, the root
reduction and its LP, bounds, polishing, concurrent searches.
"""
