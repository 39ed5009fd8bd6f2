"""csu-opt's version, in a module of its own: every room can read it without the rest."""

__version__ = "0.1.0"
