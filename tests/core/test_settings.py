from pathlib import Path

import pytest

from core.settings import SettingsError, default_database_url, load_settings


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


@pytest.mark.parametrize("key", ["change-me", "some_key", "short-but-not-a-placeholder"])
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
