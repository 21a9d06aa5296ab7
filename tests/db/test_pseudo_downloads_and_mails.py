"""Every download and every mail read in the pseudo-language: only catalog words, no codes."""

import io

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine
from sqlmodel import Session

from core import export
from core.history import get_job_detail, get_rejected_rows
from core.i18n import gettext
from core.mail import deliver_pending
from core.mail_templates import DEFAULTS
from db.models import ImportJob
from tests.conftest import Inbox
from tests.db.test_import_engine import run
from tests.db.test_invitations import invite
from tests.db.test_mail_and_activation import mail_settings
from tests.pseudo import PSEUDO, catalogue_words, findings, install, words

FILE = (
    "E-mailadres;Voornaam;Tussenvoegsel;Achternaam;Groep;Functie\n"
    "nina@example.nl;Nina;de;Nieuw;Team Noord;Teamleider\n"
    "geen-adres;Fout;;Rij;Team Noord;Stagiair\n"
)
CHANGED = FILE.replace("Teamleider", "Hoofd").replace("Team Noord", "Team Zuid")
ZONE = "Europe/Amsterdam"


def _texts(frame: pd.DataFrame) -> list[str]:
    cells = [str(v) for column in frame.columns for v in frame[column].tolist()]
    return [*map(str, frame.columns), *cells]


def _data() -> set[str]:
    """The words of the file, the organisation's own mails and what Babel writes."""
    templates = " ".join(f"{s} {b}" for (_, lang), (s, b) in DEFAULTS.items() if lang == PSEUDO)
    return words(FILE + CHANGED + templates + " Hanna Helpdesk beheer helpdesk users csv")


def test_downloads_and_mails_read_only_catalog_words(
    monkeypatch: pytest.MonkeyPatch, engine: Engine, db_url: str, inbox: Inbox
) -> None:
    install(monkeypatch)
    settings = mail_settings(db_url, inbox.port)
    first = run(
        engine, FILE, welcome_new=True, create_groups=True, notify_admin="beheer@example.org"
    )
    second = run(engine, CHANGED, notify_updated=True, create_groups=True)
    invite(engine, settings)
    deliver_pending(engine=engine, settings=settings)
    found: list[str] = []
    with Session(engine) as session:
        data = _data() | catalogue_words(session=session)

    def read(texts: list[str], where: str) -> None:
        for text in texts:
            found.extend(f"{where}: {f}" for f in findings(text, data))

    with Session(engine) as session:
        for result in (first, second):
            job = session.get(ImportJob, result.job_id)
            rejected = get_rejected_rows(session=session, job=job, language=PSEUDO)
            read(_texts(rejected), f"rejected rows of import {result.job_id}")
            detail = get_job_detail(session=session, job_id=result.job_id, language=PSEUDO)
            assert detail is not None
            # The issues download keeps its codes in a column of their own, for machines.
            issues = export.frame_in_words(detail.issues, PSEUDO, ZONE)
            code_column = gettext("Code", PSEUDO)
            read(_texts(issues.drop(columns=code_column)), "issues download")
            read(_texts(export.frame_in_words(detail.changes, PSEUDO, ZONE)), "changes download")
            read(_texts(export.frame_in_words(detail.emails, PSEUDO, ZONE)), "emails download")
        users = export.users_frame(session=session, language=PSEUDO)
        read(_texts(users), "users export")
        read(_texts(export.template_frame(session=session, language=PSEUDO)), "template")
    workbook = load_workbook(io.BytesIO(export.to_xlsx_bytes(users, gettext("Users", PSEUDO))))
    read(workbook.sheetnames, "the workbook's sheet")

    kinds = {str(m["Subject"]) for m in inbox.messages}
    assert len(inbox.messages) == 4, kinds  # welcome, completion, update notice, invitation
    for message in inbox.messages:
        read([str(message["Subject"]), Inbox.text(message)], f"mail {message['Subject']}")
    print("\n".join(dict.fromkeys(found)))
    assert found == []


def test_the_checker_finds_what_escaped_the_catalog() -> None:
    """The pseudo-language check itself: what it must catch and what it must let through."""
    data = words("Nina de Nieuw")
    assert findings("⟦Voornaam⟧: ⟦leeg⟧ → Nina", data) == []
    assert findings("⟦Import 3 · ⟦klaar⟧⟧ · 6 december 2026", data) == []  # Babel's month
    assert findings("⟦Import 3⟧ op 6 december", data) == [
        "unwrapped 'op' in '⟦Import 3⟧ op 6 december'"
    ]
    assert findings("Status: ⟦klaar⟧", data) == ["unwrapped 'Status' in 'Status: ⟦klaar⟧'"]
    assert findings("⟦Import 1 is klaar: completed_with_errors⟧", data)[0].startswith(
        "raw 'completed_with_errors'"
    )
    assert findings("⟦Rij⟧ None", data)[0].startswith("raw 'None'")
    assert findings("⟦er gaan 2 import(s) voor⟧", data)[0].startswith("raw '(s)'")
    assert findings("⟦Soort⟧: employee", data)[0].startswith("raw 'employee'")
    assert findings("⟦Mail⟧ nina@example.nl, https://portal.test/Activate?token=x", data) == []
