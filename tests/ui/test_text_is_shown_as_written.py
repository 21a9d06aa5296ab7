"""Names and headers from files are shown as text: no Markdown, HTML or links render."""

import re

from sqlalchemy import Engine

from tests.db.test_import_engine import run
from tests.ui.conftest import signed_in
from ui.widgets import md


def test_markdown_is_escaped() -> None:
    assert md("![x](http://evil/) **b** <script> :red[x] a_b") == (
        r"\!\[x\]\(http\://evil/\) \*\*b\*\* \<script\> \:red\[x\] a\_b"
    )


def test_a_user_named_with_html_and_markdown_is_shown_as_text(make_account, app_db: Engine) -> None:
    make_account("beheer", "admin")
    run(
        app_db,
        "Email;Voornaam;Achternaam\nx@example.org;<img src=x onerror=alert(1)>;"
        "[klik](http://evil)\n",
    )
    at = signed_in("beheer", "admin", "pages/3_Users.py")
    assert not at.exception
    heading = at.subheader[0].value
    assert heading == r"\<img src=x onerror=alert\(1\)\> \[klik\]\(http\://evil\)"


PAYLOAD = "[klik](http://evil.example/x) ![beeld](http://evil.example/y.png)"
UNESCAPED_LINK = re.compile(r"(?<!\\)\]\(|(?<!\\)!\[")


def rendered(at) -> list[str]:
    """Every text Streamlit renders as Markdown: messages, captions, headings, labels."""
    texts = [
        str(e.value)
        for kind in ("markdown", "caption", "error", "warning", "info", "success", "subheader")
        for e in getattr(at, kind)
    ]
    texts += [e.label for e in at.expander] + [c.label for c in at.checkbox]
    texts += [str(o) for r in at.radio for o in r.options]
    return texts


def links_in(at) -> list[str]:
    return [t for t in rendered(at) if UNESCAPED_LINK.search(t)]


def test_no_page_renders_a_link_or_image_from_file_data(make_account, app_db: Engine) -> None:
    """The payload sits in a term, a group, a user's name, a header left out of the mapping,
    an issue message and a job's error; no page turns any of them into a link or image."""
    from core import catalog
    from db.engine import session_scope
    from db.models import ImportJob

    make_account("beheer", "admin")
    with session_scope(app_db) as session:
        taxonomy = catalog.add_named(session=session, kind_name="taxonomy", name=PAYLOAD)
        catalog.add_term(session=session, taxonomy_id=taxonomy.id, name=PAYLOAD)
        catalog.add_named(session=session, kind_name="group", name=PAYLOAD)
    result = run(
        app_db,
        f"Email;Voornaam;Achternaam\nx@example.org;{PAYLOAD};Smit\n{PAYLOAD};A;B\n",
    )
    with session_scope(app_db) as session:
        session.get(ImportJob, result.job_id).error = PAYLOAD
    pages = {
        "pages/2_History.py": None,
        "pages/3_Users.py": None,
        "pages/4_Settings.py": ["Taxonomies", "Groups"],
    }
    for page, sections in pages.items():
        at = signed_in("beheer", "admin", page)
        assert not at.exception and links_in(at) == [], page
        for section in sections or []:
            at.radio[0].set_value(section).run()
            for expander in at.expander:
                expander.proto.expanded = True
            assert not at.exception and links_in(at) == [], (page, section)
    at = signed_in("beheer", "admin", "pages/2_History.py")
    at.query_params["job"] = str(result.job_id)
    at.run()
    assert links_in(at) == []
    wizard = signed_in("beheer", "admin", "pages/1_Import.py")
    paste = next(w for w in wizard.text_area if "paste" in w.label)
    paste.input(f"Email;{PAYLOAD}\na@example.org;x\n").run()
    next(b for b in wizard.button if b.label == "Next").click().run()
    assert "Left out" in "\n".join(rendered(wizard))
    assert links_in(wizard) == []
