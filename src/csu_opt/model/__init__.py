"""The formulation over an Instance: the sparse index, the Pyomo model (one add_* per constraint
family) and the same rows as arrays (matrix.py).
"""
