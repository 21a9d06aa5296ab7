"""Reading every shape of file administrators bring."""

import io
import zipfile
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from core.issues import UnusableFileError
from core.read import ReadOptions, Table, read_pasted, read_upload
from tests.conftest import SAMPLES
from tests.core.test_sandbox import xls_bytes, xlsx_bytes


def rows(table: Table) -> list[list[str]]:
    return table.data.values.tolist()


@pytest.mark.parametrize(
    ("name", "delimiter", "headers", "count"),
    [
        ("plek-voorbeeld.tsv", "\t", ["Voornaam", "Achternaam", "Email", "Extra profielveld"], 1),
        (
            "huddle-puntkomma.csv",
            ";",
            ["Email", "Voornaam", "Tussenvoegsel", "Achternaam", "Level"],
            2,
        ),
        (
            "caseware-personeel.csv",
            ",",
            [
                "Achternaam",
                "Voornaam",
                "E-mailadres",
                "Initialen",
                "Titel",
                "Telefoonnummer",
                "Groep",
            ],
            4,
        ),
        (
            "afas-mutaties.csv",
            ";",
            [
                "Mutatiecode",
                "Gebruikerscode",
                "Nieuwe gebruikerscode",
                "E-mail",
                "Omschrijving",
                "Groep",
            ],
            5,
        ),
    ],
)
def test_sample_files(name: str, delimiter: str, headers: list[str], count: int) -> None:
    table = read_upload((SAMPLES / name).read_bytes(), name)
    assert (table.delimiter, table.headers, table.row_count) == (delimiter, headers, count)
    assert table.header_row == 1 and next(iter(table.data.index)) == 2


def test_caseware_comma_space_values_are_not_padded() -> None:
    table = read_upload((SAMPLES / "caseware-personeel.csv").read_bytes(), "c.csv")
    assert rows(table)[1][:3] == ["de Graaf", "Nicole", "NGra@cwtestgebruiker.nl"]
    assert rows(table)[1][6] == "G1~G2"


# Every code a file that cannot be read as users may be refused with.
UNREADABLE = {
    "empty-file",
    "not-a-spreadsheet",
    "damaged-file",
    "unreadable-encoding",
    "unclosed-quote",
    "password-protected",
}
TEXT = "Voornaam;Achternaam;Email\nJosé;Müller;jose@example.org\nRenée;Œuvre €;r@example.org\n"


@pytest.mark.parametrize(
    ("encoding", "data"),
    [
        ("utf-8-sig", TEXT.encode("utf-8-sig")),
        ("utf-8", TEXT.encode("utf-8")),
        ("utf-16", TEXT.encode("utf-16")),
        ("cp1252", TEXT.encode("cp1252")),
    ],
)
def test_encodings_are_detected(encoding: str, data: bytes) -> None:
    table = read_upload(data, "users.csv")
    assert table.encoding == encoding
    assert table.headers[0] == "Voornaam"
    assert rows(table)[1][:2] == ["Renée", "Œuvre €"]


def test_latin1_is_the_last_resort_and_encoding_can_be_forced() -> None:
    data = "Naam;Email\nJosé\x81;j@example.org\n".encode("latin-1")
    assert read_upload(data, "u.csv").encoding == "latin-1"
    with pytest.raises(UnusableFileError, match="not valid utf-8: byte 15"):
        read_upload(data, "u.csv", ReadOptions(encoding="utf-8"))


def test_excel_unicode_text_is_utf16_with_tabs() -> None:
    data = "Email\tVoornaam\r\nanna@example.org\tÄnna\r\n".encode("utf-16")
    table = read_upload(data, "unicode.txt")
    assert (table.encoding, table.delimiter, rows(table)) == (
        "utf-16",
        "\t",
        [["anna@example.org", "Änna"]],
    )


@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|"])
def test_delimiters_are_detected(delimiter: str) -> None:
    text = delimiter.join(["Email", "First name", "Last name"]) + "\n"
    text += delimiter.join(["a@example.org", "Ann", "de Vries"]) + "\n"
    table = read_upload(text.encode(), "u.txt")
    assert table.delimiter == delimiter and rows(table) == [["a@example.org", "Ann", "de Vries"]]


def test_pipe_file_is_not_split_on_letters() -> None:
    text = "email|voornaam|achternaam\nanna@example.org|Anna|Smit\npiet@example.org|Piet|Bakker\n"
    assert read_upload(text.encode(), "u.csv").headers == ["email", "voornaam", "achternaam"]


