"""Finding users by text, group, level, status and kind."""

from sqlalchemy import Engine
from sqlmodel import Session

from core.users import get_user_detail, search_users
from tests.db.test_import_engine import run


def test_search_filters(engine: Engine) -> None:
    run(
        engine,
        "Email;Voornaam;Achternaam;Groep;Niveau;Soort\n"
        "ann@example.org;Ann;Smit;Sales;A;employee\n"
        "bob@example.org;Bob;Bakker;Support;B;contact\n"
        "cas@example.org;Cas;Visser;Sales~Support;;employee\n",
        create_groups=True,
        create_levels=True,
    )
    with Session(engine) as session:

        def emails(**filters: str) -> list[str]:
            return search_users(session=session, **filters)["Email"].tolist()

        assert emails(group="Sales") == ["ann@example.org", "cas@example.org"]
        assert emails(group="Support", level="B") == ["bob@example.org"]
        assert emails(level="A") == ["ann@example.org"]
        assert emails(kind="contact") == ["bob@example.org"]
        assert emails(text="vis") == ["cas@example.org"]
        assert emails(status="blocked") == []
        cas = search_users(session=session, text="cas")["Id"].iloc[0]
        detail = get_user_detail(session=session, user_id=int(cas))
        assert (detail["groups"], detail["levels"]) == (["Everyone", "Sales", "Support"], [])
