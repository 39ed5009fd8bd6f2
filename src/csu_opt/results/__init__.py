"""A solve's outcome as plain data: the Solution, its result files read and written, and the
independent verifier. Imports no solver, Pyomo or HiGHS.
"""
