"""The CLI speaks the language asked for; its JSON keys and codes never change with it."""

import json
from pathlib import Path

from sqlmodel import Session

from core.history import get_job_detail
from db.engine import get_engine
from tests.test_cli_import import cli

FILE = "E-mail;Voornaam;Achternaam\ngoed@example.nl;Goed;Mens\ngeen-adres;Fout;Mens\n"


def test_the_same_import_reads_in_dutch_and_in_english(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "medewerkers.csv"
    path.write_text(FILE, encoding="utf-8")
    dutch = cli(db_url, "--lang", "nl", "import", str(path), "--dry-run", "--json")
    english = cli(db_url, "import", str(path), "--dry-run", "--json")
    nl, en = json.loads(dutch.stdout), json.loads(english.stdout)
    assert set(nl) == set(en) and nl["counts"] == en["counts"]
    (nl_issue,), (en_issue,) = nl["issues"], en["issues"]
    assert nl_issue["code"] == en_issue["code"] == "invalid-email"
    assert nl_issue["message"].startswith("'geen-adres' is geen geldig e-mailadres")
    assert en_issue["message"].startswith("'geen-adres' is not a valid email address")

    ran = cli(db_url, "--lang", "nl", "import", str(path))
    assert "medewerkers.csv geïmporteerd: klaar, met afgekeurde rijen (import " in ran.stdout
    assert "rijen 2, aangemaakt 1, fouten 1" in ran.stdout
    assert "fout: rij 3 [E-mail]: 'geen-adres' is geen geldig e-mailadres" in ran.stdout
    job_id = int(ran.stdout.split("(import ")[1].split(")")[0])
    # Stored as code and parameters: a support account reads it in English, an admin in Dutch.
    with Session(get_engine(db_url)) as session:
        for language, words in (("nl", "is geen geldig e-mailadres"), ("en", "is not a valid")):
            detail = get_job_detail(session=session, job_id=job_id, language=language)
            assert words in detail.issues["Problem and what to do"].iloc[0]


def test_a_refusal_is_explained_in_the_language_asked_for(
    db_url: str, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("LANG", "nl_NL.UTF-8")
    missing = cli(db_url, "import", str(tmp_path / "weg.csv"), "--json")
    out = json.loads(missing.stdout)
    assert missing.returncode == 2
    assert out["issues"][0]["code"] == "missing-file"
    assert out["issues"][0]["message"] == f"Er is geen bestand '{tmp_path / 'weg.csv'}'."
    assert f"fout: Er is geen bestand '{tmp_path / 'weg.csv'}'. (missing-file)" in missing.stderr


def test_the_help_and_the_messages_follow_the_language(db_url: str, monkeypatch) -> None:
    def words(result) -> str:
        return " ".join(result.stdout.split())  # as read, whatever argparse wrapped

    dutch = words(cli(db_url, "--lang", "nl", "import", "--help"))
    assert "alleen lege velden invullen (standaard: overschrijven met niet-lege cellen)" in dutch
    assert "wat de import doet:" in dutch and "het bestand lezen:" in dutch
    monkeypatch.setenv("INSTROOM_LANGUAGE", "nl")
    overview = words(cli(db_url, "--help"))
    assert "gebruikers importeren uit een CSV-, TSV-, TXT-, XLSX- of XLS-bestand" in overview
    protected = cli(db_url, "protect", "niemand@example.nl")
    assert protected.returncode == 2 and protected.stderr.startswith("fout: "), protected.stderr
    english = words(cli(db_url, "--lang", "en", "--help"))
    assert "import users from a CSV, TSV, TXT, XLSX or XLS file" in english
