"""The portal's keys: apart, private, written whole, rotated; a login ends on the server's clock."""

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest

from core import keys
from core.accounts import SignedInAccount, issue_session_token, read_session_token
from core.config import Settings, SettingsError, estimated_bits
from core.vault import Vault
from tests.conftest import ROOT


def settings_in(folder: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{folder}/instroom.db")


def test_cookie_and_vault_keys_are_different_private_files(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    vault, cookie = keys.vault_keys(settings), keys.cookie_key(settings)
    assert vault == [vault[0]] and cookie != vault[0]
    for name in ("cookie_key", "vault_key"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600
    # A leaked cookie key opens nothing the vault sealed.
    token = Vault(vault).seal({"header": "AfasToken geheim"})
    with pytest.raises(Exception, match="vault key"):
        Vault(cookie).open(token)


def test_an_installation_from_before_seals_with_its_cookie_key_until_resealed(
    tmp_path: Path,
) -> None:
    settings = settings_in(tmp_path)
    cookie = keys.cookie_key(settings)
    legacy = Vault(cookie).seal({"password": "oud"})
    vault = keys.vault_keys(settings)
    assert vault[1:] == [cookie]
    assert Vault(vault).open(legacy) == {"password": "oud"}
    keys.finish_vault_rotation(settings)
    assert keys.vault_keys(settings) == vault[:1]


def test_a_cookie_key_rotation_ends_every_login(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    account = SignedInAccount("beheer", "Beheer", "b@example.nl", "admin")
    token = issue_session_token(account, key=keys.cookie_key(settings), days=7)
    assert read_session_token(token, key=keys.cookie_key(settings), days=7) == ("beheer", 0)
    keys.rotate_cookie_key(settings)
    assert read_session_token(token, key=keys.cookie_key(settings), days=7) is None
    with pytest.raises(SettingsError, match="change it there"):
        keys.rotate_cookie_key(Settings(database_url="sqlite://", cookie_key="x" * 40))


def test_a_forged_cookie_with_a_ten_year_expiry_ends_after_the_session_days() -> None:
    key = "k5Jx9Qw2Lm8Zr4Tn7Vb1Hc6Yd3Fg0Sa-Pe_Uo"
    now = int(time.time())
    eight_days_ago = now - 8 * 86400
    forged = jwt.encode(
        {"sub": "admin1", "ver": 0, "iat": eight_days_ago, "exp": now + 10 * 365 * 86400},
        key,
        algorithm="HS256",
    )
    assert read_session_token(forged, key=key, days=7) is None
    assert read_session_token(forged, key=key, days=9) == ("admin1", 0)
    without_iat = jwt.encode({"sub": "admin1", "ver": 0, "exp": now + 60}, key, algorithm="HS256")
    assert read_session_token(without_iat, key=key, days=7) is None


def test_a_key_file_is_written_whole_or_not_at_all_on_a_full_disk(tmp_path: Path) -> None:
    # A real write failure: the child may not write a single byte to any file.
    script = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]);"
        "from core import keys; from core.config import Settings;"
        "keys.cookie_key(Settings(database_url=f'sqlite:///{sys.argv[2]}/instroom.db'))"
    )

    def no_room() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))

    failed = subprocess.run(
        [sys.executable, "-c", script, str(ROOT), str(tmp_path)],
        preexec_fn=no_room,
        capture_output=True,
        text=True,
    )
    assert failed.returncode != 0 and "File too large" in failed.stderr
    assert sorted(os.listdir(tmp_path)) == []
    assert len(keys.cookie_key(settings_in(tmp_path))) >= 43


def test_guessable_keys_score_under_128_bits_and_random_ones_over() -> None:
    import secrets

    assert estimated_bits("0123456789abcdef0123456789abcdef") < 128
    assert estimated_bits("abcdefghijklmnopabcdefghijklmnop") < 128
    assert estimated_bits("CHANGE-ME-to-a-long-random-string") < 128
    assert min(estimated_bits(secrets.token_urlsafe(48)) for _ in range(200)) > 128
