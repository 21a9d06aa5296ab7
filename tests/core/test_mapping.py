"""Header suggestions and mapping checks."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.fields import BUILTIN_FIELDS
from core.mapping import check_mapping, status_means_blocked, suggest_mapping
from db.seed import DEFAULT_PROFILE_FIELDS

PROFILE = dict(DEFAULT_PROFILE_FIELDS)
KNOWN = [*BUILTIN_FIELDS, *PROFILE]


def suggested(headers: list[str]) -> dict[str, str | None]:
    return {headers[i]: f for i, f in suggest_mapping(headers, PROFILE).items()}


def test_dutch_headers_ignoring_case_spacing_and_punctuation() -> None:
    assert suggested(
        [
            "Voornaam",
            "TUSSENVOEGSEL",
            "achter naam",
            "E-mailadres",
            "Functie",
            "Afdeling",
            "Telefoon",
            "Groep",
            "Gebruikerscode",
            "Mutatiecode",
            "Mobiel nummer",
            "Personeels-nummer",
            "Woonplaats",
            "Niveau",
            "Taal",
        ]
    ) == {
        "Voornaam": "first_name",
        "TUSSENVOEGSEL": "name_insert",
        "achter naam": "last_name",
        "E-mailadres": "email",
        "Functie": "job_title",
        "Afdeling": "department",
        "Telefoon": "phone",
        "Groep": "groups",
        "Gebruikerscode": "username",
        "Mutatiecode": "action",
        "Mobiel nummer": "mobile",
        "Personeels-nummer": "employee_id",
        "Woonplaats": "city",
        "Niveau": "levels",
        "Taal": "language",
    }


def test_microsoft_entra_bulk_create_template() -> None:
    headers = [
        "Name [displayName] Required",
        "User name [userPrincipalName] Required",
        "Initial password [passwordProfile] Required",
        "Block sign in (Yes/No) [accountEnabled] Required",
        "First name [givenName]",
        "Last name [surname]",
        "Job title [jobTitle]",
        "Department [department]",
        "Usage location [usageLocation]",
        "Office phone [telephoneNumber]",
        "Mobile phone [mobile]",
    ]
    assert list(suggested(headers).values()) == [
        "full_name",
        "email",
        "password",
        "status",
        "first_name",
        "last_name",
        "job_title",
        "department",
        None,
        "phone",
        "mobile",
    ]
    assert status_means_blocked(headers[3])


def test_google_workspace_okta_and_moodle_templates() -> None:
    google = suggested(
        [
            "First Name [Required]",
            "Last Name [Required]",
            "Email Address [Required]",
            "Password [Required]",
            "Org Unit Path [Required]",
            "New Status [UPLOAD ONLY]",
            "Employee ID",
        ]
    )
    assert list(google.values()) == [
        "first_name",
        "last_name",
        "email",
        "password",
        None,
        "status",
        "employee_id",
    ]
    assert not status_means_blocked("New Status [UPLOAD ONLY]")
    okta = suggested(
        ["login", "firstName", "lastName", "email", "title", "mobilePhone", "preferredLanguage"]
    )
    assert list(okta.values()) == [
        None,
        "first_name",
        "last_name",
        "email",
        "job_title",
        "mobile",
        "language",
    ]
    moodle = suggested(
        [
            "username",
            "firstname",
            "lastname",
            "email",
            "idnumber",
            "lang",
            "phone1",
            "cohort1",
            "suspended",
        ]
    )
    assert list(moodle.values()) == [
        "username",
        "first_name",
        "last_name",
        "email",
        "employee_id",
        "language",
        "phone",
        "groups",
        "status",
    ]
    assert status_means_blocked("suspended")


def test_custom_profile_field_by_key_or_label() -> None:
    profile = PROFILE | {"cost_center": "Kostenplaats"}
    mapping = suggest_mapping(["Kostenplaats", "cost_center"], profile)
    assert mapping == {0: "cost_center", 1: None}


def test_headerless_email_column_is_recognised_by_its_values() -> None:
    mapping = suggest_mapping(["", ""], PROFILE, [["Ann", "Bob"], ["a@x.nl", "b@x.nl"]])
    assert mapping == {0: None, 1: "email"}


def test_a_field_is_suggested_for_one_column_only() -> None:
    assert suggest_mapping(["Email", "E-mail"], PROFILE) == {0: "email", 1: None}


def test_check_reports_duplicates_missing_email_and_unknown_fields() -> None:
    check = check_mapping(
        ["Naam", "Naam", "Voornaam"], {0: "last_name", 1: "last_name", 2: "nonsense"}, KNOWN
    )
    codes = sorted(i.code for i in check.issues)
    assert codes == [
        "ambiguous-column",
        "field-mapped-twice",
        "missing-required-field",
        "unknown-field",
    ]
    assert not check.ok
    missing = next(i for i in check.issues if i.code == "missing-required-field")
    assert "No column is mapped to 'email'" in missing.message


def test_unmapped_columns_are_listed() -> None:
    check = check_mapping(["Email", "Opmerking", ""], {0: "email", 1: None, 2: None}, KNOWN)
    assert check.ok and check.ignored_columns == ["Opmerking", "column 3"]


@pytest.mark.parametrize("header", ["Naam", "Name", "Volledige naam", "Omschrijving"])
def test_full_name_headers(header: str) -> None:
    assert suggested([header]) == {header: "full_name"}


@given(st.lists(st.text(max_size=40), max_size=12))
def test_any_headers_get_a_mapping_and_a_check(headers: list[str]) -> None:
    mapping = suggest_mapping(headers, PROFILE)
    assert set(mapping) == set(range(len(headers)))
    fields = [f for f in mapping.values() if f]
    assert len(fields) == len(set(fields))
    check = check_mapping(headers, mapping, KNOWN)
    expected = {"ambiguous-column", "missing-required-field"}
    assert all(i.code in expected for i in check.issues)
