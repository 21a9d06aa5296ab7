"""Changes an administrator makes on the Settings page, each one validated."""

import re
import unicodedata
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, SQLModel

from core.fields import BUILTIN_FIELDS, MULTI_VALUE_SEPARATOR, PROFILE_FIELD_TYPES
from core.issues import Refusal
from db import catalog as db_catalog
from db import queries
from db.models import (
    Account,
    Group,
    Language,
    Level,
    ProfileField,
    Role,
    Taxonomy,
    Term,
    User,
    UserGroup,
    UserLevel,
    id_of,
    utcnow,
)

FIELD_KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,49}$")
LANGUAGE_CODE_PATTERN = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")


class CatalogError(Refusal):
    """A settings change was refused; the message says why and what to do."""


@dataclass(frozen=True)
class NamedKind:
    """A table of named entries (groups, levels, roles, taxonomies) and how users refer to it."""

    label: str
    model: type[SQLModel]
    link: type[SQLModel] | None = None
    link_column: str = ""
    user_column: str = ""
    plural: str = ""

    @property
    def label_plural(self) -> str:
        """'groups', 'taxonomies'."""
        return self.plural or f"{self.label}s"


KINDS: dict[str, NamedKind] = {
    "group": NamedKind("group", Group, UserGroup, "group_id"),
    "level": NamedKind("level", Level, UserLevel, "level_id"),
    "role": NamedKind("role", Role, user_column="role"),
    "taxonomy": NamedKind("taxonomy", Taxonomy, plural="taxonomies"),
}


