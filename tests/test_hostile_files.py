"""Hostile and broken files through the CLI: a clear message with the row, never a traceback,
and nothing written when the file is unusable."""

import io
import json
import struct
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

import cli
from tests.conftest import SAMPLES

HEADER = "Email;Voornaam;Achternaam\n"


def run_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, db_url: str, *args: str
) -> tuple[int, dict, str]:
    monkeypatch.setenv("DATABASE_URL", db_url)
    code = cli.main([*args, "--json"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    return code, json.loads(captured.out), captured.err


def codes(out: dict) -> list[tuple[int | None, str]]:
    return [(i["row"], i["code"]) for i in out["issues"]]


def zip_bomb(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            chunk = b"\0" * (1 << 20)
            for _ in range(1100):  # 1.1 GB of zeros in a few MB
                sheet.write(chunk)


def patched_workbook(path: Path, sheet_end: str = "", shared_string: str | None = None) -> None:
    """A small real workbook with XML added at the end of its sheet (and a shared string)."""
    workbook = Workbook()
    workbook.active.append(["Email", "Voornaam", "Achternaam"])
    workbook.active.append(["a@example.org", "Ann", "Smit"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    source = zipfile.ZipFile(buffer)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", sheet_end.encode() + b"</sheetData>")
            target.writestr(item, data)
        if shared_string is not None:
            target.writestr(
                "xl/sharedStrings.xml",
                f'<sst xmlns="x" count="1" uniqueCount="1"><si><t>{shared_string}</t></si></sst>',
            )


def far_cell(column: str) -> str:
    return f'<row r="1048576"><c r="{column}1048576" t="inlineStr"><is><t>x</t></is></c></row>'


def million_empty_formatted_rows(path: Path) -> None:
    """An XLSX whose sheet formats a million rows but holds one user."""
    patched_workbook(
        path,
        "".join(
            f'<row r="{r}" s="1" customFormat="1" ht="15" customHeight="1"/>'
            for r in range(3, 1_000_001)
        ),
    )


def lying_member(path: Path) -> None:
    """A real workbook with a part whose directory says 1 KB; it unpacks to 50 MB."""
    patched_workbook(path)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("xl/media/image1.bin", bytes(50_000_000), zipfile.ZIP_DEFLATED)
    data = bytearray(path.read_bytes())
    name = b"xl/media/image1.bin"
    for signature, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = data.find(signature)
        while start >= 0:
            name_at = start + (30 if signature == b"PK\x03\x04" else 46)
            if data[name_at : name_at + len(name)] == name:
                struct.pack_into("<I", data, start + size_at, 1024)
            start = data.find(signature, start + 4)
    path.write_bytes(bytes(data))


def ods(path: Path, row_xml: str) -> None:
    """A minimal OpenDocument spreadsheet: a header row 'email' and the rows given."""
    office = "urn:oasis:names:tc:opendocument:xmlns"
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        f'xmlns:office="{office}:office:1.0" xmlns:table="{office}:table:1.0" '
        f'xmlns:text="{office}:text:1.0" office:version="1.2"><office:body><office:spreadsheet>'
        '<table:table table:name="Blad1"><table:table-row><table:table-cell '
        'office:value-type="string"><text:p>email</text:p></table:table-cell></table:table-row>'
        f"{row_xml}</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED
        )
        archive.writestr(
            "META-INF/manifest.xml",
            f'<manifest:manifest xmlns:manifest="{office}:manifest:1.0"><manifest:file-entry '
            'manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>',
        )
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)


def cell(text: str) -> str:
    return (
        f'<table:table-cell office:value-type="string"><text:p>{text}</text:p></table:table-cell>'
    )


UNUSABLE = {
    "zero-bytes.csv": (lambda p: p.write_bytes(b""), "empty-file", "The file is empty"),
    "header-only.csv": (lambda p: p.write_text(HEADER), "empty-file", "no rows of users"),
    "picture.csv": (
        lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(500)),
        "not-a-spreadsheet",
        "a PNG image",
    ),
    "not-a-zip.xlsx": (
        lambda p: p.write_text(HEADER + "a@example.org;A;B\n"),
        "damaged-file",
        "not a valid Excel workbook",
    ),
    "bomb.xlsx": (zip_bomb, "too-large", "unpacks to"),
    # 4.8 KB that asked the reader for 512 GB and aborted the whole server.
    "far-cell.xlsx": (
        lambda p: patched_workbook(p, far_cell("XFD")),
        "too-large",
        "reaches cell XFD1048576, 16,384 columns wide; Instroom reads at most 702 columns",
    ),
    # Within the columns, but 702 x 1,048,576 cells: the child process runs out of memory.
    "tall-and-wide.xlsx": (
        lambda p: patched_workbook(p, far_cell("ZZ")),
        "too-large",
        "needed more than the limit of 4,096 MB of memory",
    ),
    "one-gigantic-string.xlsx": (
        lambda p: patched_workbook(p, shared_string="a" * 50_000_000),
        "too-large",
        "holds about 50,000,00",
    ),
    # The directory says 1 KB; the part unpacks to 50 MB (or, in the attack, 3 GB).
    "lying-member.xlsx": (lying_member, "damaged-file", "damaged"),
    "wide.ods": (
        lambda p: ods(
            p,
            "<table:table-row>"
            + cell("a@example.org")
            + '<table:table-cell table:number-columns-repeated="16000"/>'
            + cell("x")
            + "</table:table-row>",
        ),
        "too-large",
        "reaches cell WQL2, 16,002 columns wide; Instroom reads at most 702 columns",
    ),
    "a-million-semicolons.csv": (
        lambda p: p.write_text("email" + ";" * 1_000_000 + "\na@example.org\n"),
        "too-large",
        "The first row has 1,000,001 values; Instroom reads at most 702 columns",
    ),
    "wide-later-row.csv": (
        lambda p: p.write_text(HEADER + "a@example.org;A;B" + ";" * 5_000 + "\n"),
        "too-large",
        "A row of the file has 5,003 values",
    ),
    "quotes.csv": (
        lambda p: p.write_text(HEADER + 'a@example.org;"Ann;Smit\nb@x.nl;B;C\n'),
        "unclosed-quote",
        "Row 2 opens a quote",
    ),
}


@pytest.mark.parametrize("name", list(UNUSABLE))
def test_unusable_files_write_nothing(
    name: str,
    tmp_path: Path,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    make, code, words = UNUSABLE[name]
    path = tmp_path / name
    make(path)
    exit_code, out, err = run_cli(monkeypatch, capsys, sqlite_url, "import", str(path))
    assert exit_code == 2 and codes(out) == [(None, code)]
    assert words in out["issues"][0]["message"] and words in err
    assert run_cli(monkeypatch, capsys, sqlite_url, "jobs")[1] == []
    assert run_cli(monkeypatch, capsys, sqlite_url, "users")[1] == []


def test_over_the_size_limit(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("INSTROOM_MAX_UPLOAD_MB", "1")
    path = tmp_path / "big.csv"
    path.write_text(HEADER + "".join(f"u{i}@example.org;Voor;Achter\n" for i in range(60_000)))
    exit_code, out, _ = run_cli(monkeypatch, capsys, sqlite_url, "import", str(path))
    assert exit_code == 2 and codes(out) == [(None, "too-large")]
    assert "the limit is 1 MB" in out["issues"][0]["message"]


def test_a_million_empty_formatted_rows_hold_one_user(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "formatted.xlsx"
    million_empty_formatted_rows(path)
    exit_code, out, _ = run_cli(monkeypatch, capsys, sqlite_url, "import", str(path))
    assert exit_code == 0 and out["counts"]["created"] == 1 and out["counts"]["rows"] == 1


def test_hostile_sheet_xml_is_read_in_one_pass(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """Ten million hidden columns and 160,000 formula tags in a comment: one finding each."""
    path = tmp_path / "hygiene.xlsx"
    comment = "<!--" + "<f>1</f>" * 160_000 + "-->"
    hidden = '<cols><col min="1" max="10000000" hidden="1"/></cols>'
    patched_workbook(path, comment)
    data = path.read_bytes()
    with zipfile.ZipFile(path, "w") as target, zipfile.ZipFile(io.BytesIO(data)) as source:
        for item in source.infolist():
            xml = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                xml = xml.replace(b"<sheetData>", hidden.encode() + b"<sheetData>")
            target.writestr(item, xml)
    exit_code, out, _ = run_cli(monkeypatch, capsys, sqlite_url, "import", str(path), "--dry-run")
    hidden_columns = [i["column"] for i in out["issues"] if i["code"] == "hidden-column"]
    assert hidden_columns == ["Email", "Voornaam", "Achternaam"]
    assert [i for i in out["issues"] if i["code"] == "formula"] == []
    assert exit_code == 0 and out["counts"]["rows"] == 1


def test_wrong_and_mixed_encodings(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    cp1252 = tmp_path / "ansi.csv"
    cp1252.write_bytes((HEADER + "a@example.org;Renée;Müller\n").encode("cp1252"))
    exit_code, out, _ = run_cli(
        monkeypatch, capsys, sqlite_url, "import", str(cp1252), "--encoding", "utf-8"
    )
    assert exit_code == 2 and "not valid utf-8" in out["issues"][0]["message"]
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes(
        (HEADER + "a@example.org;José;Smit\n").encode("utf-8")
        + "b@example.org;Renée;Bakker\n".encode("cp1252")
    )
    exit_code, out, _ = run_cli(monkeypatch, capsys, sqlite_url, "import", str(mixed))
    assert exit_code == 0 and codes(out) == [(2, "mixed-encoding")]
    assert "looks like UTF-8 text in a cp1252 file ('JosÃ©')" in out["issues"][0]["message"]
    assert "Save it again as CSV UTF-8" in out["issues"][0]["message"]


def test_rows_with_hostile_values_are_rejected_by_row(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "hostile.csv"
    path.write_text(
        HEADER
        + "ok@example.org;Ok;Rij\n"  # 2: fine
        + "c@example.org,Comma,Row\n"  # 3: other delimiter
        + "d@example.org;Bell\x07;Ring\n"  # 4: control character
        + "\u202eevil@example.org;Rtl;Override\n"  # 5: right-to-left override
        + "😀@example.org;Emoji;Mail\n"  # 6: emoji
        + "lookalike@exаmple.org;Look;Alike\n"  # 7: Cyrillic a in the domain
        + "long@example.org;"
        + "x" * 100_000
        + ";Long\n"  # 8: 100,000-character cell
        + '=cmd@example.org;=HYPERLINK("http://evil");<script>alert(1)</script>\n',  # 9
        encoding="utf-8",
    )
    exit_code, out, _ = run_cli(monkeypatch, capsys, sqlite_url, "import", str(path))
    assert exit_code == 1
    assert codes(out) == [
        (3, "invalid-email"),
        (4, "control-characters"),
        (5, "invalid-email"),
        (6, "invalid-email"),
        (7, "lookalike-email"),
        (8, "value-too-long"),
    ]
    users = {u["email"]: u for u in run_cli(monkeypatch, capsys, sqlite_url, "users")[1]}
    assert set(users) == {"ok@example.org", "lookalike@exаmple.org", "=cmd@example.org"}
    hostile = users["=cmd@example.org"]
    assert (hostile["first_name"], hostile["last_name"]) == (
        '=HYPERLINK("http://evil")',
        "<script>alert(1)</script>",
    )


def test_samples_through_the_cli_never_trace(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    for sample in sorted(SAMPLES.glob("*.*sv")):
        exit_code, out, _ = run_cli(monkeypatch, capsys, sqlite_url, "import", str(sample))
        assert exit_code in {0, 1} and out["job_id"]


def test_a_title_row_above_the_header_through_the_cli(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "lijst.csv"
    path.write_text("Personeelslijst 2026;;\n\n" + HEADER + "a@example.org;Ann;Smit\n")
    exit_code, out, _ = run_cli(monkeypatch, capsys, sqlite_url, "import", str(path))
    assert exit_code == 0 and out["counts"]["created"] == 1
    assert codes(out) == [(None, "rows-above-header")]
    exit_code, out, _ = run_cli(
        monkeypatch, capsys, sqlite_url, "import", str(path), "--header-row", "1", "--dry-run"
    )
    assert exit_code == 2 and out["issues"][0]["code"] == "missing-required-field"


def test_a_file_without_an_email_column_is_told_its_columns_and_map(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "adressen.csv"
    path.write_text("Naam;Werkadres\nAnn;ann@example.org\n")
    exit_code, out, err = run_cli(monkeypatch, capsys, sqlite_url, "import", str(path))
    assert exit_code == 2 and codes(out) == [(None, "missing-required-field")]
    assert "The file's columns are: 'Naam', 'Werkadres'" in err
    assert '--map "Werkadres=email"' in err


def test_a_finding_made_before_a_refusal_is_shown_with_it(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "dubbelepunt.csv"
    path.write_text(
        "email:voornaam:achternaam\nann@example.org:Ann:Smit\nbob@example.org:Bob:Bos\n"
    )
    exit_code, out, err = run_cli(monkeypatch, capsys, sqlite_url, "import", str(path))
    assert exit_code == 2
    assert codes(out) == [(None, "missing-required-field"), (None, "unknown-delimiter")]
    assert "(missing-required-field)" in err and "warning:" in err and "(unknown-delimiter)" in err
