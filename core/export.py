"""Users and rejected rows as files that import back, with formula injection neutralised."""

from __future__ import annotations

import csv
import io
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Select
from sqlmodel import Session

from core.entropy import SECRET_COLUMN, looks_secret
from core.fields import MULTI_VALUE_SEPARATOR, labels_in, value_in_words
from core.i18n import N_, gettext, render
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
    groups, levels, everyone = list_all_memberships(session=session)
    always = [everyone] if everyone else []
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
                "groups": sorted({*groups.get(id_of(user), []), *always}),
                "levels": levels.get(id_of(user), []),
                "is_protected": user.is_protected,
                "profile": dict(user.profile or {}),
            }
        )
    return users


def users_frame(
    *, session: Session, user_ids: Select[Any] | None = None, language: str | None = None
) -> pd.DataFrame:
    """All users (or those user_ids selects) in the import template's form, all text.

    With a language, the headings are the fields' labels and fixed values are words
    (Voornaam, medewerker, Nederlands) for a person to read; an import reads either form back.
    """
    labels = _importable_labels(session)
    profile_keys = list(labels)
    rows = []
    for user in list_users(session=session, user_ids=user_ids):
        row = {k: user[k] or "" for k in USER_COLUMNS if k not in {"groups", "levels"}}
        row["groups"] = MULTI_VALUE_SEPARATOR.join(user["groups"])
        row["levels"] = MULTI_VALUE_SEPARATOR.join(user["levels"])
        row |= {k: user["profile"].get(k, "") for k in profile_keys}
        rows.append(row)
    frame = pd.DataFrame(rows, columns=USER_COLUMNS + profile_keys, dtype=object)
    if language is None:
        return frame
    for key in ("status", "kind", "language"):
        frame[key] = frame[key].map(lambda v, key=key: value_in_words(key, v, language))
    return frame.rename(columns=labels_in(language, labels))


def _importable_labels(session: Session) -> dict[str, str]:
    """Key -> label of the profile fields an import may fill, in the portal's order."""
    return {f.key: f.label for f in queries.list_profile_fields(session=session) if f.importable}


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


def starter_words(created_by: str | None, language: str) -> str:
    """Who started an import, in words: an account's name, a link, or the command line."""
    if not created_by:
        return "—"
    if created_by.startswith("link "):
        return render(N_("the link {name}"), language, {"name": created_by.removeprefix("link ")})
    return gettext(N_("the command line"), language) if created_by == "cli" else created_by


def frame_in_words(frame: pd.DataFrame, language: str, time_zone: str) -> pd.DataFrame:
    """A table as its reader reads it, on screen or downloaded: headings, statuses, kinds and
    severities in their words, who started it by name, times on the portal's clock, and an
    empty cell where there is no value (never the word None)."""
    out = frame.copy()
    zone = ZoneInfo(time_zone)
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].dt.tz_convert(zone).dt.tz_localize(None)
        elif out[column].dtype == object:
            out[column] = out[column].where(out[column].notna(), "")
    for words in ("Status", "Severity", "Kind"):
        if words in out.columns:
            out[words] = out[words].map(
                lambda s: gettext(s, language).replace("_", " ") if s else s
            )
    if "Who" in out.columns:
        out["Who"] = out["Who"].map(lambda who: starter_words(who, language))
    return out.rename(columns=lambda c: gettext(c, language) if isinstance(c, str) else c)


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


def template_frame(*, session: Session, language: str | None = None) -> pd.DataFrame:
    """An empty import template with the fields of this portal (their labels, in a language)."""
    labels = _importable_labels(session)
    frame = pd.DataFrame(columns=USER_COLUMNS + list(labels), dtype=object)
    return frame if language is None else frame.rename(columns=labels_in(language, labels))


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