def _clean_name(name: str, label: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise CatalogError.of("catalogue-refused", "empty-name", kind=label)
    if len(cleaned) > 200:
        raise CatalogError.of("catalogue-refused", "name-too-long", kind=label)
    if MULTI_VALUE_SEPARATOR in cleaned:
        raise CatalogError.of(
            "catalogue-refused", "name-separator", kind=label, separator=MULTI_VALUE_SEPARATOR
        )
    return cleaned


def _find_by_name(
    session: Session, kind: NamedKind, name: str, exclude_id: int | None = None
) -> Any:
    return db_catalog.find_named(
        session=session, model=kind.model, name=name, exclude_id=exclude_id
    )


def _get(session: Session, kind: NamedKind, entry_id: int) -> Any:
    entry = queries.find_entry(session=session, model=kind.model, entry_id=entry_id)
    if entry is None:
        raise CatalogError.of("catalogue-refused", "gone", kind=kind.label)
    return entry


def count_users_of(*, session: Session, kind_name: str, entry_id: int) -> int:
    """How many users a group, level or role is given to."""
    kind = KINDS[kind_name]
    if kind.model is Group and _get(session, kind, entry_id).everyone:
        return db_catalog.count_users(session=session)
    if kind.link is not None:
        column = getattr(kind.link, kind.link_column)
        return db_catalog.count_links(
            session=session, link=kind.link, column=column, entry_id=entry_id
        )
    if kind.user_column:
        entry = _get(session, kind, entry_id)
        column = getattr(User, kind.user_column)
        return db_catalog.count_users_with(session=session, column=column, value=entry.name)
    return 0


def add_named(*, session: Session, kind_name: str, name: str) -> SQLModel:
    """Add a group, level, role or taxonomy."""
    kind = KINDS[kind_name]
    cleaned = _clean_name(name, kind.label)
    if _find_by_name(session, kind, cleaned) is not None:
        raise CatalogError.of("catalogue-refused", "name-taken", kind=kind.label, name=cleaned)
    entry = kind.model(name=cleaned)
    session.add(entry)
    session.flush()
    return entry


def rename_named(*, session: Session, kind_name: str, entry_id: int, new_name: str) -> None:
    """Rename a group, level, role or taxonomy; users keep it under its new name."""
    kind = KINDS[kind_name]
    entry = _get(session, kind, entry_id)
    cleaned = _clean_name(new_name, kind.label)
    if _find_by_name(session, kind, cleaned, exclude_id=entry_id) is not None:
        raise CatalogError.of("catalogue-refused", "name-taken", kind=kind.label, name=cleaned)
    if kind.user_column:
        column = getattr(User, kind.user_column)
        db_catalog.replace_user_value(session=session, column=column, old=entry.name, new=cleaned)
    entry.name = cleaned
    session.add(entry)
    session.flush()


def delete_named(*, session: Session, kind_name: str, entry_id: int, force: bool = False) -> int:
    """Delete an entry; one still given to users needs force=True. Returns users affected."""
    kind = KINDS[kind_name]
    entry = _get(session, kind, entry_id)
    if kind.model is Group and entry.everyone:
        raise CatalogError.of("catalogue-refused", "everyone-group", name=entry.name)
    in_use = count_users_of(session=session, kind_name=kind_name, entry_id=entry_id)
    if kind_name == "taxonomy":
        used_by = db_catalog.list_fields_of_taxonomy(session=session, taxonomy_id=entry_id)
        if used_by:
            labels = ", ".join(f.label for f in used_by)
            raise CatalogError.of("catalogue-refused", "taxonomy-in-use", labels=labels)
        for term in queries.list_terms(session=session, taxonomy_id=entry_id):
            session.delete(term)
    if in_use and not force:
        raise CatalogError.of(
            "catalogue-refused", "in-use", count=in_use, kind=kind.label, name=entry.name
        )
    if kind.user_column:
        column = getattr(User, kind.user_column)
        db_catalog.replace_user_value(session=session, column=column, old=entry.name, new=None)
    session.delete(entry)
    session.flush()
    return in_use


def add_language(*, session: Session, code: str, name: str) -> Language:
    """Add a language by its code (nl, en, de, fr-BE)."""
    primary, _, region = code.strip().partition("-")
    code = f"{primary.lower()}-{region.upper()}" if region else primary.lower()
    if not LANGUAGE_CODE_PATTERN.match(code):
        raise CatalogError.of("catalogue-refused", "language-code")
    if db_catalog.get_language_by_code(session=session, code=code) is not None:
        raise CatalogError.of("catalogue-refused", "language-taken", code=code)
    language = Language(code=code, name=name.strip() or code)
    session.add(language)
    session.flush()
    return language


def delete_language(*, session: Session, language_id: int, force: bool = False) -> int:
    """Delete a language; one that users have needs force=True and clears it for them."""
    language = queries.find_entry(session=session, model=Language, entry_id=language_id)
    if language is None:
        raise CatalogError.of("catalogue-refused", "language-gone")
    in_use = db_catalog.count_users_with(session=session, column=User.language, value=language.code)
    if in_use and not force:
        raise CatalogError.of(
            "catalogue-refused", "language-in-use", count=in_use, code=language.code
        )
    db_catalog.replace_user_value(
        session=session, column=User.language, old=language.code, new=None
    )
    session.delete(language)
    session.flush()
    return in_use


def add_term(*, session: Session, taxonomy_id: int, name: str) -> Term:
    """Add a term to a taxonomy."""
    cleaned = _clean_name(name, "term")
    if db_catalog.find_term(session=session, taxonomy_id=taxonomy_id, name=cleaned) is not None:
        raise CatalogError.of("catalogue-refused", "term-taken", term=cleaned)
    term = Term(taxonomy_id=taxonomy_id, name=cleaned)
    session.add(term)
    session.flush()
    return term


def delete_term(*, session: Session, term_id: int) -> None:
    """Delete a term; values already stored on users stay as they are."""
    term = queries.find_entry(session=session, model=Term, entry_id=term_id)
    if term is None:
        raise CatalogError.of("catalogue-refused", "term-gone")
    session.delete(term)
    session.flush()


def key_from_label(label: str, taken: AbstractSet[str]) -> str:
    """A field key made from a label (Kostenplaats -> kostenplaats), free of every taken one."""
    ascii_label = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "_", ascii_label.lower()).strip("_")[:40]
    base = base if re.match(r"^[a-z]", base or "") and len(base) > 1 else f"veld_{base}".strip("_")
    key, number = base, 1
    while key in taken or key in BUILTIN_FIELDS:
        number += 1
        key = f"{base}_{number}"
    return key


def add_profile_field(
    *,
    session: Session,
    label: str,
    key: str = "",
    type: str = "text",
    taxonomy_id: int | None = None,
) -> ProfileField:
    """Add a profile field; its key (made from the label unless given) is what the CLI maps to."""
    if not key.strip():
        if not label.strip():
            raise CatalogError.of("catalogue-refused", "new-field-label")
        taken = {f.key for f in queries.list_profile_fields(session=session)}
        key = key_from_label(label.strip(), taken)
    key = key.strip().lower()
    if not FIELD_KEY_PATTERN.match(key):
        raise CatalogError.of("catalogue-refused", "field-key")
    if key in BUILTIN_FIELDS:
        raise CatalogError.of("catalogue-refused", "built-in-key", key=key)
    if db_catalog.get_profile_field_by_key(session=session, key=key) is not None:
        raise CatalogError.of("catalogue-refused", "key-taken", key=key)
    _check_field_type(session, type, taxonomy_id)
    _check_label_free(session, label.strip() or key, None)
    field = ProfileField(
        key=key,
        label=label.strip() or key,
        type=type,
        taxonomy_id=taxonomy_id if type == "taxonomy" else None,
    )
    session.add(field)
    session.flush()
    return field