def test_excel_sep_line_sets_the_delimiter_and_is_not_a_row() -> None:
    table = read_upload(b"sep=,\nEmail,Naam;x\na@example.org,Ann;B\n", "u.csv")
    assert table.delimiter == "," and table.headers == ["Email", "Naam;x"]
    assert table.header_row == 1 and table.skipped_lines == ["sep=,"]


def test_entra_version_line_is_skipped_and_counted() -> None:
    text = (
        "version:v1.0\nName [displayName] Required,User name [userPrincipalName] Required\n"
        "Ann Smit,ann@example.org\n"
    )
    table = read_upload(text.encode(), "entra.csv")
    assert table.headers[1] == "User name [userPrincipalName] Required"
    assert table.header_row == 2 and list(table.data.index) == [3]


def test_quotes_line_breaks_crlf_blank_rows_and_columns() -> None:
    text = (
        'Email;Naam;Notitie;;\r\n"a@example.org";"Smit; Ann";"regel 1\r\nregel 2";;\r\n'
        "\r\n;;;;\r\nb@example.org;Bakker;;;\r\n\r\n\r\n"
    )
    table = read_upload(text.encode(), "u.csv")
    assert table.headers == ["Email", "Naam", "Notitie"]
    assert rows(table) == [
        ["a@example.org", "Smit; Ann", "regel 1\r\nregel 2"],
        ["b@example.org", "Bakker", ""],
    ]
    assert list(table.data.index) == [2, 5]


def test_every_cell_is_text() -> None:
    table = read_upload(
        b"email,code,note,big\na@example.org,007,NA,12345678901234567890\n", "u.csv"
    )
    assert rows(table) == [["a@example.org", "007", "NA", "12345678901234567890"]]


def test_rows_with_extra_values_keep_them() -> None:
    table = read_upload(b"email;naam\na@example.org;Ann;extra\nb@example.org;Bob\n", "u.csv")
    assert table.headers == ["email", "naam", ""]
    assert rows(table) == [["a@example.org", "Ann", "extra"], ["b@example.org", "Bob", ""]]
    assert table.column_name(2) == "Column C"


def test_file_without_header_row() -> None:
    table = read_upload(b"a@example.org;Ann\nb@example.org;Bob\n", "u.csv")
    assert not table.has_header and table.header_row is None
    assert list(table.data.index) == [1, 2]
    forced = read_upload(b"Email;Naam\na@example.org;Ann\n", "u.csv", ReadOptions(has_header=False))
    assert forced.row_count == 2


@pytest.mark.parametrize(
    ("data", "name", "code", "words"),
    [
        (b"", "u.csv", "empty-file", "The file is empty"),
        (b"   \r\n\r\n", "u.csv", "empty-file", "The file is empty"),
        (b"Email;Naam\r\n;\r\n", "u.csv", "empty-file", "no rows of users"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "users.csv", "not-a-spreadsheet", "a PNG image"),
        (b"Email;Naam\nthis is not a zip", "users.xlsx", "damaged-file", None),
        (b"PK\x03\x04broken zip", "users.xlsx", "damaged-file", "damaged zip"),
        (bytes(range(256)) * 10, "u.csv", "not-a-spreadsheet", "binary data"),
    ],
    ids=["empty", "blank", "header-only", "png", "xlsx-not-zip", "broken-zip", "binary"],
)
def test_unusable_files_say_what_is_wrong(
    data: bytes, name: str, code: str, words: str | None
) -> None:
    with pytest.raises(UnusableFileError) as caught:
        read_upload(data, name)
    assert caught.value.code == code
    if words:
        assert words in caught.value.message


def test_size_limits() -> None:
    data = b"email\n" + b"".join(f"u{i}@example.org\n".encode() for i in range(50))
    with pytest.raises(UnusableFileError, match="the limit is 10") as caught:
        read_upload(data, "u.csv", ReadOptions(max_rows=10))
    assert caught.value.code == "too-large"
    with pytest.raises(UnusableFileError, match="the limit is") as caught:
        read_upload(data, "u.csv", ReadOptions(max_bytes=100))
    assert caught.value.code == "too-large"


