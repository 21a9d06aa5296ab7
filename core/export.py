"""Users and rejected rows as files that import back, with formula injection neutralised."""

from __future__ import annotations

import csv
import io
from typing import Any

import pandas as pd
from sqlalchemy import Select
from sqlmodel import Session

from core.entropy import SECRET_COLUMN, looks_secret
from core.fields import MULTI_VALUE_SEPARATOR
from core.i18n import N_, gettext
from core.issues import Issue
from core.plan import MASK, Plan
from core.read import Table
from db import queries
from db.models import id_of
from db.users import list_all_memberships, list_selected_users

USER_COLUMNS = [
    "email",
    "first_name",
    "name_insert",
    "last_name",
    "username",
    "status",
    "role",
    "language",
    "kind",
    "groups",
    "levels",
]
# The rejected rows' column of reasons, and a workbook's one sheet, in the reader's words.
ERROR_COLUMN = N_("Error")
USERS_SHEET = N_("Users")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def make_inert(value: str) -> str:
    """Prefix a would-be formula with an apostrophe; the reader drops it again.

    Tab and carriage return count too: spreadsheet programs skip them before an "=".
    """
    return "'" + value if value.startswith(_FORMULA_START) else value


def list_users(*, session: Session, user_ids: Select[Any] | None = None) -> list[dict[str, Any]]:
    """Every user (or those user_ids selects) with groups, levels and profile values."""
    groups, levels = list_all_memberships(session=session)
    users = []
    for user in list_selected_users(session=session, user_ids=user_ids):
        users.append(
            {
                "email": user.email,
                "first_name": user.first_name,
                "name_insert": user.name_insert,
                "last_name": user.last_name,
                "username": user.username,
                "status": user.status,
                "role": user.role,
                "language": user.language,
                "kind": user.kind,
                "groups": groups.get(id_of(user), []),
                "levels": levels.get(id_of(user), []),
                "is_protected": user.is_protected,
                "profile": dict(user.profile or {}),
            }
        )
    return users


def _profile_keys(session: Session) -> list[str]:
    return [f.key for f in queries.list_profile_fields(session=session) if f.importable]


def users_frame(*, session: Session, user_ids: Select[Any] | None = None) -> pd.DataFrame:
    """All users (or those user_ids selects) in the import template's form, all text."""
    profile_keys = _profile_keys(session)
    rows = []
    for user in list_users(session=session, user_ids=user_ids):
        row = {k: user[k] or "" for k in USER_COLUMNS if k not in {"groups", "levels"}}
        row["groups"] = MULTI_VALUE_SEPARATOR.join(user["groups"])
        row["levels"] = MULTI_VALUE_SEPARATOR.join(user["levels"])
        row |= {k: user["profile"].get(k, "") for k in profile_keys}
        rows.append(row)
    return pd.DataFrame(rows, columns=USER_COLUMNS + profile_keys, dtype=object)


def rejected_rows(
    table: Table,
    plan: Plan,
    mapping: dict[int, str | None] | None = None,
    language: str = "en",
) -> pd.DataFrame:
    """The rejected rows with their original columns and an Error column, to fix and re-upload.

    Password cells, and values that look like a key or token, are masked: support reads
    this file too, and a secret never leaves the import in one.
    """
    messages: dict[int, list[str]] = {}
    for issue in plan.issues:
        if issue.severity == "error" and issue.row is not None:
            messages.setdefault(issue.row, []).append(issue.text(language))
    rows = sorted(plan.error_rows)
    frame = table.data.loc[rows].copy()
    secret = {i for i, f in (mapping or {}).items() if f == "password"}
    secret |= {i for i in frame.columns if SECRET_COLUMN.search(table.column_name(i))}
    for index in frame.columns:
        hide = (lambda v: bool(v)) if index in secret else looks_secret
        frame[index] = frame[index].map(lambda v, hide=hide: MASK if hide(v) else v)
    frame.columns = [table.column_name(i) for i in range(frame.shape[1])]
    frame[gettext(ERROR_COLUMN, language)] = ["; ".join(messages.get(r, [])) for r in rows]
    return frame


def with_reasons(frame: pd.DataFrame, issues: list[Issue], language: str) -> pd.DataFrame:
    """Stored rejected rows with their reasons written again in the language of the reader."""
    if frame.empty or frame.columns[-1] != ERROR_COLUMN:
        return frame
    reasons: dict[int, list[str]] = {}
    for issue in issues:
        if issue.severity == "error" and issue.row is not None:
            reasons.setdefault(issue.row, []).append(issue.text(language))
    out = frame.iloc[:, :-1].copy()
    stored = frame.iloc[:, -1]
    out[gettext(ERROR_COLUMN, language)] = [
        "; ".join(reasons[int(row)]) if int(row) in reasons else stored[row] for row in frame.index
    ]
    return out


def frame_to_json(frame: pd.DataFrame) -> dict[str, Any]:
    """A frame as JSON that keeps duplicate column names and row numbers."""
    return {
        "headers": [str(c) for c in frame.columns],
        "index": [int(i) for i in frame.index],
        "rows": frame.astype(str).values.tolist(),
    }


def frame_from_json(payload: dict[str, Any]) -> pd.DataFrame:
    """The frame frame_to_json stored."""
    return pd.DataFrame(
        payload.get("rows", []),
        columns=payload.get("headers", []),
        index=payload.get("index") or None,
        dtype=object,
    )


def template_frame(*, session: Session) -> pd.DataFrame:
    """An empty import template with the fields of this portal."""
    return pd.DataFrame(columns=USER_COLUMNS + _profile_keys(session), dtype=object)


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV with a BOM and semicolons, as Dutch Excel opens it, every cell inert."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([make_inert(str(c)) for c in frame.columns])
    for row in frame.itertuples(index=False):
        writer.writerow([make_inert("" if v is None else str(v)) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx_bytes(frame: pd.DataFrame, sheet: str = USERS_SHEET) -> bytes:
    """An XLSX workbook whose every cell is text, so nothing in it can run as a formula."""
    # Imported here: a CSV import or export never needs openpyxl, and it is slow to load.
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet)

    def text_cell(value: object) -> Any:
        cell = WriteOnlyCell(worksheet, value=make_inert("" if value is None else str(value)))
        cell.data_type = "s"
        return cell

    worksheet.append([text_cell(c) for c in frame.columns])
    for row in frame.itertuples(index=False):
        worksheet.append([text_cell(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
