"""Finding users by text, group, level, status and kind."""

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from core import export
from core.users import (
    MAX_SEARCH_WORDS,
    SearchError,
    UserSearch,
    count_users,
    get_user_detail,
    search_users,
)
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
            return search_users(session=session, search=UserSearch(**filters))["Email"].tolist()

        assert emails(group="Sales") == ["ann@example.org", "cas@example.org"]
        assert emails(group="Support", level="B") == ["bob@example.org"]
        assert emails(level="A") == ["ann@example.org"]
        assert emails(kind="contact") == ["bob@example.org"]
        assert emails(text="vis") == ["cas@example.org"]
        assert emails(status="blocked") == []
        cas = search_users(session=session, search=UserSearch(text="cas"))["Id"].iloc[0]
        detail = get_user_detail(session=session, user_id=int(cas))
        assert (detail["groups"], detail["levels"]) == (["Iedereen", "Sales", "Support"], [])


def test_a_big_selection_is_counted_paged_and_exported_whole(engine: Engine) -> None:
    """2,500 members of a group: the true count, every page, and an export of all of them."""
    rows = "".join(f"u{i:04d}@example.org;U;{i};Team\n" for i in range(2_500))
    run(
        engine,
        "Email;Voornaam;Achternaam;Groep\n" + rows + "x@example.org;X;Y;\n",
        create_groups=True,
    )
    team = UserSearch(group="Team")
    with Session(engine) as session:
        assert count_users(session=session, search=team) == 2_500
        pages = [
            search_users(session=session, search=team, offset=offset)["Email"].tolist()
            for offset in range(0, 2_500, 50)
        ]
        frame = export.users_frame(session=session, user_ids=team.matching_ids())
    assert [len(p) for p in pages] == [50] * 50
    assert [e for page in pages for e in page] == [f"u{i:04d}@example.org" for i in range(2_500)]
    assert len(frame) == 2_500 and set(frame["groups"]) == {"Iedereen~Team"}


def test_a_search_of_too_many_words_is_refused_with_the_count(engine: Engine) -> None:
    with Session(engine) as session, pytest.raises(SearchError, match="has 1,500 words"):
        count_users(session=session, search=UserSearch(text="woord " * 1_500))
    assert MAX_SEARCH_WORDS == 20
