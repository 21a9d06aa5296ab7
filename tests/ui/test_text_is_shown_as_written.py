"""Names and headers from files are shown as text: no Markdown, HTML or links render."""

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
