"""Saved mappings are recognised again when a file with the same headers comes back."""

from sqlmodel import Session

from core.mapping import find_saved_mapping, mapping_from_saved, save_mapping


def test_saved_mapping_is_found_by_headers(session: Session) -> None:
    headers = ["E-mail", "Naam", "Extra profielveld"]
    save_mapping(
        session=session,
        name="Plek export",
        headers=headers,
        mapping={0: "email", 1: "full_name", 2: "job_title"},
        created_by="beheer",
    )
    session.commit()
    # Same headers written differently: recognised.
    found = find_saved_mapping(session=session, headers=["e-mail", "NAAM", "Extra profiel-veld"])
    assert found is not None and found.name == "Plek export"
    assert mapping_from_saved(found) == {0: "email", 1: "full_name", 2: "job_title"}
    assert find_saved_mapping(session=session, headers=["E-mail", "Naam"]) is None


def test_saving_under_the_same_name_replaces_it(session: Session) -> None:
    save_mapping(session=session, name="AFAS", headers=["A", "B"], mapping={0: "email"})
    save_mapping(
        session=session, name="AFAS", headers=["A", "C"], mapping={0: "email", 1: "username"}
    )
    session.commit()
    assert find_saved_mapping(session=session, headers=["A", "B"]) is None
    assert mapping_from_saved(find_saved_mapping(session=session, headers=["A", "C"])) == {
        0: "email",
        1: "username",
    }
