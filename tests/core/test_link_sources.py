"""Link sources against real servers: a folder, an SFTP server, an HTTP server with a token."""

import io
import os
from pathlib import Path

import asyncssh
import orjson
import pytest

from core.issues import UnusableFileError
from core.link_sources import Access, FolderRule, SourceError, fetch, move_to_done, parse_source
from tests.servers import afas_connector, dripping_server, http_server, sftp_server

MB = 1 << 20


def access(**kw: object) -> Access:
    values: dict = {"max_bytes": MB, "max_rows": 10_000, "secrets": {}} | kw
    return Access(**values)


def in_folder(folder: Path, **kw: object) -> Access:
    """Access for a folder link below folder, as INSTROOM_LINK_FOLDERS would allow it."""
    return access(folders=FolderRule((folder,)), **kw)


def write(path: Path, text: str, mtime: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.utime(path, (mtime, mtime))


def test_a_folder_gives_its_newest_matching_file_and_moves_it_to_done(tmp_path: Path) -> None:
    write(tmp_path / "medewerkers_20261130.csv", "email\nold@example.nl\n", 1_000)
    write(tmp_path / "medewerkers_20261201.csv", "email\nnew@example.nl\n", 2_000)
    write(tmp_path / "salarissen_20261202.csv", "not this one", 3_000)
    source = parse_source(f"folder:{tmp_path}/medewerkers_*.csv")
    fetched = fetch(source, in_folder(tmp_path))
    assert (fetched.name, fetched.data) == ("medewerkers_20261201.csv", b"email\nnew@example.nl\n")
    move_to_done(fetched, FolderRule((tmp_path,)))
    assert (tmp_path / "done" / "medewerkers_20261201.csv").exists()
    assert fetch(source, in_folder(tmp_path)).name == "medewerkers_20261130.csv"


def test_a_folder_without_a_match_or_that_is_missing_says_so(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"No file in .* matches medewerkers_\*\.csv"):
        fetch(parse_source(f"folder:{tmp_path}/medewerkers_*.csv"), in_folder(tmp_path))
    with pytest.raises(SourceError, match="does not exist"):
        fetch(parse_source(f"folder:{tmp_path}/nope/x.csv"), in_folder(tmp_path))


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "medewerkers.csv"
    with big.open("wb") as handle:
        handle.truncate(3 * MB)  # sparse: its size is known without holding it
    with pytest.raises(UnusableFileError, match="more than 1 MB") as caught:
        fetch(parse_source(f"folder:{big}"), in_folder(tmp_path))
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


def test_folder_links_are_off_until_the_owner_names_a_folder(tmp_path: Path) -> None:
    write(tmp_path / "m.csv", "email\na@example.nl\n", 1_000)
    with pytest.raises(SourceError, match="INSTROOM_LINK_FOLDERS") as caught:
        fetch(parse_source(f"folder:{tmp_path}/m.csv"), access())
    assert caught.value.variant == "folders-off"


@pytest.mark.parametrize("target", ["/proc/self/environ", "/etc/passwd", "{data}/cookie_key"])
def test_a_folder_link_reads_nothing_outside_the_allowed_folders(
    tmp_path: Path, target: str
) -> None:
    exports, data = tmp_path / "exports", tmp_path / "data"
    exports.mkdir()
    data.mkdir()
    (data / "cookie_key").write_text("k5Jx9Qw2Lm8Zr4Tn7Vb1Hc6Yd3Fg0Sa-Pe_Uo")
    rule = FolderRule((exports, tmp_path / "data"), private=(data,))
    with pytest.raises(SourceError) as caught:
        fetch(parse_source("folder:" + target.format(data=data)), access(folders=rule))
    assert caught.value.variant in {"folder-not-allowed", "folder-private"}
    assert "k5Jx9" not in str(caught.value)


def test_a_symbolic_link_out_of_the_allowed_folder_is_not_followed(tmp_path: Path) -> None:
    exports, secret = tmp_path / "exports", tmp_path / "data" / "vault_key"
    secret.parent.mkdir()
    secret.write_text("n0t-f0r-y0ur-3y3s")
    exports.mkdir()
    (exports / "medewerkers.csv").symlink_to(secret)
    (exports / "uit").symlink_to(secret.parent, target_is_directory=True)
    rule = FolderRule((exports,))
    with pytest.raises(SourceError, match=r"No file in .* matches"):
        fetch(parse_source(f"folder:{exports}/medewerkers.csv"), access(folders=rule))
    with pytest.raises(SourceError, match="not in a folder links may read"):
        fetch(parse_source(f"folder:{exports}/uit/vault_key"), access(folders=rule))


def test_a_moved_file_stays_inside_the_allowed_folder(tmp_path: Path) -> None:
    exports, elsewhere = tmp_path / "exports", tmp_path / "elsewhere"
    elsewhere.mkdir()
    write(exports / "m.csv", "email\na@example.nl\n", 1_000)
    (exports / "done").symlink_to(elsewhere, target_is_directory=True)
    fetched = fetch(parse_source(f"folder:{exports}/m.csv"), in_folder(exports))
    with pytest.raises(SourceError, match="not an ordinary file"):
        move_to_done(fetched, FolderRule((exports,)))
    assert list(elsewhere.iterdir()) == [] and (exports / "m.csv").exists()


def test_a_redirect_to_another_server_is_refused_and_gets_no_token() -> None:
    with (
        http_server(
            lambda p, q: (200, "text/csv", b"email\n"), token_header="X", token="", host="127.0.0.2"
        ) as capture,
        http_server(
            lambda p, q: (302, "text/plain", capture.url("/capture").encode()),
            token_header="Authorization",
            token=TOKEN,
        ) as server,
        pytest.raises(SourceError, match="another server") as caught,
    ):
        fetch(
            parse_source(server.url("/redir")),
            access(header="Authorization", secrets={"header": TOKEN}),
        )
    assert caught.value.variant == "redirect"
    assert capture.requests == []


def test_a_redirect_within_the_same_server_is_followed() -> None:
    csv = b"email\njan@example.nl\n"

    def answer(path: str, query: dict) -> tuple[int, str, bytes]:
        if path == "/oud.csv":
            return 301, "text/plain", b"/nieuw.csv"
        return 200, "text/csv", csv

    with http_server(answer, token_header="Authorization", token=TOKEN) as server:
        fetched = fetch(
            parse_source(server.url("/oud.csv")),
            access(header="Authorization", secrets={"header": TOKEN}),
        )
    assert fetched.data == csv
    assert [p for p, _ in server.requests] == ["/oud.csv", "/nieuw.csv"]


def test_a_source_that_drips_ends_at_the_fetch_deadline() -> None:
    with dripping_server(every=0.3) as url, pytest.raises(SourceError) as caught:
        fetch(parse_source(url), access(deadline=2.0, timeout=60))
    assert caught.value.variant == "deadline"
    assert "within 2 seconds" in caught.value.message


def test_pages_that_never_end_stop_at_one_size_limit_for_all_of_them() -> None:
    page = orjson.dumps({"skip": 0, "take": 2000, "rows": [{"Email": "x" * 200}] * 2000})

    with (
        http_server(
            lambda p, q: (200, "application/json", page), token_header="X", token=TOKEN
        ) as server,
        pytest.raises(UnusableFileError, match="more than 1 MB") as caught,
    ):
        fetch(
            parse_source(server.url("/connectors/Medewerkers")),
            access(header="X", secrets={"header": TOKEN}, max_rows=10**9),
        )
    assert caught.value.code == "too-large"
    assert len(server.requests) <= 3
