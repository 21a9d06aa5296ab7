"""History as support sees it, the Users page, and the activation page."""

from sqlalchemy import Engine
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from core.one_time_links import token_hash
from db.engine import session_scope
from db.models import ProfileField, User, utcnow
from tests.db.test_import_engine import run
from tests.ui.conftest import ACTIVATE, new_app, signed_in, texts, widget

HISTORY, USERS = "pages/2_History.py", "pages/3_Users.py"


def opened_history(username: str, role: str, job_id: int) -> AppTest:
    """The History page with one import's details opened, as a click on its title does."""
    at = signed_in(username, role, HISTORY)
    at.session_state[f"job_{job_id}"] = True
    return at.run()


def test_history_shows_the_issues_of_a_job_to_support(make_account, app_db: Engine) -> None:
    make_account("helpdesk", "support")
    result = run(
        app_db,
        "Email;Voornaam;Achternaam;Wachtwoord\nok@example.org;Ok;Rij;geheim-wachtwoord\n"
        "fout;Fout;Rij;ander-wachtwoord\nook-fout;Ook;Fout;\n",
    )
    at = signed_in("helpdesk", "support", HISTORY)
    at.query_params["job"] = str(result.job_id)
    at.run()
    assert not at.exception
    jobs = at.dataframe[0].value
    assert jobs["Status"].tolist() == ["completed with errors"]  # in words, not the key
    assert (jobs["Created"].tolist(), jobs["Errors"].tolist()) == ([1], [2])
    labels = [e.label for e in at.expander]
    assert f"Import {result.job_id} · users\\.csv · completed with errors" in labels  # Markdown
    assert "The email address is not valid (2)" in labels  # the kind of problem, not its code
    shown = "\n".join(d.value.to_string() for d in at.dataframe)
    assert "'fout' is not a valid email address" in shown and "Rij" in shown
    assert "geheim-wachtwoord" not in shown and "ander-wachtwoord" not in shown
    buttons = [b.label for b in at.button]
    assert not any(label.startswith(("Send", "Start")) for label in buttons)


def test_users_page_searches_and_creates_a_single_user(make_account, app_db: Engine) -> None:
    make_account("beheer", "admin")
    run(app_db, "Email;Voornaam;Achternaam\nann@example.org;Ann;Smit\nbob@example.org;Bob;Bakker\n")
    at = signed_in("beheer", "admin", USERS)
    assert at.dataframe[0].value["Email"].tolist() == ["ann@example.org", "bob@example.org"]
    widget(at.text_input, "Search name, email or username").input("bakk")
    at.run()
    assert at.dataframe[0].value["Email"].tolist() == ["bob@example.org"]

    widget(at.text_input, "Email").input("Cas@Example.org")
    widget(at.text_input, "First name").input("Cas")
    widget(at.text_input, "Last name").input("Visser")
    widget(at.button, "Create user").click()
    at.run()
    assert "Created cas@example.org." in texts(at)
    widget(at.text_input, "Email").input("ann@example.org")
    widget(at.button, "Create user").click()
    at.run()
    assert "ann@example.org already exists" in texts(at)
    with Session(app_db) as session:
        assert sorted(u.email for u in session.exec(select(User))) == [
            "ann@example.org",
            "bob@example.org",
            "cas@example.org",
        ]


def test_activation_page_sets_the_password_once(app_db: Engine) -> None:
    with Session(app_db) as session:
        session.add(
            User(
                email="new@example.org",
                first_name="N",
                last_name="N",
                activation_token_hash=token_hash("tok-123"),
                activation_expires_at=utcnow().replace(year=utcnow().year + 1),
            )
        )
        session.commit()
    at = new_app(ACTIVATE)
    at.query_params["token"] = "tok-123"
    at.run()
    assert not at.exception and "new@example.org" in texts(at)
    widget(at.text_input, "New password").input("Sterk-Wachtwoord-9")
    widget(at.text_input, "Repeat the password").input("Sterk-Wachtwoord-9")
    widget(at.button, "Set my password").click()
    at.run()
    assert "Your password is set and your account is active." in texts(at)
    with Session(app_db) as session:
        user = session.exec(select(User)).one()
        assert user.status == "active" and user.activation_token_hash is None
    again = new_app(ACTIVATE)
    again.query_params["token"] = "tok-123"
    again.run()
    assert "not valid or has already been used" in texts(again)
    assert [f for f in again.text_input] == []


