"""SCIM 2.0 as Entra ID and Okta call it, against the real service on SQLite and PostgreSQL."""

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy import event as sqlalchemy_event
from sqlmodel import Session

from core import scim
from core.config import Settings
from core.history import ChangeWords, change_rows, stored_issue
from core.revert import run_revert
from core.scim_server import build_app
from core.worker import stop_background_worker
from db import scim as scim_queries
from db.engine import session_scope
from db.models import (
    Group,
    ImportChange,
    ImportIssue,
    ImportJob,
    ScimConnection,
    User,
    UserGroup,
)
from tests.conftest import Inbox
from tests.db.conftest import Provider, _Mounted

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def new_user(email: str, given: str = "Lotte", family: str = "de Vries", **extra: Any) -> dict:
    return {
        "schemas": [USER],
        "userName": email,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"value": email, "type": "work", "primary": True}],
        "active": True,
        **extra,
    }


def stored_user(engine: Engine, email: str) -> User:
    with Session(engine) as session:
        return session.execute(select(User).where(User.email == email)).scalar_one()


def count_users(engine: Engine) -> int:
    with Session(engine) as session:
        return session.execute(select(func.count()).select_from(User)).scalar_one()


def test_entra_creates_finds_blocks_and_every_change_is_in_the_days_history(
    entra: Provider, engine: Engine
) -> None:
    created = entra.call("POST", "/Users", new_user("Lotte@Example.nl", externalId="e-1"))
    assert created.status_code == 201, created.text
    assert created.headers["content-type"].startswith("application/scim+json")
    user_id = created.json()["id"]
    lotte = stored_user(engine, "lotte@example.nl")
    # The Dutch insert is split from the family name, as the Plek import does.
    assert (lotte.first_name, lotte.name_insert, lotte.last_name) == ("Lotte", "de", "Vries")
    assert lotte.external_id == "e-1"

    found = entra.call("GET", '/Users?filter=userName eq "Lotte@Example.nl"')
    assert found.json()["totalResults"] == 1
    assert found.json()["Resources"][0]["id"] == user_id
    by_email = entra.call("GET", '/Users?filter=emails[type eq "work"].value eq "lotte@example.nl"')
    assert [r["id"] for r in by_email.json()["Resources"]] == [user_id]
    none = entra.call("GET", '/Users?filter=userName eq "nobody@example.nl"')
    assert none.json()["totalResults"] == 0 and none.json()["Resources"] == []

    # Entra: a capitalised op, active as the string "False", several attributes at once.
    blocked = entra.call(
        "PATCH",
        f"/Users/{user_id}",
        {
            "schemas": [PATCH],
            "Operations": [
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "Replace", "value": {"name.givenName": "Lot", "externalId": "e-2"}},
            ],
        },
    )
    assert blocked.status_code == 200, blocked.text
    assert blocked.json()["active"] is False
    lotte = stored_user(engine, "lotte@example.nl")
    assert (lotte.status, lotte.first_name, lotte.external_id) == ("blocked", "Lot", "e-2")

    # Okta: a replace without a path, then a DELETE, which blocks and keeps the user; to
    # the provider the user is gone (RFC 7644 3.6), until it creates them again.
    okta = {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": True}}]}
    assert entra.call("PATCH", f"/Users/{user_id}", okta).json()["active"] is True
    assert stored_user(engine, "lotte@example.nl").status == "invited"
    assert entra.call("DELETE", f"/Users/{user_id}").status_code == 204
    assert entra.call("GET", f"/Users/{user_id}").status_code == 404
    assert (
        entra.call("GET", '/Users?filter=userName eq "Lotte@Example.nl"').json()["totalResults"]
        == 0
    )
    assert stored_user(engine, "lotte@example.nl").status == "blocked"
    back = entra.call("POST", "/Users", new_user("lotte@example.nl", "Lot", externalId="e-3"))
    assert back.status_code == 201, back.text
    assert (back.json()["id"], back.json()["active"]) == (user_id, True)
    assert stored_user(engine, "lotte@example.nl").external_id == "e-3"

    with Session(engine) as session:
        job = session.execute(select(ImportJob)).scalar_one()
    assert job.file_name.startswith("SCIM: Entra ID, ")
    # The first PATCH blocks and renames in one change, counted as a block.
    assert (job.counts["created"], job.counts["blocked"], job.counts["unblocked"]) == (1, 2, 2)
    # Five calls changed something, each one row; an unblock is not also "unchanged".
    assert (job.counts["rows"], job.counts["unchanged"]) == (5, 0)


def test_what_an_import_refuses_is_refused_with_its_scim_error_and_changes_nothing(
    entra: Provider, engine: Engine
) -> None:
    entra.call("POST", "/Users", new_user("jan@example.nl", "Jan", "Smit"))
    with session_scope(engine) as session:
        session.add(User(email="svc@example.nl", first_name="S", last_name="V", is_protected=True))
    protected = stored_user(engine, "svc@example.nl")
    before = count_users(engine)
    answers = {
        "duplicate": entra.call("POST", "/Users", new_user("jan@example.nl", "Jan", "Smit")),
        "invalid email": entra.call("POST", "/Users", new_user("jan.example.nl")),
        "no family name": entra.call("POST", "/Users", new_user("piet@example.nl", family="")),
        "protected": entra.call(
            "PATCH",
            f"/Users/{protected.id}",
            {
                "schemas": [PATCH],
                "Operations": [{"op": "replace", "path": "active", "value": False}],
            },
        ),
    }
    kinds = {k: (a.status_code, a.json().get("scimType")) for k, a in answers.items()}
    assert kinds == {
        "duplicate": (409, "uniqueness"),
        "invalid email": (400, "invalidValue"),
        "no family name": (400, "invalidValue"),
        "protected": (400, "mutability"),
    }
    # The detail is the import's own message, in Dutch.
    assert "achternaam" in answers["no family name"].json()["detail"]
    assert count_users(engine) == before
    assert stored_user(engine, "svc@example.nl").status == protected.status
    with Session(engine) as session:
        codes = sorted(i.code for i in session.execute(select(ImportIssue)).scalars())
        job = session.execute(select(ImportJob)).scalar_one()
    assert codes == ["already-exists", "invalid-email", "missing-name", "protected-user"]
    assert job.status == "completed_with_errors"


def test_a_wrong_revoked_or_paused_token_gets_no_data(entra: Provider, engine: Engine) -> None:
    unknown = entra.call("GET", "/Users", token="scim_guess")
    with session_scope(engine) as session:
        _connection, token = scim.create_connection(session=session, name="Okta", created_by="a")
        scim.revoke_token(session=session, name="Okta")
    revoked = entra.call("GET", "/Users", token=token)
    assert unknown.status_code == revoked.status_code == 401
    assert unknown.json() == revoked.json()
    assert unknown.headers["www-authenticate"].startswith("Bearer")
    # The service's own description needs no token (RFC 7643 §5).
    assert entra.call("GET", "/ServiceProviderConfig", token="").status_code == 200
    for _ in range(5):
        entra.call("GET", "/Users", token="scim_guess")
    locked = entra.call("GET", "/Users")
    assert locked.status_code == 429 and "retry-after" in locked.headers
    with session_scope(engine) as session:
        scim.update_connection(session=session, name="Entra ID", paused=True)
    assert entra.call("GET", "/Users", token=token).status_code == 429


def test_hostile_calls_are_refused_before_any_work(entra: Provider, engine: Engine) -> None:
    before = count_users(engine)
    huge = json.dumps(new_user("big@example.nl", title="x" * 70_000)).encode()
    assert entra.call("POST", "/Users", raw=huge).status_code == 413
    deep = "(" * 10 + 'userName eq "a"' + ")" * 10
    refused = entra.call("GET", f"/Users?filter={deep}")
    assert (refused.status_code, refused.json()["scimType"]) == (400, "invalidFilter")
    assert entra.call("GET", "/Users?count=5000").status_code == 400
    many = {"schemas": [PATCH], "Operations": [{"op": "add", "path": "title", "value": "x"}] * 1001}
    assert entra.call("PATCH", "/Users/1", many).json()["scimType"] == "tooMany"
    broken = entra.call("POST", "/Users", raw=b"{not json")
    assert broken.status_code == 400 and "detail" in broken.json()
    assert count_users(engine) == before


def test_groups_follow_entra_and_parallel_member_changes_lose_none(
    entra: Provider, engine: Engine
) -> None:
    ids = [
        entra.call("POST", "/Users", new_user(f"p{i}@example.nl", "P", f"Smit{i}")).json()["id"]
        for i in range(6)
    ]
    group = entra.call(
        "POST",
        "/Groups",
        {"schemas": [GROUP], "displayName": "Sales", "members": [{"value": ids[0]}]},
    )
    assert group.status_code == 201, group.text
    group_id = group.json()["id"]
    add = [
        (
            "PATCH",
            f"/Groups/{group_id}",
            {
                "schemas": [PATCH],
                "Operations": [{"op": "Add", "path": "members", "value": [{"value": i}]}],
            },
        )
        for i in ids[1:]
    ]
    answers = asyncio.run(entra.calls(add))
    assert [a.status_code for a in answers] == [204] * 5

    def members() -> set[str]:
        with Session(engine) as session:
            query = select(UserGroup.user_id).where(UserGroup.group_id == int(group_id))
            return {str(i) for i in session.execute(query).scalars()}

    assert members() == set(ids)
    # Entra removes by a value array, and by a filter on members.
    by_value = {"op": "Remove", "path": "members", "value": [{"value": ids[0]}]}
    by_filter = {"op": "Remove", "path": f'members[value eq "{ids[1]}"]'}
    removed = entra.call(
        "PATCH", f"/Groups/{group_id}", {"schemas": [PATCH], "Operations": [by_value, by_filter]}
    )
    assert removed.status_code == 204, removed.text
    assert members() == set(ids[2:])
    listed = entra.call(
        "GET", '/Groups?filter=displayName eq "Sales"&excludedAttributes=members'
    ).json()
    assert listed["totalResults"] == 1 and "members" not in listed["Resources"][0]
    taken = entra.call("POST", "/Groups", {"schemas": [GROUP], "displayName": "sales"})
    assert taken.json()["scimType"] == "uniqueness"
    assert entra.call("DELETE", f"/Groups/{group_id}").status_code == 204
    with Session(engine) as session:
        assert session.get(Group, int(group_id)) is None


def test_a_days_changes_revert_like_an_import_and_the_connection_pauses(
    entra: Provider, engine: Engine
) -> None:
    entra.call("POST", "/Users", new_user("anna@example.nl", "Anna", "Bakker"))
    with Session(engine) as session:
        job_id = session.execute(select(ImportJob.id)).scalar_one()
    run_revert(engine=engine, job_id=job_id, created_by="admin")
    assert count_users(engine) == 0
    with Session(engine) as session:
        connection = session.execute(select(ScimConnection)).scalar_one()
    assert connection.paused
    assert entra.call("GET", "/Users").status_code == 503
    with session_scope(engine) as session:
        scim.update_connection(session=session, name="Entra ID", paused=False)
    entra.call("POST", "/Users", new_user("anna@example.nl", "Anna", "Bakker"))
    with Session(engine) as session:
        assert len(session.execute(select(ImportJob).where(ImportJob.kind == "import")).all()) == 2


def test_a_new_user_gets_the_welcome_mail_when_the_connection_says_so(
    db_url: str, engine: Engine, inbox: Inbox
) -> None:
    settings = Settings(
        database_url=db_url,
        smtp_host=inbox.host,
        smtp_port=inbox.port,
        mail_from="instroom@example.org",
        base_url="https://portal.example.nl",
    )
    with session_scope(engine) as session:
        _connection, token = scim.create_connection(
            session=session, name="Entra ID", created_by="admin", welcome_new=True, language="nl"
        )
    provider = Provider(_Mounted(build_app(settings)), token)
    try:
        created = provider.call("POST", "/Users", new_user("noor@example.nl", "Noor", "de Wit"))
        assert created.status_code == 201, created.text
        mail = inbox.first_to("noor@example.nl")
    finally:
        stop_background_worker(db_url)
    text = Inbox.text(mail)
    assert "Noor" in text and "https://portal.example.nl/Activate?token=" in text
    assert inbox.to("noor@example.nl") == [mail]


def test_a_group_with_a_protected_member_is_not_removed(entra: Provider, engine: Engine) -> None:
    with session_scope(engine) as session:
        admin = User(email="svc@example.nl", first_name="S", last_name="V", is_protected=True)
        group = Group(name="Beheer")
        session.add_all([admin, group])
        session.flush()
        session.add(UserGroup(user_id=admin.id, group_id=group.id))
        group_id = group.id
    answer = entra.call("DELETE", f"/Groups/{group_id}")
    assert (answer.status_code, answer.json()["scimType"]) == (400, "mutability")
    assert "svc@example.nl" in answer.json()["detail"]
    with Session(engine) as session:
        assert session.get(Group, group_id) is not None
        assert session.execute(select(func.count()).select_from(UserGroup)).scalar_one() >= 1
        job = session.execute(select(ImportJob)).scalar_one()
        codes = [i.code for i in session.execute(select(ImportIssue)).scalars()]
    assert codes == ["scim-refused"] and job.counts["errors"] == 1


@pytest.mark.parametrize(
    ("attribute", "value"),
    [("user_name", "Lotte@Example.nl"), ("username", "LDV"), ("email", "l@example.nl")],
)
def test_a_providers_lookup_is_answered_by_an_index(
    engine: Engine, attribute: str, value: str
) -> None:
    """What find_user_ids sends the database, as its planner would run it among 100,000."""
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    sqlalchemy_event.listen(engine, "before_cursor_execute", capture)
    try:
        with Session(engine) as session:
            scim_queries.find_user_ids(session=session, attribute=attribute, value=value)
    finally:
        sqlalchemy_event.remove(engine, "before_cursor_execute", capture)
    statement, parameters = seen[-1]
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        cursor = raw.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan
        else:
            cursor.execute("SET enable_seqscan = off")
            cursor.execute("EXPLAIN " + statement, parameters)
            plan = " ".join(str(row[0]) for row in cursor.fetchall())
            assert "Index" in plan and "Seq Scan" not in plan, plan


def test_a_connection_that_may_delete_removes_the_user_for_good_and_a_revert_says_so(
    entra: Provider, engine: Engine
) -> None:
    with session_scope(engine) as session:
        scim.update_connection(session=session, name="Entra ID", may_delete=True)
    bas = new_user("bas@example.nl", "Bas", "de Boer")
    user_id = entra.call("POST", "/Users", bas).json()["id"]
    group = {"schemas": [GROUP], "displayName": "Sales", "members": [{"value": user_id}]}
    assert entra.call("POST", "/Groups", group).status_code == 201
    assert entra.call("DELETE", f"/Users/{user_id}").status_code == 204
    assert entra.call("GET", f"/Users/{user_id}").status_code == 404
    with Session(engine) as session:
        assert session.get(User, int(user_id)) is None
        assert session.execute(select(func.count()).select_from(UserGroup)).scalar_one() == 0
        job = session.execute(select(ImportJob)).scalar_one()
        deleted = session.execute(
            select(ImportChange).where(ImportChange.action == "delete")
        ).scalar_one()
        rows = change_rows([deleted], ChangeWords({}, "nl"))
    assert job.counts["deleted"] == 1
    assert (deleted.email, deleted.user_id) == ("bas@example.nl", None)
    # The history names who was deleted and what they had; never a password or a token.
    assert set(rows["Action"]) == {"voorgoed verwijderd door de identiteitsprovider"}
    assert {"Bas", "de", "Boer", "Iedereen, Sales"} <= set(rows["Old"])
    assert not {"password_hash", "_password_hash"} & set(deleted.before)

    result = run_revert(engine=engine, job_id=job.id, created_by="admin", dry_run=True)
    assert "bas@example.nl was deleted for good by the identity provider" in " ".join(
        i.text("en") for i in result.plan.issues
    )
    # Created again by the provider: a new user, with nothing of the old one.
    again = entra.call("POST", "/Users", bas)
    assert again.status_code == 201
    assert [g["display"] for g in again.json()["groups"]] == ["Iedereen"]


def test_an_attribute_kept_in_no_field_is_said_once_a_day(entra: Provider, engine: Engine) -> None:
    enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    for email in ("an@example.nl", "bo@example.nl"):
        body = new_user(email, **{enterprise: {"organization": "Zorg Oost", "department": "ICT"}})
        body["schemas"].append(enterprise)
        assert entra.call("POST", "/Users", body).status_code == 201
    with Session(engine) as session:
        said = [
            (i.severity, i.value, stored_issue(i).text("nl"))
            for i in session.execute(select(ImportIssue)).scalars()
        ]
        kept = stored_user(engine, "an@example.nl").profile
    # department has the default field Afdeling; organization has none on a new connection.
    assert kept == {"department": "ICT"}
    assert said == [
        (
            "warning",
            "organization",
            "De identiteitsprovider stuurt organization, dat deze SCIM-koppeling in geen veld "
            "bewaart; kies er een profielveld voor onder Instellingen > SCIM.",
        )
    ]


def test_the_group_of_everyone_lists_every_user_and_no_provider_changes_it(
    entra: Provider, engine: Engine
) -> None:
    for email in ("a@example.nl", "b@example.nl"):
        assert entra.call("POST", "/Users", new_user(email)).status_code == 201
    with Session(engine) as session:
        everyone = session.execute(select(Group).where(Group.everyone)).scalar_one()
    found = entra.call("GET", '/Groups?filter=displayName eq "Iedereen"').json()["Resources"]
    assert len(found[0]["members"]) == 2
    user = entra.call("GET", '/Users?filter=userName eq "a@example.nl"').json()["Resources"][0]
    assert [g["display"] for g in user["groups"]] == ["Iedereen"]
    remove = {"op": "remove", "path": f'members[value eq "{user["id"]}"]'}
    for method, body in (
        ("PATCH", {"schemas": [PATCH], "Operations": [remove]}),
        ("PUT", {"schemas": [GROUP], "displayName": "Alle mensen", "members": []}),
        ("DELETE", None),
    ):
        answer = entra.call(method, f"/Groups/{everyone.id}", body)
        assert (answer.status_code, answer.json()["scimType"]) == (400, "mutability"), method
        assert "Iedereen" in answer.json()["detail"]
    with Session(engine) as session:
        assert session.execute(select(Group.name).where(Group.everyone)).scalar_one() == "Iedereen"
    members = entra.call("GET", f"/Groups/{everyone.id}").json()["members"]
    assert len(members) == 2 and user["id"] in {m["value"] for m in members}
