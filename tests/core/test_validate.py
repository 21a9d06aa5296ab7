"""Row rules, each with its stable code, the spreadsheet row and the column as written."""

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.issues import Issue
from core.mapping import suggest_mapping
from core.options import ImportOptions
from core.read import read_pasted
from core.validate import (
    KnownNames,
    ProfileFieldSpec,
    ValidatedRows,
    split_full_name,
    validate_rows,
)

CATALOG = KnownNames(
    groups={"everyone": "Everyone", "sales": "Sales"},
    levels={"a": "A"},
    roles={"member": "member", "manager": "manager"},
    languages={"nl": "nl", "en": "en"},
    profile_fields={
        "job_title": ProfileFieldSpec("job_title", "Job title", "text", True),
        "start_date": ProfileFieldSpec("start_date", "Start date", "date", True),
        "site": ProfileFieldSpec(
            "site", "Site", "taxonomy", True, {"utrecht": "Utrecht", "delft": "Delft"}
        ),
    },
)


def validate(text: str, **options: object) -> ValidatedRows:
    table = read_pasted(text)
    profile = {k: f.label for k, f in CATALOG.profile_fields.items()}
    mapping = suggest_mapping(table.headers, profile)
    return validate_rows(table, mapping, ImportOptions(**options), CATALOG)


def codes(result: ValidatedRows) -> list[tuple[int | None, str, str | None]]:
    return [(i.row, i.code, i.column) for i in result.issues]


def only(result: ValidatedRows, code: str) -> Issue:
    found = [i for i in result.issues if i.code == code]
    assert len(found) == 1, codes(result)
    return found[0]


def test_valid_rows_are_normalised() -> None:
    result = validate("E-mail;Voornaam;Achternaam\n  Ann.Smit@Example.ORG ;Ann;Smit\n")
    assert result.issues == [] and result.error_rows == set()
    assert result.frame.loc[2, "email"] == "ann.smit@example.org"


def test_missing_and_invalid_email() -> None:
    result = validate("Email;Voornaam\n;Ann\nnot-an-address;Bob\nok@example.org;Cas\n")
    assert codes(result) == [(2, "missing-email", "Email"), (3, "invalid-email", "Email")]
    assert "'not-an-address' is not a valid email address" in only(result, "invalid-email").message
    assert result.error_rows == {2, 3}


def test_international_and_lookalike_addresses() -> None:
    result = validate("Email\nJosé@example.org\nok@bücher.de\n")
    # A non-ASCII local part cannot be delivered by most servers; an IDN domain can.
    assert codes(result) == [(2, "invalid-email", "Email")]


def test_duplicate_email_names_both_rows() -> None:
    result = validate("Email\na@example.org\nb@example.org\n A@EXAMPLE.org\n")
    messages = {i.row: i.message for i in result.issues if i.code == "duplicate-email"}
    assert set(messages) == {2, 4}
    assert "also appears in row 4" in messages[2] and "also appears in row 2" in messages[4]


def test_wide_letters_are_read_as_the_address_they_show_and_reported_as_written() -> None:
    # Full-width letters (from a Japanese keyboard) are NFKC-folded; the rest of the file
    # is plain ASCII and is not.
    result = validate("Email\nＡＮＮ@ＥＸＡＭＰＬＥ.ORG\nbob@example.org\nJosé@example.org\n")
    assert result.frame["email"].tolist()[:2] == ["ann@example.org", "bob@example.org"]
    assert codes(result) == [(4, "invalid-email", "Email")]
    assert only(result, "invalid-email").value == "José@example.org"


def test_addresses_that_differ_only_beyond_ascii_case_are_one_address() -> None:
    result = validate("Email\njan@straße.nl\nJAN@STRASSE.NL\npiet@example.org\n")
    assert codes(result) == [(2, "duplicate-email", "Email"), (3, "duplicate-email", "Email")]


def test_usernames() -> None:
    result = validate(
        "Email;Gebruikersnaam\na@example.org;abcdefghijklmnopqrstu\n"
        "b@example.org;b@x\nc@example.org;same\nd@example.org;SAME\n"
    )
    assert sorted(codes(result)) == [
        (2, "username-too-long", "Gebruikersnaam"),
        (3, "username-has-at", "Gebruikersnaam"),
        (4, "username-taken", "Gebruikersnaam"),
        (5, "username-taken", "Gebruikersnaam"),
    ]
    assert "at most 20" in only(result, "username-too-long").message


