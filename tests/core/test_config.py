from pathlib import Path

import pytest

from core.config import SettingsError, default_database_url, load_settings
from core.keys import cookie_key


def test_defaults_use_the_embedded_sqlite_file(tmp_path: Path) -> None:
    settings = load_settings(env={}, secrets_file=tmp_path / "none.toml")
    assert settings.database_url == default_database_url()
    assert settings.database_url.endswith("data/instroom.db")
    assert settings.cookie_key is None
    assert not settings.smtp_configured


def test_environment_wins_over_secrets_file(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        'DATABASE_URL = "sqlite:///from-file.db"\nINSTROOM_SMTP_HOST = "mail.local"\n'
    )
    settings = load_settings(env={"DATABASE_URL": "sqlite:///from-env.db"}, secrets_file=secrets)
    assert settings.database_url == "sqlite:///from-env.db"
    assert settings.smtp_host == "mail.local"


EXAMPLE_KEY = "paste the output of: python -c 'import secrets; print(secrets.token_urlsafe(48))'"


@pytest.mark.parametrize(
    "key",
    [
        "change-me",
        "some_key",
        "short-but-not-a-placeholder",
        "0" * 32,
        EXAMPLE_KEY,
        # Long enough and varied, yet guessable: a run, a repeated block, example words.
        "0123456789abcdef0123456789abcdef",
        "abcdefghijklmnopabcdefghijklmnop",
        "CHANGE-ME-to-a-long-random-string",
        "Secret-Example-Key-Secret-Example-Key",
    ],
)
def test_placeholder_or_short_cookie_key_is_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(SettingsError, match="INSTROOM_COOKIE_KEY"):
        load_settings(env={"INSTROOM_COOKIE_KEY": key}, secrets_file=tmp_path / "none.toml")


def test_broken_secrets_file_says_which_file(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text("DATABASE_URL = \n")
    with pytest.raises(SettingsError, match=r"secrets\.toml is not valid TOML"):
        load_settings(env={}, secrets_file=secrets)


def test_unknown_smtp_security_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="ssl', 'starttls' or 'none'"):
        load_settings(env={"INSTROOM_SMTP_SECURITY": "tls"}, secrets_file=tmp_path / "x.toml")


def test_the_example_file_key_is_refused(tmp_path: Path) -> None:
    example = (Path(__file__).parents[2] / ".streamlit" / "secrets.toml.example").read_text()
    line = next(x for x in example.splitlines() if "INSTROOM_COOKIE_KEY =" in x)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(line.lstrip("# ") + "\n")
    with pytest.raises(SettingsError, match="INSTROOM_COOKIE_KEY"):
        load_settings(env={}, secrets_file=secrets)


def test_generated_cookie_key_lives_in_a_private_file_beside_the_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/instroom.db"
    settings = load_settings(env={"DATABASE_URL": url}, secrets_file=tmp_path / "none.toml")
    first = cookie_key(settings)
    assert first == cookie_key(settings) and len(first) >= 32
    key_file = tmp_path / "cookie_key"
    assert key_file.read_text().strip() == first and key_file.stat().st_mode & 0o777 == 0o600
    configured = load_settings(
        env={"DATABASE_URL": url, "INSTROOM_COOKIE_KEY": first[::-1]},
        secrets_file=tmp_path / "none.toml",
    )
    assert cookie_key(configured) == first[::-1]


@pytest.mark.parametrize("days", ["0", "15", "3650"])
def test_a_login_lasts_at_most_fourteen_days(tmp_path: Path, days: str) -> None:
    with pytest.raises(SettingsError, match="up to 14 days"):
        load_settings(env={"INSTROOM_SESSION_DAYS": days}, secrets_file=tmp_path / "x.toml")
