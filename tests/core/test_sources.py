"""Link sources against real servers: a folder, an SFTP server, an HTTP server with a token."""

import io
import os
from pathlib import Path

import asyncssh
import pytest

from core.issues import UnusableFileError
from core.sources import Access, SourceError, fetch, move_to_done, parse_source
from tests.servers import afas_connector, http_server, sftp_server

MB = 1 << 20


def access(**kw: object) -> Access:
    values: dict = {"max_bytes": MB, "max_rows": 10_000, "secrets": {}} | kw
    return Access(**values)


def write(path: Path, text: str, mtime: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.utime(path, (mtime, mtime))


def test_a_folder_gives_its_newest_matching_file_and_moves_it_to_done(tmp_path: Path) -> None:
    write(tmp_path / "medewerkers_20261130.csv", "email\nold@example.nl\n", 1_000)
    write(tmp_path / "medewerkers_20261201.csv", "email\nnew@example.nl\n", 2_000)
    write(tmp_path / "salarissen_20261202.csv", "not this one", 3_000)
    source = parse_source(f"folder:{tmp_path}/medewerkers_*.csv")
    fetched = fetch(source, access())
    assert (fetched.name, fetched.data) == ("medewerkers_20261201.csv", b"email\nnew@example.nl\n")
    move_to_done(fetched)
    assert (tmp_path / "done" / "medewerkers_20261201.csv").exists()
    assert fetch(source, access()).name == "medewerkers_20261130.csv"


def test_a_folder_without_a_match_or_that_is_missing_says_so(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"No file in .* matches medewerkers_\*\.csv"):
        fetch(parse_source(f"folder:{tmp_path}/medewerkers_*.csv"), access())
    with pytest.raises(SourceError, match="does not exist"):
        fetch(parse_source(f"folder:{tmp_path}/nope/x.csv"), access())


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "medewerkers.csv"
    with big.open("wb") as handle:
        handle.truncate(3 * MB)  # sparse: its size is known without holding it
    with pytest.raises(UnusableFileError, match="more than 1 MB") as caught:
        fetch(parse_source(f"folder:{big}"), access())
    assert caught.value.code == "too-large"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("http://hr.example.nl/export.csv", "plain http://"),
        ("sftp://hr:geheim@sftp.example.nl/export/x.csv", "holds a password"),
        ("folder:relative/x.csv", "full path"),
        ("sftp://sftp.example.nl/export/x.csv", "sftp://user@host"),
        ("ftp://example.nl/x.csv", "is not a source"),
    ],
)
def test_a_source_written_wrong_says_how_to_write_it(text: str, words: str) -> None:
    with pytest.raises(SourceError, match=words) as caught:
        parse_source(text)
    assert caught.value.code == "invalid-source"


def test_sources_that_are_fine() -> None:
    sftp = parse_source("sftp://instroom@sftp.example.nl:2222/export/medewerkers_*.csv")
    assert (sftp.host, sftp.port, sftp.user, sftp.folder, sftp.pattern) == (
        "sftp.example.nl",
        2222,
        "instroom",
        "/export",
        "medewerkers_*.csv",
    )
    assert parse_source("http://localhost:8000/x.csv").kind == "https"
    assert (
        parse_source("https://12345.rest.afas.online/ProfitRestServices/connectors/X").kind
        == "https"
    )


TOKEN = "AfasToken PHRva2VuPjxpZD4xPC9pZD48L3Rva2VuPg=="


def test_https_csv_with_the_token_in_its_header() -> None:
    csv = b"email;telefoon\njan@example.nl;0612345678\n"
    with http_server(
        lambda p, q: (200, "text/csv", csv), token_header="Authorization", token=TOKEN
    ) as server:
        fetched = fetch(
            parse_source(server.url("/export/medewerkers.csv")),
            access(header="Authorization", secrets={"header": TOKEN}),
        )
    assert (fetched.name, fetched.data) == ("medewerkers.csv", csv)


def test_a_wrong_token_fails_with_the_servers_answer() -> None:
    with (
        http_server(
            lambda p, q: (200, "text/csv", b""), token_header="Authorization", token=TOKEN
        ) as server,
        pytest.raises(SourceError) as caught,
    ):
        fetch(
            parse_source(server.url("/x")),
            access(header="Authorization", secrets={"header": "AfasToken wrong"}),
        )
    assert "answered 401 Unauthorized" in caught.value.message
    assert "Ongeldig token" in caught.value.message
    assert "wrong" not in caught.value.message  # the token itself is never repeated


