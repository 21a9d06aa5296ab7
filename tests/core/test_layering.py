"""core/ holds the product's logic and must run without Streamlit."""

import ast

from tests.conftest import ROOT


def test_core_never_imports_streamlit() -> None:
    offenders = []
    for path in sorted((ROOT / "core").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {n}" for n in names if n.split(".")[0].startswith("streamlit")
            ]
    assert (ROOT / "core" / "settings.py").exists()
    assert offenders == []


def test_pages_do_not_talk_to_the_database_directly() -> None:
    offenders = []
    for path in sorted((ROOT / "pages").glob("*.py")):
        source = path.read_text()
        offenders += [
            f"{path.name}: {word}"
            for word in ("sqlmodel", "sqlalchemy", "select(", "yagmail", "read_csv", "read_excel")
            if word in source
        ]
    assert offenders == []
