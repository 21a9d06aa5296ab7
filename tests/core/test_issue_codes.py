"""One registry of issue codes: every code the code emits is in it, documented, and filled right."""

import ast
import re
from pathlib import Path

import pytest

from core.issues import ISSUE_TYPES, Refusal, issue
from tests.conftest import ROOT

# Where a call names its code and variant: (code position, variant position).
POSITIONS = {"issue": (0, 1), "of": (0, 1), "report": (0, 3), "self.issue": (1, 3)}
WHERE = {"row", "column", "field", "value"}


def call_name(node: ast.Call) -> str:
    function = node.func
    if isinstance(function, ast.Name):
        return function.id
    if isinstance(function, ast.Attribute):
        owner = function.value
        return (
            f"self.{function.attr}"
            if isinstance(owner, ast.Name) and owner.id == "self"
            else function.attr
        )
    return ""


def constants(node: ast.expr | None) -> list[str] | None:
    """The strings an argument can be: a literal, either branch of `a if c else b`, or None."""
    if node is None:
        return [""]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        branches = [constants(node.body), constants(node.orelse)]
        return None if None in branches else [s for b in branches for s in b]
    return None


def emitted() -> list[tuple[str, str, str, set[str] | None]]:
    """(place, code, variant, keyword names or None when unknown) of every issue made."""
    found = []
    files = [*sorted((ROOT / "cli").rglob("*.py")), *sorted((ROOT / "core").rglob("*.py"))]
    for path in files:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "code" for t in node.targets
            ):
                for code in constants(node.value) or []:
                    found.append((f"{path.name}:{node.lineno}", code, "", None))
            if (
                isinstance(node, ast.Subscript)
                and isinstance(node.value, ast.Name)
                and node.value.id == "ISSUE_TYPES"
                and isinstance(node.slice, ast.Constant)
            ):
                found.append((f"{path.name}:{node.lineno}", node.slice.value, "", None))
            if not isinstance(node, ast.Call):
                continue
            name = call_name(node)
            place = f"{path.relative_to(ROOT)}:{node.lineno}"
            if name == "CellFinding" and isinstance(node.args[3], ast.Dict):
                keys = {k.value for k in node.args[3].keys if isinstance(k, ast.Constant)}
                found.append((place, node.args[0].value, "", keys))
            elif name == "_validate_choice":
                found.append((place, node.args[3].value, "", None))
            elif name in POSITIONS and len(node.args) > POSITIONS[name][0]:
                at, variant_at = POSITIONS[name]
                codes = constants(node.args[at])
                if codes is None:
                    continue  # a code handed on by a caller, which is scanned itself
                variants = constants(node.args[variant_at] if len(node.args) > variant_at else None)
                spread = any(k.arg is None for k in node.keywords)
                keywords = None if spread else {k.arg for k in node.keywords}
                for code in codes:
                    for variant in variants or [None]:
                        found.append((place, code, variant, keywords))
    return found


def every_need(calls: list, place: str) -> set[str]:
    """What all the variants a call may make need."""
    return {
        name
        for at, code, variant, _ in calls
        if at == place and code in ISSUE_TYPES and variant in ISSUE_TYPES[code].messages
        for name in ISSUE_TYPES[code].parameters(variant)
    }


def test_every_emitted_code_and_variant_is_registered_with_the_parameters_it_needs() -> None:
    calls = emitted()
    assert len(calls) > 80
    problems = []
    for place, code, variant, keywords in calls:
        kind = ISSUE_TYPES.get(code)
        if kind is None:
            problems.append(f"{place}: {code} is not in the registry")
        elif variant is not None and variant not in kind.messages:
            problems.append(f"{place}: {code} has no message {variant!r}")
        elif variant is not None and keywords is not None:
            # A call that may take one of two variants passes what either needs.
            needed = kind.parameters(variant) - WHERE
            if not needed <= keywords or not keywords - WHERE <= every_need(calls, place):
                problems.append(f"{place}: {code}/{variant} needs {needed}, gets {keywords}")
    assert problems == []
    used = {code for _, code, _, _ in calls}
    assert set(ISSUE_TYPES) - used == set(), "registered codes nothing emits"


def test_every_code_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    table = set(re.findall(r"^\| `([a-z-]+)` \|", readme, flags=re.MULTILINE))
    assert table, "the README has a table of issue codes"
    assert table <= set(ISSUE_TYPES), "the README lists codes the registry does not have"
    assert [c for c in ISSUE_TYPES if c not in table] == []


def test_each_template_formats_and_says_what_to_do() -> None:
    for kind in ISSUE_TYPES.values():
        assert kind.meaning.endswith(".")
        for variant, template in kind.messages.items():
            params = dict.fromkeys(kind.parameters(variant), 1234)
            message = template.format(**params)
            # A {reason} is a sentence of its own (email-validator's), full stop included.
            finished = message.endswith((".", ")")) or template.endswith("{reason}")
            assert finished, (kind.code, variant)


def test_an_issue_takes_its_severity_and_words_from_the_registry() -> None:
    found = issue("duplicate-email", row=7, column="E-mail", email="a@b.nl", others="9")
    assert (found.severity, found.row, found.column) == ("error", 7, "E-mail")
    assert found.message.startswith("The email address a@b.nl also appears in row 9;")
    assert issue("hidden-row", row=4).severity == "warning"
    assert issue("hidden-row", row=4).message.startswith("Row 4 is hidden")
    refusal = Refusal.of("too-large", "rows", rows=1_200_000, limit=1_000_000)
    assert (
        refusal.message
        == "The file has 1,200,000 rows; the limit is 1,000,000. Split it into smaller files."
    )
    with pytest.raises(KeyError):
        issue("no-such-code")


def test_the_four_codes_that_meant_two_things_are_split(tmp_path: Path) -> None:
    meanings = {
        "not-found": "update-only",
        "unknown-user": "does not exist",
        "duplicate-email": "more than one row",
        "email-taken": "another user",
        "duplicate-header": "same header",
        "field-mapped-twice": "same field",
        "control-characters": "cell",
        "nul-characters": "text file",
    }
    for code, words in meanings.items():
        assert words in ISSUE_TYPES[code].meaning, code


def test_every_refusal_is_made_one_way_from_its_registered_code() -> None:
    """One error style: a refusal class is only ever made by `.of(code, variant, ...)`."""
    import cli
    import core.accounts
    import core.catalog
    import core.pipeline
    import core.saved_settings

    del cli, core  # imported for their subclasses of Refusal
    kinds = {Refusal.__name__}
    pending = [Refusal]
    while pending:
        for kind in pending.pop().__subclasses__():
            kinds.add(kind.__name__)
            pending.append(kind)
    assert {"AccountError", "CatalogError", "OptionsError", "UnusableFileError"} <= kinds
    direct = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in [*(ROOT / "cli").rglob("*.py"), *(ROOT / "core").rglob("*.py")]
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in kinds
    ]
    assert direct == []
