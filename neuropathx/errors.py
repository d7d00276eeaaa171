"""Errors raised for bad input: each names the file (or subject) and the problem."""

from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """Bad input data: the message names the file, what was expected and what was found."""

    def __init__(self, path: str | Path | None, problem: str):
        self.path = None if path is None else Path(path)
        self.problem = problem
        where = f"{self.path}: " if self.path is not None else ""
        super().__init__(f"{where}{problem}")
