"""History queries on both databases."""

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
from db.models import User
from tests.db.test_import_engine import run


def test_history_filters_detail_and_user_changes(engine: Engine) -> None:
    first = run(engine, "Email;Voornaam;Achternaam\na@example.org;Ann;Smit\n")
    second = run(
        engine, "Email;Achternaam;Wachtwoord\na@example.org;Smit-Jansen;nieuw-geheim\nbad;x;\n"
    )
    with Session(engine) as session:
        everything = list_job_rows(session=session)
        assert everything["Import"].tolist() == [second.job_id, first.job_id]
        failed = list_job_rows(session=session, statuses=["completed_with_errors"])
        assert failed["Import"].tolist() == [second.job_id]
        assert list_job_rows(session=session, since=date.today() + timedelta(days=1)).empty
        assert len(list_job_rows(session=session, until=date.today(), person="test")) == 2
        assert list_people(session=session) == ["test"]
        chart = outcomes_over_time(session=session)
        assert chart.sum().to_dict() == {"completed_with_errors": 1, "succeeded": 1}
        detail = get_job_detail(session=session, job_id=second.job_id)
        assert detail.issue_counts == {"invalid-email": 1}
        fields = detail.changes.set_index("Field")
        assert fields.loc["last_name", ["Old", "New"]].tolist() == ["Smit", "Smit-Jansen"]
        assert fields.loc["password", ["Old", "New"]].tolist() == ["********", "********"]
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