def test_groups_and_levels_are_split_resolved_and_checked() -> None:
    result = validate(
        "Email;Groep;Niveau\na@example.org;sales ~ everyone~;a\nb@example.org;Marketing;B\n"
    )
    assert result.frame.loc[2, "groups"] == ("Sales", "Everyone")
    assert result.frame.loc[2, "levels"] == ("A",)
    assert codes(result) == [(3, "unknown-group", "Groep"), (3, "unknown-level", "Niveau")]
    allowed = validate(
        "Email;Groep;Niveau\nb@example.org;Marketing;B\n",
        create_groups=True,
        create_levels=True,
        groups=("Sales",),
    )
    assert allowed.issues == [] and allowed.new_groups == {"Marketing"}
    assert allowed.frame.loc[2, "groups"] == ("Marketing", "Sales")


def test_afas_code_3_creates_the_rows_groups() -> None:
    result = validate(
        "Mutatiecode;Email;Groep\n3;a@example.org;Financien\n"
        "1;b@example.org;Financien\n1;c@example.org;Inkoop\n"
    )
    assert codes(result) == [(4, "unknown-group", "Groep")]
    assert result.new_groups == {"Financien"}


@pytest.mark.parametrize(
    ("value", "action"),
    [
        ("0", "block"),
        ("1", "import"),
        ("2", "import_block"),
        ("3", "import_create_groups"),
        ("4", "rename"),
        ("5", "password"),
        ("6", "unblock"),
        ("Blokkeer", "block"),
        ("unblock", "unblock"),
        ("", "block"),  # AFAS Profit: an empty mutation code means 0
    ],
)
def test_actions(value: str, action: str | None) -> None:
    result = validate(f"Actie;Email\n{value};a@example.org\n")
    assert result.frame.loc[2, "action"] == action


def test_invalid_action() -> None:
    issue = only(validate("Actie;Email\n7;a@example.org\n"), "invalid-action")
    assert (issue.row, issue.column, issue.value) == (2, "Actie", "7")
    assert "0 block" in issue.message


@pytest.mark.parametrize(
    ("header", "value", "status"),
    [
        ("Status", "Active", "active"),
        ("Status", "geblokkeerd", "blocked"),
        ("New Status [UPLOAD ONLY]", "Suspended", "blocked"),
        ("Block sign in (Yes/No) [accountEnabled] Required", "Yes", "blocked"),
        ("Block sign in (Yes/No) [accountEnabled] Required", "No", "active"),
        ("suspended", "1", "blocked"),
        ("Actief", "ja", "active"),
    ],
)
def test_status_values_from_real_templates(header: str, value: str, status: str) -> None:
    result = validate(f"Email;{header}\na@example.org;{value}\n")
    assert result.issues == [] and result.frame.loc[2, "status"] == status


def test_roles_languages_kinds() -> None:
    result = validate(
        "Email;Rol;Taal;Soort\na@example.org;Manager;NL;Contact\nb@example.org;boss;fr;robot\n"
    )
    assert result.frame.loc[2, ["role", "language", "kind"]].tolist() == [
        "manager",
        "nl",
        "contact",
    ]
    assert codes(result) == [
        (3, "unknown-role", "Rol"),
        (3, "unknown-language", "Taal"),
        (3, "invalid-kind", "Soort"),
    ]


def test_profile_dates_and_taxonomy_terms() -> None:
    result = validate(
        "Email;Start date;Site\na@example.org;31-03-2024;utrecht\n"
        "b@example.org;31-02-2024;Delft~Utrecht\nc@example.org;2024-04-01;Zwolle\n"
    )
    assert result.frame.loc[2, ["profile.start_date", "profile.site"]].tolist() == [
        "2024-03-31",
        "Utrecht",
    ]
    assert codes(result) == [
        (3, "invalid-date", "Start date"),
        (3, "multiple-terms", "Site"),
        (4, "unknown-term", "Site"),
    ]
    created = validate("Email;Site\nc@example.org;Zwolle\n", create_terms=True)
    assert created.issues == [] and created.new_terms == {"site": {"Zwolle"}}


