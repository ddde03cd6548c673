"""All SQL lives in `redlines/store` (and the migrations): every other module of the package
speaks to the database through the store's named functions, so that a second engine can fill the
store without touching the service, the CLI or the output."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "redlines"
STORE = PACKAGE / "store"

# A statement, not prose: a verb of SQL followed by what only SQL puts after it.
SQL = re.compile(
    r"\b(SELECT\b.+\bFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|PRAGMA\s+\w+"
    r"|CREATE\s+(TABLE|INDEX|VIEW|TRIGGER)|DROP\s+(TABLE|INDEX|VIEW|TRIGGER))\b",
    re.DOTALL,  # the house writes SQL's keywords in capitals, prose in lower case
)


def sql_in(path: Path) -> list[tuple[int, str]]:
    """The string constants (f-strings' literal parts included) of a module that hold SQL, but
    not its docstrings, which may name a statement to explain it."""
    tree = ast.parse(path.read_text(), str(path))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    parts = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings | parts:
            text = node.value
        else:
            continue
        if SQL.search(text):
            found.append((node.lineno, text))
    return found


def modules_outside_the_store() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py")) if STORE not in p.parents]


def test_no_sql_outside_the_store():
    outside = {str(p.relative_to(PACKAGE.parent)): sql_in(p) for p in modules_outside_the_store()}
    assert {path: found for path, found in outside.items() if found} == {}


def test_the_store_modules_are_outside_the_rule_and_hold_sql():
    """The scan reads what it should: it finds the store's statements (and would find one moved out)."""
    assert sum(len(sql_in(p)) for p in STORE.glob("*.py")) > 50
    assert len(modules_outside_the_store()) > 20


@pytest.mark.parametrize(
    "source",
    [
        'x = conn.execute("SELECT slug FROM actor")',
        'x = conn.execute(f"SELECT COUNT(*) FROM {t}")',
        'conn.execute("PRAGMA journal_mode")',
        'conn.execute("DELETE FROM threat WHERE id = ?", (i,))',
        "q = '''\n  UPDATE threat\n  SET statement = ?'''",
        'conn.execute("INSERT OR IGNORE INTO tag (name) VALUES (?)")',
    ],
)
def test_the_scan_finds_sql(tmp_path, source):
    module = tmp_path / "m.py"
    module.write_text(f'"""Selects from the table: prose, not SQL."""\n{source}\n')
    assert len(sql_in(module)) == 1


def test_the_scan_passes_prose(tmp_path):
    module = tmp_path / "m.py"
    module.write_text('"""SELECT * FROM threat, in a docstring."""\nhint = "select threats to delete from a list"\n')
    assert sql_in(module) == []


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
    return names


@pytest.mark.parametrize("layer", ["output", "domain"])
def test_output_and_domain_do_not_reach_into_the_store(layer):
    """The arrows point one way: cli -> service -> store; output and domain know no store."""
    reaching = {
        str(p.relative_to(PACKAGE.parent)): sorted(m for m in imported_modules(p) if m.startswith("redlines.store"))
        for p in sorted((PACKAGE / layer).rglob("*.py"))
    }
    assert {p: m for p, m in reaching.items() if m} == {}


def test_each_module_name_says_one_thing():
    """No two modules of the package share a file name (two `export.py` once did: the store's
    reading and the output's writing)."""
    names: dict[str, list[str]] = {}
    for p in PACKAGE.rglob("*.py"):
        if p.name not in ("__init__.py", "__main__.py"):
            names.setdefault(p.name, []).append(str(p.relative_to(PACKAGE)))
    assert {n: sorted(ps) for n, ps in names.items() if len(ps) > 1} == {}
