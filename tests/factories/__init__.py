"""Test helpers shared between test modules: instance builders, cached oracle answers,
process helpers. Test modules import from here (or get fixtures from conftest.py), never
from one another."""

from pathlib import Path

#: the tests folder (the one holding conftest.py, oracle.py and factories/)
TESTS = Path(__file__).resolve().parents[1]
