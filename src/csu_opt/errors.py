"""Errors for people: bad input is a list of located problems, not a traceback."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an instance, located as precisely as the input allows.

    ``row`` is how a person finds the record: ``"row 3"`` for an inline YAML list,
    ``"line 5"`` for a CSV file (the header is line 1), ``"row 5"`` for a spreadsheet.
    """

    file: str
    message: str
    table: str | None = None
    row: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.table:
            where.append(self.table if not self.row else f"{self.table} {self.row}")
        elif self.row:
            where.append(self.row)
        if self.field:
            where.append(f"field '{self.field}'")
        return f"{', '.join(where)}: {self.message}"


class CsuOptError(Exception):
    """Base class of every error csu-opt reports to a person."""


class InstanceError(CsuOptError):
    """An instance could not be read or is invalid; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the instance"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems))


class UsageError(CsuOptError):
    """A command-line value (an override, a sweep key) that cannot be applied."""


class ResultFolderError(CsuOptError):
    """A folder that is not a (complete) result folder; the message names what is missing."""
