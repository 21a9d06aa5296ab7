"""The README's layout table names every module of the project, and only modules there are."""

import re

from tests.conftest import ROOT

FOLDERS = ("core", "db", "ui", "cli", "pages", "bench")


def named_in_layout_table() -> set[str]:
    """Paths a row's first cell names: `core/plan.py`, or `plan.py` after `core/mapping.py`."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index("| path | what is there |")
    table = readme[start : readme.index("\n\n", start)]
    named = set()
    for row in table.splitlines()[2:]:
        folder = ""
        for name in re.findall(r"`([^`]+)`", row.split("|")[1]):
            if "/" in name:
                folder = name.rstrip("/") if name.endswith("/") else name.rsplit("/", 1)[0]
                named.add(name.rstrip("/"))
            elif folder and name.endswith(".py"):
                named.add(f"{folder}/{name}")
    return named


def test_the_layout_table_matches_the_tree() -> None:
    named = named_in_layout_table()
    folders = {n for n in named if not n.endswith(".py")}
    unnamed = [
        str(path.relative_to(ROOT))
        for folder in FOLDERS
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path.name != "__init__.py"
        and str(path.relative_to(ROOT)) not in named
        and not any(str(path.relative_to(ROOT)).startswith(f"{f}/") for f in folders)
    ]
    assert unnamed == []
    assert sorted(n for n in named if not (ROOT / n).exists()) == []
