"""History queries on both databases."""

import io
from datetime import date, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select

from core.history import (
    get_job_detail,
    list_job_rows,
    list_people,
    outcomes_over_time,
    user_history,
)
from db.models import ImportJob, User
from tests.db.test_import_engine import run


def test_history_filters_detail_and_user_changes(engine: Engine) -> None:
    first = run(engine, "Email;Voornaam;Achternaam\na@example.org;Ann;Smit\n")
    second = run(
        engine, "Email;Achternaam;Wachtwoord\na@example.org;Smit-Jansen;nieuw-geheim\nbad;x;\n"
    )
    with Session(engine) as session:
        everything = list_job_rows(session=session, language="en")
        assert everything["Import"].tolist() == [second.job_id, first.job_id]
        failed = list_job_rows(session=session, statuses=["completed_with_errors"], language="en")
        assert failed["Import"].tolist() == [second.job_id]
        assert list_job_rows(
            session=session, since=date.today() + timedelta(days=1), language="en"
        ).empty
        assert (
            len(list_job_rows(session=session, until=date.today(), person="test", language="en"))
            == 2
        )
        assert list_people(session=session) == ["test"]
        chart = outcomes_over_time(session=session)
        assert chart.sum().to_dict() == {"completed_with_errors": 1, "succeeded": 1}
        detail = get_job_detail(session=session, job_id=second.job_id)
        assert detail.issue_counts == {"invalid-email": 1}
        fields = detail.changes.set_index("Field")
        assert fields.loc["Last name", ["Old", "New"]].tolist() == ["Smit", "Smit-Jansen"]
        assert fields.loc["Password", ["Old", "New"]].tolist() == ["********", "********"]
        assert detail.rejected["Error"].str.contains("not a valid email").all()
        ann = session.exec(select(User)).one()
        history = user_history(session=session, user_id=ann.id)
        assert history["Import"].tolist()[0] == second.job_id
        assert set(history["Import"]) == {first.job_id, second.job_id}
        assert "nieuw-geheim" not in history.to_string() + detail.changes.to_string()


def test_file_level_issues_have_empty_row_and_column_not_none(engine) -> None:
    from sqlmodel import Session

    from core import export
    from core.history import get_job_detail
    from tests.db.test_import_engine import run

    result = run(engine, "Email;Naam;Naam\na@example.org;A;B\nfout;C;D\n")
    with Session(engine) as session:
        issues = get_job_detail(session=session, job_id=result.job_id).issues
    text = export.to_csv_bytes(issues).decode("utf-8-sig")
    assert "None" not in text and "nan" not in text
    assert issues.loc[issues["Code"] == "duplicate-header", ["Row", "Column"]].values.tolist() == [
        ["", "Naam"]
    ]


def test_rejected_rows_are_written_in_the_language_of_who_downloads_them(engine: Engine) -> None:
    from openpyxl import load_workbook

    from core.export import to_xlsx_bytes
    from core.history import get_rejected_rows

    result = run(engine, "E-mail;Voornaam;Achternaam\nann@example.org;Ann;Smit\nfout;Bob;Bos\n")
    with Session(engine) as session:
        job = session.get(ImportJob, result.job_id)
        dutch = get_rejected_rows(session=session, job=job, language="nl")
        english = get_rejected_rows(session=session, job=job, language="en")
    assert list(dutch.columns) == ["E-mail", "Voornaam", "Achternaam", "Fout"]
    assert list(english.columns)[-1] == "Error"
    assert dutch.loc[3, "E-mail"] == "fout" and "geen geldig e-mailadres" in dutch.loc[3, "Fout"]
    assert "is not a valid email" in english.loc[3, "Error"]
    book = load_workbook(io.BytesIO(to_xlsx_bytes(dutch, "Gebruikers")))
    assert book.sheetnames == ["Gebruikers"]


def test_a_change_log_reads_in_words_with_labels_values_and_the_import_a_revert_undid(
    engine: Engine,
) -> None:
    from core.revert import run_revert

    first = run(engine, "E-mail;Voornaam;Achternaam;Taal\nann@example.org;Ann;Smit;nl\n")
    with Session(engine) as session:
        detail = get_job_detail(session=session, job_id=first.job_id, language="nl")
    created = detail.changes.set_index("Field")
    assert set(detail.changes["Action"]) == {"aangemaakt"}
    assert created.loc["Voornaam", "New"] == "Ann"
    assert created.loc["Taal", "New"] == "Nederlands"
    assert created.loc["Soort", "New"] == "medewerker"
    shown = detail.changes.to_string()
    for key in ("first_name", "employee", "create", "None", "nan"):
        assert key not in shown, key
    revert_id = run_revert(engine=engine, job_id=first.job_id, created_by="beheer").job_id
    with Session(engine) as session:
        undone = get_job_detail(session=session, job_id=revert_id, language="nl")
    assert set(undone.changes["Row"]) == {f"terugdraaien van import {first.job_id}"}
    assert set(undone.changes["Action"]) == {"verwijderd bij terugdraaien"}
