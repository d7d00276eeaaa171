"""tests/README.md maps README promises to tests; every test it names must exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def named_tests(text: str) -> list[tuple[str, str | None]]:
    """(file, test or None) for every `file.py`, `file.py::test` and `::test` of the table;
    a bare `::test` belongs to the last file named before it in the same row."""
    refs = []
    for line in text.split("## README promise → test", 1)[1].splitlines():
        if not line.startswith("|"):
            continue
        current = None
        for ref in re.findall(r"`([^`]+)`", line.split("|")[2]):
            m = re.fullmatch(r"((?:[\w/]+/)?test_\w+\.py)?(?:::(\w+))?", ref)
            if not m or not (m.group(1) or m.group(2)):
                continue
            current = m.group(1) or current
            assert current, f"tests/README.md: `{ref}` has no test file before it in: {line}"
            refs.append((current, m.group(2)))
    return refs


def defined_tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def test_every_test_the_promise_table_names_exists():
    refs = named_tests((TESTS / "README.md").read_text())
    assert len(refs) > 40
    missing = []
    for file, test in refs:
        path = TESTS / file
        if not path.is_file():
            missing.append(file)
        elif test and test not in defined_tests(path):
            missing.append(f"{file}::{test}")
    assert not missing, f"tests/README.md names tests that do not exist: {missing}"


def test_a_bare_test_name_belongs_to_the_file_before_it():
    row = "| p | `x/test_a.py::t1`, `::t2`, `test_b.py` |"
    text = f"## README promise → test\n\n| a | b |\n|---|---|\n{row}\n"
    assert named_tests(text) == [("x/test_a.py", "t1"), ("x/test_a.py", "t2"), ("test_b.py", None)]