def test_passwords_are_masked_and_stars_keep_the_current_one() -> None:
    result = validate(
        "Email;Wachtwoord\na@example.org;****\nb@example.org;kort\n"
        "c@example.org;lang genoeg wachtwoord\n"
    )
    assert result.frame["password"].tolist() == ["", "kort", "lang genoeg wachtwoord"]
    issue = only(result, "weak-password")
    assert issue.value == "********" and "kort" not in issue.message


def test_inert_formula_prefix_is_removed() -> None:
    result = validate(
        "Email;Functie\na@example.org;'+31612345678\nb@example.org;'=SUM(A1)\n"
        "c@example.org;'plain quote\n"
    )
    assert result.frame["profile.job_title"].tolist() == [
        "+31612345678",
        "=SUM(A1)",
        "'plain quote",
    ]


@pytest.mark.parametrize(
    ("full", "parts"),
    [
        ("Bram Kroon", ("Bram", "", "Kroon")),
        ("Lotte de Vries", ("Lotte", "de", "Vries")),
        ("Pieter van der Berg", ("Pieter", "van der", "Berg")),
        ("Kroon, Bram", ("Bram", "", "Kroon")),
        ("Cher", ("Cher", "", "")),
    ],
)
def test_full_names_are_split_with_dutch_inserts(full: str, parts: tuple[str, str, str]) -> None:
    assert split_full_name(full) == parts


def test_full_name_fills_only_missing_parts() -> None:
    result = validate("Email;Naam;Voornaam\na@example.org;Lotte de Vries;Charlotte\n")
    assert result.frame.loc[2, ["first_name", "name_insert", "last_name"]].tolist() == [
        "Charlotte",
        "de",
        "Vries",
    ]


def test_row_numbers_follow_the_spreadsheet_with_blank_rows() -> None:
    result = validate("Email\n\na@example.org\n\n\nbad\n")
    assert codes(result) == [(6, "invalid-email", "Email")]


def test_a_text_direction_override_in_a_name_is_warned_and_kept() -> None:
    result = validate("Email;Voornaam;Achternaam\na@example.org;Ann;\u202eSmit\n")
    issue = only(result, "bidi-control")
    assert (issue.row, issue.column, issue.severity) == (2, "Achternaam", "warning")
    assert result.error_rows == set()


def test_hidden_characters_are_told_apart_in_one_column() -> None:
    text = "Email;Voornaam\na@example.org;Ann\nb@example.org;B\x07ob\nc@example.org;\u2066Cas\n"
    text += "d@example.org;D\x01\u202ean\n"
    assert sorted(codes(validate(text))) == [
        (3, "control-characters", "Voornaam"),
        (4, "bidi-control", "Voornaam"),
        (5, "bidi-control", "Voornaam"),
        (5, "control-characters", "Voornaam"),
    ]


@pytest.mark.parametrize("cell", ["\t=1+1", "\r=1+1", "=1+1", "+31", "-2", "@SUM(A1)"])
def test_cells_a_spreadsheet_would_run_are_made_inert(cell: str) -> None:
    from core.export import make_inert

    assert make_inert(cell) == "'" + cell
    assert make_inert("Jan") == "Jan"


def test_a_phone_number_that_lost_its_leading_zero_is_warned() -> None:
    profile = {
        "phone": ProfileFieldSpec("phone", "Phone", "text", True),
        "mobile": ProfileFieldSpec("mobile", "Mobile", "text", True),
    }
    known_names = replace(CATALOG, profile_fields=profile)
    table = read_pasted(
        "Email;Telefoon;Mobiel\na@example.org;201234567;0612345678\nb@example.org;;612345678\n"
    )
    mapping = suggest_mapping(table.headers, {"phone": "Phone", "mobile": "Mobile"})
    result = validate_rows(table, mapping, ImportOptions(), known_names)
    assert codes(result) == [
        (2, "leading-zero-lost", "Telefoon"),
        (3, "leading-zero-lost", "Mobiel"),
    ]
    assert "Write 0612345678" in result.issues[1].message and result.error_rows == set()
    assert result.frame.loc[3, "profile.mobile"] == "612345678"


