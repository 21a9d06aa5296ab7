"""How hard a string is to guess, and whether a value from a file looks like a secret."""

import math
import re

# What makes a key guessable: words people type into examples, runs like abcd or 1234.
_WORDS = re.compile(
    r"change|secret|example|password|passwd|instroom|replace|random|string|token|cookie|"
    r"key|test|admin|letmein|qwerty|asdf|long",
    re.IGNORECASE,
)


def estimated_bits(key: str) -> float:
    """A cautious estimate of a key's entropy: words, runs and repeated blocks count for nothing."""
    text = _WORDS.sub("\0", key)
    pool = sum(
        size
        for test, size in (
            (str.islower, 26),
            (str.isupper, 26),
            (str.isdigit, 10),
            (lambda c: not c.isalnum() and c != "\0", 33),
        )
        if any(test(c) for c in text)
    )
    counted = 0
    for i, char in enumerate(text):
        if char == "\0":
            continue
        previous = text[i - 1] if i else ""
        runs_on = previous and previous != "\0" and abs(ord(char) - ord(previous)) <= 1
        repeats = i >= 3 and text[i - 3 : i + 1] in text[:i]
        if not (runs_on or repeats):
            counted += 1
    return counted * math.log2(pool) if pool else 0.0


# A value shaped like a key or token: long, no spaces, letters and digits of a code alphabet.
_TOKEN = re.compile(r"^[A-Za-z0-9+/=_\-.~]{24,}$")
# A line of an environment or configuration file that sets a secret.
_SECRET_SETTING = re.compile(r"(PASS|SECRET|TOKEN|KEY|CREDENTIAL|AUTH)[A-Z0-9_]*\s*[=:]\s*\S", re.I)
# Column headers that hold secrets, in Dutch and English.
SECRET_COLUMN = re.compile(
    r"pass|wachtwoord|secret|geheim|token|api.?key|sleutel|pincode|credential", re.I
)


def looks_secret(value: str) -> bool:
    """Whether a value read from a file looks like a key, token or secret setting."""
    text = value.strip()
    if _SECRET_SETTING.search(text):
        return True
    if "@" in text or not _TOKEN.match(text):
        return False
    has_digit = any(c.isdigit() for c in text)
    has_letter = any(c.isalpha() for c in text)
    return has_digit and has_letter and estimated_bits(text) >= 100
