"""Issue records: what is wrong, where (spreadsheet row, column as written), what to do."""

from dataclasses import asdict, dataclass
from typing import Any

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Issue:
    """One problem found in a file or a row; `code` is a stable slug other tools can rely on."""

    code: str
    message: str
    severity: str = ERROR
    row: int | None = None
    column: str | None = None
    field: str | None = None
    value: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """A plain dictionary, for JSON and the database."""
        return asdict(self)

    def as_contract(self) -> dict[str, Any]:
        """The issue as the CLI's JSON contract has it (the value is left out)."""
        return {
            k: getattr(self, k) for k in ("row", "column", "field", "code", "severity", "message")
        }


class InstroomError(Exception):
    """Something Instroom refuses to do, with a message that says why and what to do."""


class UnusableFileError(InstroomError):
    """The file as a whole cannot be imported; nothing is written."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        # Files are read in a child process; the refusal travels back pickled.
        return (type(self), (self.code, self.message))

    @property
    def issue(self) -> Issue:
        """The same problem as an issue record."""
        return Issue(code=self.code, message=self.message)


def column_letter(index: int) -> str:
    """Spreadsheet column letters for a 0-based column index (0 -> A, 27 -> AB)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def column_index(letters: str) -> int:
    """The 0-based column index of spreadsheet column letters (A -> 0, AB -> 27)."""
    index = 0
    for char in letters.upper():
        index = index * 26 + ord(char) - 64
    return index - 1
