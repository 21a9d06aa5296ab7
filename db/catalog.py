"""The catalogue's reads and writes: named entries, languages, terms and who uses them."""

from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, SQLModel, select

from db.models import Language, ProfileField, Term, User


def find_named(
    *, session: Session, model: type[SQLModel], name: str, exclude_id: int | None = None
) -> Any:
    """The entry of model (a group, level, role or taxonomy) named so, whatever its case."""
    query = select(model).where(func.lower(model.name) == name.lower())  # type: ignore[attr-defined]
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)  # type: ignore[attr-defined]
    return session.exec(query).first()


def count_links(*, session: Session, link: type[SQLModel], column: Any, entry_id: int) -> int:
    """How many users a membership table links to the entry."""
    return session.exec(select(func.count()).select_from(link).where(column == entry_id)).one()


def count_users(*, session: Session) -> int:
    """How many users there are (all in the group of everyone)."""
    return session.exec(select(func.count()).select_from(User)).one()


def count_users_with(*, session: Session, column: Any, value: str) -> int:
    """How many users have value in column (a role, a language)."""
    return session.exec(select(func.count()).select_from(User).where(column == value)).one()


def replace_user_value(*, session: Session, column: Any, old: str, new: str | None) -> None:
    """Every user with old in column gets new (a renamed role; None for a deleted one)."""
    session.exec(update(User).where(column == old).values({column: new}))


def list_fields_of_taxonomy(*, session: Session, taxonomy_id: int) -> list[ProfileField]:
    query = select(ProfileField).where(ProfileField.taxonomy_id == taxonomy_id)
    return list(session.exec(query).all())


def get_language_by_code(*, session: Session, code: str) -> Language | None:
    """A language by its code, whatever its case."""
    query = select(Language).where(func.lower(Language.code) == code.lower())
    return session.exec(query).first()


def find_term(*, session: Session, taxonomy_id: int, name: str) -> Term | None:
    """A term of a taxonomy by its name, whatever its case."""
    query = select(Term).where(
        Term.taxonomy_id == taxonomy_id, func.lower(Term.name) == name.lower()
    )
    return session.exec(query).first()


def get_profile_field_by_key(*, session: Session, key: str) -> ProfileField | None:
    return session.exec(select(ProfileField).where(ProfileField.key == key)).first()