def _check_label_free(session: Session, label: str, field_id: int | None) -> None:
    """Two fields with one label cannot be told apart in a mapping or a change."""
    for other in queries.list_profile_fields(session=session):
        if other.id != field_id and other.label.casefold() == label.casefold():
            raise CatalogError.of("catalogue-refused", "label-taken", label=other.label)


def _check_field_type(session: Session, type: str, taxonomy_id: int | None) -> None:
    if type not in PROFILE_FIELD_TYPES:
        raise CatalogError.of(
            "catalogue-refused", "field-type", types=", ".join(PROFILE_FIELD_TYPES)
        )
    if type == "taxonomy" and (
        taxonomy_id is None
        or queries.find_entry(session=session, model=Taxonomy, entry_id=taxonomy_id) is None
    ):
        raise CatalogError.of("catalogue-refused", "needs-taxonomy")


def update_profile_field(
    *,
    session: Session,
    field_id: int,
    label: str,
    type: str,
    importable: bool,
    taxonomy_id: int | None = None,
) -> None:
    """Change a profile field's label, type, taxonomy and whether imports may fill it."""
    field = queries.find_entry(session=session, model=ProfileField, entry_id=field_id)
    if field is None:
        raise CatalogError.of("catalogue-refused", "field-gone")
    _check_field_type(session, type, taxonomy_id)
    if not label.strip():
        raise CatalogError.of("catalogue-refused", "field-label")
    _check_label_free(session, label.strip(), field_id)
    field.label = label.strip()
    field.type = type
    field.importable = importable
    field.taxonomy_id = taxonomy_id if type == "taxonomy" else None
    session.add(field)
    session.flush()


def delete_profile_field(*, session: Session, field_id: int) -> None:
    """Delete a profile field; values stored on users are kept but no longer shown."""
    field = queries.find_entry(session=session, model=ProfileField, entry_id=field_id)
    if field is None:
        raise CatalogError.of("catalogue-refused", "field-gone")
    session.delete(field)
    session.flush()


def set_user_protected(*, session: Session, email: str, protected: bool) -> User:
    """Protect a user from every import, or lift the protection."""
    user = queries.get_user_by_email(session=session, email=email)
    if user is None:
        raise CatalogError.of("catalogue-refused", "unknown-email", email=email.strip())
    user.is_protected = protected
    if protected:
        # A system account is set up by hand; a welcome link sent earlier must not open it.
        user.activation_token_hash, user.activation_expires_at = None, None
    session.add(user)
    session.flush()
    return user


def account_state(account: Account) -> str:
    """Whether an account can log in: active, disabled, or invited until it chose a password."""
    if account.is_disabled:
        return "disabled"
    if account.password_hash:
        return "active"
    expires = account.invite_expires_at
    return "invited" if expires is not None and expires > utcnow() else "invitation-expired"


@dataclass(frozen=True)
class CatalogView:
    """Everything the Settings page lists, read in one go."""

    fields: list[tuple[int, str, str, str, bool, int | None]]
    named: dict[str, list[tuple[int, str, int]]]
    terms: dict[int, list[tuple[int, str]]]
    languages: list[tuple[int, str, str]]
    protected: list[str]
    # username, name, email, role, state (active, invited, invitation-expired, disabled), and
    # until when an invitation works.
    accounts: list[tuple[str, str, str, str, str, datetime | None]]

    @property
    def taxonomy_names(self) -> dict[int, str]:
        """Taxonomy id -> name."""
        return {t_id: name for t_id, name, _ in self.named["taxonomy"]}


def load_catalog_view(*, session: Session) -> CatalogView:
    """The catalogue, protected users and portal accounts, with how many users use each entry."""
    listers: dict[str, Callable[..., Sequence[Any]]] = {
        "group": queries.list_groups,
        "level": queries.list_levels,
        "role": queries.list_roles,
        "taxonomy": queries.list_taxonomies,
    }
    named = {
        kind: [
            (id_of(e), e.name, count_users_of(session=session, kind_name=kind, entry_id=id_of(e)))
            for e in lister(session=session)
        ]
        for kind, lister in listers.items()
    }
    return CatalogView(
        fields=[
            (id_of(f), f.key, f.label, f.type, f.importable, f.taxonomy_id)
            for f in queries.list_profile_fields(session=session)
        ],
        named=named,
        terms={
            t_id: [
                (id_of(t), t.name) for t in queries.list_terms(session=session, taxonomy_id=t_id)
            ]
            for t_id, _, _ in named["taxonomy"]
        },
        languages=[
            (id_of(lang), lang.code, lang.name) for lang in queries.list_languages(session=session)
        ],
        protected=[u.email for u in queries.list_protected_users(session=session)],
        accounts=[
            (a.username, a.name, a.email, a.role, account_state(a), a.invite_expires_at)
            for a in queries.list_accounts(session=session)
        ],
    )