@pytest.mark.parametrize(
    "address",
    ["jan..de@voorbeeld.nl", ".jan@x.nl", "jan.@x.nl", "jan@-x.nl", "jan@x-.nl", "a@b.test"],
)
def test_addresses_email_validator_refuses_are_refused(address: str) -> None:
    result = validate(f"Email\n{address}\n")
    assert codes(result) == [(2, "invalid-email", "Email")]


LOCAL = st.text(alphabet="ab9._%+'-", min_size=1, max_size=12)
LABEL = st.text(alphabet="ab9-", min_size=1, max_size=8)
DOMAIN = st.lists(LABEL, min_size=1, max_size=3).map(".".join)
TLD = st.sampled_from(["nl", "com", "test", "local", "n1", "x", "museum", "a-b"])


@settings(max_examples=2000, deadline=None)
@given(local=LOCAL, domain=DOMAIN, tld=TLD)
def test_the_fast_email_check_accepts_only_what_email_validator_accepts(
    local: str, domain: str, tld: str
) -> None:
    from email_validator import EmailNotValidError, validate_email

    from core.emails import COMMON_EMAIL

    address = f"{local}@{domain}.{tld}"
    if COMMON_EMAIL.match(address):
        try:
            checked = validate_email(address, check_deliverability=False, allow_smtputf8=False)
        except EmailNotValidError as exc:
            raise AssertionError(f"fast path accepted {address!r}: {exc}") from exc
        assert checked.normalized.lower() == address


@pytest.mark.parametrize(
    ("last", "insert", "rest"),
    [
        ("de Bruin", "de", "Bruin"),
        ("van der Berg", "van der", "Berg"),
        ("Van den Heuvel", "Van den", "Heuvel"),
        ("'t Hart", "'t", "Hart"),
        ("ter Horst", "ter", "Horst"),
        ("Devries", "", "Devries"),
        ("Vandenberg", "", "Vandenberg"),
        ("de", "", "de"),
        ("Jansen", "", "Jansen"),
    ],
)
def test_plek_full_surname_loses_its_insert_to_the_insert_field(
    last: str, insert: str, rest: str
) -> None:
    result = validate(f"Email;Voornaam;Achternaam\na@example.org;Jan;{last}\n")
    assert (result.frame.loc[2, "name_insert"], result.frame.loc[2, "last_name"]) == (insert, rest)
    with_column = validate(f"Email;Voornaam;Tussenvoegsel;Achternaam\na@example.org;Jan;;{last}\n")
    assert with_column.frame.loc[2, "last_name"] == last


def test_an_empty_afas_code_blocks_as_afas_documents_unless_chosen_otherwise() -> None:
    text = "Mutatiecode;E-mail;Omschrijving\n1;a@example.org;Ann Smit\n;b@example.org;Bob Bakker\n"
    result = validate(text)
    assert result.frame["action"].tolist() == ["import", "block"]
    issue = only(result, "empty-action")
    assert (issue.row, issue.severity) == (3, "warning") and "means 0" in issue.message
    chosen = validate(text, empty_action="none")
    assert chosen.frame["action"].tolist() == ["import", None]
    assert "no action" in only(chosen, "empty-action").message
    assert [i for i in validate("Email\na@example.org\n").issues if i.code == "empty-action"] == []


def test_imported_passwords_follow_the_one_password_rule() -> None:
    result = validate(
        "Email;Voornaam;Achternaam;Wachtwoord\n"
        "a@example.org;Ann;Smit;Achtteken\n"  # 9 characters: too short now (10, as accounts)
        "b@example.org;Bob;Bakker;password1234\n"
        "c@example.org;Cor;Kuipers;kuipers-2026-zomer\n"
        "d@example.org;Dirk;Dam;paarse tulpen in maart\n"
    )
    found = {i.row: i.variant for i in result.issues if i.code == "weak-password"}
    assert found == {2: "", 3: "guessable", 4: "personal"}
    assert all(
        "********" in i.message or i.value == "********"
        for i in result.issues
        if i.code == "weak-password"
    )