def test_pasted_text() -> None:
    table = read_pasted("Email\tVoornaam\nann@example.org\tAnn\n")
    assert (table.source, table.delimiter, rows(table)) == (
        "text",
        "\t",
        [["ann@example.org", "Ann"]],
    )
    with pytest.raises(UnusableFileError, match="Nothing was pasted"):
        read_pasted("  \n")


def workbook_bytes(build) -> bytes:
    workbook = Workbook()
    build(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_values_dates_and_numbers() -> None:
    def build(wb: Workbook) -> None:
        ws = wb.active
        ws.title = "Medewerkers"
        ws.append(["Email", "Personeelsnummer", "Start", "Moment", "Uren", "Code"])
        ws.append(
            ["a@example.org", "007", date(2024, 3, 31), datetime(2024, 3, 31, 9, 30), 32, 1.5]
        )
        ws.append([None, None, None, None, None, None])

    table = read_upload(workbook_bytes(build), "u.xlsx")
    assert (table.source, table.sheet, table.sheets) == ("xlsx", "Medewerkers", ["Medewerkers"])
    assert rows(table) == [
        ["a@example.org", "007", "2024-03-31", "2024-03-31 09:30:00", "32", "1.5"]
    ]
    assert table.findings == []


def test_xlsx_hygiene_findings_name_their_cells() -> None:
    def build(wb: Workbook) -> None:
        ws = wb.active
        ws.append(["Email", "Voornaam", "Achternaam", "Afdeling"])
        for i in range(2, 9):
            ws.append([f"u{i}@example.org", f"Voor{i}", f"Achter{i}", "Sales"])
        ws["C7"] = '=B7&"x"'
        ws.merge_cells("D3:D4")
        ws.row_dimensions[5].hidden = True
        ws.column_dimensions["B"].hidden = True
        ws["A6"].hyperlink = "mailto:u6@example.org"
        wb.create_sheet("Oud").sheet_state = "hidden"

    table = read_upload(workbook_bytes(build), "u.xlsx")
    found = {(f.code, f.row, f.column, f.severity) for f in table.findings}
    assert found == {
        ("hidden-sheet", None, None, "warning"),
        ("formula", 7, "Achternaam", "error"),
        ("merged-cell", 3, "Afdeling", "warning"),
        ("hidden-row", 5, None, "warning"),
        ("hidden-column", None, "Voornaam", "warning"),
        ("hyperlink", 6, "Email", "warning"),
    }
    formula = next(f for f in table.findings if f.code == "formula")
    assert "Cell C7 holds a formula" in formula.message
    assert "Cells D3:D4 are merged" in next(
        f.message for f in table.findings if f.code == "merged-cell"
    )


def test_xlsx_sheet_choice() -> None:
    def build(wb: Workbook) -> None:
        wb.active.title = "Leeg"
        wb.active["A1"] = "Email"
        wb.active["A2"] = "x@example.org"
        second = wb.create_sheet("Tweede")
        second.append(["Email"])
        second.append(["y@example.org"])

    data = workbook_bytes(build)
    assert rows(read_upload(data, "u.xlsx")) == [["x@example.org"]]
    assert rows(read_upload(data, "u.xlsx", ReadOptions(sheet="Tweede"))) == [["y@example.org"]]
    with pytest.raises(UnusableFileError, match="no sheet named 'Derde'; it has: Leeg, Tweede"):
        read_upload(data, "u.xlsx", ReadOptions(sheet="Derde"))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000), st.sampled_from(["u.csv", "u.xlsx", "u.txt", "u.xls"]))
def test_arbitrary_bytes_give_a_table_or_a_coded_error(data: bytes, name: str) -> None:
    try:
        table = read_upload(data, name)
    except UnusableFileError as exc:
        assert exc.code in {*UNREADABLE, "too-large"}
        assert exc.message
    else:
        assert table.row_count >= 1 and len(table.headers) == table.data.shape[1]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=1000))
def test_arbitrary_text_gives_a_table_or_a_coded_error(text: str) -> None:
    try:
        table = read_pasted(text)
    except UnusableFileError as exc:
        assert exc.code in UNREADABLE
    else:
        assert table.row_count >= 1


