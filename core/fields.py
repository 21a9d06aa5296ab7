"""The field keys an import can map columns to, and the fixed vocabularies of the domain."""

from collections.abc import Mapping

from core.i18n import N_, gettext, language_name
from core.vocabulary import Kind, UserStatus, values

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
# The same fields as a Dutch reader (of a change notice) knows them.
BUILTIN_FIELDS_NL: dict[str, str] = {
    "email": "e-mailadres",
    "first_name": "voornaam",
    "name_insert": "tussenvoegsel",
    "last_name": "achternaam",
    "full_name": "naam",
    "username": "gebruikerscode",
    "new_username": "nieuwe gebruikerscode",
    "password": "wachtwoord",
    "status": "status",
    "action": "actie",
    "groups": "groepen",
    "levels": "niveaus",
    "role": "rol",
    "language": "taal",
    "kind": "soort",
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


def value_in_words(key: str, value: str, language: str) -> str:
    """A field's value as the reader reads it: employee -> medewerker, nl -> Nederlands."""
    words = VALUE_WORDS.get(key.removeprefix("profile."), {})
    if value in words:
        return gettext(words[value], language)
    if key == "language" and value:
        return language_name(value, language)
    return value
