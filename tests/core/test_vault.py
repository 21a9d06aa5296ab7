"""Link secrets are sealed with the portal's secret and open only with it."""

import pytest

from core.vault import SecretError, Vault

KEY = "k5Jx9Qw2Lm8Zr4Tn7Vb1Hc6Yd3Fg0Sa-Pe_Uo"


def test_a_sealed_secret_opens_with_the_same_portal_secret_only() -> None:
    token = Vault(KEY).seal({"header": "AfasToken PHRva2VuPg=="})
    assert "PHRva2VuPg" not in token
    assert Vault(KEY).open(token) == {"header": "AfasToken PHRva2VuPg=="}
    with pytest.raises(SecretError, match="vault key"):
        Vault(KEY + "x").open(token)
    with pytest.raises(SecretError):
        Vault(KEY, purpose="mail password").open(token)


def test_no_secret_opens_as_none() -> None:
    assert Vault(KEY).open("") == {}


def test_a_rotated_vault_opens_old_tokens_and_seals_with_the_new_key() -> None:
    old = Vault(KEY).seal({"password": "geheim"})
    rotated = Vault(["n" + KEY, KEY])
    resealed = rotated.reseal(old)
    assert Vault("n" + KEY).open(resealed) == {"password": "geheim"}
    with pytest.raises(SecretError):
        Vault(KEY).open(resealed)
