"""The field keys an import can map columns to, and the fixed vocabularies of the domain."""

from collections.abc import Mapping

from core.i18n import N_, gettext, language_name
from db.vocabulary import Kind, UserStatus, values

BUILTIN_FIELDS: dict[str, str] = {
    "email": N_("Email"),
    "first_name": N_("First name"),
    "name_insert": N_("Name insert (tussenvoegsel)"),
    "last_name": N_("Last name"),
    "full_name": N_("Full name (split into first name, insert, last name)"),
    "username": N_("Username (user code)"),
    "new_username": N_("New username"),
    "password": N_("Password"),
    "status": N_("Status"),
    "action": N_("Action"),
    "groups": N_("Groups"),
    "levels": N_("Levels"),
    "role": N_("Role"),
    "language": N_("Language"),
    "kind": N_("Kind"),
}
# The same fields as nouns inside a sentence (of a change notice): "your last name, groups".
FIELD_NOUNS: dict[str, str] = {
    "email": N_("email address"),
    "first_name": N_("first name"),
    "name_insert": N_("name insert"),
    "last_name": N_("last name"),
    "full_name": N_("name"),
    "username": N_("user code"),
    "new_username": N_("new user code"),
    "password": N_("password"),
    "status": N_("status"),
    "action": N_("action"),
    "groups": N_("groups"),
    "levels": N_("levels"),
    "role": N_("role"),
    "language": N_("language"),
    "kind": N_("kind"),
}
USER_KINDS = values(Kind)
USER_STATUSES = values(UserStatus)
PROFILE_FIELD_TYPES = ("text", "date", "taxonomy")
MULTI_VALUE_SEPARATOR = "~"
USERNAME_MAX_LENGTH = 20


def labels_in(language: str, profile: Mapping[str, str]) -> dict[str, str]:
    """Field key -> the label a reader of the screens sees: built-in ones translated,
    profile fields as the administrator named them."""
    return {key: gettext(label, language) for key, label in BUILTIN_FIELDS.items()} | dict(profile)


# The values of fixed choices, as a reader says them (a catalogue's own names stay as named).
VALUE_WORDS = {
    "status": {"active": N_("active"), "invited": N_("invited"), "blocked": N_("blocked")},
    "kind": {"employee": N_("employee"), "contact": N_("contact")},
}


def describe_values(
    changes: Mapping[str, tuple[object, object]], labels: Mapping[str, str], language: str
) -> list[str]:
    """Each change as 'Label: old → new' in the reader's words ('Functie: leeg → Teamleider')."""
    empty = gettext(N_("empty"), language)

    def said(key: str, value: object) -> str:
        return value_in_words(key, str(value), language) if value else empty

    return [
        f"{labels.get(key.removeprefix('profile.'), key.removeprefix('profile.'))}: "
        f"{said(key, old)} → {said(key, new)}"
        for key, (old, new) in changes.items()
    ]


def value_in_words(key: str, value: str, language: str) -> str:
    """A field's value as the reader reads it: employee -> medewerker, nl -> Nederlands."""
    words = VALUE_WORDS.get(key.removeprefix("profile."), {})
    if value in words:
        return gettext(words[value], language)
    if key == "language" and value:
        return language_name(value, language)
    return value
