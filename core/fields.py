"""The field keys an import can map columns to, and the fixed vocabularies of the domain."""

from core.vocabulary import Kind, UserStatus, values

BUILTIN_FIELDS: dict[str, str] = {
    "email": "Email",
    "first_name": "First name",
    "name_insert": "Name insert (tussenvoegsel)",
    "last_name": "Last name",
    "full_name": "Full name (split into first name, insert, last name)",
    "username": "Username (user code)",
    "new_username": "New username",
    "password": "Password",
    "status": "Status",
    "action": "Action",
    "groups": "Groups",
    "levels": "Levels",
    "role": "Role",
    "language": "Language",
    "kind": "Kind",
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