def test_legacy_xls_is_read_and_says_hygiene_is_not_checked() -> None:
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("Personeel")
    for col, value in enumerate(["Email", "Voornaam", "Nummer", "Start"]):
        sheet.write(0, col, value)
    sheet.write(1, 0, "a@example.org")
    sheet.write(1, 1, "Ann")
    sheet.write(1, 2, 42)
    sheet.write(1, 3, datetime(2024, 3, 31), xlwt.easyxf(num_format_str="YYYY-MM-DD"))
    buffer = io.BytesIO()
    book.save(buffer)
    table = read_upload(buffer.getvalue(), "oud.xls")
    assert (table.source, table.sheet, table.headers) == (
        "xls",
        "Personeel",
        ["Email", "Voornaam", "Nummer", "Start"],
    )
    assert rows(table) == [["a@example.org", "Ann", "42", "2024-03-31"]]
    assert [f.code for f in table.findings] == ["legacy-xls"]


def sheet_bytes(*rows: list, build=None) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    if build:
        build(workbook.active)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def codes(table: Table) -> list[tuple[str, int | None, str | None]]:
    return [(f.code, f.row, f.column) for f in table.findings]


def test_blank_lines_above_the_header_are_skipped_and_counted() -> None:
    table = read_upload(b"\n\r\nemail,name\na@b.nl,A\n", "x.csv")
    assert (table.headers, table.header_row, rows(table)) == (
        ["email", "name"],
        3,
        [["a@b.nl", "A"]],
    )
    assert table.data.index.tolist() == [4]


def test_a_title_above_the_header_is_passed_over_and_said() -> None:
    csv = b"Personeelslijst 2026\n\nEmail;Voornaam;Achternaam\na@b.nl;Ann;Smit\n"
    table = read_upload(csv, "lijst.csv")
    assert (table.headers, table.header_row, table.delimiter) == (
        ["Email", "Voornaam", "Achternaam"],
        3,
        ";",
    )
    assert codes(table) == [("rows-above-header", None, None)]
    assert "'Personeelslijst 2026'" in table.findings[0].message

    def merged_title(sheet) -> None:
        sheet.insert_rows(1, 2)
        sheet["A1"] = "Personeelslijst 2026"
        sheet.merge_cells("A1:C1")

    xlsx = sheet_bytes(
        ["Email", "Voornaam", "Achternaam"], ["a@b.nl", "Ann", "Smit"], build=merged_title
    )
    table = read_upload(xlsx, "lijst.xlsx")
    assert (table.headers, table.header_row, rows(table)) == (
        ["Email", "Voornaam", "Achternaam"],
        3,
        [["a@b.nl", "Ann", "Smit"]],
    )
    chosen = read_upload(xlsx, "lijst.xlsx", ReadOptions(header_row=1))
    assert chosen.headers[0] == "Personeelslijst 2026" and chosen.row_count == 2
    with pytest.raises(UnusableFileError, match="There is no row 9"):
        read_upload(xlsx, "lijst.xlsx", ReadOptions(header_row=9))


def test_leading_zeros_shown_by_a_number_format_are_kept() -> None:
    def formats(sheet) -> None:
        sheet["B2"].number_format = "0#########"
        sheet["C2"].number_format = "000000"
        sheet["D2"].number_format = "0"

    data = sheet_bytes(
        ["Email", "Mobiel", "Personeelsnummer", "Aantal"],
        ["a@b.nl", 612345678, 14, 7],
        build=formats,
    )
    assert rows(read_upload(data, "x.xlsx")) == [["a@b.nl", "0612345678", "000014", "7"]]


def test_excel_error_values_are_reported_per_cell() -> None:
    def errors(sheet) -> None:
        for ref, value in (("B2", "#N/A"), ("C3", "#DIV/0!")):
            sheet[ref] = value
            sheet[ref].data_type = "e"

    data = sheet_bytes(
        ["Email", "Voornaam", "Functie"], ["a@b.nl", None, "x"], ["c@d.nl", "C", None], build=errors
    )
    table = read_upload(data, "x.xlsx")
    assert codes(table) == [("error-value", 2, "Voornaam"), ("error-value", 3, "Functie")]
    assert "'#N/A'" in table.findings[0].message and "'#DIV/0!'" in table.findings[1].message


def test_a_repeated_header_is_reported_with_both_columns() -> None:
    table = read_upload(b"email,first name,Email\na@b.nl,A,c@d.nl\n", "x.csv")
    assert codes(table) == [("duplicate-header", None, "email")]
    assert "Columns A, C are all named 'email'" in table.findings[0].message


