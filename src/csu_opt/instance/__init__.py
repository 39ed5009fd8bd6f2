"""Reading and checking an instance: tables, schema, --set overrides, mergers, boundaries; writing,
exporting and generating instances. Imports no model, solver, Pyomo or HiGHS.
"""
