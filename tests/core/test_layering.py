"""The layers import downwards only: pages -> ui -> core -> db, read from the import graph."""

import ast
from pathlib import Path

from tests.conftest import ROOT

LAYERS = ("pages", "ui", "core", "db")
# What each layer may import of the project and of the libraries that define a layer.
ALLOWED = {
    "pages": {"ui", "core", "db.engine", "db.vocabulary", "streamlit"},
    "ui": {"ui", "core", "db", "streamlit"},
    "core": {"core", "db"},
    "db": {"db"},
    "cli": {"cli", "core", "db"},
    "bench": {"core", "db"},
}
# Libraries that belong to one layer: Streamlit to the screen, SQL to db and core, pandas
# below the pages (a page hands data from core to a widget; it never transforms it).
GUARDED = {"streamlit", "sqlalchemy", "sqlmodel", "pandas", "yagmail", "smtplib"}
LIBRARIES_BY_LAYER = {
    "pages": {"streamlit"},
    "ui": {"streamlit", "sqlalchemy", "sqlmodel", "pandas"},
    "core": {"sqlalchemy", "sqlmodel", "pandas", "yagmail", "smtplib"},
    "db": {"sqlalchemy", "sqlmodel"},
    "cli": {"sqlalchemy", "sqlmodel"},
    "bench": {"sqlalchemy", "sqlmodel", "pandas"},
}


def layer_of(path: Path) -> str:
    """The layer a source file belongs to; app.py is a page."""
    relative = path.relative_to(ROOT)
    if relative.parts[0] in LAYERS:
        return relative.parts[0]
    return {"app.py": "pages", "cli.py": "cli"}.get(relative.name, relative.parts[0])


def imported_modules(source: str) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def source_files() -> list[Path]:
    files = [ROOT / "app.py", ROOT / "cli.py", *sorted((ROOT / "bench").glob("*.py"))]
    files += sorted((ROOT / "cli").rglob("*.py"))
    for layer in LAYERS:
        files += sorted(p for p in (ROOT / layer).rglob("*.py") if "migrations" not in p.parts)
    return files


def violations(source: str, layer: str) -> list[str]:
    """The imports of one file that its layer may not make."""
    allowed, libraries = ALLOWED[layer], LIBRARIES_BY_LAYER[layer]
    found = []
    for module in sorted(imported_modules(source)):
        top = module.split(".")[0]
        if top in ALLOWED or top == "app":
            if not any(module == a or module.startswith(f"{a}.") for a in allowed):
                found.append(module)
        elif top in GUARDED and top not in libraries:
            found.append(module)
    return found


def test_every_layer_imports_only_what_lies_below_it() -> None:
    files = source_files()
    assert ROOT / "app.py" in files and len(files) > 40
    problems = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in files
        for module in violations(path.read_text(), layer_of(path))
    ]
    assert problems == []


def test_the_guard_sees_imports_inside_functions_and_upwards() -> None:
    page = (
        "import streamlit as st\nfrom db.engine import read_session\n\n"
        "def f():\n    from db import queries\n    import pandas\n"
    )
    assert violations(page, "pages") == ["db", "db.queries", "pandas"]
    assert violations("from ui.auth import require_account\n", "core") == [
        "ui.auth",
        "ui.auth.require_account",
    ]
    assert violations("import streamlit\nfrom core.read import Table\n", "db") == [
        "core.read",
        "core.read.Table",
        "streamlit",
    ]


# What core may take from the SQL libraries: the types a session or a query passes through as,
# and the database's errors; every statement is written in db/.
SQL_TYPES_IN_CORE = {
    "sqlalchemy.Engine",
    "sqlalchemy.Select",
    "sqlmodel.Session",
    "sqlmodel.SQLModel",
}
SQL_CALLS = {"exec", "execute", "scalar", "scalars", "connection", "query"}


def sql_in_core(source: str) -> list[str]:
    """The SQL of one core module: statement builders imported, statements run."""
    found = []
    for module in sorted(imported_modules(source)):
        library, _, name = module.partition(".")
        sql = library in {"sqlalchemy", "sqlmodel"} and bool(name)
        if sql and module not in SQL_TYPES_IN_CORE and not module.startswith("sqlalchemy.exc"):
            found.append(f"imports {module}")
    calls = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call)]
    for node in sorted(calls, key=lambda n: n.lineno):
        if isinstance(node.func, ast.Attribute) and (
            node.func.attr in SQL_CALLS
            # A row by its key is a query too; dict.get and the like are not.
            or (
                node.func.attr == "get"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "session"
            )
        ):
            found.append(f"calls .{node.func.attr}() on line {node.lineno}")
    return found


def test_core_holds_no_sql_only_the_types_it_passes_on() -> None:
    problems = [
        f"{path.relative_to(ROOT)} {problem}"
        for path in sorted((ROOT / "core").rglob("*.py"))
        for problem in sql_in_core(path.read_text())
    ]
    assert problems == []


def test_the_sql_guard_sees_builders_and_statements() -> None:
    source = (
        "from sqlalchemy import Engine, select\nfrom sqlmodel import Session, col\n"
        "from sqlalchemy.exc import OperationalError\n\n"
        "def f(session, found):\n    return session.exec(select(1)).first()\n"
        "def g(session, found):\n    return session.get(User, 1) or found.get('x')\n"
    )
    assert sql_in_core(source) == [
        "imports sqlalchemy.select",
        "imports sqlmodel.col",
        "calls .exec() on line 6",
        "calls .get() on line 8",
    ]