@pytest.mark.parametrize("separator", [":", "+"])
def test_an_undetected_delimiter_is_warned(separator: str) -> None:
    text = f"email{separator}naam\na@b.nl{separator}A\nb@c.nl{separator}B\n"
    table = read_upload(text.encode(), "x.csv")
    assert codes(table) == [("unknown-delimiter", None, None)]
    assert f"--delimiter '{separator}'" in table.findings[0].message
    chosen = read_upload(text.encode(), "x.csv", ReadOptions(delimiter=separator))
    assert chosen.headers == ["email", "naam"] and chosen.findings == []


def test_text_in_another_alphabet_is_recognised_not_garbled() -> None:
    data = "email,naam\na@b.nl,陳大文\nb@c.nl,王小明\n".encode("big5")
    table = read_upload(data, "x.csv")
    assert table.encoding == "big5" and rows(table) == [["a@b.nl", "陳大文"], ["b@c.nl", "王小明"]]
    dutch = "Email;Voornaam\na@b.nl;Renée\nb@c.nl;Zoë\n".encode("cp1252")
    assert read_upload(dutch, "x.csv").encoding == "cp1252"


def test_a_web_page_named_xls_is_said_to_be_one() -> None:
    page = (
        b"<html><body><table><tr><td>Email</td></tr><tr><td>a@b.nl</td></tr></table></body></html>"
    )
    for name in ("export.xls", "export.csv"):
        with pytest.raises(UnusableFileError, match="is a web page") as caught:
            read_upload(page, name)
        assert caught.value.code == "html-file"


def test_a_password_protected_workbook_is_said_to_be_protected() -> None:
    from msoffcrypto.format.ooxml import OOXMLFile

    encrypted = io.BytesIO()
    OOXMLFile(io.BytesIO(sheet_bytes(["Email"], ["a@b.nl"]))).encrypt("geheim", encrypted)
    with pytest.raises(UnusableFileError, match="protected with a password") as caught:
        read_upload(encrypted.getvalue(), "x.xlsx")
    assert caught.value.code == "password-protected"