def test_admin_reverts_an_import_from_the_history(make_account, app_db: Engine) -> None:
    from tests.ui.test_wizard import wait_for_job

    make_account("beheer", "admin")
    result = run(app_db, "Email;Voornaam;Achternaam\nann@example.org;Ann;Smit\n")
    closed = signed_in("beheer", "admin", HISTORY)
    assert [t for t in closed.toggle if t.label == "Revert this import…"] == []  # until opened
    at = opened_history("beheer", "admin", result.job_id)
    widget(at.toggle, "Revert this import…").set_value(True)
    at.run()
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Removed"], metrics["Conflicts"]) == ("1", "0")
    widget(at.button, f"Confirm: revert import {result.job_id}").click()
    at.run()
    assert f"The revert is queued as job {result.job_id + 1}" in texts(at)
    revert = wait_for_job(app_db, result.job_id + 1)
    assert revert.status == "succeeded"
    with Session(app_db) as session:
        assert session.exec(select(User)).all() == []


def test_support_reads_a_users_history_but_cannot_revert(make_account, app_db: Engine) -> None:
    make_account("helpdesk", "support")
    run(app_db, "Email;Voornaam;Achternaam\nann@example.org;Ann;Smit\n")
    second = run(app_db, "Email;Achternaam\nann@example.org;Smit-Jansen\n")
    at = opened_history("helpdesk", "support", second.job_id)
    assert "What changed" in texts(at)  # the details are open
    assert [t for t in at.toggle if t.label == "Revert this import…"] == []
    widget(at.text_input, "History of one user (email address)").input("Ann@example.org")
    at.run()
    history = at.dataframe[0].value
    assert history["Import"].tolist()[0] == 2
    assert ("Last name", "Smit", "Smit-Jansen") in set(
        zip(history["Field"], history["Old"], history["New"], strict=True)
    )


def test_a_kept_file_can_be_downloaded_by_admins_only(make_account, app_db: Engine) -> None:
    make_account("beheer", "admin")
    make_account("helpdesk", "support")
    kept = run(app_db, "Email;Voornaam;Achternaam\nann@example.org;Ann;Smit\n", keep_file_days=7)
    support = opened_history("helpdesk", "support", kept.job_id)
    assert "What changed" in texts(support)
    assert not [t for t in support.toggle if t.label.startswith("Original file")]
    at = opened_history("beheer", "admin", kept.job_id)
    toggle = next(t for t in at.toggle if t.label.startswith("Original file (kept until"))
    toggle.set_value(True)
    at.run()
    assert not at.exception
    assert "Download users.csv" in [b.proto.label for b in at.get("download_button")]


def test_users_page_counts_pages_and_exports_a_whole_selection(
    make_account, app_db: Engine
) -> None:
    """1,200 members of a group: the true count, pages of 50, an export of all 1,200 that
    exists only for the run that offers it."""
    make_account("beheer", "admin")
    rows = "".join(f"u{i:04d}@example.org;U;{i};Team\n" for i in range(1_200))
    run(
        app_db,
        "Email;Voornaam;Achternaam;Groep\n" + rows + "z@example.org;Z;Z;\n",
        create_groups=True,
    )
    at = signed_in("beheer", "admin", USERS)
    widget(at.selectbox, "Group").set_value("Team")
    at.run()
    assert "1,200 users; showing 1 to 50" in texts(at)
    widget(at.number_input, "Page (of 24)").set_value(24)
    at.run()
    assert at.dataframe[0].value["Email"].tolist()[-1] == "u1199@example.org"
    assert at.get("download_button") == []
    widget(at.button, "Prepare the file").click()
    at.run()
    (download,) = at.get("download_button")
    assert download.proto.label == "Download 1,200 users (CSV)"
    at.run()
    assert at.get("download_button") == []  # gone with the next run, and its file with it


def test_an_open_import_shows_a_renamed_field_by_its_new_label(
    make_account, app_db: Engine
) -> None:
    make_account("beheer", "admin")
    result = run(app_db, "Email;Voornaam;Achternaam;Functie\nann@example.org;Ann;Smit;Chef\n")

    def fields(at: AppTest) -> set[str]:
        return {f for d in at.dataframe if "Field" in d.value for f in d.value["Field"]}

    at = opened_history("beheer", "admin", result.job_id)
    assert "Functie" in fields(at)
    with session_scope(app_db) as session:
        field = session.exec(select(ProfileField).where(ProfileField.key == "job_title")).one()
        field.label = "Rol in het team"
    at.run()  # the finished import's rows come from the cache, read again for the new label
    assert "Rol in het team" in fields(at) and "Functie" not in fields(at)
