"""Defaults a new installation starts with."""

from sqlmodel import Session, col, select

from db.models import AppSetting, Group, Language, ProfileField, Role

# The name the group every user is in starts with (Group.everyone); it can be renamed.
EVERYONE = "Iedereen"

# Labels in Dutch, the language of the organisations Instroom is for; an administrator
# renames them under Settings > Profile fields.
DEFAULT_PROFILE_FIELDS = [
    ("job_title", "Functie"),
    ("department", "Afdeling"),
    ("phone", "Telefoon"),
    ("mobile", "Mobiel"),
    ("initials", "Voorletters"),
    ("employee_id", "Personeelsnummer"),
    ("city", "Woonplaats"),
]
DEFAULT_ROLES = ["member", "manager"]
DEFAULT_LANGUAGES = [("nl", "Nederlands"), ("en", "English")]
SEEDED_FLAG = "seeded_defaults"


def seed_defaults(*, session: Session) -> None:
    """Add the default catalogue once; later deletions by an administrator stay deleted."""
    if session.get(AppSetting, SEEDED_FLAG) is not None:
        return
    for position, (key, label) in enumerate(DEFAULT_PROFILE_FIELDS):
        if session.exec(select(ProfileField).where(ProfileField.key == key)).first() is None:
            session.add(ProfileField(key=key, label=label, position=position))
    for name in DEFAULT_ROLES:
        if session.exec(select(Role).where(Role.name == name)).first() is None:
            session.add(Role(name=name))
    for code, name in DEFAULT_LANGUAGES:
        if session.exec(select(Language).where(Language.code == code)).first() is None:
            session.add(Language(code=code, name=name))
    if session.exec(select(Group).where(col(Group.everyone))).first() is None:
        session.add(Group(name=EVERYONE, everyone=True))
    session.add(AppSetting(key=SEEDED_FLAG, value="1"))
    session.flush()