def ods_bytes(*rows: list[str]) -> bytes:
    """A minimal OpenDocument spreadsheet, as LibreOffice saves one."""
    cells = "".join(
        "<table:table-row>"
        + "".join(
            f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'
            for v in row
        )
        + "</table:table-row>"
        for row in rows
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="Blad1">{cells}'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content)
        archive.writestr("META-INF/manifest.xml", manifest)
    return buffer.getvalue()


def test_an_opendocument_spreadsheet_is_read() -> None:
    table = read_upload(ods_bytes(["Email", "Voornaam"], ["a@b.nl", "Ann"]), "lijst.ods")
    assert (table.source, table.headers, rows(table)) == (
        "ods",
        ["Email", "Voornaam"],
        [["a@b.nl", "Ann"]],
    )
    assert codes(table) == [("unchecked-ods", None, None)]


def test_excel_error_values_in_a_legacy_xls_are_reported() -> None:
    import xlwt

    workbook = xlwt.Workbook()
    sheet = workbook.add_sheet("Users")
    for column, header in enumerate(["Email", "Naam"]):
        sheet.write(0, column, header)
    sheet.write(1, 0, "a@b.nl")
    sheet.row(1).set_cell_error(1, "#N/A!")
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = read_upload(buffer.getvalue(), "oud.xls")
    assert codes(table) == [("legacy-xls", None, None), ("error-value", 2, "Naam")]
    assert "'#N/A'" in table.findings[1].message


def test_an_old_mac_export_with_cr_line_endings_is_read_row_by_row() -> None:
    rows = "".join(f"u{i}@example.org;Voor{i};Achter{i}\r" for i in range(400))
    table = read_upload(("email;voornaam;achternaam\r" + rows).encode("cp1252"), "mac.csv")
    assert table.headers == ["email", "voornaam", "achternaam"]
    assert table.row_count == 400
    assert table.data.loc[401].tolist() == ["u399@example.org", "Voor399", "Achter399"]


def test_the_long_cell_guard_counts_runs_across_its_slices() -> None:
    from core.read.workbook import _longest_text_run

    # A 20 MB run crosses two 8 MB slices; its speed is a line of bench/import_bench.py.
    xml = b"<c><v>x</v></c>" * 3_000_000 + b"<t>" + b"y" * 20_000_000 + b"</t>"
    assert _longest_text_run(xml) == 20_000_002
    assert _longest_text_run(io.BytesIO(xml)) == 20_000_002


def _renamed_stream(data: bytes, old: str, new: str) -> bytes:
    """An OLE file whose stream `old` is called `new` (a Word or Quattro Pro file's shape)."""
    changed = bytearray(data)
    name = old.encode("utf-16-le") + b"\0\0"
    at = changed.find(name)
    changed[at : at + 64] = (new.encode("utf-16-le") + b"\0\0").ljust(64, b"\0")
    changed[at + 64 : at + 66] = (len(new.encode("utf-16-le")) + 2).to_bytes(2, "little")
    return bytes(changed)


SPREADSHEET_ML = (
    b'<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n<Workbook '
    b'xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet><Table><Row><Cell>'
    b'<Data ss:Type="String">email</Data></Cell></Row></Table></Worksheet></Workbook>'
)


@pytest.mark.parametrize(
    ("make", "name", "words"),
    [
        (lambda: SPREADSHEET_ML, "oud.xls", "an Excel 2003 XML spreadsheet (SpreadsheetML), a"),
        (
            lambda: (
                b'<?xml version="1.0"?><office:document xmlns:office="urn:oasis:names:tc:'
                b'opendocument:xmlns:office:1.0"/>'
            ),
            "plat.fods",
            "a flat OpenDocument spreadsheet (.fods), a spreadsheet format",
        ),
        (lambda: b'ID;PWXL;N;E\r\nC;Y1;X1;K"email"\r\nE\r\n', "x.slk", "a SYLK spreadsheet"),
        (lambda: b'TABLE\r\n0,1\r\n"EXCEL"\r\n', "x.dif", "a DIF spreadsheet (.dif)"),
        (
            lambda: _renamed_stream(xls_bytes(), "Workbook", "WordDocument"),
            "brief.xls",
            "The file is a Word document, not a spreadsheet.",
        ),
        (
            lambda: _renamed_stream(xls_bytes(), "Workbook", "NativeContent_MAIN"),
            "begroting.xls",
            "a Quattro Pro spreadsheet, a spreadsheet format Instroom does not read",
        ),
    ],
)
def test_files_that_are_not_csv_or_excel_are_named_for_what_they_are(
    make, name: str, words: str
) -> None:
    with pytest.raises(UnusableFileError) as caught:
        read_upload(make(), name)
    assert words in caught.value.message
    assert "damaged" not in caught.value.message


def test_a_workbook_with_excels_own_default_password_opens_as_excel_opens_it() -> None:
    from msoffcrypto.format.ooxml import OOXMLFile

    for password, opens in (("VelvetSweatshop", True), ("eigen-geheim", False)):
        sealed = io.BytesIO()
        OOXMLFile(io.BytesIO(xlsx_bytes())).encrypt(password, sealed)
        if opens:
            table = read_upload(sealed.getvalue(), "beveiligd.xlsx")
            assert table.data.iloc[0].tolist() == ["a@example.org", "Ann"]
        else:
            with pytest.raises(UnusableFileError, match="protected with a password"):
                read_upload(sealed.getvalue(), "beveiligd.xlsx")


def test_a_chart_or_macro_sheet_in_front_is_passed_over_for_the_first_worksheet() -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "Gebruikers"
    sheet.append(["email", "voornaam"])
    sheet.append(["a@example.org", "Ann"])
    book.create_chartsheet("Grafiek", 0)
    out = io.BytesIO()
    book.save(out)
    table = read_upload(out.getvalue(), "met-grafiek.xlsm")
    assert table.sheet == "Gebruikers"
    assert table.data.iloc[0].tolist() == ["a@example.org", "Ann"]


def test_a_workbook_with_only_a_chart_sheet_says_so() -> None:
    book = Workbook()
    book.create_chartsheet("Grafiek", 0)
    book.remove(book["Sheet"])
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(UnusableFileError, match="no worksheet, only charts or macros"):
        read_upload(out.getvalue(), "grafiek.xlsx")


NUMBER_FORMATS = [(612345678, "0#########", "0612345678"), (14, "000000", "000014")]
NUMBER_FORMATS += [(1, "00000\\-0000", "00000-0001"), (5, '"NL"000', "NL005")]


def test_numbers_read_as_excel_shows_them_in_xlsx_and_xls() -> None:
    import xlwt

    book = xlwt.Workbook()
    legacy = book.add_sheet("Blad1")
    modern = Workbook()
    sheet = modern.active
    for column, header in enumerate(["email", "telefoon", "nummer", "code", "land"]):
        legacy.write(0, column, header)
    sheet.append(["email", "telefoon", "nummer", "code", "land"])
    legacy.write(1, 0, "a@example.org")
    for column, (number, code, _shown) in enumerate(NUMBER_FORMATS, start=1):
        legacy.write(1, column, number, xlwt.easyxf(num_format_str=code))
    sheet.append(["a@example.org", *(n for n, _, _ in NUMBER_FORMATS)])
    for column, (_n, code, _shown) in enumerate(NUMBER_FORMATS, start=2):
        sheet.cell(row=2, column=column).number_format = code
    shown = ["a@example.org", *(s for _, _, s in NUMBER_FORMATS)]
    for data, name in ((_saved(book), "oud.xls"), (_saved(modern), "nieuw.xlsx")):
        assert read_upload(data, name).data.iloc[0].tolist() == shown, name


def _saved(book: object) -> bytes:
    out = io.BytesIO()
    book.save(out)  # type: ignore[attr-defined]
    return out.getvalue()


def test_a_duration_reads_as_excel_shows_it() -> None:
    from datetime import timedelta

    book = Workbook()
    sheet = book.active
    sheet.append(["email", "uren"])
    sheet.append(["a@example.org", timedelta(hours=36)])
    sheet.cell(row=2, column=2).number_format = "[h]:mm:ss"
    assert read_upload(_saved(book), "uren.xlsx").data.iloc[0].tolist() == [
        "a@example.org",
        "36:00:00",
    ]


def test_a_workbook_whose_parts_sit_outside_xl_is_read_and_says_what_was_not_checked() -> None:
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes()))
    moved = io.BytesIO()
    with zipfile.ZipFile(moved, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            part = source.read(info.filename).replace(b"/xl/", b"/excel/")
            archive.writestr(
                info.filename.replace("xl/", "excel/"), part.replace(b'"xl/', b'"excel/')
            )
    table = read_upload(moved.getvalue(), "wtf_path.xlsx")
    assert table.data.iloc[0].tolist() == ["a@example.org", "Ann"]
    assert [f.code for f in table.findings] == ["unchecked-workbook"]


def test_a_number_beyond_excels_fifteen_digits_reads_as_excel_shows_it() -> None:
    book = Workbook()
    book.active.append(["email", "nummer"])
    book.active.append(["a@example.org", 1.2345678e22])
    assert read_upload(_saved(book), "groot.xlsx").data.iloc[0, 1] == "1.23457E+22"


def test_an_opendocument_sheet_keeps_the_leading_zeros_it_shows(tmp_path) -> None:
    from tests.test_hostile_files import cell, ods

    def number(value: str, shown: str, repeat: int = 1) -> str:
        return (
            f'<table:table-cell office:value-type="float" office:value="{value}" '
            f'table:number-columns-repeated="{repeat}"><text:p>{shown}</text:p></table:table-cell>'
        )

    path = tmp_path / "medewerkers.ods"
    ods(
        path,
        '<table:table-row table:number-rows-repeated="2"><table:table-cell/></table:table-row>'
        "<table:table-row>"
        + cell("a@example.org")
        + number("612345678", "0612345678")
        + number("1", "00000-0001")
        + number("7", "7", repeat=2)
        + "</table:table-row>",
    )
    table = read_upload(path.read_bytes(), path.name)
    assert table.data.loc[4].tolist()[:5] == ["a@example.org", "0612345678", "00000-0001", "7", "7"]


def test_a_binary_xlsb_workbook_is_read_and_says_what_was_not_checked(tmp_path) -> None:
    from pyxlsbwriter import XlsbWriter

    path = tmp_path / "medewerkers.xlsb"
    with XlsbWriter(str(path)) as writer:
        writer.add_sheet("Blad1")
        writer.write_sheet([["email", "voornaam"], ["a@example.org", "Ann"]])
    table = read_upload(path.read_bytes(), path.name)
    assert table.data.iloc[0].tolist() == ["a@example.org", "Ann"]
    assert [(f.code, f.variant) for f in table.findings] == [("unchecked-workbook", "xlsb")]