def test_an_afas_get_connector_is_followed_page_by_page_to_the_end() -> None:
    rows = [
        {
            "Email": f"m{i}@example.nl",
            "Voornaam": f"Mede{i}",
            "Mobiel": "0612345678",
            "Actief": True,
            "Uren": None,
        }
        for i in range(250)
    ]
    with http_server(afas_connector(rows), token_header="Authorization", token=TOKEN) as server:
        fetched = fetch(
            parse_source(
                server.url("/ProfitRestServices/connectors/Instroom_Medewerkers?skip=0&take=100")
            ),
            access(header="Authorization", secrets={"header": TOKEN}),
        )
        pages = [path for path, _ in server.requests]
    assert pages == [
        "/ProfitRestServices/connectors/Instroom_Medewerkers?skip=0&take=100",
        "/ProfitRestServices/connectors/Instroom_Medewerkers?skip=100&take=100",
        "/ProfitRestServices/connectors/Instroom_Medewerkers?skip=200&take=100",
    ]
    lines = fetched.data.decode().splitlines()
    assert fetched.name == "Instroom_Medewerkers.csv"
    assert lines[0] == "Email;Voornaam;Mobiel;Actief;Uren"
    assert lines[1] == "m0@example.nl;Mede0;0612345678;true;"
    assert len(lines) == 251


def test_an_answer_over_the_limit_stops_while_it_streams() -> None:
    body = b"email\n" + b"x@example.nl\n" * 200_000
    with (
        http_server(
            lambda p, q: (200, "text/csv", body), token_header="X-Token", token="t"
        ) as server,
        pytest.raises(UnusableFileError, match="more than 1 MB"),
    ):
        fetch(
            parse_source(server.url("/x.csv")),
            access(header="X-Token", secrets={"header": "t"}),
        )


def test_json_that_is_not_rows_says_what_was_expected() -> None:
    with (
        http_server(
            lambda p, q: (200, "application/json", b'{"error": "nee"}'), token_header="X", token="t"
        ) as server,
        pytest.raises(SourceError, match="array of objects"),
    ):
        fetch(parse_source(server.url("/x")), access(header="X", secrets={"header": "t"}))


def test_sftp_fetches_the_newest_export_and_shows_its_host_key(tmp_path: Path) -> None:
    write(tmp_path / "export" / "medewerkers_1.csv", "email\nold@example.nl\n", 1_000)
    write(tmp_path / "export" / "medewerkers_2.csv", "email\nnew@example.nl\n", 2_000)
    with sftp_server(tmp_path) as server:
        fetched = fetch(
            parse_source(server.source("/export/medewerkers_*.csv")),
            access(secrets={"password": "nacht-export"}),
        )
    assert (fetched.name, fetched.data) == ("medewerkers_2.csv", b"email\nnew@example.nl\n")
    assert fetched.host_key == server.host_key


def test_sftp_with_another_host_key_than_pinned_sends_no_password(tmp_path: Path) -> None:
    write(tmp_path / "export" / "m.csv", "email\n", 1_000)
    impostor = asyncssh.generate_private_key("ssh-ed25519").export_public_key("openssh").decode()
    with sftp_server(tmp_path) as server:
        with pytest.raises(SourceError, match="different host key") as caught:
            fetch(
                parse_source(server.source("/export/m.csv")),
                access(secrets={"password": "nacht-export"}, host_key=impostor),
            )
        assert caught.value.code == "host-key-changed"
        assert server.logins == []
        # The pinned key of the real server is accepted.
        fetch(
            parse_source(server.source("/export/m.csv")),
            access(secrets={"password": "nacht-export"}, host_key=server.host_key),
        )


def test_sftp_with_a_wrong_password_says_the_login_was_refused(tmp_path: Path) -> None:
    with (
        sftp_server(tmp_path) as server,
        pytest.raises(SourceError, match="refused the login of 'hr'"),
    ):
        fetch(parse_source(server.source("/export/m.csv")), access(secrets={"password": "fout"}))


def test_https_can_answer_with_a_workbook() -> None:
    from openpyxl import Workbook

    from core.read import read_upload

    book = Workbook()
    book.active.append(["E-mail", "Mobiel"])
    book.active.append(["jan@example.nl", "0612345678"])
    data = io.BytesIO()
    book.save(data)
    answer = (
        200,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        data.getvalue(),
    )
    with http_server(lambda p, q: answer, token_header="X-Token", token="t") as server:
        fetched = fetch(
            parse_source(server.url("/rapport")), access(header="X-Token", secrets={"header": "t"})
        )
    assert fetched.name == "rapport.xlsx"
    table = read_upload(fetched.data, fetched.name)
    assert table.data[0].tolist() == ["jan@example.nl"] and table.data[1].tolist() == ["0612345678"]
