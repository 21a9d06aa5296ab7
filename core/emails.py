"""The one email check: every address Instroom stores or mails passes it, however it came in."""

import re
import unicodedata

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

# What nearly every address looks like, checked without email-validator's cost; anything
# else goes to email-validator itself (a property test proves the two agree).
COMMON_EMAIL = re.compile(
    r"^(?=.{1,254}$)(?=[^@]{1,64}@)"
    r"[a-z0-9_%+'-]+(?:\.[a-z0-9_%+'-]+)*@"
    r"(?:(?![a-z0-9-]{2}--)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
    r"(?<!" + r")(?<!".join(rf"[.@]{name}" for name in SPECIAL_USE_DOMAIN_NAMES) + r")"
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
        return address, str(exc)
