"""The one email check: every address Instroom stores or mails passes it, however it came in."""

import re
import unicodedata

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from core.i18n import N_

# What nearly every address looks like, checked without email-validator's cost; anything
# else goes to email-validator itself (a property test proves the two agree).
COMMON_EMAIL = re.compile(
    r"^(?=.{1,254}$)(?=[^@]{1,64}@)"
    r"[a-z0-9_%+'-]+(?:\.[a-z0-9_%+'-]+)*@"
    r"(?:(?![a-z0-9-]{2}--)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
    r"(?<!" + r")(?<!".join(rf"[.@]{name}" for name in SPECIAL_USE_DOMAIN_NAMES) + r")"
)


# email-validator's reasons, in the catalog so a Dutch reader reads them in Dutch (the
# issue's {problem} is translated when it is shown); the rarer ones stay in its English.
KNOWN_PROBLEMS = (
    N_("An email address must have an @-sign."),
    N_("There must be something after the @-sign."),
    N_("There must be something before the @-sign."),
    N_("The part after the @-sign is not valid. It should have a period."),
    N_("An email address cannot have two periods in a row."),
    N_("An email address cannot have a hyphen immediately after the @-sign."),
    N_("An email address cannot start with a period."),
    N_("An email address cannot have a period immediately before the @-sign."),
    N_("An email address cannot end with a period."),
    N_("The part after the @-sign is not valid. It is not within a valid top-level domain."),
)
# Reasons that name the characters: said without them (the address is shown beside it).
_CHARACTERS = (
    (
        "The email address contains invalid characters before the @-sign",
        N_("The part before the @-sign holds characters an email address cannot have."),
    ),
    (
        "The part after the @-sign contains invalid characters",
        N_("The part after the @-sign holds characters an email address cannot have."),
    ),
)


def normalise_email(value: str) -> str:
    """How an address is stored and compared: Unicode NFKC, trimmed, lower-cased."""
    return unicodedata.normalize("NFKC", value).strip().lower()


def check_email(value: str) -> tuple[str, str | None]:
    """(normalised address, problem or None): one address, no name, no list."""
    address = normalise_email(value)
    if COMMON_EMAIL.match(address):
        return address, None
    try:
        result = validate_email(address, check_deliverability=False, allow_smtputf8=False)
        return result.normalized.lower(), None
    except EmailNotValidError as exc:
        reason = str(exc)
        for start, said in _CHARACTERS:
            if reason.startswith(start):
                return address, said
        return address, reason
